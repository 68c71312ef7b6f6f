"""The process environment: variables set and restored, and nbgrader run with this Python's PATH.

nbgrader starts ``alembic`` from the environment's bin folder, so it is put first on PATH.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path


def _apply(values: dict[str, str | None]) -> None:
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@contextlib.contextmanager
def environ(**changes: str | None):
    """Set (a string) or remove (None) environment variables while the block runs; put back
    what was there afterwards."""
    saved = {k: os.environ.get(k) for k in changes}
    try:
        _apply(changes)
        yield
    finally:
        _apply(saved)


def tools_env() -> dict[str, str]:
    """This process's environment with the bin folder of its Python first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(course: Path, *args: str, timeout: float | None = None):
    """``python -m nbgrader ARGS`` in the course folder; the finished process (output captured)."""
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        capture_output=True,
        text=True,
        env=tools_env(),
        timeout=timeout,
    )
