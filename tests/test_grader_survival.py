"""Every submission gets a grade, even one whose own code ends or hangs the grading worker.

The killers of tests/fixtures/killers/ (os._exit, a loop that ignores signals, a segfault, a
fork bomb, a huge allocation, a long sleep, an endless walk of the file system; each in a cell
added above the first answer, at the top of an answer cell, and inside a function only the
tests call) are graded in one batch by the real grading command, in the real sandbox, beside
the ``correct`` and ``mistakes`` samples. Each killer gets a result, a feedback file and a CSV
row; the cell or function at fault is named in the feedback; exactly the exercise it sits in
scores 0; the samples keep their grades; a killer whose end depends on timing, graded twice,
gets the same result file both times. A sandbox
that cannot start at all leaves the students ungraded, says so one line each, and exits with a
non-zero status.

Short limits (``--limit``) keep the batch quick: each hang costs its timeout once.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import functools
import io
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder import isolation
from autograder.__main__ import main as cli
from autograder.release import load_release
from tests.conftest import COURSE, GENERATED
from tests.util import load_module, result_files

ROOT = Path(__file__).resolve().parents[1]
A = "01_rnn"
LIMITS = ("cell_seconds=2", "call_seconds=3", "memory_bytes=1342177280", "processes=32")

pytestmark = pytest.mark.skipif(
    isolation.BWRAP is None, reason="bubblewrap is not installed: killers would run unconfined"
)


killers = load_module("killer_fixtures", ROOT / "tests" / "fixtures" / "killers" / "build.py")
matching = load_module("matching_fixtures", ROOT / "tests" / "fixtures" / "matching" / "build.py")
# graded twice, to show that the results do not change: the classes whose outcome depends on
# timing (how far a fork bomb gets before it is seen, whether an exit's code arrives before the
# pipe closes), at every position, handed in a second time by a student named "<case>.again" in
# the same batch (a second run of the command would cost two more zygote starts). The three
# hangs end by their timeout, a segfault by SIGSEGV and the huge allocation by the address-space
# limit at once, by construction; they are graded once, to keep the test's time down.
RERUN = ("fork_bomb", "exit")


def grade(course: Path, *extra: str) -> tuple[int, str]:
    """The grading command, as an instructor runs it (no gradebook: the exports are checked);
    its exit status and what it printed. Run in this process, as tests/test_grader.py does, so
    that the imports and the calibration of the gates are paid once."""
    args = ["grade", A, "--course", str(course), "--no-progress", "--no-gradebook"]
    for limit in LIMITS:
        args += ["--limit", limit]
    args += extra  # after LIMITS: a --limit here wins
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli(args)
    return code, out.getvalue()


def fresh_course(dest: Path) -> Path:
    shutil.copytree(
        COURSE, dest, ignore=shutil.ignore_patterns(*GENERATED, "__pycache__", ".nbgrader.log")
    )
    return dest


def results(course: Path) -> dict[str, dict]:
    return result_files(course, A)


@dataclass
class Graded:
    course: Path
    cases: dict  # killer cases by student
    totals: dict[str, float]  # matching cases: student -> total
    first: dict[str, dict]  # results of the batch
    again: dict[str, dict]  # results of the second copies (the RERUN classes), by case
    out: str  # what the command printed

    def feedback(self, student: str) -> str:
        return (self.course / "grading" / A / "feedback" / f"{student}.md").read_text()


@functools.cache
def shared_batch() -> Graded:
    """One batch for this module and tests/test_grader_matching.py: the killers (those of the
    RERUN classes twice), the matching cases and the two samples, graded by the command."""
    tmp = Path(tempfile.mkdtemp(prefix="grader-survival-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    course = fresh_course(tmp / "course")
    cases = killers.build_all(course)
    totals = matching.build_all(course)
    twice = [n for n, c in cases.items() if c.killer in RERUN]
    for name in twice:
        shutil.copytree(course / "submitted" / name, course / "submitted" / f"{name}.again")
    code, out = grade(course)
    assert code == 0, out[-3000:]
    first = results(course)
    again = {name: first.pop(f"{name}.again") for name in twice}
    return Graded(course, cases, totals, first, again, out)


@pytest.fixture
def graded() -> Graded:
    return shared_batch()


def test_every_submission_is_graded_with_a_feedback_file_and_a_csv_row(graded):
    students = set(graded.cases) | set(graded.totals) | {"correct", "mistakes"}
    assert set(graded.first) == students  # 100 % graded (and every second copy too)
    assert "NOT GRADED" not in graded.out
    assert "grader failed" not in graded.out, graded.out[-3000:]
    assert "the worker (" not in graded.out  # was: "read-only cell cell 0 killed the worker (..."
    with open(graded.course / "grading" / A / "grades.csv") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert set(rows) == students | {f"{name}.again" for name in graded.again}
    for s in students:
        assert graded.feedback(s).startswith(f"# Feedback: {A}, {s}")


def test_grading_the_same_file_again_gives_the_same_result(graded):
    assert len(graded.again) == len(RERUN) * len(killers.POSITIONS)
    for name, again in graded.again.items():
        first = dict(graded.first[name])
        assert again.pop("student") == f"{name}.again" and first.pop("student") == name
        assert again == first, name


@pytest.mark.parametrize("name", [c.name for c in killers.cases()])
def test_only_the_exercise_the_killer_sits_in_is_lost(graded, name):
    case = graded.cases[name]
    points = {c.grade_id.removeprefix("test_"): c.points for c in load_release(A).cells}
    got = {ex: r["score"] for ex, r in graded.first[name]["exercises"].items()}
    expected = {ex: 0.0 if ex == case.zero else points[ex] for ex in got}
    assert got == pytest.approx(expected), graded.first[name]["events"]
    feedback = graded.feedback(name)
    assert re.search(case.message, feedback), feedback[:3000]


def test_the_summary_names_the_students_cell(graded):
    out = graded.out
    assert re.search(
        r"^exit_above: your cell 6 \(the one starting 'import os'\) ended the grading process "
        r"\(exit code 7",
        out,
        re.M,
    ), out[-3000:]
    assert re.search(r"^sleep_top: your answer cell clip_by_global_norm never finished", out, re.M)


def test_the_samples_keep_their_grades(graded):
    assert graded.first["correct"]["score"] == 14
    assert graded.first["mistakes"]["score"] == 2
    for s in ("correct", "mistakes"):
        assert graded.first[s]["events"] == [], graded.first[s]["events"]


def test_a_sandbox_that_cannot_start_leaves_students_ungraded_and_says_so(tmp_path):
    """A sandbox that cannot start (here: a memory limit of one byte, under which no process can
    even begin): nothing of the students' ran, so no grade is given; the summary has one line
    per student and the exit status is 1."""
    course = fresh_course(tmp_path / "course")
    killers.write(course, {s: killers.sample(course, s) for s in ("correct", "mistakes")})
    code, out = grade(course, "--jobs", "1", "--limit", "memory_bytes=1")
    assert code == 1, out
    lines = [line for line in out.splitlines() if line.startswith("NOT GRADED")]
    assert len(lines) == 2, out
    for line, student in zip(lines, ("correct", "mistakes"), strict=True):
        assert line.startswith(f"NOT GRADED {student}: the sandbox could not run"), line
    assert "not graded; exit status 1" in out.splitlines()[-1]
    assert not list((course / "grading" / A / "results").glob("*.json"))


def test_a_deleted_read_only_cell_runs_where_the_release_has_it():
    """Deleted read-only cells used to run first of all, before the read-only cells they rely
    on (course_helpers before setup's imports): the sandbox then seemed broken and the student
    got no grade. They run in the release's order now."""
    from autograder.integrity import plan_submission

    release = load_release(A)
    given = [g for g, _ in release.given]
    for gone in given:
        nb = killers.sample(COURSE, "correct")
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != gone]
        plan = plan_submission(nbformat.writes(nb).encode(), release)
        ran = [label for label, _, kind in plan.cells if kind == "given"]
        assert ran == given, (gone, ran)
        labels = [label for label, _, _ in plan.cells]
        first_answer = labels.index(release.answers_of[release.exercises[0]][0])
        assert all(labels.index(g) < first_answer for g in given if g != "course_helpers")
