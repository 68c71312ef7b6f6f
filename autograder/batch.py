"""Batches: the submissions of an assignment collected, keyed, graded behind an executor, stored.

A result is reused while its key is unchanged (the file, the release, the instructor's solution,
the suites, the grader's version), so a killed run resumes where it stopped and a rerun changes
nothing. Grading runs behind :class:`Executor`: :class:`LocalPool` (processes on this machine)
here, :class:`autograder.cluster.DaskCluster` (a Dask distributed cluster) beside it.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from autograder import isolation
from autograder.config import COURSE, DEFAULT_LIMITS, STUDENT_NAME, Limits, clip, output_dir, show
from autograder.gates import calibrate_gates
from autograder.grading import Job, grade_submission, make_job
from autograder.proxy import SandboxError
from autograder.release import load_release
from autograder.results import (
    SubmissionResult,
    atomic_write,
    load_result,
    result_from_json,
    result_to_json,
)
from autograder.warm import stop_zygotes

LOST = ("lost", "")  # what an executor reports for a task whose process died


def collect(assignment: str, course: Path, paths: list[str], student: str | None):
    """(student, path) pairs to grade, and the problems found while collecting them.

    Symbolic links anywhere in a student's part of the tree are refused, names must be plain
    (letters, digits, ._@-), and two files may not claim the same student.
    """
    problems, pairs = [], []
    if paths:
        for p in paths:
            if Path(p).is_symlink():
                problems.append(f"{show(p)}: a symbolic link; skipped.")
                continue
            pairs.append((Path(p).stem, p))
    else:
        base = course / "submitted"
        for d in sorted(base.iterdir()) if base.is_dir() else []:
            sub, nb = d / assignment, d / assignment / f"{assignment}.ipynb"
            if d.is_symlink() or sub.is_symlink() or nb.is_symlink():
                link = next(x for x in (d, sub, nb) if x.is_symlink())
                problems.append(
                    f"{show(d.name)}: {link.relative_to(base)} is a symbolic link (to "
                    f"{show(os.readlink(link))}); skipped, not graded."
                )
                continue
            if not d.is_dir() or not sub.is_dir():
                continue  # no submission of this assignment
            if not nb.exists():
                found = sorted(x.name for x in sub.glob("*.ipynb"))
                problems.append(
                    f"{show(d.name)}: no {assignment}.ipynb in the submission"
                    + (f" (found {show(', '.join(found))})" if found else "")
                    + "; graded as empty."
                )
            pairs.append((d.name, str(nb)))
    out, names = [], set()
    for name, p in pairs:
        if not STUDENT_NAME.match(name):
            problems.append(
                f"{show(name)}: not a valid student name (letters, digits, ._@-); skipped."
            )
            continue
        if name in names:
            problems.append(
                f"{show(name)}: more than one submission for this student; skipped {show(p)}."
            )
            continue
        names.add(name)
        if student and name != student:
            continue
        out.append((name, p))
    return out, problems


def ungraded(students: list[str], results: list[SubmissionResult], problems: list[str]):
    """{student: why} for each of ``students`` that has no result: the problem noted for them
    (a sandbox that could not run, a grader bug, a process killed three times)."""
    have = {r.student for r in results}
    out = {}
    for s in students:
        if s not in have:
            why = [p.split(": ", 1)[1] for p in problems if p.startswith(f"{s}: ")]
            out[s] = why[-1] if why else "no result (see the notes above)"
    return out


def grade_job(job: Job) -> tuple[str, str]:
    """Grade one submission wherever the executor runs it: ("ok", result JSON) or
    ("error", why). Nothing is stored (see :func:`store_result`)."""
    try:
        return "ok", result_to_json(grade_submission(job))
    except SandboxError as e:  # the machine's fault: no grade rather than a wrong one
        return "error", (
            f"the sandbox could not run ({clip(e, 300)}): a fault of the grading machine, not "
            "of the submission; fix it and run again"
        )
    except Exception as e:  # a bug of the grader, not the student's doing: say so, go on
        return "error", f"the grader failed ({type(e).__name__}: {clip(e, 300)}); run again"


def store_result(job: Job, text: str) -> str:
    """Store a graded result atomically at ``job.result_path`` and return what was stored;
    regrading one exercise (``job.only``) keeps the stored result's other exercises."""
    if job.only:
        old = load_result(Path(job.result_path))
        new = result_from_json(text)
        if old is not None and old.key == new.key:
            old.exercises[job.only] = new.exercises[job.only]
            old.events += [e for e in new.events if e not in old.events]
            text = result_to_json(old)
    atomic_write(Path(job.result_path), text)
    return text


