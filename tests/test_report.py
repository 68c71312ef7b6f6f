"""The class report (``python -m autograder report``) and the mistakes the result files record.

A small class of notebook 01 is graded once by the grading command: the samples ``correct``,
``mistakes`` and ``unanswered``, and two students made of the correct sample with two
self-contained exercises (clipping, and the Jacobians or the Jacobian products) taken from the
mistakes sample. What the report must say follows from that make-up and from what the samples
declare about themselves (``EXPECT``: the exercises that lose points; ``NAMES``: words naming
each mistake): who made which mistake, who has full marks, who answered nothing. The report is
then checked against those facts, never against its own numbers.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import csv
import html
import io
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.__main__ import main as cli
from autograder.diagnosis import mistake_key
from autograder.report import merged_message
from autograder.results import result_from_json
from course import build
from tests.conftest import COURSE, copy_course

A = "01_rnn"
SAMPLES = COURSE / "samples" / A
# student -> {exercise: the sample its answer comes from}; unlisted exercises: "base"
MIXED = {
    "mix_a": {"rnn_step_jacobians": "mistakes", "clip_by_global_norm": "mistakes"},
    "mix_b": {"clip_by_global_norm": "mistakes", "jacobian_product_norms": "mistakes"},
}
BASE = {"correct": "correct", "mistakes": "mistakes", "unanswered": "unanswered"}
STUDENTS = sorted([*BASE, *MIXED])


def _declared(sample: str, name: str):
    """A top-level constant (EXPECT, NAMES) that a sample file declares about itself."""
    tree = ast.parse((SAMPLES / f"{sample}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
            return ast.literal_eval(node.value)
    return {}


def _functions(sample: str) -> dict[str, str]:
    text = (SAMPLES / f"{sample}.py").read_text()
    lines = text.splitlines()
    return {
        n.name: "\n".join(lines[n.lineno - 1 : n.end_lineno])
        for n in ast.parse(text).body
        if isinstance(n, ast.FunctionDef)
    }


def _source(student: str, exercise: str) -> str:
    """Which sample the student's answer to ``exercise`` comes from."""
    if student in BASE:
        return BASE[student]
    return MIXED[student].get(exercise, "correct")


def _exercises() -> list[str]:
    """The exercises in the order of the release notebook's test cells."""
    nb = nbformat.read(COURSE / "release" / A / f"{A}.ipynb", as_version=4)
    return [
        m["grade_id"].removeprefix("test_")
        for m in (c.metadata.get("nbgrader", {}) for c in nb.cells)
        if m.get("grade") and not m.get("solution")
    ]


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, str]:
    """The class graded by the command (no gradebook), then the report made; returns the
    course folder and what the grading command printed."""
    root = tmp_path_factory.mktemp("report")
    course = copy_course(root / "course")
    samples = root / "samples" / A
    samples.mkdir(parents=True)
    for name in BASE:
        shutil.copy(SAMPLES / f"{name}.py", samples / f"{name}.py")
    correct, mistakes = _functions("correct"), _functions("mistakes")
    for student, taken in MIXED.items():
        funcs = {**correct, **{e: mistakes[e] for e in taken}}
        (samples / f"{student}.py").write_text("\n\n\n".join(funcs.values()) + "\n")
    build.build_samples(root / "samples", course / "submitted", course / "release")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["grade", A, "--course", str(course), "--no-progress", "--no-gradebook"]) == 0
        assert cli(["report", A, "--course", str(course)]) == 0
    return course, out.getvalue()


def _rows(course: Path) -> list[dict]:
    with open(course / "grading" / A / "report.csv", newline="") as f:
        return list(csv.DictReader(f))


def _html(course: Path) -> str:
    return (course / "grading" / A / "report.html").read_text()


def test_named_mistakes_are_ranked_by_the_students_who_made_them(graded):
    """Every mistake the mistakes sample declares is counted for exactly the students whose
    answer came from that sample, with the share of the class, most students first."""
    course, _ = graded
    rows = _rows(course)
    page = html.unescape(_html(course))
    names = _declared("mistakes", "NAMES")
    n = len(STUDENTS)
    assert names, "the mistakes sample declares no mistakes"
    for exercise, words in names.items():
        made = [s for s in STUDENTS if _source(s, exercise) == "mistakes"]
        found = [r for r in rows if r["exercise"] == exercise and r["measure"] == "mistake"]
        counts = [int(r["students"]) for r in found]
        assert counts == sorted(counts, reverse=True), (exercise, counts)
        naming = [r for r in found if any(w.lower() in r["description"].lower() for w in words)]
        assert naming, (exercise, words, [r["description"] for r in found])
        for r in naming:
            assert int(r["students"]) == len(made), (exercise, r["description"], made)
            assert r["of"] == str(n)
            assert float(r["share"]) == pytest.approx(len(made) / n, abs=1e-4)
            assert r["key"] == mistake_key(r["description"]) or "…" in r["description"]
            pct = f"{100 * len(made) / n:.0f}%"
            assert re.search(rf"{pct}\s*</b>\s*\({len(made)}\)", _html(course)), (exercise, pct)
        assert naming[0]["description"] in page
    # a mistake made by three students of five reads 60%, above those made by fewer
    clip = [r for r in rows if r["exercise"] == "clip_by_global_norm" and r["measure"] == "mistake"]
    assert clip[0]["students"] == "3" and clip[0]["share"] == "0.6000"


