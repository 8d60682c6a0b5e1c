"""The service room: the HTTP door for apps (ingest and query over the network). See docs/service.md.

- :func:`create_app` — the FastAPI (ASGI) app for a :class:`tracelake.api.Lake`;
- :func:`serve` — run it with uvicorn (``tracelake serve``);
- :class:`KeyStore` — API keys bound to tenants (``tracelake keys ...``).
"""

from __future__ import annotations

from typing import Any

from .keys import ApiKey, KeyStore

__all__ = ["create_app", "serve", "service_dir", "KeyStore", "ApiKey"]


def create_app(lake: Any, settings: Any = None, **kwargs: Any) -> Any:
    """See :func:`tracelake.service.app.create_app` (imported lazily: FastAPI is an optional dependency)."""
    from .app import create_app as _create_app

    return _create_app(lake, settings, **kwargs)


def service_dir(settings: Any, lake_uri: str | None = None) -> Any:
    from .app import service_dir as _service_dir

    return _service_dir(settings, lake_uri)


def serve(lake: Any, host: str = "127.0.0.1", port: int = 8600, *, log_level: str = "info",
          access_log: bool = True) -> None:
    """Serve ``lake`` over HTTP until interrupted (one process: it is the Ray driver of the ingest actors)."""
    import uvicorn

    lake.ready(timeout=60)  # start or join Ray in the main thread, before the event loop
    app = create_app(lake)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=access_log,
                            lifespan="on", timeout_graceful_shutdown=30, server_header=False)
    uvicorn.Server(config).run()
