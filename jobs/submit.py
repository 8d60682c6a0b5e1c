"""Send a consolidation to a Ray cluster as a Ray job, shipping this package as a wheel.

The wheel is built from the installed source tree (``pip wheel --no-deps``), unpacked, and its ``tracelake``
package given to Ray as ``runtime_env={"py_modules": [package_dir]}`` — the wheel's content, not the source
folder, so the ``tracelake.*`` package mapping of the repository's top-level rooms is exactly what the workers
import. The cluster must already have tracelake's dependencies (pyarrow, pylance, duckdb, ...) installed.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from tracelake.errors import ConfigError

__all__ = ["build_wheel", "submit_consolidation"]


def build_wheel(out_dir: Path | None = None) -> Path:
    """Build the tracelake wheel into ``out_dir`` (a temp dir by default); returns its path."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "setup.py").exists():
        raise ConfigError("cannot find the tracelake source tree to build a wheel", path=str(root))
    out = Path(out_dir or tempfile.mkdtemp(prefix="tracelake-wheel-"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(root)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ConfigError(f"building the wheel failed: {proc.stderr.strip()[-500:]}")
    wheels = sorted(out.glob("tracelake-*.whl"))
    if not wheels:
        raise ConfigError("no wheel was produced", dir=str(out))
    return wheels[-1]


def _unpacked(wheel: Path) -> Path:
    """The wheel's ``tracelake`` package, unpacked beside it. Given a ``.whl``, Ray pip-installs it *with every
    dependency* into each job's environment (1.3 GB and minutes here, and a second Ray); a package directory
    is shipped as it is."""
    out = wheel.with_suffix("")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(out)
    return out / "tracelake"


def submit_consolidation(address: str, data: str, *, tenant: str | None = None, steps: str | None = None,
                         wait: bool = False, timeout_s: float = 600.0) -> dict[str, str]:
    """Submit ``tracelake consolidate`` to the Ray job server at ``address`` (``http://head:8265``)."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    wheel = build_wheel()
    cmd = ["python", "-m", "tracelake.cli", "consolidate", "--data", data, "--json"]
    if tenant:
        cmd += ["--tenant", tenant]
    if steps:
        cmd += ["--steps", steps]
    try:
        client = JobSubmissionClient(address)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"cannot reach the Ray job server: {exc}", address=address) from None
    job_id = client.submit_job(entrypoint=shlex.join(cmd), runtime_env={"py_modules": [str(_unpacked(wheel))]})
    out = {"job_id": job_id, "wheel": wheel.name, "status": "SUBMITTED"}
    if wait:
        import time

        deadline = time.monotonic() + timeout_s
        status = client.get_job_status(job_id)
        while status not in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED} and time.monotonic() < deadline:
            time.sleep(1.0)
            status = client.get_job_status(job_id)
        out["status"] = str(status.value if hasattr(status, "value") else status)
        out["logs"] = client.get_job_logs(job_id)[-4000:]
    return out
