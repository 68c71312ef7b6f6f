"""The grading command (``python -m autograder grade``), in temporary copies of the course.

1. On the three samples it gives nbgrader autograde's scores, cell by cell.
2. Every hostile or broken submission of tests/fixtures/hostile/, graded in one batch with the
   samples, gets the score its honest code deserves (never more than its honest twin), a message
   that says what happened, and changes nobody else's grade; the sandbox shows it nothing of
   the course, the grader or the reference.
3. Killed mid-batch and run again, it ends with every grade exactly once, as an uninterrupted
   run does; a rerun changes nothing.
4. Regrading one student or one exercise leaves everything else alone.
5. Feedback and Gradescope files hold no hidden test code and no reference code.
6. Without bubblewrap it says so first and still isolates each submission in its own process.
Plus quick unit tests of the pieces (reading files, the plain-data channel, time budgets).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import isolation
from autograder.__main__ import main as cli
from autograder.batch import LOST, Executor, collect, grade_batch, grade_task
from autograder.config import Limits
from autograder.environ import run_nbgrader
from autograder.export import feedback_text, gradescope_json, write_all
from autograder.gates import run_gate_here
from autograder.gradebook import scores
from autograder.inside import channel
from autograder.inside.channel import decode, encode
from autograder.integrity import plan_submission
from autograder.proxy import RemoteStudent
from autograder.release import load_release
from autograder.results import load_result
from autograder.sandbox import SandboxedWorker, WorkerDied
from autograder.submission import notebook_text, parse_notebook, read_submission
from autograder.warm import WarmWorker, _descendants, warm_possible
from course import build
from tests.util import load_module, result_files, sample_namespace

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
A = "01_rnn"
SAMPLES = ("correct", "mistakes", "unanswered")
# Short limits keep the hostile batch quick; the setup cell (import torch) keeps its own.
LIMITS = Limits(
    call_seconds=5, cell_seconds=10, exercise_seconds=60, memory_bytes=5 << 28, processes=64
)
needs_bwrap = pytest.mark.skipif(isolation.BWRAP is None, reason="bubblewrap is not installed")


hostile = load_module("hostile_fixtures", ROOT / "tests" / "fixtures" / "hostile" / "build.py")


# --------------------------------------------------------------------------- course copies
def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    return run_nbgrader(course, *args, timeout=900)


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    """A copy of the course whose gradebook knows 01_rnn, made once; tests copy it again."""
    dest = tmp_path_factory.mktemp("template") / "course"
    shutil.copytree(
        COURSE,
        dest,
        ignore=shutil.ignore_patterns(
            "gradebook.db",
            "executed",
            "submitted",
            "autograded",
            "feedback",
            "grading",
            "__pycache__",
            ".nbgrader.log",
        ),
    )
    proc = _nbgrader(dest, "generate_assignment", A, "--force", "--log-level=WARN")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


def _copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


def _with_samples(template: Path, dest: Path) -> Path:
    course = _copy(template, dest)
    for sample in SAMPLES:
        answers, written = hostile._sample_answers(sample)
        path = course / "submitted" / sample / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(hostile.notebook(course, answers, written), path)
    return course


def _db(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}"


def _results(course: Path) -> dict[str, dict]:
    return result_files(course, A)


def _table(course: Path) -> dict[str, dict[str, float]]:
    return scores(_db(course), A)


def _gradebook_rows(course: Path) -> dict[str, list]:
    """The gradebook's submissions and grades as plain rows (for comparing whole states)."""
    con = sqlite3.connect(course / "gradebook.db")
    try:
        subs = con.execute(
            "select student_id, count(*) from submitted_assignment group by student_id"
        ).fetchall()
        grades = con.execute(
            "select sa.student_id, bc.name, g.auto_score, g.manual_score, g.needs_manual_grade "
            "from grade g join submitted_notebook sn on g.notebook_id = sn.id "
            "join submitted_assignment sa on sn.assignment_id = sa.id "
            "join base_cell bc on g.cell_id = bc.id order by sa.student_id, bc.name"
        ).fetchall()
        per_cell = con.execute(
            "select count(*) from grade group by notebook_id, cell_id having count(*) > 1"
        ).fetchall()
    finally:
        con.close()
    return {"submissions": sorted(subs), "grades": grades, "duplicates": per_cell}


