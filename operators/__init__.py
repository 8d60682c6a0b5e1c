"""tracelake operators: pure, deterministic transforms on Arrow tables (no I/O, no Ray, no global state).

See ``docs/operators.md`` for each operator's contract.
"""

from __future__ import annotations

from tracelake.operators.decay import apply_decay, reinforce, retention
from tracelake.operators.decompose import FACT_CANDIDATES, MENTIONS, Decomposition, decompose
from tracelake.operators.embedders import Embedder
from tracelake.operators.entities import Mention, extract_mentions, normalize_name
from tracelake.operators.merge import (
    EntityResolution,
    FactMerge,
    TraceMerge,
    merge_facts,
    merge_traces,
    resolve_entities,
)
from tracelake.operators.extract import Decomposer, Fact, ParseDecomposer, extract_facts
from tracelake.operators.predicates import is_single_valued
from tracelake.operators.temporal import TimeSpan, resolve_time_expressions

__all__ = [
    "Embedder",
    "TimeSpan",
    "resolve_time_expressions",
    "Mention",
    "extract_mentions",
    "normalize_name",
    "Decomposer",
    "ParseDecomposer",
    "Fact",
    "extract_facts",
    "is_single_valued",
    "Decomposition",
    "decompose",
    "MENTIONS",
    "FACT_CANDIDATES",
    "EntityResolution",
    "resolve_entities",
    "FactMerge",
    "merge_facts",
    "TraceMerge",
    "merge_traces",
    "retention",
    "apply_decay",
    "reinforce",
]
