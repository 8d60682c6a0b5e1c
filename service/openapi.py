"""The published contract of the HTTP API: what the OpenAPI document promises is what the service does.

Every error (4xx and 5xx) is one body, :class:`~tracelake.service.models.ErrorBody`
(``{"error": ..., "detail": ..., ...}``), also for what FastAPI itself rejects (its default
``HTTPValidationError`` list is never sent, so it is never published). Query parameters carry the constraints
the service enforces: tenants match the tenant pattern, times are ISO-8601 with an offset or epoch
milliseconds. The ingest bodies publish the event constraints (see :mod:`.models`).

How a route declares its responses (the pattern for new routes)::

    @app.get("/v1/thing", responses=errors(401, 403, 422), ...)
    async def thing(..., as_of: str | None = time_query(), tenant: str | None = tenant_query()): ...

:func:`install` (called once by ``create_app``) then rewrites the document: every declared or FastAPI-added
4xx/5xx response points at ``ErrorBody``, and the time parameters (:data:`TIME_PARAMS`) get their schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query
from fastapi.openapi.utils import get_openapi

from tracelake.schemas import TENANT_PATTERN

from .models import ErrorBody

__all__ = ["errors", "install", "time_query", "tenant_query", "TIME_PARAMS", "TIME_SCHEMA", "ERROR_TEXT"]

#: What each status means, for every route that can answer it (a route may override the text).
ERROR_TEXT: dict[int, str] = {
    400: "Malformed JSON body or headers",
    401: "No API key, or an unknown or revoked one",
    403: "The key may not access that tenant, or the endpoint needs an admin key",
    409: "A conflicting request is in progress (retry after the Retry-After delay)",
    413: "Body, event or batch over its limit",
    415: "Unsupported Content-Type",
    422: "Invalid parameter or body (the detail names it)",
    500: "Internal error",
    503: "Saturated or unavailable: retry after the Retry-After delay",
}
#: Query parameters that are times (ISO-8601 with offset, or epoch milliseconds).
TIME_PARAMS = frozenset({"as_of", "known_at", "from", "to", "before"})
TIME_SCHEMA: dict[str, Any] = {"anyOf": [
    {"type": "string", "format": "date-time", "pattern": "^[1-9][0-9]{3}-"},
    {"type": "string", "pattern": "^(-?[0-9]{1,13}|[0-9]{14})$"},  # epoch ms within years 1653..5138
]}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def errors(*codes: int, **texts: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status in ``codes`` with the one error body. ``texts`` overrides the
    description of a status (``errors(401, 422, s422="entity unknown")``)."""
    return {code: {"model": ErrorBody, "description": texts.get(f"s{code}", ERROR_TEXT.get(code, "Error"))}
            for code in codes}


def time_query(description: str = "ISO-8601 with offset or epoch ms", **kwargs: Any) -> Any:
    """A time query parameter (its schema is :data:`TIME_SCHEMA` in the published document)."""
    return Query(None, description=description, **kwargs)


def tenant_query() -> Any:
    """The ``tenant`` query parameter: optional when the key has exactly one tenant."""
    return Query(None, pattern=TENANT_PATTERN, description="Optional when the key has exactly one tenant")


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` by the honest document (built once, then cached like FastAPI's)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description,
                              routes=app.routes)
            app.openapi_schema = _rewrite(doc)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _rewrite(doc: dict[str, Any]) -> dict[str, Any]:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema())
    for path in doc.get("paths", {}).values():
        for op in path.values():
            for param in op.get("parameters", []):
                if param.get("in") == "query" and param["name"] in TIME_PARAMS:
                    param["schema"] = {**TIME_SCHEMA, "description": param.get("description", "")}
            for status, response in op.get("responses", {}).items():
                if status[:1] in "45":
                    response["content"] = {"application/json": {"schema": _ERROR_REF}}
                    if status == "422" and response.get("description") == "Validation Error":
                        response["description"] = ERROR_TEXT[422]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc
