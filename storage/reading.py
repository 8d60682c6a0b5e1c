"""What the read path needs from Lance, in one place: the dataset handle type, positioned reads by row id,
which columns carry an index, and the full-text query form. The query room reads through these (and through the
handle's ``to_table(filter=…, columns=…)``), so it never imports Lance itself."""

from __future__ import annotations

from typing import Any

import lance
import pyarrow as pa
from lance.query import MultiMatchQuery

__all__ = ["Dataset", "take_rows", "indexed_columns", "full_text_query"]

#: A Lance dataset at one version: what readers hold (``LakeStore.dataset``).
Dataset = lance.LanceDataset


def take_rows(ds: Dataset, rowids: list[int], columns: list[str], where: str) -> pa.Table:
    """Rows by row id (``_rowid`` of a scan of the same dataset version), in the given order: one positioned
    read. ``where`` is only used by the fallback for a pylance without ``_take_rows``."""
    if not rowids:
        return ds.schema.empty_table().select(columns)
    try:
        return ds._take_rows(rowids, columns=columns)  # noqa: SLF001 - present in pylance 0.38-14
    except (AttributeError, TypeError):  # pragma: no cover
        table = ds.to_table(columns=columns, with_row_id=True,
                            filter=f"{where} AND _rowid IN ({', '.join(map(str, rowids))})")
        got = {r: i for i, r in enumerate(table["_rowid"].to_pylist())}
        return table.take([got[r] for r in rowids if r in got]).drop_columns(["_rowid"])


def indexed_columns(ds: Dataset) -> frozenset[str]:
    """The columns that carry an index at this version (a reader decides what it can push down)."""
    cols: set[str] = set()
    try:
        for ix in ds.describe_indices():
            cols.update(ix.field_names)
    except (AttributeError, ValueError, OSError):  # older pylance: list_indices
        for ix in ds.list_indices():
            cols.update(ix.get("fields") or ())
    return frozenset(cols)


def full_text_query(words: str, columns: list[str]) -> Any:
    """The ``full_text_query`` argument of a scan matching ``words`` in any of ``columns`` (BM25 over the
    INVERTED indexes; a plain string searches every indexed column)."""
    return MultiMatchQuery(words, columns) if len(columns) > 1 else words
