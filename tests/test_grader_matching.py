"""Notebooks whose nbgrader metadata was lost or whose grade ids were renamed (cells copied into
a new notebook) are graded by matching their answer cells to the release's by the functions they
define, and the instructor and the student are told how.

The integrity rules still hold: test and read-only cells come from the release whatever the
submission holds, so a student who strips the tests' metadata and edits them gains nothing; a
notebook in which nothing matches is still refused with a clear message. The plan-level tests
need no sandbox; one batch of the real grading command checks the grades and the reports.
"""

from __future__ import annotations

import copy
import json
import re

import nbformat
import pytest

from autograder.integrity import plan_submission
from autograder.release import load_release
from tests.conftest import COURSE
from tests.test_grader_survival import A, fresh_course, grade, killers

RELEASE = load_release(A)
EXERCISES = list(RELEASE.tests)


def _nb(sample: str = "correct") -> nbformat.NotebookNode:
    return killers.sample(COURSE, sample)


def _gid(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


# --------------------------------------------------------------------------- the fixtures
def lost_all(sample: str = "correct"):
    """Every cell's nbgrader metadata removed (a notebook pasted cell by cell into a new one)."""
    nb = _nb(sample)
    for c in nb.cells:
        c.metadata.pop("nbgrader", None)
    return nb


def renamed(sample: str = "correct"):
    """Every grade id renamed, metadata otherwise kept (as a copying tool might)."""
    nb = _nb(sample)
    for i, c in enumerate(nb.cells):
        if _gid(c):
            c.metadata["nbgrader"]["grade_id"] = f"cell-{i:04x}"
    return nb


def lost_and_reordered():
    """Metadata lost, answers pasted in reverse order at the end, with a scratch cell between."""
    nb = lost_all()
    answers = [c for c in nb.cells if c.source.startswith(tuple(f"def {e}(" for e in EXERCISES))]
    rest = [c for c in nb.cells if c not in answers]
    scratch = nbformat.v4.new_code_cell("x = 1  # scratch\n")
    nb.cells = rest + [scratch] + answers[::-1]
    return nb


def stripped_tests_emptied():
    """The mistakes sample's clip_by_global_norm is wrong; the student removes every test cell's
    metadata and empties the test cells, so that nothing could fail."""
    nb = _nb()
    wrong = _nb("mistakes")
    i = next(k for k, c in enumerate(nb.cells) if _gid(c) == "clip_by_global_norm")
    nb.cells[i] = copy.deepcopy(next(c for c in wrong.cells if _gid(c) == "clip_by_global_norm"))
    for c in nb.cells:
        if (_gid(c) or "").startswith("test_"):
            c.metadata.pop("nbgrader")
            c.source = "print('all good')\n"
    return nb


def all_stripped_and_emptied():
    """Both: all metadata gone and the test cells emptied, with the same wrong answer."""
    nb = stripped_tests_emptied()
    for c in nb.cells:
        c.metadata.pop("nbgrader", None)
    return nb


def nothing_matches():
    """Metadata lost and the functions renamed: nothing ties it to the assignment."""
    nb = lost_all()
    for c in nb.cells:
        for e in EXERCISES:
            c.source = c.source.replace(f"def {e}(", f"def my_{e}(")
    return nb


def _plan(nb):
    return plan_submission(nbformat.writes(nb).encode(), RELEASE)


# --------------------------------------------------------------------------- the plan
@pytest.mark.parametrize("make", [lost_all, renamed, lost_and_reordered])
def test_every_answer_is_matched_by_name(make):
    plan = _plan(make())
    assert plan.readable
    assert set(plan.matched) == set(EXERCISES)
    labels = {label for label, _, kind in plan.cells if kind == "student"}
    assert set(EXERCISES) <= labels  # graded as the answer cells
    given = [label for label, _, kind in plan.cells if kind == "given"]
    assert given == [g for g, _ in RELEASE.given]  # each read-only cell once, from the release
    line = next(f for f in plan.findings if "were matched" in f)
    for ex, cell in plan.matched.items():
        assert f"{ex} = your {cell}" in line
    assert "instructor should confirm" in line


def test_the_reported_cell_numbers_are_where_the_functions_are():
    nb = lost_and_reordered()
    plan = _plan(nb)
    for ex, label in plan.matched.items():
        index = int(label.removeprefix("cell ")) - 1
        assert nb.cells[index].source.startswith(f"def {ex}(")


def test_renamed_ids_are_not_also_reported_as_foreign():
    plan = _plan(renamed())
    foreign = [f for f in plan.findings if "not part of the assignment" in f]
    assert len(foreign) == len(RELEASE.written), foreign  # only the renamed written answers


@pytest.mark.parametrize("make", [stripped_tests_emptied, all_stripped_and_emptied])
def test_stripped_and_emptied_tests_are_replaced_by_the_release(make):
    plan = _plan(make())
    assert plan.readable
    # the emptied test cells run as the student's own cells; the release's test cells still
    # gate every exercise (autograder/grading.py takes them from the release, not from here)
    ran = [code for _, code, _ in plan.cells]
    assert not any(c.source in ran for c in RELEASE.cells if c.kind == "tests")
    text = " ".join(plan.findings)
    assert re.search(r"test cell test_\w+ was deleted; the original is used", text), text


def test_a_notebook_that_matches_nothing_is_refused_clearly():
    plan = _plan(nothing_matches())
    assert not plan.readable
    assert any(
        "not the notebook of this assignment" in f and "no cell defines rnn_step_forward" in f
        for f in plan.findings
    ), plan.findings


# --------------------------------------------------------------------------- graded for real
CASES = {
    "lost_all": (lost_all, 14),
    "renamed": (renamed, 14),
    "lost_and_reordered": (lost_and_reordered, 14),
    "lost_all_mistakes": (lambda: lost_all("mistakes"), 2),
    "tests_emptied": (stripped_tests_emptied, 13),
    "all_stripped": (all_stripped_and_emptied, 13),
    "nothing_matches": (nothing_matches, 0),
}


@pytest.fixture(scope="module")
def matched_batch(tmp_path_factory):
    course = fresh_course(tmp_path_factory.mktemp("matching") / "course")
    students = {name: make() for name, (make, _) in CASES.items()}
    killers.write(course, students | {"correct": _nb(), "mistakes": _nb("mistakes")})
    proc = grade(course)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return course, proc.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_matched_notebooks_get_the_grade_of_their_answers(matched_batch, name):
    course, out = matched_batch
    out_dir = course / "grading" / A
    result = json.loads((out_dir / "results" / f"{name}.json").read_text())
    expected = CASES[name][1]
    assert result["score"] == expected, result["findings"]
    correct = json.loads((out_dir / "results" / "correct.json").read_text())
    for ex, r in result["exercises"].items():  # never more than the honest notebook
        assert r["score"] <= correct["exercises"][ex]["score"]
    feedback = (out_dir / "feedback" / f"{name}.md").read_text()
    summary = next(line for line in out.splitlines() if line.startswith(f"{name}: "))
    if name == "nothing_matches":
        assert "not the notebook of this assignment" in feedback
        assert result["matched"] == {}
        return
    if name.startswith("tests_"):  # answers kept their metadata: nothing was matched
        assert result["matched"] == {}
    else:
        assert set(result["matched"]) == set(EXERCISES)  # the result file says how
        for text in (feedback, summary):  # and so do the feedback and the summary line
            assert "matched to the assignment's cells" in text
            assert "rnn_step_forward = your cell" in text
    if expected == 13:
        assert result["exercises"]["clip_by_global_norm"]["score"] == 0


def test_autograded_notebook_holds_the_matched_answers(matched_batch):
    course, _ = matched_batch
    nb = nbformat.read(course / "autograded" / "lost_all" / A / f"{A}.ipynb", as_version=4)
    solution = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    answers = {_gid(c): c.source for c in solution}
    submitted = {_gid(c): c.source for c in _nb().cells}
    for ex in EXERCISES:  # the student's code, not the release's stub
        assert answers[ex] == submitted[ex]
