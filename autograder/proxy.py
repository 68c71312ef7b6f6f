"""The student proxy: the student's functions as the tests see them, called in the sandboxed worker.

It is the ``student`` of the visible tests and the hidden suites, with the messages a student
reads when a call fails or a function is not their own.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import time

import pytest

from autograder.config import Limits, clip, from_reference, imported_from_course, show
from autograder.inside.channel import decode, encode
from autograder.inside.inplace import mirror
from autograder.sandbox import SIGNAL_HINTS, WorkerDied


class SandboxError(RuntimeError):
    """The sandbox failed before any student code ran: the grader's problem, not a grade."""


class RemoteStudent:
    """The ``student`` fixture of the hidden suites, backed by a sandboxed worker.

    Starts the worker and runs the notebook's cells in it; a student's cell that kills the worker
    or does not finish in time is reported and skipped on every replay (only a read-only cell that
    fails before any student code ran is the grader's problem: :class:`SandboxError`). After a
    death the worker is restarted and the cells replayed (at most ``limits.max_starts`` starts in
    all, and within the submission's time budget); the function
    whose call killed it is not called again ("poisoned"), so an infinite loop costs its time
    once. Calls made while ``begin(exercise)`` is in force count against that exercise's budget.
    """

    def __init__(self, worker_factory, cells: list[tuple[str, str, str]], limits: Limits):
        self.factory = worker_factory
        self.cells = cells
        self.limits = limits
        self.worker = None
        self.starts = 0
        self.skipped: set[int] = set()
        self.cell_errors: dict[str, str] = {}
        self.dead_cells: dict[str, str] = {}  # label -> what the cell did to the worker
        self.events: list[str] = []
        self.poisoned: dict[str, str] = {}
        self.spent: dict[str, float] = {}
        self.exercise: str | None = None
        self.broken: SandboxError | None = None  # seen even where a suite swallows it
        self.course_code: frozenset[str] = frozenset()  # the release's code cells, verbatim
        self.builtin_forbidden = False  # calls run with torch's recurrent kernels switched off
        self.deadline = time.monotonic() + limits.submission_seconds

    # -- the worker
    def start(self) -> None:
        self._ensure()

    def begin(self, exercise: str | None) -> None:
        self.exercise = exercise

    def _event(self, text: str) -> None:
        text = clip(text, 500)
        if text not in self.events:
            self.events.append(text)

    def _ensure(self):
        try:
            return self._start_if_needed()
        except SandboxError as e:
            self.broken = e
            raise

    def _start_if_needed(self):
        while self.worker is None or self.worker.proc is None:
            if self.starts >= self.limits.max_starts:
                raise WorkerDied(
                    f"your code stopped the grading worker {self.starts} times, so nothing more "
                    "of this notebook was run"
                )
            self.starts += 1
            worker = self.factory()
            try:
                worker.start()
            except Exception as e:  # nothing of the student's has run yet: the machine's fault
                raise SandboxError(f"the sandboxed worker did not start ({e})") from None
            self.worker = worker
            try:  # a first request that runs no student code: the worker's baseline
                worker.request({"op": "output"}, self.limits.setup_seconds)
            except WorkerDied as e:  # nothing of the student's has run: the grader's fault
                raise SandboxError(f"the sandboxed worker did not start ({e})") from None
            self._run_cells(worker)
        return self.worker

    def _run_cells(self, worker) -> None:
        """Run the notebook's cells (but those skipped before) in a fresh worker. A cell of the
        student's that ends or hangs the worker is reported and skipped from then on; the
        caller starts a fresh worker, which runs everything else again without it."""
        student_ran = False
        for i, (label, code, kind) in enumerate(self.cells):
            if i in self.skipped:
                continue
            timeout = self.limits.setup_seconds if kind == "given" else self.limits.cell_seconds
            left = self.deadline - time.monotonic()
            if left <= 0:
                self._event(
                    f"the notebook used up its time budget ({self.limits.submission_seconds:g} "
                    f"s) while its cells ran; from {label} on they were not run"
                )
                return
            try:
                reply = worker.request(
                    {"op": "exec", "code": code, "label": label}, min(timeout, left)
                )
            except WorkerDied as e:
                if kind == "given" and not student_ran:  # no student code has run yet
                    raise SandboxError(f"read-only cell {label} ended the worker ({e})") from None
                self.skipped.add(i)
                why = cell_death(label, code, kind, e)
                self.dead_cells[label] = why
                self._event(why)
                return
            if not reply["ok"] and kind == "given" and not student_ran:
                raise SandboxError(  # e.g. a library the sandbox does not let it load
                    f"read-only cell {label} fails in the sandbox: {reply.get('summary')}"
                )
            if not reply["ok"] and label not in self.cell_errors:
                self.cell_errors[label] = clip(reply.get("summary") or "error")
            student_ran = student_ran or kind == "student"

    def request(self, message: dict, timeout: float | None = None, name: str | None = None):
        if name is not None and name in self.poisoned:
            raise WorkerDied(self.poisoned[name])
        timeout = self.limits.call_seconds if timeout is None else timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise WorkerDied(
                f"the notebook used up its time budget ({self.limits.submission_seconds:g} s); "
                "no more calls were made"
            )
        timeout = min(timeout, left)
        by_budget = False
        ex = self.exercise
        if ex is not None:
            left = self.limits.exercise_seconds - self.spent.get(ex, 0.0)
            if left <= 0:
                raise WorkerDied(
                    f"the time budget of this exercise ({self.limits.exercise_seconds:g} s of "
                    "calls) is used up; no more calls were made"
                )
            if left < timeout:
                timeout, by_budget = left, True
        worker = self._ensure()
        t0 = time.monotonic()
        try:
            return worker.request(message, timeout)
        except WorkerDied as e:
            why = str(e)
            if by_budget and why.startswith("no answer within"):
                why = (
                    f"the time budget of this exercise ({self.limits.exercise_seconds:g} s of "
                    "calls) ran out during this call; the worker was stopped"
                )
            who = name or message.get("label") or message.get("op")
            self._event(f"{who}: {why}")
            if name is not None:
                self.poisoned[name] = f"not called again: an earlier call of {name} failed ({why})"
            raise WorkerDied(why) from None
        finally:
            if ex is not None:
                self.spent[ex] = self.spent.get(ex, 0.0) + time.monotonic() - t0

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def output(self) -> str:
        try:
            value = self.request({"op": "output"}, timeout=10).get("value", "")
        except WorkerDied:
            return ""
        return clip(value, 21_000) if isinstance(value, str) else ""  # the worker keeps 20 000

    # -- what the gate's namespace asks for
    def remote_global(self, name: str):
        """A global of the student's namespace: a function becomes a proxy, data is copied."""
        info = self.request({"op": "describe", "name": name}, name=name)
        if not info["ok"] or not info.get("defined"):
            raise KeyError(name)
        if info.get("callable"):
            if from_reference(info.get("module", "")):
                return _Refused(name, str(info.get("module")))
            return _RemoteFunction(self, name)
        reply = self.request({"op": "value", "name": name}, name=name)
        if not reply["ok"]:
            raise KeyError(name)
        return decode(reply.get("value"))

    # -- the fixture interface (see autograder/hidden.py)
    def __call__(self, name: str):
        try:
            info = self.request({"op": "describe", "name": name}, name=name)
        except WorkerDied as e:
            pytest.fail(f"{name}: {e}", pytrace=False)
        if not info["ok"] or not info.get("defined"):
            pytest.fail(f"{name} is not defined: run the cell that defines it.", pytrace=False)
        if not info.get("callable"):
            pytest.fail(f"{name} is a {clip(info.get('type'), 40)}, not a function.", pytrace=False)
        module = str(info.get("module", ""))
        if from_reference(module):
            pytest.fail(imported_from_course(name, clip(module, 60)), pytrace=False)
        return _RemoteFunction(self, name)

    def sources(self) -> list[str]:
        """The code the student wrote: answer cells and added or edited cells, as submitted.
        Cells exactly as the release has them (the course's own experiment code) are left out."""
        return [c for _, c, k in self.cells if k == "student" and c not in self.course_code]

    def names_used(self, name: str) -> set[str]:
        """The names the function's code refers to: what the worker reports, joined with what
        the submitted source says (which the worker cannot hide)."""
        names = _static_names([c for _, c, k in self.cells if k == "student"], name)
        try:
            reply = self.request({"op": "names_used", "name": name}, name=name)
            value = reply.get("value") if reply["ok"] else None
            if isinstance(value, list):
                names |= {str(v) for v in value}
        except WorkerDied:
            pass
        return names

    def module_check(self, class_name: str, **kwargs) -> dict:
        self(class_name)
        reply = self._call_remote(
            {"op": "module_check", "name": class_name, "kwargs": encode(kwargs)}, class_name
        )
        return decode(reply.get("value"))

    def module_function(self, fn_name: str, module_name: str, **kwargs) -> dict:
        self(fn_name)
        message = {
            "op": "module_function",
            "name": fn_name,
            "module_name": module_name,
            "kwargs": encode(kwargs),
        }
        return decode(self._call_remote(message, fn_name).get("value"))

    def _call_remote(self, message: dict, name: str) -> dict:
        reply = self.request(message, name=name)
        if not reply["ok"]:
            err = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            if err.get("type") in ("BuiltinUsed", "InputChanged"):  # the exercise's rules
                pytest.fail(f"{name}: {clip(err.get('message'))}", pytrace=False)
            raise _rebuild_exception(err)
        return reply


