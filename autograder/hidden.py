"""Run one exercise's hidden pytest suite against a student's functions and score it.

This is what the ``### BEGIN HIDDEN TESTS`` region of every test cell calls when nbgrader
autogrades a notebook::

    from autograder.hidden import run_hidden_suite
    run_hidden_suite("01_rnn", "rnn_step_forward", globals(), points=2)

The suite ``autograder/suites/<assignment>/test_<exercise>.py`` gets the student's functions
through the ``student`` fixture. The fixture's interface is the whole contract between suites
and student code, and it carries plain data only, so the same suites run unchanged when the
grading command supplies a ``student`` that calls into a sandboxed worker instead:

* ``student("rnn_step_forward")(*args)``: call a function with numpy arrays, numbers, strings
  and lists/tuples/dicts of them; whatever comes back that is not such data (a cache) must be
  treated as opaque and only handed back to the student's own functions;
* ``student.module_check("LSTM", init_args=(D, H), state_dict={...}, inputs=[x, (h0, c0)],
  grad_outputs=[...])``: run a student's ``nn.Module`` class in float64 with torch's built-in
  recurrent kernels disabled; returns outputs and gradients as arrays (see run_module_check);
* ``student.module_function("init_forget_bias", "LSTM", init_args=(D, H), args=(1.0,))``: apply
  a student's function to a fresh ``torch.nn`` module; returns its state_dict as arrays;
* ``student.names_used("f")``: the global and attribute names the function's code refers to.
* ``student.sources()``: the source of every cell the student wrote, in order, for the static
  checks of :mod:`autograder.shortcuts` (which judge only what an exercise reaches). The
  grading command gives them; in-process grading (``nbgrader autograde``, where the student's
  code shares the kernel with the tests and nothing is hardened) gives ``[]``;
* ``student.builtin_forbidden``: set by the ``refuse_shortcuts`` fixture while an exercise's
  tests run; calls then run with torch's recurrent kernels switched off.

The score is ``points * passed / total``. It is returned, so as the last expression of the cell
it becomes nbgrader's partial credit; a failing visible test before it gives 0. Failures are
printed as their messages only: never the hidden test source or the reference.
"""

from __future__ import annotations

import contextlib
import gc
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from autograder import diagnosis
from autograder.config import SUITES, from_reference, imported_from_course
from autograder.environ import environ
from autograder.inside.modules import (
    BuiltinUsed,
    InputChanged,
    forbid_builtin_rnns,
    run_module_check,
    run_module_function,
)

__all__ = ["Outcome", "StudentNamespace", "run_hidden_suite", "run_module_check", "run_suite"]


class StudentNamespace:
    """The ``student`` fixture for in-process grading: looks functions up in a namespace."""

    builtin_forbidden = False  # set by refuse_shortcuts: calls run with torch's RNN kernels off

    def __init__(self, namespace: dict[str, Any]):
        self._ns = namespace

    def __call__(self, name: str):
        fn = self._ns.get(name)
        if fn is None:
            pytest.fail(f"{name} is not defined: run the cell that defines it.", pytrace=False)
        if not callable(fn):
            pytest.fail(f"{name} is a {type(fn).__name__}, not a function.", pytrace=False)
        module = getattr(fn, "__module__", "") or ""
        if from_reference(module):
            pytest.fail(imported_from_course(name, module), pytrace=False)
        if self.builtin_forbidden and not isinstance(fn, type):
            return _without_builtin_rnns(fn)
        return fn

    def module_check(self, class_name: str, **kwargs) -> dict:
        """Run the student's nn.Module class through :func:`run_module_check` (plain data in
        and out). A module that reaches a built-in recurrent layer fails the test."""
        cls = self(class_name)
        try:
            return run_module_check(cls, **kwargs)
        except (BuiltinUsed, InputChanged) as e:
            pytest.fail(f"{class_name}: {e}", pytrace=False)

    def module_function(self, fn_name: str, module_name: str, **kwargs) -> dict:
        """Apply the student's function to a fresh ``torch.nn.<module_name>``; see
        :func:`run_module_function`."""
        return run_module_function(self(fn_name), module_name, **kwargs)

    def sources(self) -> list[str]:
        """In the student's own kernel the cells cannot be told apart from the given ones."""
        return []

    def names_used(self, name: str) -> set[str]:
        """Global and attribute names the function's code refers to (nested code included)."""
        fn = self(name)
        code = getattr(fn, "__code__", None)
        names: set[str] = set()
        stack = [code] if code is not None else []
        if isinstance(fn, type):  # a class: the code of every method it defines
            stack = [v.__code__ for v in vars(fn).values() if hasattr(v, "__code__")]
        while stack:
            c = stack.pop()
            names.update(c.co_names)
            stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
        return names


def _without_builtin_rnns(fn):
    """``fn`` run with PyTorch's fused recurrent kernels switched off, as the worker runs it
    for the grading command."""

    def run(*args, **kwargs):
        with forbid_builtin_rnns():
            return fn(*args, **kwargs)

    run.__name__ = getattr(fn, "__name__", "function")
    return run


@dataclass
class Outcome:
    """Pass/fail of each test of a suite, with the failure messages, and for a failed test
    whose message names a typical mistake that mistake's key and message (autograder.diagnosis).
    """

    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    mistakes: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.passed) + len(self.failed)

    def score(self, points: float) -> float:
        return round(points * len(self.passed) / self.total, 4) if self.total else 0.0


