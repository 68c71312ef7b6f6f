"""The grading command: hidden suites against sandboxed submissions, into nbgrader's gradebook.

    python -m autograder grade 01_rnn                 # every course/submitted/<student>/01_rnn/
    python -m autograder grade 01_rnn a.ipynb b.ipynb # given files (student = file stem)
    python -m autograder grade 01_rnn --student alice --exercise rnn_backward --force

For each submission (in parallel, one sandboxed worker each):
1. read the notebook and check it against the released version (locked cells, test cells,
   grade ids, points); locked and test cells are always taken from the release, never from the
   submission, so tampering changes nothing but is reported;
2. run the student's cells in the worker (under NBGRADER_EXECUTION, so experiments are skipped);
3. run each test cell's visible tests in the worker: they gate the exercise, as in nbgrader;
4. run each exercise's hidden suite in this process, calling the student's functions through
   the worker with plain data; score = points * passed / total.
Results are written atomically, one file per submission, keyed by a hash of the submission, the
release and the suites, so a killed run resumes where it stopped and a rerun changes nothing.
Then the gradebook (any SQLAlchemy URL) is updated, one transaction per submission, and CSV,
Gradescope ``results.json`` and one feedback file per student are written.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import pytest

from autograder.hidden import SUITES, Outcome, run_suite
from autograder.sandbox import Limits, SandboxedWorker, WorkerDied, isolation_note
from autograder.worker import decode, encode

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
GRADER_VERSION = "1"
STUDENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MAX_NOTEBOOK_BYTES = 5 << 20
REFERENCE_PACKAGES = ("solutions", "autograder")
DEFAULT_LIMITS = Limits()


# --------------------------------------------------------------------------- the release
@dataclass
class Cell:
    grade_id: str
    kind: str  # "answer", "tests", "written", "given"
    source: str
    points: float = 0.0
    checksum: str = ""


def _kind(meta: dict) -> str | None:
    nb = meta.get("nbgrader")
    if not nb:
        return None
    if nb.get("grade") and nb.get("solution"):
        return "written"
    if nb.get("grade"):
        return "tests"
    if nb.get("solution"):
        return "answer"
    if nb.get("locked"):
        return "given"
    return None


def release_cells(assignment: str, course: Path = COURSE) -> list[Cell]:
    """The graded and locked cells of the released notebook, in order."""
    path = course / "release" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    out = []
    for c in nb.cells:
        kind = _kind(c.metadata)
        if kind:
            m = c.metadata["nbgrader"]
            out.append(
                Cell(
                    m["grade_id"], kind, c.source, float(m.get("points", 0)), m.get("checksum", "")
                )
            )
    return out


# --------------------------------------------------------------------------- integrity
@dataclass
class Plan:
    """What to run for a submission, and what was found on the way."""

    findings: list[str] = field(default_factory=list)
    cells: list[tuple[str, str]] = field(default_factory=list)  # (label, code) to execute
    answered_written: set[str] = field(default_factory=set)
    readable: bool = True


def plan_submission(raw: bytes, release: list[Cell]) -> Plan:
    """Parse a submission and check it against the release.

    Locked cells (given code, tests) always come from the release; answer cells and the
    student's own extra code cells come from the submission.
    """
    plan = Plan()
    if len(raw) > MAX_NOTEBOOK_BYTES:
        plan.readable = False
        plan.findings.append(
            f"the notebook is {len(raw) / 1e6:.1f} MB, over the {MAX_NOTEBOOK_BYTES >> 20} MB "
            "limit: clear the outputs (Kernel > Restart and clear outputs) and submit again."
        )
        return plan
    try:
        text = raw.decode("utf-8")
        nb = nbformat.reads(text, as_version=4)
        cells = list(nb.cells)
        if not isinstance(cells, list):
            raise ValueError("no list of cells")
    except UnicodeDecodeError:
        plan.readable = False
        plan.findings.append("the file is not UTF-8 text, so it is not a notebook.")
        return plan
    except Exception as e:  # nbformat raises several kinds for broken JSON
        plan.readable = False
        plan.findings.append(f"the file is not a readable notebook ({type(e).__name__}).")
        return plan

    by_id = {c.grade_id: c for c in release}
    seen: dict[str, int] = {}
    sub_ids = []
    for c in cells:
        meta = c.get("metadata", {}).get("nbgrader") or {}
        gid = meta.get("grade_id")
        if gid:
            seen[gid] = seen.get(gid, 0) + 1
            sub_ids.append(gid)
    if release and not set(sub_ids) & set(by_id):
        plan.readable = False
        plan.findings.append(
            "this is not the notebook of this assignment (none of its graded cells are there)."
        )
        return plan
    for gid, n in seen.items():
        if n > 1:
            plan.findings.append(f"cell {gid} appears {n} times; only the first one is used.")
    for gid in sub_ids:
        if gid not in by_id:
            plan.findings.append(f"cell {gid} is not part of the assignment and is ignored.")
    missing = [c for c in release if c.grade_id not in seen]
    for c in missing:
        what = {"tests": "test cell", "given": "read-only cell"}.get(c.kind, "answer cell")
        plan.findings.append(
            f"{what} {c.grade_id} was deleted"
            + ("; the original is used." if c.kind in ("tests", "given") else ".")
        )

    # given cells that the student deleted still run, first
    for c in missing:
        if c.kind == "given":
            plan.cells.append((c.grade_id, c.source))
    used: set[str] = set()
    for i, c in enumerate(cells):
        meta = c.get("metadata", {}).get("nbgrader") or {}
        gid = meta.get("grade_id")
        source = c.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if gid in by_id and gid not in used:
            used.add(gid)
            ref = by_id[gid]
            if ref.kind in ("given", "tests"):
                if source != ref.source:
                    what = "test cell" if ref.kind == "tests" else "read-only cell"
                    plan.findings.append(f"{what} {gid} was edited; the original is used.")
                if float(meta.get("points", ref.points)) != ref.points:
                    plan.findings.append(f"the points of {gid} were changed; the original is used.")
                if ref.kind == "given":
                    plan.cells.append((gid, ref.source))
            elif ref.kind == "answer" and c.get("cell_type") == "code":
                plan.cells.append((gid, source))
            elif ref.kind == "written":
                if source.strip() != ref.source.strip():
                    plan.answered_written.add(gid)
            continue
        if gid:  # a duplicate or foreign graded cell: never executed
            continue
        if c.get("cell_type") == "code":
            plan.cells.append((f"cell {i}", source))
    return plan


# --------------------------------------------------------------------------- the student proxy
class RemoteStudent:
    """The ``student`` fixture of the hidden suites, backed by a sandboxed worker.

    Replays the student's cells into a fresh worker if the previous one died (at most
    ``max_restarts`` times), so one crashing test does not take every later test with it.
    """

    def __init__(self, worker_factory, cells: list[tuple[str, str]], max_restarts: int = 3):
        self.factory = worker_factory
        self.cells = cells
        self.max_restarts = max_restarts
        self.worker: SandboxedWorker | None = None
        self.restarts = -1
        self.cell_errors: dict[str, str] = {}
        self._ensure()

    def _ensure(self) -> SandboxedWorker:
        if self.worker is not None and self.worker.proc is not None:
            return self.worker
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise WorkerDied("your code stopped the grading worker too many times")
        self.worker = self.factory()
        self.worker.start()
        for label, code in self.cells:
            reply = self.worker.request({"op": "exec", "code": code, "label": label}, timeout=60)
            if not reply["ok"] and self.restarts == 0:
                self.cell_errors[label] = reply.get("summary", "error")
        return self.worker

    def request(self, message: dict, timeout: float | None = None) -> dict:
        return self._ensure().request(message, timeout)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    # -- the fixture interface (see autograder/hidden.py)
    def __call__(self, name: str):
        try:
            info = self.request({"op": "describe", "name": name})
        except WorkerDied as e:
            pytest.fail(f"{name}: {e}", pytrace=False)
        if not info["defined"]:
            pytest.fail(f"{name} is not defined: run the cell that defines it.", pytrace=False)
        if not info["callable"]:
            pytest.fail(f"{name} is a {info['type']}, not a function.", pytrace=False)
        if info["module"].split(".")[0] in REFERENCE_PACKAGES:
            pytest.fail(
                f"{name} is imported from the course's {info['module']} package; write your own.",
                pytrace=False,
            )
        return _RemoteFunction(self, name)

    def names_used(self, name: str) -> set[str]:
        return set(self.request({"op": "names_used", "name": name})["value"])

    def module_check(self, class_name: str, **kwargs) -> dict:
        self(class_name)
        reply = self._call_remote(
            {"op": "module_check", "name": class_name, "kwargs": encode(kwargs)}, class_name
        )
        return decode(reply["value"])

    def module_function(self, fn_name: str, module_name: str, **kwargs) -> dict:
        self(fn_name)
        message = {
            "op": "module_function",
            "name": fn_name,
            "module_name": module_name,
            "kwargs": encode(kwargs),
        }
        return decode(self._call_remote(message, fn_name)["value"])

    def _call_remote(self, message: dict, name: str) -> dict:
        reply = self.request(message)
        if not reply["ok"]:
            err = reply["error"]
            if err["type"] == "BuiltinUsed":
                pytest.fail(f"{name}: {err['message']}", pytrace=False)
            raise _rebuild_exception(err)
        return reply


class _RemoteFunction:
    def __init__(self, student: RemoteStudent, name: str):
        self.student, self.name = student, name
        self.__name__ = name

    def __call__(self, *args):
        reply = self.student.request({"op": "call", "name": self.name, "args": encode(list(args))})
        if not reply["ok"]:
            raise _rebuild_exception(reply["error"])
        for i, value in reply.get("changed", {}).items():  # mirror in-place changes
            arg = args[int(i)]
            new = decode(value)
            if type(arg) is type(new) and arg.shape == new.shape:
                arg[...] = new
        return decode(reply["value"])


_EXCEPTIONS = {
    name: obj
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, Exception)
}


def _rebuild_exception(err: dict) -> BaseException:
    """The student's exception, re-created here by type name and message (never unpickled)."""
    name, message = str(err.get("type", "Exception")), str(err.get("message", ""))
    if name == "SystemExit":
        return SystemExit(message)
    cls = _EXCEPTIONS.get(name)
    if cls is not None:
        try:
            return cls(message)
        except Exception:
            pass
    return type(name if name.isidentifier() else "StudentError", (Exception,), {})(message)


