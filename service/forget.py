"""``POST /v1/forget``: the blocking half (parse the request, run the erase). Kept free of HTTP framework types.

Body (JSON object): ``tenant`` (optional when the key has one tenant) and exactly one selector:
``event_ids`` (a non-empty list of strings), ``entity`` (a name), ``before`` (a time), ``all: true``.
A missing or empty body, or no or several selectors: 400. The tenant check (403) is the caller's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tracelake.errors import LeaseHeldError, ValidationError
from tracelake.schemas import TENANT_PATTERN

from .ingest import ServiceError
from .keys import ApiKey
from .openapi import TIME_SCHEMA

__all__ = ["parse_forget", "run_forget", "FORGET_BODY"]

_SELECTORS = ("event_ids", "entity", "before", "all")
_FIELDS = frozenset({"tenant", *_SELECTORS})

FORGET_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": False,
    "properties": {"tenant": {"type": "string", "pattern": TENANT_PATTERN},
                   "event_ids": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                   "entity": {"type": "string", "minLength": 1},
                   "before": {**TIME_SCHEMA, "description": "ISO-8601 with offset or epoch ms"},
                   "all": {"type": "boolean", "enum": [True]}},
    "oneOf": [{"required": [k]} for k in _SELECTORS],
    "description": "exactly one of event_ids, entity, before, all",
}}}}}


def parse_forget(body: bytes) -> dict[str, Any]:
    """The request as keyword arguments of ``lake.forget`` plus ``tenant`` (possibly ``None``)."""
    if not body.strip():
        raise ServiceError(400, "empty request", "send a JSON object with a tenant and exactly one of "
                                                 + ", ".join(_SELECTORS))
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServiceError(400, "invalid JSON", str(exc)) from None
    if not isinstance(value, dict):
        raise ServiceError(400, "invalid request", f"expected a JSON object, got {type(value).__name__}")
    unknown = sorted(set(value) - _FIELDS)
    if unknown:
        raise ServiceError(400, "invalid request", f"unknown field(s) {', '.join(unknown)}", field=unknown[0])
    tenant = value.get("tenant")
    if "tenant" in value and not (isinstance(tenant, str) and re.fullmatch(TENANT_PATTERN, tenant)):
        raise ServiceError(400, "invalid request", f"tenant must match {TENANT_PATTERN}", field="tenant")
    given = [k for k in _SELECTORS if k in value]  # present is given: {"all": true, "before": null} is two
    if len(given) != 1:
        raise ServiceError(400, "invalid request", "give exactly one of " + ", ".join(_SELECTORS)
                           + (f" (got {', '.join(given)})" if given else ""), field="selector")
    if value[given[0]] is None:
        raise ServiceError(400, "invalid request", f"{given[0]} must not be null", field=given[0])
    out: dict[str, Any] = {"tenant": value.get("tenant"), given[0]: value[given[0]]}
    if given[0] == "all" and value["all"] is not True:
        raise ServiceError(400, "invalid request", "all must be true", field="all")
    if given[0] == "event_ids" and (not isinstance(value["event_ids"], list) or not value["event_ids"]
                                    or not all(isinstance(i, str) and i for i in value["event_ids"])):
        raise ServiceError(400, "invalid request", "event_ids must be a list of non-empty strings", field="event_ids")
    if given[0] == "entity" and not (isinstance(value["entity"], str) and value["entity"].strip()):
        raise ServiceError(400, "invalid request", "entity must be a non-empty name", field="entity")
    return out


def run_forget(lake: Any, tenant: str, request: dict[str, Any], key: ApiKey) -> dict[str, Any]:
    """Erase (in a worker thread); the receipt as JSON. A held lease is a 409 with Retry-After."""
    try:
        receipt = lake.forget(tenant, requested_by=f"http:{key.key_id}",
                              **{k: v for k, v in request.items() if k != "tenant"})
    except ValidationError as exc:
        raise ServiceError(400, "invalid request", str(exc), field=exc.context.get("field")) from None
    except LeaseHeldError as exc:
        raise ServiceError(409, "lake busy", str(exc), headers={"Retry-After": "5"}) from None
    return receipt.to_dict()