@pytest.fixture(scope="module")
def samples_graded(template, tmp_path_factory) -> Path:
    """The three samples graded by the command, uninterrupted (shared by several tests)."""
    course = _with_samples(template, tmp_path_factory.mktemp("ours") / "course")
    assert cli(["grade", A, "--course", str(course), "--no-progress"]) == 0
    return course


@pytest.mark.slow
@pytest.mark.skipif(not warm_possible(), reason="warm workers are not used here")
def test_cold_workers_grade_as_warm_ones(template, samples_graded, tmp_path, capsys):
    """The samples were graded with warm workers; a cold sandbox per submission (--cold) gives
    the same result files, messages included."""
    course = _with_samples(template, tmp_path / "cold")
    assert cli(["grade", A, "--course", str(course), "--no-progress", "--cold"]) == 0
    assert "workers: warm" not in capsys.readouterr().out
    assert _results(course) == _results(samples_graded)


# --------------------------------------------------------------------------- 1. honest scores
@pytest.mark.slow
def test_scores_equal_nbgrader_autograde(template, samples_graded, tmp_path):
    theirs = _with_samples(template, tmp_path / "theirs")
    proc = _nbgrader(theirs, "autograde", A, "--create", "--force", "--log-level=WARN")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expected, got = _table(theirs), _table(samples_graded)
    assert set(expected) == set(got) == set(SAMPLES)
    for student in SAMPLES:
        assert got[student] == pytest.approx(expected[student]), student
    assert sum(got["correct"].values()) == 14  # the exercises; written answers await a human
    results = {
        r: load_result(samples_graded / "grading" / A / "results" / f"{r}.json") for r in SAMPLES
    }
    for student, r in results.items():  # the result files agree with the gradebook
        for ex, res in r.exercises.items():
            assert res.score == pytest.approx(got[student][f"test_{ex}"])
        assert all(res.gate == "grader" for res in r.exercises.values())  # all gates here


# --------------------------------------------------------------------------- 2. hostile batch
class Batch:
    def __init__(self, course, cases, results, problems, connections):
        self.course, self.cases, self.problems, self.connections = (
            course,
            cases,
            problems,
            connections,
        )
        self.results = {r.student: r for r in results}

    def feedback(self, student: str) -> str:
        path = self.course / "grading" / A / "feedback" / f"{student}.md"
        return path.read_text() if path.is_file() else ""

    def printed(self, student: str) -> str:
        return self.results[student].printed


@pytest.fixture(scope="module")
def batch(template, tmp_path_factory) -> Batch:
    """Every hostile fixture and the three samples, graded in one batch."""
    if isolation.BWRAP is None:
        pytest.skip("bubblewrap is not installed: hostile code would run unconfined")
    course = _copy(template, tmp_path_factory.mktemp("hostile") / "course")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    cases = hostile.build_all(course, listener.getsockname()[1])
    results, problems = grade_batch(A, course=course, limits=LIMITS, progress=False)
    pairs, _ = collect(A, course, [], None)
    write_all(course, results, dict(pairs), _db(course))
    connections = []
    while True:
        try:
            connections.append(listener.accept()[1])
        except BlockingIOError:
            break
    listener.close()
    return Batch(course, cases, results, problems, connections)


@needs_bwrap
@pytest.mark.slow
@pytest.mark.parametrize("name", hostile.case_names())
def test_hostile_submission(batch, name):
    case = batch.cases[name]
    notes = "\n".join(batch.problems)
    if not case.graded:  # refused at collection: a note, no result, no grade
        assert name not in batch.results
        assert name not in _table(batch.course)
        assert re.search(case.message, notes), notes
        return
    r = batch.results[name]
    got = {ex: res.score for ex, res in r.exercises.items()}
    full = {ex: res.points for ex, res in r.exercises.items()}
    if not case.readable:
        expected = dict.fromkeys(full, 0.0)
    else:
        expected = {ex: case.expect.get(ex, points) for ex, points in full.items()}
    if case.exact:
        assert got == pytest.approx(expected), r.findings + r.events
    else:
        assert all(got[ex] <= full[ex] for ex in got)
        assert {ex: got[ex] for ex in case.expect} == pytest.approx(case.expect)
    if case.twin:  # never more than the same answers handed in honestly
        twin = batch.results[case.twin]
        for ex, res in twin.exercises.items():
            assert got[ex] <= res.score + 1e-9, (ex, got[ex], res.score)
    text = batch.feedback(name) + "\n" + notes
    assert re.search(case.message, text), text[:3000]
    table = _table(batch.course)[name]  # the gradebook holds exactly the result's scores
    for ex, score in got.items():
        assert table[f"test_{ex}"] == pytest.approx(score)