# --------------------------------------------------------------------------- grading one
@dataclass
class ExerciseResult:
    points: float
    score: float = 0.0
    visible_passed: bool = False
    visible_message: str = ""
    hidden_passed: int = 0
    hidden_total: int = 0
    failures: dict[str, str] = field(default_factory=dict)


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    key: str
    readable: bool
    findings: list[str]
    cell_errors: dict[str, str]
    exercises: dict[str, ExerciseResult]
    written: dict[str, bool]  # written answer grade id -> answered
    printed: str = ""
    seconds: float = 0.0
    isolation: str = ""

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises.values()), 4)

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises.values())


def suites_digest(assignment: str) -> str:
    h = hashlib.sha256(GRADER_VERSION.encode())
    folder = SUITES / assignment
    for p in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def submission_key(raw: bytes, assignment: str, course: Path) -> str:
    h = hashlib.sha256(raw)
    h.update((course / "release" / assignment / f"{assignment}.ipynb").read_bytes())
    h.update(suites_digest(assignment).encode())
    return h.hexdigest()


def grade_submission(
    assignment: str,
    student: str,
    path: str,
    course: Path = COURSE,
    limits: Limits = DEFAULT_LIMITS,
    only: str | None = None,
    use_bwrap: bool | None = None,
) -> SubmissionResult:
    """Grade one submission file (see the module docstring)."""
    t0 = time.perf_counter()
    release = release_cells(assignment, course)
    raw = _read_submission(path)
    key = submission_key(raw, assignment, course)
    plan = plan_submission(raw, release)
    exercises = {
        c.grade_id.removeprefix("test_"): ExerciseResult(points=c.points)
        for c in release
        if c.kind == "tests"
    }
    written = {
        c.grade_id: c.grade_id in plan.answered_written for c in release if c.kind == "written"
    }
    result = SubmissionResult(
        student,
        assignment,
        key,
        plan.readable,
        plan.findings,
        {},
        exercises,
        written,
        isolation=isolation_note(),
    )
    if not plan.readable:
        result.seconds = time.perf_counter() - t0
        return result

    student_proxy = RemoteStudent(lambda: SandboxedWorker(limits, use_bwrap), plan.cells)
    try:
        result.cell_errors = dict(student_proxy.cell_errors)
        tests = {c.grade_id.removeprefix("test_"): c for c in release if c.kind == "tests"}
        for exercise, res in exercises.items():
            if only and exercise != only:
                continue
            try:
                reply = student_proxy.request(
                    {"op": "exec", "code": tests[exercise].source, "label": f"test_{exercise}"}
                )
                res.visible_passed = bool(reply["ok"])
                res.visible_message = "" if reply["ok"] else reply.get("summary", "failed")
            except WorkerDied as e:
                res.visible_passed, res.visible_message = False, str(e)
            outcome = _hidden(assignment, exercise, student_proxy)
            if outcome is None:  # no hidden suite: the visible tests decide
                res.score = res.points if res.visible_passed else 0.0
                continue
            res.hidden_passed, res.hidden_total = len(outcome.passed), outcome.total
            res.failures = dict(outcome.failed)
            res.score = outcome.score(res.points) if res.visible_passed else 0.0
        try:
            result.printed = student_proxy.request({"op": "output"}).get("value", "")
        except WorkerDied:
            pass
    finally:
        student_proxy.close()
    result.seconds = time.perf_counter() - t0
    return result


