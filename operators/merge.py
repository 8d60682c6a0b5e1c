"""Convergence within a tenant: entities, facts and traces (one module per concern, re-exported here).

- :func:`resolve_entities` (:mod:`.merge_entities`): cluster surface names, canonical names, entity upserts.
- :func:`merge_facts` (:mod:`.merge_facts`): bitemporal fact versions (retract + insert, never edit).
- :func:`merge_traces` (:mod:`.merge_traces`): near-duplicate traces converge into the earliest one.
"""

from __future__ import annotations

from tracelake.operators.merge_entities import EntityResolution, resolve_entities
from tracelake.operators.merge_facts import FactMerge, merge_facts
from tracelake.operators.merge_traces import TraceMerge, merge_traces

__all__ = ["EntityResolution", "FactMerge", "TraceMerge", "resolve_entities", "merge_facts", "merge_traces"]
