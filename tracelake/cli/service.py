"""``serve`` and ``keys …``: the HTTP service for apps (docs/service.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pyarrow as pa

from tracelake.cli._common import EXIT_OK, Actions, Command, emit, open_lake, print_json, print_table, settings

__all__ = ["register"]


def register(command: Command, actions: Actions) -> None:
    p = command("serve", "the HTTP service for apps: ingest, query, health, metrics (docs/service.md)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8600, help="port (default 8600)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--no-access-log", dest="access_log", action="store_false", help="do not log each request")
    p.set_defaults(func=cmd_serve)

    p = command("keys", "API keys of the HTTP service: create, list, revoke")
    key_action = actions(p, "keys_command")

    q = key_action("create", "create a key bound to tenants; its secret is printed once, on stdout")
    q.add_argument("--tenant", action="append", default=[], metavar="T", help="a tenant the key may write and read "
                   "(repeatable)")
    q.add_argument("--all-tenants", action="store_true", help="the key may access every tenant")
    q.add_argument("--admin", action="store_true", help="may also call /v1/admin/* and /metrics")
    q.add_argument("--name", help="a label for the key")
    q.set_defaults(func=cmd_keys_create)
    q = key_action("list", "list keys (never their secrets)")
    q.set_defaults(func=cmd_keys_list)
    q = key_action("revoke", "revoke a key (takes effect on the service's next request)")
    q.add_argument("key_id", metavar="KEY_ID")
    q.set_defaults(func=cmd_keys_revoke)


def _keystore(args: argparse.Namespace) -> Any:
    from tracelake.service import KeyStore, service_dir

    return KeyStore(service_dir(settings(args)) / "keys.json")


def cmd_serve(args: argparse.Namespace) -> int:
    from tracelake.service import serve

    lake = open_lake(args)
    print(f"tracelake serve: lake {lake.uri} on http://{args.host}:{args.port} (OpenAPI at /docs); Ctrl-C to stop",
          file=sys.stderr)
    serve(lake, args.host, args.port, log_level=args.log_level, access_log=args.access_log)
    return EXIT_OK


def cmd_keys_create(args: argparse.Namespace) -> int:
    store = _keystore(args)
    tenants = list(args.tenant) + (["*"] if args.all_tenants else [])
    key, secret = store.create(tenants, admin=args.admin, name=args.name)
    if args.json:
        print_json({**key.public(), "secret": secret})
    else:
        print(f"created key {key.key_id} for tenants {', '.join(key.tenants) or '(none)'}"
              f"{' (admin)' if key.admin else ''} in {store.path}; the secret is shown only now:", file=sys.stderr)
        print(secret)
    return EXIT_OK


def cmd_keys_list(args: argparse.Namespace) -> int:
    keys = [k.public() for k in _keystore(args).list()]
    rows = [{**k, "tenants": ",".join(k["tenants"])} for k in keys]
    emit(keys, args.json, lambda: print_table(pa.Table.from_pylist(rows)) if rows else print("(no keys)"))
    return EXIT_OK


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    key = _keystore(args).revoke(args.key_id)
    emit(key.public(), args.json, lambda: print(f"revoked {key.key_id} at {key.revoked_at}", file=sys.stderr))
    return EXIT_OK
