"""The visible tests that gate each exercise: where each runs, and running it there.

A gate runs here against proxies, or in the worker; which one is calibrated once per release on
the instructor's solution.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import io
import json
import os
import sys
import traceback
import warnings

import numpy as np

from autograder.config import Limits, clip, source_notebook
from autograder.environ import environ
from autograder.inside.worker import Worker
from autograder.integrity import plan_submission
from autograder.proxy import RemoteStudent
from autograder.release import Release
from autograder.sandbox import WorkerDied


class _GateNamespace(dict):
    """Globals for running a test cell here: the release's read-only cells fill it; any other
    name is looked up in the student's worker (a function becomes a proxy, data is copied)."""

    def __init__(self, student):
        super().__init__(__name__="__main__", __builtins__=builtins)
        self._student = student

    def __missing__(self, name):
        if hasattr(builtins, name) or name.startswith("__"):
            raise KeyError(name)
        value = self._student.remote_global(name)
        self[name] = value
        return value


@contextlib.contextmanager
def _process_state():
    """Run notebook cells here without leaving a trace: numpy's print options, error handling
    and random state, torch's default dtype, threads and random state, warning filters, and
    NBGRADER_EXECUTION (set while inside, as nbgrader does) are restored afterwards."""
    np_print, np_err = np.get_printoptions(), np.geterr()
    np_rng = np.random.get_state()  # noqa: NPY002 (the legacy global state is what cells touch)
    had_torch = "torch" in sys.modules
    if had_torch:
        torch = sys.modules["torch"]
        t_dtype, t_threads, t_rng = (
            torch.get_default_dtype(),
            torch.get_num_threads(),
            torch.get_rng_state(),
        )
    env = environ(NBGRADER_EXECUTION="autograde", MPLBACKEND=os.environ.get("MPLBACKEND", "Agg"))
    try:
        with env, warnings.catch_warnings():
            yield
    finally:
        np.set_printoptions(**np_print)
        np.seterr(**np_err)
        np.random.set_state(np_rng)  # noqa: NPY002
        torch = sys.modules.get("torch")
        if torch is not None:
            if had_torch:
                torch.set_default_dtype(t_dtype)
                torch.set_num_threads(t_threads)
                torch.set_rng_state(t_rng)
            else:
                torch.set_default_dtype(torch.float32)


def _exception_line(e: BaseException) -> str:
    return traceback.format_exception_only(type(e), e)[-1].strip()


@functools.lru_cache(maxsize=256)
def _compiled(source: str, label: str):
    """The release's cells, compiled once per grading process (they are the same for everyone)."""
    return compile(source, label, "exec")


def run_gate_here(test_source: str, given: list[tuple[str, str]], student, label: str):
    """Run a release test cell in this process against the student's functions in the worker.

    Returns (passed, message). Only the release's code runs here; what the student's functions
    return arrives as plain data or opaque handles.
    """
    ns = _GateNamespace(student)
    sink = io.StringIO()
    with _process_state(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        for glabel, code in given:
            with contextlib.suppress(Exception):
                exec(_compiled(code, glabel), ns)
        try:
            exec(_compiled(test_source, label), ns)
        except WorkerDied as e:
            return False, clip(str(e))
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # AssertionError, NameError, the student's exceptions...
            return False, clip(_exception_line(e))
    return True, ""


def run_gate_in_worker(test_source: str, student: RemoteStudent, exercise: str):
    """The fallback for test cells that need live objects: run the cell in the worker."""
    try:
        reply = student.request(
            {"op": "exec", "code": test_source, "label": f"test_{exercise}"},
            timeout=student.limits.cell_seconds,
            name=f"test_{exercise}",
        )
    except WorkerDied as e:
        return False, clip(str(e))
    return reply["ok"], "" if reply["ok"] else clip(reply.get("summary") or "failed")


class _LocalWorker:
    """The worker protocol served in this process: only for the instructor's own solution."""

    def __init__(self):
        self.proc = None

    def start(self):
        self.impl, self.proc = Worker(), True

    def request(self, message: dict, timeout: float | None = None) -> dict:
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            try:
                reply = self.impl.handle(json.loads(json.dumps(message)))
            except Exception as e:
                reply = {"ok": False, "error": {"type": type(e).__name__, "message": str(e)}}
        return json.loads(json.dumps(reply))

    def stop(self):
        self.proc = None


@functools.lru_cache(maxsize=8)
def _calibrate(release: Release) -> tuple[tuple[str, str], ...]:
    tests = release.tests
    try:
        raw = source_notebook(release.course, release.assignment).read_bytes()
    except OSError:
        return tuple((ex, "sandbox") for ex in tests)
    plan = plan_submission(raw, release)
    # the read-only and answer cells only: the notebook's free cells (experiments) are not needed
    cells = [c for c in plan.cells if not c[0].startswith("cell ")]
    limits = Limits(call_seconds=600, cell_seconds=600, setup_seconds=600, exercise_seconds=1e9)
    reference = RemoteStudent(_LocalWorker, cells, limits)
    modes = []
    with _process_state():
        reference.start()
        for ex, c in tests.items():
            ok, _ = run_gate_here(c.source, release.given, reference, c.grade_id)
            modes.append((ex, "grader" if ok else "sandbox"))
    return tuple(modes)


def calibrate_gates(release: Release) -> dict[str, str]:
    """Where each exercise's visible tests run: "grader" (here, against proxies; the
    instructor's solution passes them that way) or "sandbox" (in the worker). Found once per
    release and process by running the instructor's solution through the same proxies."""
    return dict(_calibrate(release))
