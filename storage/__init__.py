"""The storage room: everything that knows Lance. A lake is a URI holding one Lance dataset per table."""

from tracelake.storage.lake_store import LakeStore, TableVersion

__all__ = ["LakeStore", "TableVersion"]
