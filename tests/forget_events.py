"""Synthetic events for the lease and forget tests, and the helpers that inspect a lake's bytes.

Events are small first-person statements over a few tenants (people, places, employers), deterministic in
``n``; :func:`events` can plant a marker string in chosen events of one tenant.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

_PEOPLE = ["Nora", "Tomas", "Ines", "Kofi", "Mei", "Lars", "Ayla", "Ravi"]
_PLACES = ["Lisbon", "Oslo", "Nairobi", "Osaka", "Quito", "Tallinn", "Perth", "Ghent"]
_ORGS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]
_TEMPLATES = [
    "I moved to {place} last month with {person}.",
    "{person} started a new job at {org} in {place}.",
    "We had dinner with {person} and talked about {org}.",
    "My sister {person} lives in {place} now.",
    "I met {person} at the {org} office yesterday.",
]
_START = datetime(2023, 1, 1, tzinfo=timezone.utc)


def events(n: int, tenants: int = 4, *, marker: str | None = None,
           marked: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    """``n`` events over ``tenants`` tenants (``t0``…); events whose index is in ``marked`` carry ``marker``."""
    out = []
    for i in range(n):
        t = i % tenants
        text = _TEMPLATES[i % len(_TEMPLATES)].format(person=_PEOPLE[(i // 3) % len(_PEOPLE)],
                                                       place=_PLACES[(i // 7) % len(_PLACES)],
                                                       org=_ORGS[(i // 11) % len(_ORGS)])
        if marker and i in marked:
            text = f"{text} The code word is {marker}."
        out.append({"tenant": f"t{t}", "event_id": f"e{i:06d}", "stream": f"s{(i // 40) % 5}",
                    "actor": "me" if i % 2 else _PEOPLE[i % len(_PEOPLE)],
                    "occurred_at": (_START + timedelta(minutes=17 * i)).isoformat().replace("+00:00", "Z"),
                    "text": text})
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def digest(lake: Any) -> dict[str, str]:
    """Content digests (and row counts) of the published consolidated state, as in tests/test_consolidate.py but
    independent of the runs' wall clock (``retracted_at`` reduced to "current or not", no ``row_id``: it hashes
    the run's clock) and with the ledger."""
    queries = {
        "traces": "select trace_id, kind, text, entities, source_event_ids, merged_into, archived from traces",
        "entities": "select entity_id, name, aliases, mention_count from entities",
        "facts": "select fact_id, subject, predicate, object, valid_from, valid_to, "
                 "retracted_at is null as current from facts",
        "ledger": "select tenant, event_id from ledger",
    }
    out = {}
    for name, q in queries.items():
        rows = sorted(json.dumps(r, default=str, sort_keys=True) for r in lake.sql(q).to_pylist())
        out[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16] + f"/{len(rows)}"
    return out


def files_containing(root: Path, needle: bytes) -> list[str]:
    """Every file under ``root`` whose bytes contain ``needle`` (what ``grep -rl`` would print)."""
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            try:
                if needle in path.read_bytes():
                    found.append(str(path))
            except OSError:
                continue
    return found


def s3_objects_containing(server: Any, prefix: str, needle: bytes) -> tuple[int, list[str]]:
    """List and read every object under ``bucket/prefix`` on the S3 server: ``(objects read, keys with needle)``."""
    from pyarrow import fs

    opts = server.storage_options
    s3 = fs.S3FileSystem(access_key=opts["aws_access_key_id"], secret_key=opts["aws_secret_access_key"],
                         region=opts.get("region", "us-east-1"), scheme="http",
                         endpoint_override=server.endpoint.split("://", 1)[1])
    infos = s3.get_file_info(fs.FileSelector(f"{server.bucket}/{prefix}", recursive=True))
    read, found = 0, []
    for info in infos:
        if info.type != fs.FileType.File:
            continue
        with s3.open_input_stream(info.path) as f:
            data = f.read()
        read += 1
        if needle in data:
            found.append(info.path)
    return read, found
