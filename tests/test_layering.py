"""The house rules that a reader can check: the thin HTTP client needs neither Lance, Ray nor the rooms."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = ("lance", "ray", "duckdb", "polars")


def test_client_imports_without_lance_or_rooms() -> None:
    code = (
        "import sys\n"
        f"for name in {BLOCKED!r}: sys.modules[name] = None  # any import of these now fails\n"
        "import tracelake.client as c\n"
        "rooms = sorted(m for m in sys.modules if m.split('.')[:2] in (['tracelake', r] for r in "
        "('pipelines', 'query', 'storage', 'operators', 'jobs', 'service')))\n"
        "assert not rooms, rooms\n"
        "assert c.Client.search.__doc__ and c.AsyncClient.search.__doc__\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
