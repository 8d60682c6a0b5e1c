"""Time conversions of ``tracelake.timeutil`` that hot paths use instead of pyarrow's own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa

from tracelake.timeutil import TS, datetimes, table_rows


def test_datetimes_and_table_rows_equal_pyarrow_to_pylist() -> None:
    t0 = datetime(2024, 3, 4, 5, 6, 7, 891011, tzinfo=timezone.utc)
    table = pa.table({
        "id": pa.array(["a", "b", "c"]),
        "at": pa.array([t0, None, t0 + timedelta(days=400)], TS),
        "naive": pa.array([datetime(2020, 1, 1), None, datetime(1969, 12, 31, 23, 59)], pa.timestamp("us")),
        "times": pa.array([[t0, None], None, []], pa.list_(TS)),
        "tags": pa.array([["x"], [], None], pa.list_(pa.string())),
    })
    rows = table_rows(table)
    expected = table.to_pylist()
    for row, want in zip(rows, expected):
        want["naive"] = None if want["naive"] is None else want["naive"].replace(tzinfo=timezone.utc)
        assert row == want
    assert rows[0]["at"].tzinfo is not None and rows[1]["times"] is None and rows[2]["times"] == []
    assert datetimes(pa.chunked_array([pa.array([t0], TS), pa.array([None], TS)])) == [t0, None]
    assert table_rows(table.slice(0, 0)) == []