class _Collector:
    def __init__(self, student):
        self.student_obj = student
        self.outcome = Outcome()

    @pytest.fixture
    def student(self):
        return self.student_obj

    def outcome_of(self, report) -> Outcome | None:
        return self.outcome

    def exercise_of(self, path: str) -> str | None:
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        """Tell a student that counts time per exercise (the grading command's) which one runs;
        forget the mistakes the previous test noted."""
        diagnosis.clear()
        begin = getattr(self.student_obj, "begin", None)
        if begin is not None:
            begin(self.exercise_of(str(item.path)))

    def pytest_runtest_logreport(self, report):
        outcome = self.outcome_of(report)
        if outcome is None:
            return
        name = re.sub(r"^\w+\[(.*)\]$", r"\1", report.nodeid.split("::", 1)[-1])  # kit ids
        if report.when == "call" and report.passed:
            outcome.passed.append(name)
        elif report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            msg = crash.message if crash is not None else "error while running this test"
            for prefix in ("AssertionError: ", "Failed: "):
                msg = msg.removeprefix(prefix)
            if name not in outcome.failed:
                outcome.failed[name] = msg.strip()
                mistake = diagnosis.named_in(msg)
                if mistake is not None:
                    outcome.mistakes[name] = mistake


class _SuitesCollector(_Collector):
    """One Outcome per suite file of a session that runs several suites."""

    def __init__(self, student, exercise_of_file: dict[str, str]):
        super().__init__(student)
        self.exercise_of_file = exercise_of_file
        self.outcomes = {e: Outcome() for e in exercise_of_file.values()}

    def exercise_of(self, path: str) -> str | None:
        return self.exercise_of_file.get(path.split("::", 1)[0].rsplit("/", 1)[-1])

    def outcome_of(self, report) -> Outcome | None:
        exercise = self.exercise_of(report.nodeid)
        return None if exercise is None else self.outcomes[exercise]


def suite_path(assignment: str, exercise: str) -> Path:
    path = SUITES / assignment / f"test_{exercise}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no hidden suite for {assignment}/{exercise} at {path}")
    return path


def _pytest_args(paths: list[Path], traceback: str = "auto") -> list[str]:
    args = [*map(str, paths), "-q", "--no-header", "-p", "no:cacheprovider", "-p", "no:logging"]
    # plain asserts (no introspection that could print hidden values), suites imported by path
    # (assignment folders are not valid package names), warnings never turned into errors
    args += ["--assert=plain", "--import-mode=importlib", "-W", "default", "-o", "addopts="]
    args += ["--rootdir", str(SUITES), "-c", str(SUITES / "pytest.ini")]
    if traceback != "auto":
        args.append(f"--tb={traceback}")
    return args


def _main(args: list[str], collector: _Collector) -> str:
    """pytest.main with everything it prints captured; returns what it printed."""
    sink = io.StringIO()
    # the suites need no third-party plugin, and no options from the caller's environment
    env = environ(PYTEST_ADDOPTS=None, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    gc.freeze()  # pytest collects garbage at exit; freezing the caller's heap keeps that cheap
    try:
        with env, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            pytest.main(args, plugins=[collector])
    finally:
        gc.unfreeze()
    return sink.getvalue()


def run_suite(assignment: str, exercise: str, student) -> Outcome:
    """Run the hidden suite with ``student`` as the fixture; return each test's outcome."""
    collector = _Collector(student)
    printed = _main(_pytest_args([suite_path(assignment, exercise)]), collector)
    if collector.outcome.total == 0:
        raise RuntimeError(f"the hidden suite for {exercise} collected no tests:\n{printed}")
    return collector.outcome


def run_suites(assignment: str, exercises, student) -> dict[str, Outcome]:
    """Run the hidden suites of several exercises in ONE pytest session; an Outcome per exercise.

    The same tests, in the same order and with the same ``student``, as calling
    :func:`run_suite` for each exercise in turn, and the same outcomes and failure messages; but
    pytest is configured and started once instead of once per exercise, and failures are
    reported with ``--tb=native`` (the message a student sees is the exception's, whatever the
    traceback style; the long style only costs time to format the hidden source). Exercises
    without a hidden suite are left out of the result.
    """
    exercise_of_file = {}
    for exercise in exercises:
        path = SUITES / assignment / f"test_{exercise}.py"
        if path.is_file():
            exercise_of_file[path.name] = exercise
    if not exercise_of_file:
        return {}
    paths = [SUITES / assignment / name for name in exercise_of_file]
    collector = _SuitesCollector(student, exercise_of_file)
    printed = _main(_pytest_args(paths, traceback="native"), collector)
    empty = [e for e, o in collector.outcomes.items() if o.total == 0]
    if empty:
        raise RuntimeError(
            f"the hidden suite for {', '.join(empty)} collected no tests:\n{printed}"
        )
    return collector.outcomes


def format_outcome(exercise: str, outcome: Outcome, points: float) -> str:
    lines = [
        f"{exercise}: {len(outcome.passed)}/{outcome.total} hidden tests passed "
        f"({outcome.score(points):g} of {points:g} points)"
    ]
    lines += [f"  FAILED {name}: {msg}" for name, msg in outcome.failed.items()]
    return "\n".join(lines)


def run_hidden_suite(assignment: str, exercise: str, namespace: dict, points: float) -> float:
    """Grade ``exercise`` from the functions in ``namespace``; print a summary; return points."""
    outcome = run_suite(assignment, exercise, StudentNamespace(namespace))
    print(format_outcome(exercise, outcome, points))
    return outcome.score(points)
