"""The local S3 server helper (:mod:`tests.s3server`) serves what Lance needs: write, append, time travel."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tests.s3server import s3_request, start_s3_server, weed_binary


@pytest.mark.s3
def test_s3_server_lance_roundtrip(tmp_path):
    try:
        weed_binary()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    lance = pytest.importorskip("lance")
    server = start_s3_server(tmp_path)
    try:
        print(f"seaweedfs S3 ready in {server.start_seconds:.2f} s at {server.endpoint}")
        assert server.start_seconds < 60
        # requests really are authenticated
        assert s3_request(server.endpoint, "PUT", "/another-bucket", secret_key="wrong")[0] == 403

        uri = server.uri("roundtrip.lance")
        assert uri == f"s3://{server.bucket}/roundtrip.lance"
        first = pa.table({"id": pa.array(range(5), pa.int64()), "text": ["x" * 200] * 5})
        second = pa.table({"id": pa.array(range(5, 8), pa.int64()), "text": ["y"] * 3})
        lance.write_dataset(first, uri, storage_options=server.storage_options)
        lance.write_dataset(second, uri, mode="append", storage_options=server.storage_options)

        ds = lance.dataset(uri, storage_options=server.storage_options)
        assert ds.version == 2
        assert sorted(ds.to_table(columns=["id"])["id"].to_pylist()) == list(range(8))
        v1 = lance.dataset(uri, version=1, storage_options=server.storage_options)
        assert v1.to_table().sort_by("id").equals(first)
    finally:
        server.stop()
    assert server.process.poll() is not None
