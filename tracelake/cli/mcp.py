"""``mcp``: the MCP server for agents (docs/mcp.md) — stdio by default, streamable HTTP with ``--http``."""

from __future__ import annotations

import argparse
import sys

from tracelake.cli._common import EXIT_OK, Actions, Command, open_lake

__all__ = ["register"]


def register(command: Command, actions: Actions) -> None:
    p = command("mcp", "an MCP server for agents (stdio; --http: streamable HTTP at /mcp of the service, API keys)")
    p.add_argument("--http", action="store_true", help="serve streamable HTTP (the `serve` app, MCP at /mcp)")
    p.add_argument("--host", default="127.0.0.1", help="with --http: interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8600, help="with --http: port (default 8600)")
    p.set_defaults(func=cmd_mcp)


def cmd_mcp(args: argparse.Namespace) -> int:
    lake = open_lake(args)
    if args.http:
        from tracelake.service import serve
        from tracelake.service.mcp_server import MCP_PATH

        print(f"tracelake mcp: lake {lake.uri}; MCP (streamable HTTP) at http://{args.host}:{args.port}{MCP_PATH}/ "
              "with an API key; Ctrl-C to stop", file=sys.stderr)
        serve(lake, args.host, args.port)
        return EXIT_OK
    from tracelake.service.mcp_server import run_stdio

    print(f"tracelake mcp: lake {lake.uri}; MCP on stdio", file=sys.stderr)
    run_stdio(lake)
    return EXIT_OK
