"""Grading one submission: a :class:`Job` in, a :class:`SubmissionResult` out.

For a readable notebook: run the student's cells in a sandboxed worker (under
NBGRADER_EXECUTION, so experiments are skipped; a cell that hangs or kills the worker is reported
and skipped, and the worker restarted); the visible tests gate each exercise (autograder/gates.py);
the hidden suites run here, all in one pytest session, calling the student's functions through
the worker with plain data (autograder/hidden.py); score = points * passed / total if the gate
passed. A function that hangs or kills the worker is not called again; each exercise has a budget
of call time, so one slow function cannot starve the others.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from autograder import hidden, warm
from autograder.config import DEFAULT_LIMITS, Limits, clip
from autograder.gates import calibrate_gates, run_gate_here, run_gate_in_worker
from autograder.hidden import Outcome
from autograder.integrity import plan_submission
from autograder.isolation import isolation_note
from autograder.proxy import RemoteStudent
from autograder.release import Release
from autograder.results import ExerciseResult, SubmissionResult, submission_key
from autograder.sandbox import SandboxedWorker, WorkerDied
from autograder.submission import read_submission


@dataclass
class Job:
    """One submission to grade, as plain data: the file is read once, into ``raw``, and its key
    computed once, by :func:`make_job`."""

    release: Release
    student: str
    path: str  # where the file came from (messages, exports); never read again
    raw: bytes
    problem: str | None  # why the file could not be read, if it could not
    key: str
    limits: Limits = DEFAULT_LIMITS
    only: str | None = None  # grade only this exercise
    use_bwrap: bool | None = None
    gate_modes: dict[str, str] | None = None  # from calibrate_gates; found here when None
    warm: bool | None = None  # False: a cold sandbox instead of a worker forked by a zygote
    result_path: str | None = None  # where the batch keeps its result


def make_job(release: Release, student: str, path: str, **options) -> Job:
    """Read the file (see :func:`autograder.submission.read_submission`) and key it."""
    raw, problem = read_submission(path)
    key = submission_key(raw, release, problem)
    return Job(release, student, path, raw, problem, key, **options)


def worker_factory(
    limits: Limits, use_bwrap: bool | None, preload: tuple[str, ...], use_warm: bool | None = None
):
    """Make workers: warm ones (forked from a zygote that has the libraries loaded) where
    possible, otherwise cold ones (a new sandbox that imports everything itself). Both give the
    same isolation; a zygote that cannot start is reported once and the cold path taken."""
    use_warm = warm.warm_possible(use_bwrap) and use_warm is not False

    def make():
        nonlocal use_warm
        if use_warm:
            try:
                warm.zygote_for(preload)
                return warm.WarmWorker(preload, limits)
            except (OSError, WorkerDied) as e:
                use_warm = False
                print(f"warm workers unavailable ({e}); using cold ones", file=sys.stderr)
        return SandboxedWorker(limits, use_bwrap)

    return make


def run_suites(assignment: str, exercises: list[str], student) -> dict[str, Outcome]:
    """The hidden suites of ``exercises`` in one pytest session (autograder.hidden.run_suites,
    which also tells ``student.begin`` which exercise runs), messages clipped for the feedback."""
    outcomes = hidden.run_suites(assignment, exercises, student)
    for outcome in outcomes.values():
        outcome.failed = {name: clip(msg) for name, msg in outcome.failed.items()}
    return outcomes


def _of_answers(by_label: dict[str, str], answer_ids: tuple[str, ...]) -> str:
    """The first entry of ``by_label`` about one of the answer cells ``answer_ids``."""
    for label, text in by_label.items():
        if label.split(" (copy ")[0] in answer_ids:
            return text
    return ""


def _why_not(message: str, proxy: RemoteStudent, answer_ids: tuple[str, ...]) -> str:
    """A failed gate's message, with what the exercise's answer cell did when it ran: ended or
    hung the worker (then it was skipped, and that is the whole story), or raised an error."""
    died = _of_answers(proxy.dead_cells, answer_ids)
    if died:
        return died
    error = _of_answers(proxy.cell_errors, answer_ids)
    if error:
        return clip(f"{message} (your answer cell raised {error} when it ran)")
    return message


def grade_submission(job: Job) -> SubmissionResult:
    """Grade one submission (see the module docstring)."""
    t0 = time.perf_counter()
    release = job.release
    plan = plan_submission(job.raw, release, job.problem)
    tests = release.tests
    exercises = {ex: ExerciseResult(points=c.points) for ex, c in tests.items()}
    written = {gid: gid in plan.answered_written for gid in release.written}
    result = SubmissionResult(
        job.student,
        release.assignment,
        job.key,
        plan.readable,
        plan.findings,
        {},
        exercises,
        written,
        isolation=isolation_note(job.use_bwrap),
        matched=dict(plan.matched),
    )
    if not plan.readable:
        result.seconds = time.perf_counter() - t0
        return result

    modes = job.gate_modes if job.gate_modes is not None else calibrate_gates(release)
    selected = [ex for ex in exercises if not job.only or ex == job.only]
    factory = worker_factory(job.limits, job.use_bwrap, release.preload, job.warm)
    proxy = RemoteStudent(factory, plan.cells, job.limits)
    proxy.course_code = release.code
    try:
        try:
            proxy.start()
        except WorkerDied as e:
            result.findings.append(f"your notebook could not be run: {e}.")
            for ex in selected:
                exercises[ex].visible_message = f"not run: {e}"
            selected = []
        for ex in selected:  # 1. the visible tests gate each exercise
            res = exercises[ex]
            proxy.begin(ex)
            res.gate = modes.get(ex, "sandbox")
            if res.gate == "grader":
                gate = run_gate_here(tests[ex].source, release.given, proxy, f"test_{ex}")
            else:
                gate = run_gate_in_worker(tests[ex].source, proxy, ex)
            res.visible_passed, res.visible_message = gate
            if not res.visible_passed:  # say why, not only "not defined"
                res.visible_message = _why_not(res.visible_message, proxy, release.answers_of[ex])
        with_suite = [ex for ex in selected if release.has_suite(ex)]
        outcomes = run_suites(release.assignment, with_suite, proxy) if with_suite else {}
        proxy.begin(None)
        for ex in selected:  # 2. the hidden suites give the partial credit
            res, outcome = exercises[ex], outcomes.get(ex)
            if outcome is None:  # no hidden suite: the visible tests decide
                res.score = res.points if res.visible_passed else 0.0
                continue
            res.hidden_passed, res.hidden_total = len(outcome.passed), outcome.total
            res.failures = dict(outcome.failed)
            res.mistakes = dict(outcome.mistakes)
            if not res.visible_passed and _of_answers(proxy.dead_cells, release.answers_of[ex]):
                # its answer cell was skipped: the visible message says why, once
                res.failures, res.mistakes = {}, {}
            res.score = outcome.score(res.points) if res.visible_passed else 0.0
        if proxy.broken is not None:  # no grade from a sandbox that failed on its own
            raise proxy.broken
        result.printed = proxy.output() if selected else ""
        result.cell_errors = dict(proxy.cell_errors)
        result.events = list(proxy.events)
    finally:
        proxy.close()
    result.seconds = time.perf_counter() - t0
    return result