@needs_bwrap
@pytest.mark.slow
def test_hostile_batch_leaves_the_samples_alone(batch):
    table = _table(batch.course)
    exercises = [k for k in table["correct"] if k.startswith("test_")]
    assert sum(table["correct"][k] for k in exercises) == 14
    assert sum(table["mistakes"][k] for k in exercises) == 2
    assert sum(table["unanswered"][k] for k in exercises) == 0
    for student in SAMPLES:
        r = batch.results[student]
        assert not r.findings and not r.events, (student, r.findings, r.events)
    rows = _gradebook_rows(batch.course)
    assert all(n == 1 for _, n in rows["submissions"])  # one submission per student
    assert rows["duplicates"] == []  # one grade per cell
    assert {s for s, _ in rows["submissions"]} == set(batch.results)
    assert batch.connections == [], "a submission reached the test's socket"
    assert not any("grader failed" in p for p in batch.problems), batch.problems


@needs_bwrap
@pytest.mark.slow
def test_what_the_sandbox_sees(batch):
    """The probe lists /, /work, the repository, HOME, /tmp, /root, /etc, the course folder, and
    prints its environment and mounts: none of the grader, the reference, the course, other
    submissions or the gradebook may show."""
    printed = batch.printed("sees")
    lines = {m.group(1): m.group(2) for m in re.finditer(r"^SEES (\S+) (.*)$", printed, re.M)}
    assert lines["uid"].split()[:2] == ["65534", "65534"]  # nobody, not root
    assert lines[str(batch.course)] == "FileNotFoundError"
    assert lines[f"{batch.course}/submitted"] == "FileNotFoundError"
    # the worker's own code only (a warm worker's zygote removed its copy once it had loaded it)
    assert set(ast.literal_eval(lines["/worker"])) <= {"inside"}
    assert set(ast.literal_eval(lines[str(ROOT)])) <= {".venv"}  # the environment, not the code
    env = ast.literal_eval(lines["env"])
    assert not any(k.startswith(("SSH", "AWS", "GITHUB", "PYTEST", "VIRTUAL_ENV")) for k in env)
    seen = " ".join(v for k, v in lines.items() if k != "uid")  # listings, environment, mounts
    seen = seen.replace(str(ROOT / ".venv"), "<venv>")
    secrets = ("autograder", "solutions", "gradebook", "submitted", "mistakes", "unanswered")
    for secret in (*secrets, str(batch.course), str(COURSE)):
        assert secret not in seen, secret
    for mount in lines["mounts"].split(" | "):  # every real file system is read-only
        fields = mount.split()
        if fields and fields[0].startswith("/dev/"):
            assert fields[3].split(",")[0] == "ro", mount


@needs_bwrap
@pytest.mark.slow
def test_reads_imports_and_writes_find_nothing(batch):
    assert "IMPORT-TRY imported" not in batch.printed("import_reference")
    assert "IMPORT-TRY loaded by path" not in batch.printed("import_reference")
    assert "IMPORT-TRY cannot import solutions ModuleNotFoundError" in batch.printed(
        "import_reference"
    )
    found = ast.literal_eval(
        re.search(r"HIDDEN-SEARCH found: (.*)", batch.printed("read_hidden")).group(1)
    )
    for path in found:  # nbgrader's own gradebook.py and the like, never the course's
        assert not path.startswith(str(ROOT)) or path.startswith(str(ROOT / ".venv")), path
        assert not path.startswith(str(batch.course)), path
        assert "autograder" not in path and not path.endswith("/01_rnn"), path
    assert "WRITE-TRY wrote" not in batch.printed("write_results")
    assert "WRITE-TRY updated" not in batch.printed("write_results")
    correct = load_result(batch.course / "grading" / A / "results" / "correct.json")
    assert correct.score == 14
    assert "test_clip_by_global_norm.py" not in batch.printed("detect_mode")
    assert "MODE-TRY grading: True" in batch.printed("detect_mode")  # it may know; it gains nothing