def grade_task(job: Job) -> tuple[str, str]:
    """Grade one submission and store its result atomically where it is graded (a process of
    this machine); ("ok", result JSON) or ("error", why)."""
    status, text = grade_job(job)
    if status != "ok":
        return status, text
    try:
        return "ok", store_result(job, text)
    except OSError as e:
        return "error", f"the result could not be stored ({clip(e, 300)}); run again"


class Executor:
    """Where grading tasks run. ``run`` grades every job and stores its result (with
    :func:`grade_task`, or :func:`grade_job` where it runs and :func:`store_result` here) and yields
    ``(job, (status, payload))`` as each finishes, or ``(job, LOST)`` when the process grading it
    died; the batch runs lost jobs again, in a fresh ``run``."""

    def run(self, jobs: list[Job]) -> Iterator[tuple[Job, tuple[str, str]]]:
        raise NotImplementedError


def _pool_init() -> None:
    isolation.set_parent_death_signal()  # a killed command leaves no grading process behind
    # a pool process ends without running atexit: stop its zygote (and remove its cgroup) then
    multiprocessing.util.Finalize(None, stop_zygotes, exitpriority=0)


class LocalPool(Executor):
    """Processes on this machine, each with its own warm sandbox.

    Pool processes fork from a server that has imported the grader, torch and pyplot once (what
    the read-only cells import when the visible tests run here), instead of each importing them
    anew; the server and its children die with this process.
    """

    def __init__(self, jobs: int | None = None):
        self.jobs = max(1, jobs or os.cpu_count() or 1)

    def run(self, jobs: list[Job]) -> Iterator[tuple[Job, tuple[str, str]]]:
        os.environ.setdefault("MPLBACKEND", "Agg")
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["autograder.batch", "torch", "matplotlib.pyplot"])
        workers = min(self.jobs, len(jobs))
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_pool_init) as pool:
            futures = {pool.submit(grade_task, job): job for job in jobs}
            for f in as_completed(futures):
                try:
                    yield futures[f], f.result()
                except BrokenProcessPool:
                    yield futures[f], LOST


def grade_batch(
    assignment: str,
    paths: list[str] | None = None,
    course: Path = COURSE,
    student: str | None = None,
    exercise: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    progress: bool = True,
    use_bwrap: bool | None = None,
    log=print,
    warm: bool | None = None,
    executor: Executor | None = None,
) -> tuple[list[SubmissionResult], list[str]]:
    """Grade many submissions in parallel; reuse results whose key is unchanged."""
    from tqdm.auto import tqdm

    use_bwrap = isolation.bwrap_in_use(use_bwrap)  # decided here, so every process agrees
    release = load_release(assignment, course)
    if exercise and exercise not in release.exercises:
        names = ", ".join(release.exercises)
        raise ValueError(f"no exercise {exercise!r} in {assignment}; one of {names}")
    pairs, problems = collect(assignment, course, paths or [], student)
    if student and not pairs:
        problems.append(f"no submission of student {show(student)} was found.")
    modes = calibrate_gates(release)
    out = output_dir(course, assignment) / "results"
    todo, done = [], []
    for name, p in pairs:
        target = out / f"{name}.json"
        job = make_job(release, name, p, limits=limits, use_bwrap=use_bwrap)
        old = load_result(target)
        same = old is not None and old.key == job.key
        if same and not force and not exercise:
            done.append(old)
            continue
        job.only = exercise if (exercise and same) else None  # no valid result: grade it all
        job.gate_modes, job.result_path = modes, str(target)
        job.warm = False if warm is False else None  # None: warm wherever it is graded, if it can
        todo.append(job)
    executor = executor or LocalPool(jobs)
    for _attempt in range(3):  # a process that was killed is replaced; its tasks rerun
        if not todo:
            break
        lost = []
        finished = executor.run(todo)
        bar = tqdm(
            finished,
            total=len(todo),
            desc=f"grading {assignment}",
            disable=not progress,
            file=sys.stderr,
        )
        for job, (status, payload) in bar:
            if (status, payload) == LOST:
                lost.append(job)
            elif status == "ok":
                done.append(result_from_json(payload))
            else:
                problems.append(f"{job.student}: {payload}")
        todo = lost
    for job in todo:
        problems.append(f"{job.student}: a grading process was killed three times; not graded.")
    done.sort(key=lambda r: r.student)
    return done, problems