def _first_line(code: str) -> str:
    for line in code.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line
    return ""


def cell_death(label: str, code: str, kind: str, e: WorkerDied) -> str:
    """What a cell did to the worker, in plain words, naming the cell as the student knows it:
    "your cell 4 (the one starting 'import os') ended the grading process (exit code 7) ..."."""
    if kind == "given":
        who = f"read-only cell {label}, run after your code,"
    elif label.startswith("cell "):
        first = _first_line(code)
        who = f"your {label}" + (f" (the one starting {show(first, 40)})" if first else "")
    else:
        who = f"your answer cell {label}"
    if e.cause == "timeout":
        what = f"never finished: stopped after {e.detail:g} s (an endless loop, or far too slow)"
    elif e.cause == "exit":
        what = f"ended the grading process (exit code {e.detail}: os._exit, or a crash)"
    elif e.cause == "signal":
        hint = SIGNAL_HINTS.get(str(e.detail))
        what = f"ended the grading process ({e.detail}{': ' + hint if hint else ''})"
    elif e.cause == "fork":
        what = "started more processes (fork), which is not allowed; it was stopped"
    else:
        what = f"broke the grading process ({e})"
    return f"{who} {what}. It was skipped: the rest of the notebook was run without it."


def _static_names(sources: list[str], name: str) -> set[str]:
    """Names and attributes used inside every top-level def/class ``name`` of ``sources``."""
    out: set[str] = set()
    for src in sources:
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            is_def = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if is_def and node.name == name:
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Name):
                        out.add(sub.id)
                    elif isinstance(sub, ast.Attribute):
                        out.add(sub.attr)
    return out


