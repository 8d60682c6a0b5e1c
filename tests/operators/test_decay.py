from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelake.operators.decay import apply_decay, reinforce, retention
from tracelake.timeutil import TS

from tests.operators.conftest import ts

T0 = ts(2023, 1, 1)


def table(stability: list[float], pinned: list[bool] | None = None, archived: list[bool] | None = None) -> pa.Table:
    n = len(stability)
    return pa.table(
        {
            "stability": pa.array(stability, pa.float64()),
            "last_reinforced_at": pa.array([T0] * n, TS),
            "strength": pa.array([1.0] * n),
            "pinned": pa.array(pinned or [False] * n),
            "archived": pa.array(archived or [False] * n),
            "updated_at": pa.array([T0] * n, TS),
        }
    )


def test_retention_values() -> None:
    s = retention(pa.array([10.0, 10.0, 0.0]), pa.array([T0, T0, T0], TS), T0 + timedelta(days=10))
    assert np.allclose(s, [np.exp(-1), np.exp(-1), 0.0])
    assert np.allclose(retention([10.0], pa.array([T0], TS), T0 - timedelta(days=5)), [1.0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=0.01, max_value=1e4), min_size=1, max_size=8),
    st.floats(min_value=0, max_value=3650),
    st.floats(min_value=0, max_value=3650),
)
def test_decay_monotone_in_now(stability: list[float], d1: float, d2: float) -> None:
    early, late = sorted((d1, d2))
    t = table(stability)
    a = apply_decay(t, T0 + timedelta(days=early), 0.05)
    b = apply_decay(t, T0 + timedelta(days=late), 0.05)
    sa, sb = np.array(a.column("strength").to_pylist()), np.array(b.column("strength").to_pylist())
    assert np.all(sb <= sa + 1e-12) and np.all((0 <= sb) & (sb <= 1))
    assert all(y or not x for x, y in zip(a.column("archived").to_pylist(), b.column("archived").to_pylist()))


def test_archive_threshold_pinned_and_schema() -> None:
    t = table([1.0, 1.0, 1000.0], pinned=[False, True, False])
    out = apply_decay(t, T0 + timedelta(days=30), 0.05)
    assert out.schema.equals(t.schema)
    assert out.column("archived").to_pylist() == [True, False, False]
    assert out.column("strength").to_pylist()[1] == 1.0
    # decay never un-archives
    assert apply_decay(table([1000.0], archived=[True]), T0, 0.05).column("archived").to_pylist() == [True]


def test_reinforce_raises_stability_and_unarchives() -> None:
    t = apply_decay(table([1.0, 1.0]), T0 + timedelta(days=30), 0.05)
    now = T0 + timedelta(days=30)
    r = reinforce(t, pa.array([True, False]), now, 2.0)
    assert r.column("stability").to_pylist() == [2.0, 1.0]
    assert r.column("archived").to_pylist() == [False, True]
    assert r.column("last_reinforced_at").to_pylist()[0] == now and r.column("updated_at").to_pylist()[1] == T0
    later = now + timedelta(days=1)
    assert apply_decay(r, later, 0.05).column("strength").to_pylist()[0] > apply_decay(t, later, 0.0).column("strength").to_pylist()[0]
    assert r.schema.equals(t.schema)