def test_full_marks_not_answered_and_the_score_distribution(graded):
    """Full marks: answers from the correct sample, and the mistakes sample's answers to the
    exercises its EXPECT does not list; 'not answered': the unanswered sample only."""
    course, _ = graded
    rows = _rows(course)
    expect = _declared("mistakes", "EXPECT")

    def value(exercise, measure, key=""):
        got = [
            r for r in rows if (r["exercise"], r["measure"], r["key"]) == (exercise, measure, key)
        ]
        assert len(got) == 1, (exercise, measure, key)
        return got[0]

    for exercise in _exercises():
        full = [
            s
            for s in STUDENTS
            if _source(s, exercise) == "correct"
            or (_source(s, exercise) == "mistakes" and exercise not in expect)
        ]
        assert value(exercise, "full marks")["students"] == str(len(full)), exercise
        assert value(exercise, "not answered")["students"] == "1", exercise
        assert value(exercise, "graded")["students"] == str(len(STUDENTS))
        scores = [r for r in rows if r["exercise"] == exercise and r["measure"] == "score"]
        assert sum(int(r["students"]) for r in scores) == len(STUDENTS)
        assert int(value(exercise, "score", "0")["students"]) >= 1  # the unanswered notebook
    assert value("(total)", "full marks")["students"] == "1"  # the correct sample alone


def test_the_page_is_self_contained(graded):
    """No network, no script; plots are PNG data URIs; every link leads somewhere."""
    course, _ = graded
    page = _html(course)
    folder = course / "grading" / A
    assert "<script" not in page.lower()
    sources = re.findall(r'src="([^"]*)"', page)
    without_images = re.sub(r'src="data:image/png;base64,[A-Za-z0-9+/=]*"', "", page)
    assert not re.search(r"(?:https?:)?//|url\(|@import", without_images)
    assert len(sources) == 1 + len(_exercises())  # the total and one plot per exercise
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    ids = set(re.findall(r'id="([^"]+)"', page))
    links = re.findall(r'href="([^"]+)"', page)
    made = {s for s in STUDENTS if s == "mistakes" or s in MIXED}
    assert {f"#s-{s}" for s in made} <= set(links)  # the mistakes tables name students
    for link in links:
        if link.startswith("#"):
            assert link[1:] in ids, link
        else:
            assert (folder / html.unescape(link)).is_file(), link


def test_each_student_links_to_their_feedback(graded):
    """The page each student's row links to holds the feedback file the grading command wrote."""
    course, _ = graded
    page = _html(course)
    folder = course / "grading" / A
    for student in STUDENTS:
        row = re.search(rf'<tr id="s-{student}">.*?</tr>', page, re.S).group(0)
        link = re.search(r'href="([^"]+)">feedback<', row).group(1)
        text = (folder / link).read_text()
        shown = html.unescape(re.search(r"<pre[^>]*>(.*)</pre>", text, re.S).group(1))
        assert shown == (folder / "feedback" / f"{student}.md").read_text()


def test_result_files_record_the_mistake_each_failed_test_named(graded):
    """Structured mistakes: a key and message per failed hidden test, the message the one its
    failure shows; none for the correct sample."""
    course, _ = graded
    named = 0
    for path in sorted((course / "grading" / A / "results").glob("*.json")):
        r = result_from_json(path.read_text())
        for exercise, e in r.exercises.items():
            assert set(e.mistakes) <= set(e.failures), (path.stem, exercise)
            for test, m in e.mistakes.items():
                assert set(m) == {"key", "message"}
                assert m["message"] in e.failures[test]
                assert m["key"] == mistake_key(m["message"])
                named += 1
        if path.stem == "correct":
            assert not any(e.failures or e.mistakes for e in r.exercises.values())
    assert named > 0


def test_the_grade_table_lists_exercises_in_notebook_order(graded):
    _, printed = graded
    header = next(line for line in printed.splitlines() if line.startswith("student"))
    columns = header.split()[1:-1]
    assert columns == _exercises()


def test_damaged_results_are_named_and_the_rest_reported(graded, tmp_path):
    course, _ = graded
    results = tmp_path / "course" / "grading" / A / "results"
    shutil.copytree(course / "grading" / A / "results", results)
    (results / "broken.json").write_text('{"student": "broken", "exerc')
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["report", A, "--course", str(tmp_path / "course")]) == 0
    page = (results.parent / "report.html").read_text()
    assert "could not be read" in page and "broken.json" in page
    graded_row = [r for r in _rows(tmp_path / "course") if r["measure"] == "graded"][0]
    assert graded_row["students"] == str(len(STUDENTS))


def test_no_results_is_a_clear_error(tmp_path, capsys):
    assert cli(["report", A, "--course", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no result files" in err and f"python -m autograder grade {A}" in err


def test_result_files_of_an_older_grader_still_load():
    """A result file written before mistakes were recorded reads with no mistakes."""
    data = {
        "student": "s",
        "assignment": A,
        "key": "k",
        "readable": True,
        "findings": [],
        "cell_errors": {},
        "written": {},
        "exercises": {"f": {"points": 1.0, "score": 0.0, "failures": {"t": "wrong"}}},
    }
    r = result_from_json(json.dumps(data))
    assert r.exercises["f"].mistakes == {}


def test_mistake_keys_and_merged_messages():
    """One key for messages that differ only in numbers (a family, one per time step), another
    for other words; the report shows the numbers that differ as '…'."""
    a = "dWx is the gradient of time step t=1 alone: accumulate over all T steps."
    b = "dWx is the gradient of time step t=3 alone: accumulate over all T steps."
    c = "dWh is the gradient of time step t=1 alone: accumulate over all T steps."
    assert mistake_key(a) == mistake_key(b) == mistake_key(a.replace(" ", "  "))
    assert mistake_key(a) != mistake_key(c)
    assert mistake_key(a).startswith("dwx-is-the-gradient-of-time-")
    assert merged_message([a, b, a]) == (
        "dWx is the gradient of time step t=… alone: accumulate over all T steps."
    )
    assert merged_message([a, a]) == a