class _RemoteFunction:
    def __init__(self, student: RemoteStudent, name: str):
        self.student, self.name = student, name
        self.__name__ = name

    def __repr__(self):
        return f"<student function {self.name}>"

    def __call__(self, *args):
        payload = encode(list(args))  # TypeError for anything but plain data
        message = {"op": "call", "name": self.name, "args": payload}
        if self.student.builtin_forbidden:
            message["forbid_builtin"] = True
        reply = self.student.request(message, name=self.name)
        if not reply["ok"]:
            raise _rebuild_exception(reply.get("error"))
        changed = reply.get("changed")
        for i, value in changed.items() if isinstance(changed, dict) else ():
            with contextlib.suppress(Exception):  # in-place changes, at any depth, as nbgrader
                mirror(args[int(i)], decode(value))  # would see them in the student's kernel
        return decode(reply.get("value"))


class _Refused:
    def __init__(self, name: str, module: str):
        self.name, self.module = name, module

    def __call__(self, *args, **kwargs):
        raise AssertionError(imported_from_course(self.name, clip(self.module, 60)))


_EXCEPTIONS = {
    name: obj
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, Exception)
}


def _rebuild_exception(err) -> BaseException:
    """The student's exception, re-created here by type name and message (never unpickled)."""
    err = err if isinstance(err, dict) else {}
    name, message = clip(err.get("type", "Exception"), 60), clip(err.get("message", ""))
    if name == "SystemExit":
        return SystemExit(message)
    cls = _EXCEPTIONS.get(name)
    if cls is not None:
        try:
            return cls(message)
        except Exception:
            pass
    return type(name if name.isidentifier() else "StudentError", (Exception,), {})(message)