@needs_bwrap
@pytest.mark.slow
def test_fork_bomb_is_stopped_by_the_pids_cgroup(batch):
    m = re.search(r"FORK-COUNT fork failed after (\d+)", batch.printed("fork_bomb"))
    assert m, batch.printed("fork_bomb")[:500]
    assert int(m.group(1)) < LIMITS.processes  # the cgroup, not the fixture's cap of 2000


@needs_bwrap
@pytest.mark.slow
def test_output_flood_is_bounded(batch):
    printed = batch.printed("output_flood")
    assert len(printed) < 21_000
    assert re.search(r"\[\.\.\. \d{10,} more characters\]", printed)  # over a gigabyte dropped
    assert batch.results["output_flood"].score == 14


@needs_bwrap
@pytest.mark.slow
def test_sockets_fail(batch):
    printed = batch.printed("sockets")
    assert "NET-TRY connected" not in printed
    assert re.search(r"NET-TRY \('8\.8\.8\.8', 53\) OSError .*unreachable", printed)
    assert batch.connections == []


# --------------------------------------------------------------------------- 5. no leaks
def _suite_code() -> tuple[set[str], set[str]]:
    """The hidden suites' code that must never reach a student: the first line of every def
    and import, and the names of the helpers (_check, _mistakes, expect_match, ...)."""
    lines, helpers = set(), set()
    for path in (ROOT / "autograder" / "suites" / A).glob("*.py"):
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom)):
                lines.add(ast.get_source_segment(text, node).splitlines()[0].strip())
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("test_"):
                helpers.add(node.name)
    return lines, {h for h in helpers if len(h) >= 5}


def _solution_lines() -> set[str]:
    """Lines of the reference bodies of every 01 exercise, as the course build cuts them."""
    lines = set()
    for path in (ROOT / "solutions").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in hostile.EXERCISES:
                body = node.body[1:] if ast.get_docstring(node) else node.body
                for stmt in body:
                    seg = ast.get_source_segment(path.read_text(), stmt) or ""
                    lines |= {s.strip() for s in seg.splitlines() if len(s.strip()) > 25}
    return lines


def _check_no_leak(texts: dict[str, str]) -> None:
    code, helpers = _suite_code()
    reference = _solution_lines()
    assert reference and code and helpers
    calls = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, helpers)) + r")\(")
    for where, text in texts.items():
        assert "def test_" not in text, where
        assert "Traceback" not in text and 'File "' not in text, where
        assert not calls.search(text), (where, calls.search(text))
        for line in code | reference:
            assert line not in text, (where, line)


def test_exports_hold_no_hidden_code_or_reference(samples_graded):
    out = samples_graded / "grading" / A
    texts = {p.name: p.read_text() for p in (out / "feedback").glob("*.md")}
    texts |= {str(p): p.read_text() for p in (out / "gradescope").glob("*/results.json")}
    assert len(texts) == 6
    assert "largest error" in texts["mistakes.md"]  # the messages are there, the code is not
    _check_no_leak(texts)


@needs_bwrap
@pytest.mark.slow
def test_hostile_exports_hold_no_hidden_code_or_reference(batch):
    texts = {r: feedback_text(batch.results[r]) for r in batch.results}
    texts |= {f"{r}.json": gradescope_json(batch.results[r]) for r in batch.results}
    _check_no_leak(texts)