def _hidden(assignment: str, exercise: str, student) -> Outcome | None:
    if not (SUITES / assignment / f"test_{exercise}.py").is_file():
        return None
    return run_suite(assignment, exercise, student)


def _read_submission(path: str) -> bytes:
    p = Path(path)
    if p.is_symlink():
        return b""  # refused in collect(); an empty file is "not a notebook"
    try:
        with open(p, "rb") as f:
            return f.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError:
        return b""


# --------------------------------------------------------------------------- batches
def collect(assignment: str, course: Path, paths: list[str], student: str | None):
    """(student, path) pairs to grade, and the problems found while collecting them."""
    problems, pairs = [], []
    if paths:
        for p in paths:
            pairs.append((Path(p).stem, p))
    else:
        base = course / "submitted"
        for d in sorted(base.glob("*")) if base.is_dir() else []:
            nb = d / assignment / f"{assignment}.ipynb"
            if d.is_symlink() or (d / assignment).is_symlink() or nb.is_symlink():
                problems.append(f"{d.name}: the submission is a symbolic link; skipped.")
                continue
            if (d / assignment).is_dir():
                if not nb.is_file():
                    found = sorted(x.name for x in (d / assignment).glob("*.ipynb"))
                    problems.append(
                        f"{d.name}: no {assignment}.ipynb in the submission"
                        + (f" (found {', '.join(found)})" if found else "")
                        + "; graded as empty."
                    )
                pairs.append((d.name, str(nb)))
    out = []
    for name, p in pairs:
        if not STUDENT_NAME.match(name):
            problems.append(f"{name!r}: not a valid student name (letters, digits, ._@-); skipped.")
            continue
        if student and name != student:
            continue
        out.append((name, p))
    return out, problems


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def result_to_json(r: SubmissionResult) -> str:
    data = asdict(r)
    data["score"], data["max_score"] = r.score, r.max_score
    return json.dumps(data, indent=1, sort_keys=True)


