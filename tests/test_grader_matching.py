"""Notebooks whose nbgrader metadata was lost or whose grade ids were renamed (cells copied into
a new notebook) are graded by matching their answer cells to the release's by the functions they
define, and the instructor and the student are told how.

The integrity rules still hold: test and read-only cells come from the release whatever the
submission holds, so a student who strips the tests' metadata and edits them gains nothing; a
notebook in which nothing matches is still refused with a clear message. The plan-level tests
need no sandbox; one batch of the real grading command checks the grades and the reports.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from autograder import isolation
from autograder.integrity import plan_submission
from autograder.release import load_release
from tests.test_grader_survival import A, matching, shared_batch

RELEASE = load_release(A)
EXERCISES = list(RELEASE.tests)
CASES = matching.CASES
needs_bwrap = pytest.mark.skipif(
    isolation.BWRAP is None, reason="bubblewrap is not installed: no sandbox to grade in"
)


def _plan(nb):
    return plan_submission(nbformat.writes(nb).encode(), RELEASE)


# --------------------------------------------------------------------------- the plan
@pytest.mark.parametrize("make", [matching.lost_all, matching.renamed, matching.lost_and_reordered])
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
    # the written answers follow their questions: found, answered, and said so
    assert plan.answered_written == set(RELEASE.written)
    assert all(f"{q} = your cell" in line for q in RELEASE.written)
    assert not any("missing" in f for f in plan.findings), plan.findings


def test_the_reported_cell_numbers_are_where_the_functions_are():
    nb = matching.lost_and_reordered()
    plan = _plan(nb)
    for ex, label in plan.matched.items():
        index = int(label.removeprefix("cell ")) - 1
        assert nb.cells[index].source.startswith(f"def {ex}(")


def test_renamed_ids_are_not_also_reported_as_foreign():
    plan = _plan(matching.renamed())
    foreign = [f for f in plan.findings if "not part of the assignment" in f]
    assert foreign == []


@pytest.mark.parametrize(
    "make", [matching.stripped_tests_emptied, matching.all_stripped_and_emptied]
)
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
    plan = _plan(matching.nothing_matches())
    assert not plan.readable
    assert any(
        "not the notebook of this assignment" in f and "no cell defines rnn_step_forward" in f
        for f in plan.findings
    ), plan.findings


# --------------------------------------------------------------------------- graded for real
@pytest.fixture
def matched_batch():
    """The batch of tests/test_grader_survival.py, which holds these cases too."""
    batch = shared_batch()
    return batch.course, batch.out


@needs_bwrap
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
    if name in ("tests_emptied", "all_stripped"):  # the release's tests caught the mistake
        assert result["exercises"]["clip_by_global_norm"]["score"] == 0


@needs_bwrap
def test_autograded_notebook_holds_the_matched_answers(matched_batch):
    course, _ = matched_batch
    nb = nbformat.read(course / "autograded" / "lost_all" / A / f"{A}.ipynb", as_version=4)
    solution = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    answers = {matching._gid(c): c.source for c in solution}
    submitted = {matching._gid(c): c.source for c in matching._nb().cells}
    for gid in [*EXERCISES, *RELEASE.written]:  # the student's, not the release's stubs
        assert answers[gid] == submitted[gid]