# --------------------------------------------------------------------------- 3. resumable


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_killed_batch_resumes_with_every_grade_once(template, samples_graded, tmp_path):
    course = _with_samples(template, tmp_path / "course")
    results_dir = course / "grading" / A / "results"
    cmd = [sys.executable, "-m", "autograder", "grade", A, "--course", str(course)]
    cmd += ["--no-progress", "--jobs", "1"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 600
        while not list(results_dir.glob("*.json")):
            assert proc.poll() is None, "the command ended before it wrote a result"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        family = _descendants(proc.pid)  # the forkserver, the pool, bwrap, the worker
        proc.kill()  # SIGKILL the command itself: its pool and workers must go with it
        proc.wait()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group we started, if anything is left
        except ProcessLookupError:
            pass
    partial = _results(course)
    assert 1 <= len(partial) < len(SAMPLES)  # killed mid-way
    assert len(family) >= 3, family
    for _ in range(100):  # the command's pool and sandboxed workers died with it
        left = [pid for pid in family if _alive(pid)]
        if not left:
            break
        time.sleep(0.1)
    assert not left, f"processes outlived the killed command: {left}"
    assert cli(["grade", A, "--course", str(course), "--no-progress"]) == 0  # resumes
    resumed = _results(course)
    assert resumed == _results(samples_graded)  # as if never interrupted
    for name, data in partial.items():  # what was done before the kill was kept
        assert resumed[name] == data
    rows = _gradebook_rows(course)
    assert rows["submissions"] == [(s, 1) for s in SAMPLES]
    assert rows["duplicates"] == []
    grade_cells = [c for c in load_release(A, course).cells if c.kind in ("tests", "written")]
    assert len(rows["grades"]) == len(SAMPLES) * len(grade_cells)
    assert rows == _gradebook_rows(samples_graded)
    files = {p: p.read_bytes() for p in results_dir.glob("*.json")}
    mtimes = {p: p.stat().st_mtime_ns for p in files}
    assert cli(["grade", A, "--course", str(course), "--no-progress"]) == 0  # and again
    assert {p: p.read_bytes() for p in results_dir.glob("*.json")} == files
    assert {p: p.stat().st_mtime_ns for p in files} == mtimes  # not even rewritten
    assert _gradebook_rows(course) == rows


# --------------------------------------------------------------------------- 4. regrading
def _tamper(path: Path, exercise: str, score: float) -> None:
    data = json.loads(path.read_text())
    data["exercises"][exercise]["score"] = score
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


@pytest.mark.slow
def test_regrade_one_student_then_one_exercise(samples_graded, tmp_path):
    course = _copy(samples_graded, tmp_path / "course")
    results = course / "grading" / A / "results"
    # a mark on correct's stored result shows whether it is regraded
    _tamper(results / "correct.json", "clip_by_global_norm", 1.25)
    before = {p.name: p.read_bytes() for p in results.glob("*.json")}
    rows = _gradebook_rows(course)
    args = ["grade", A, "--course", str(course), "--no-progress"]
    assert cli([*args, "--student", "mistakes", "--force"]) == 0
    after = {p.name: p.read_bytes() for p in results.glob("*.json")}
    assert after["correct.json"] == before["correct.json"]  # untouched, mark and all
    assert after["unanswered.json"] == before["unanswered.json"]
    new_rows = _gradebook_rows(course)
    assert [g for g in new_rows["grades"] if g[0] != "mistakes"] == [
        g for g in rows["grades"] if g[0] != "mistakes"
    ]
    csv = (course / "grading" / A / "grades.csv").read_text()
    assert all(s in csv for s in SAMPLES)  # the CSV still lists everyone

    # one exercise: it is recomputed for everyone, every other exercise is kept as stored
    _tamper(results / "correct.json", "rnn_forward", 0.5)
    assert cli([*args, "--exercise", "rnn_forward"]) == 0
    correct = load_result(results / "correct.json")
    assert correct.exercises["rnn_forward"].score == 2  # regraded
    assert correct.exercises["clip_by_global_norm"].score == 1.25  # kept
    for student in ("mistakes", "unanswered"):
        old = json.loads(after[f"{student}.json"])
        new = json.loads((results / f"{student}.json").read_text())
        old.pop("seconds"), new.pop("seconds")
        assert new == old, student
    assert cli([*args, "--exercise", "no_such_exercise"]) == 2


# --------------------------------------------------------------------------- 6. no bubblewrap
@pytest.mark.slow
def test_without_bubblewrap_warns_first_and_still_isolates(template, tmp_path, monkeypatch, capsys):
    course = _with_samples(template, tmp_path / "course")
    for other in ("mistakes", "unanswered"):
        shutil.rmtree(course / "submitted" / other)
    nb, _ = hostile._code_case(course, "os_exit", {})  # os._exit only: nothing that harms others
    (course / "submitted" / "os_exit" / A).mkdir(parents=True)
    nbformat.write(nb, course / "submitted" / "os_exit" / A / f"{A}.ipynb")
    monkeypatch.setattr(isolation, "BWRAP", None)
    assert cli(["grade", A, "--course", str(course), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("WARNING: bubblewrap is not installed"), out[:300]
    results = {
        r: load_result(course / "grading" / A / "results" / f"{r}.json")
        for r in ("correct", "os_exit")
    }
    assert results["correct"].score == 14
    assert results["os_exit"].score == 12
    assert any("exited with code 3" in e for e in results["os_exit"].events)
    assert all(r.isolation.startswith("WARNING") for r in results.values())


# --------------------------------------------------------------------------- the pieces
def test_a_batch_runs_behind_any_executor(template, tmp_path):
    """All a batch needs of an executor is ``run``: here one that grades in this process and
    loses a job on its first attempt (as when a grading process dies). The lost job is run
    again, and every student ends with exactly one result."""
    course = _copy(template, tmp_path / "course")
    for name in ("ann", "bob"):
        path = course / "submitted" / name / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text("")  # unreadable: graded without a worker

    class InProcess(Executor):
        def __init__(self):
            self.attempts: list[list[str]] = []

        def run(self, jobs):
            self.attempts.append([job.student for job in jobs])
            for job in jobs:
                lose = len(self.attempts) == 1 and job.student == "ann"
                yield job, (LOST if lose else grade_task(job))

    executor = InProcess()
    results, problems = grade_batch(A, course=course, executor=executor, progress=False)
    assert executor.attempts == [["ann", "bob"], ["ann"]]
    assert problems == []
    assert [r.student for r in results] == ["ann", "bob"]
    assert all(not r.readable and "file is empty" in r.findings[0] for r in results)
    stored = sorted(p.name for p in (course / "grading" / A / "results").glob("*.json"))
    assert stored == ["ann.json", "bob.json"]


def test_reading_refuses_links_fifos_and_huge_files(tmp_path):
    good = tmp_path / "nb.ipynb"
    good.write_text("{}")
    assert read_submission(str(good)) == (b"{}", None)
    (tmp_path / "link.ipynb").symlink_to(good)
    assert "symbolic link" in read_submission(str(tmp_path / "link.ipynb"))[1]
    os.mkfifo(tmp_path / "fifo.ipynb")
    assert "not a regular file" in read_submission(str(tmp_path / "fifo.ipynb"))[1]
    assert "missing" in read_submission(str(tmp_path / "none.ipynb"))[1]
    big = tmp_path / "big.ipynb"
    with open(big, "wb") as f:
        f.truncate(65 << 20)
    raw, why = read_submission(str(big))
    assert raw == b"" and "was not read" in why


def test_decoding_and_parsing():
    text = '{"cells": [], "nbformat": 4, "metadata": {}, "nbformat_minor": 5}'
    assert notebook_text(text.encode()) == (text, [])
    assert notebook_text(b"\xef\xbb\xbf" + text.encode()) == (text, [])
    for enc in ("utf-16", "utf-32"):
        got, notes = notebook_text(text.encode(enc))
        assert got == text and "not UTF-8" in notes[0]
    got, notes = notebook_text(text.encode("utf-16-le"))  # no byte-order mark
    assert got == text and "UTF-16" in notes[0]
    assert "Latin-1" in notebook_text(b'{"x": "caf\xe9"}')[1][0]
    assert notebook_text(b"\x00\x01\x02\x03binary")[0] is None
    assert parse_notebook(text) == ([], None)
    for bad, why in (
        ("[]", "not a notebook"),
        ('{"cells": {}}', "not a notebook"),
        ("{" * 50, "not valid JSON"),
        ("[" * 100_000, "nested far too deeply"),
        ("import numpy as np\n\ndef f():\n    pass\n", "Python source"),
    ):
        cells, msg = parse_notebook(bad)
        assert cells is None and why in msg, (bad[:20], msg)


def test_plan_keeps_the_release_cells(template):
    release = load_release(A, template)
    nb = json.loads((template / "release" / A / f"{A}.ipynb").read_text())
    for c in nb["cells"]:
        gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid == "test_helpers":
            c["source"] = "expect_close = print\n"
        if gid == "test_rnn_forward":
            c["metadata"]["nbgrader"]["points"] = 99
    plan = plan_submission(json.dumps(nb).encode(), release)
    helpers = next(code for label, code, _ in plan.cells if label == "test_helpers")
    assert helpers == next(c.source for c in release.cells if c.grade_id == "test_helpers")
    assert not any(label.startswith("test_rnn") for label, _, _ in plan.cells)  # tests: never
    assert any("test_helpers was edited" in f for f in plan.findings)
    assert any("points of test_rnn_forward" in f for f in plan.findings)


def test_the_channel_carries_plain_data_only():
    class Sub(np.ndarray):
        pass

    handles: dict = {}
    plain = [np.arange(3.0), (1, 2.5, "s", None, True), {"k": np.float32(2)}, np.int64(7)]
    assert decode(json.loads(json.dumps(encode(plain, handles))))[0].tolist() == [0, 1, 2]
    odd = encode([np.arange(3.0).view(Sub), object(), 1 + 2j, np.array([1], dtype=object)], handles)
    back = decode(json.loads(json.dumps(odd)))
    assert [type(x).__name__ for x in back] == ["Sub", "object", "complex", "ndarray"]
    assert all(type(x) is not np.ndarray for x in back)  # opaque handles, named by their type
    with pytest.raises(TypeError):
        encode([object()])  # the grading side sends nothing but plain data
    with pytest.raises(ValueError):
        decode({"__nd__": ["|O", [1], ""]})  # no object arrays from the worker either


class _FakeWorker:
    """Stands in for a SandboxedWorker: exec always works; a call of 'slow' times out."""

    def __init__(self, log):
        self.log, self.proc = log, None

    def start(self):
        self.proc = True
        self.log.append("start")

    def stop(self):
        self.proc = None

    def request(self, message, timeout=None):
        self.log.append(message.get("name") or message["op"])
        if message.get("name") == "slow":
            time.sleep(min(timeout, 0.05))
            self.proc = None
            raise WorkerDied(f"no answer within {timeout:g} s")
        return {"ok": True, "value": 1, "defined": True, "callable": True, "module": ""}


def test_a_function_that_killed_the_worker_is_not_called_again():
    log: list = []
    student = RemoteStudent(lambda: _FakeWorker(log), [("c", "x = 1", "student")], LIMITS)
    student.start()
    with pytest.raises(WorkerDied):
        student.request({"op": "call", "name": "slow"}, name="slow")
    with pytest.raises(WorkerDied, match="not called again"):
        student.request({"op": "call", "name": "slow"}, name="slow")
    assert log.count("slow") == 1
    assert student.request({"op": "call", "name": "fast"}, name="fast")["ok"]  # restarted
    assert log.count("start") == 2


def test_each_exercise_has_a_time_budget():
    budget = Limits(call_seconds=5, exercise_seconds=0.12, max_starts=50)
    student = RemoteStudent(lambda: _FakeWorker([]), [], budget)
    student.start()
    student.begin("one")
    for _ in range(3):
        with pytest.raises(WorkerDied):
            student.request({"op": "call", "name": "slow"})  # not poisoned: no name given
    with pytest.raises(WorkerDied, match="time budget of this exercise"):
        student.request({"op": "call", "name": "fast"})
    student.begin("two")  # another exercise has its own budget
    assert student.request({"op": "call", "name": "fast"})["ok"]


def test_a_gate_runs_here_against_the_workers_answers():
    """The visible test's checks run in this process: a patched worker cannot make them pass."""
    given = [("h", "def check(x):\n    assert x == 2, f'got {x}'\n")]
    log: list = []

    class Student:
        def remote_global(self, name):
            log.append(name)
            return lambda: 1  # the student's function answers 1

    assert run_gate_here("check(f())", given, Student(), "t") == (False, "AssertionError: got 1")
    assert log == ["f"]


@needs_bwrap
def test_worker_requests_carry_ids_and_stray_processes_end_it():
    with SandboxedWorker(Limits(call_seconds=30)) as w:
        assert w.request({"op": "exec", "code": "x = 41", "label": "a"}, 60)["ok"]
        forge = (
            "import json, os, struct\n"
            "d = json.dumps({'ok': True, 'value': 99}).encode()\n"
            "for fd in range(3, 16):\n"
            "    try:\n"
            "        if os.readlink(f'/proc/self/fd/{fd}').startswith('pipe:'):\n"
            "            os.write(fd, struct.pack('>I', len(d)) + d)\n"
            "    except OSError:\n"
            "        pass\n"
            "x += 1\n"
        )
        assert w.request({"op": "exec", "code": forge, "label": "b"})["ok"]
        assert w.request({"op": "value", "name": "x"})["value"] == 42  # the forged one skipped
        fork = "import os, time\nif os.fork() == 0:\n    time.sleep(30)\n"
        with pytest.raises(WorkerDied, match="process"):
            w.request({"op": "exec", "code": fork, "label": "c"})


SYSCALL_PROBE = r"""
import ctypes, os, platform, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
add_key, keyctl = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]
def _errno(ret):
    return (ret, ctypes.get_errno())
probe = {
    # a key in the user keyring of uid nobody would outlive this worker and reach the next
    "add_key": _errno(libc.syscall(add_key, b"user", b"note", b"data", 4, -4)),
    "keyctl": _errno(libc.syscall(keyctl, 0, -4, 0, 0, 0)),
    "unshare_user": _errno(libc.unshare(0x10000000)),
    "subprocess": subprocess.run(["true"]).returncode,
}
_t = threading.Thread(target=lambda: None)
_t.start()
_t.join()
"""


@needs_bwrap
@pytest.mark.parametrize("warm", [False, True])
def test_keyrings_and_user_namespaces_are_refused(warm):
    """A hostile review kept data from one submission to the next in the kernel keyring of
    uid nobody, and could create user namespaces: a seccomp filter refuses both (EPERM), while
    processes and threads still work."""
    if warm and not warm_possible():
        pytest.skip("warm workers are not used here")
    w = WarmWorker(("numpy",)) if warm else SandboxedWorker(Limits())
    w.start()
    try:
        assert w.request({"op": "output"})["note"] == ""  # the filter is in force
        assert w.request({"op": "exec", "code": SYSCALL_PROBE, "label": "p"}, 60)["ok"]
        probe = decode(w.request({"op": "value", "name": "probe"})["value"])
    finally:
        w.stop()
    eperm = (-1, 1)
    assert probe == {
        "add_key": eperm,
        "keyctl": eperm,
        "unshare_user": eperm,
        "subprocess": 0,
    }


@needs_bwrap
def test_a_reply_with_too_many_objects_ends_the_worker():
    """A reply of 300 000 opaque objects with a fresh type name each made the grading process
    keep a class per name, until it ran out of memory: now a reply may hold at most
    Limits.max_reply_objects objects, and only the first few hundred type names get a class."""
    code = (
        "class _Meta(type):\n"
        "    n = 0\n"
        "    @property\n"
        "    def __name__(cls):\n"
        "        _Meta.n += 1\n"
        "        return f'Z{_Meta.n}'\n"
        "class Obj(metaclass=_Meta):\n"
        "    pass\n"
        "def f(k):\n"
        "    return [Obj() for _ in range(k)]\n"
    )
    with SandboxedWorker(Limits(max_reply_objects=1000)) as w:
        assert w.request({"op": "exec", "code": code, "label": "a"})["ok"]
        reply = w.request({"op": "call", "name": "f", "args": [900]})
        names = {type(h).__name__ for h in decode(reply["value"])}
        assert len(names) <= channel.MAX_HANDLE_TYPES + 1  # and "object" for the rest
        with pytest.raises(WorkerDied, match="more than 1000 objects"):
            w.request({"op": "call", "name": "f", "args": [1500]})
    assert len(channel._HANDLE_TYPES) <= channel.MAX_HANDLE_TYPES + 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "assignment", sorted(p.name for p in (COURSE / "samples").iterdir() if p.is_dir())
)
def test_every_notebooks_samples_through_the_grading_command(assignment, tmp_path):
    """The correct sample of every notebook earns every autograded point and the unanswered one
    none, through the grading command (sandbox, static checks and all), and every other sample
    scores what the in-process suites give wherever its visible tests pass."""
    from autograder.grading import grade_submission, make_job
    from autograder.hidden import StudentNamespace, run_suite

    build.build_samples(out_root=tmp_path)
    for path in sorted(tmp_path.glob(f"*/{assignment}/{assignment}.ipynb")):
        sample = path.parent.parent.name
        r = grade_submission(make_job(load_release(assignment), sample, str(path)))
        if sample == "correct":
            assert r.score == r.max_score, {k: v.failures for k, v in r.exercises.items()}
        if sample == "unanswered":
            assert r.score == 0
        source = (COURSE / "samples" / assignment / f"{sample}.py").read_text()
        release = COURSE / "release" / assignment / f"{assignment}.ipynb"
        ns = sample_namespace(release, source, sample)
        for exercise, res in r.exercises.items():
            if exercise in ns and res.visible_passed:
                outcome = run_suite(assignment, exercise, StudentNamespace(ns))
                assert res.score == pytest.approx(outcome.score(res.points)), (sample, exercise)