def result_from_json(text: str) -> SubmissionResult:
    data = json.loads(text)
    data.pop("score", None), data.pop("max_score", None)
    data["exercises"] = {k: ExerciseResult(**v) for k, v in data["exercises"].items()}
    return SubmissionResult(**data)


def _grade_task(args) -> str:
    assignment, student, path, course, limits, only, out_path, use_bwrap = args
    r = grade_submission(assignment, student, path, Path(course), limits, only, use_bwrap)
    if only and Path(out_path).is_file():  # regrading one exercise: keep the others
        old = result_from_json(Path(out_path).read_text())
        if old.key == r.key:
            old.exercises[only] = r.exercises[only]
            r = old
    text = result_to_json(r)
    _atomic_write(Path(out_path), text)
    return text


def output_dir(course: Path, assignment: str) -> Path:
    return course / "grading" / assignment


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
) -> tuple[list[SubmissionResult], list[str]]:
    """Grade many submissions in parallel; reuse results whose key is unchanged."""
    from tqdm.auto import tqdm

    pairs, problems = collect(assignment, course, paths or [], student)
    out = output_dir(course, assignment) / "results"
    todo, done = [], []
    for name, p in pairs:
        target = out / f"{name}.json"
        raw = _read_submission(p)
        key = submission_key(raw, assignment, course)
        if target.is_file() and not force and not exercise:
            try:
                old = result_from_json(target.read_text())
                if old.key == key:
                    done.append(old)
                    continue
            except (ValueError, KeyError, TypeError):
                pass  # a damaged result file is simply redone
        todo.append((assignment, name, p, str(course), limits, exercise, str(target), use_bwrap))
    if todo:
        jobs = jobs or max(1, os.cpu_count() or 1)
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx) as pool:
            futures = [pool.submit(_grade_task, t) for t in todo]
            bar = tqdm(
                as_completed(futures),
                total=len(futures),
                desc=f"grading {assignment}",
                disable=not progress,
                file=sys.stderr,
            )
            for f in bar:
                done.append(result_from_json(f.result()))
    done.sort(key=lambda r: r.student)
    return done, problems
