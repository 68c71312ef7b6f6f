"""Exports of a batch: feedback files, CSV, Gradescope results.json, autograded notebooks.

The autograded notebooks are what formgrader and ``nbgrader generate_feedback`` read; the
gradebook itself is written by autograder/gradebook.py.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
from pathlib import Path

import nbformat

from autograder.config import output_dir, release_notebook
from autograder.gradebook import write_gradebook
from autograder.integrity import answer_sources
from autograder.release import load_release
from autograder.results import SubmissionResult, atomic_write, load_result
from autograder.submission import notebook_text, parse_notebook, read_submission


def feedback_text(r: SubmissionResult) -> str:
    """The feedback file for one student: per exercise what passed, what failed and why.

    Only the failure messages of the hidden tests appear, never their code or the reference.
    """
    lines = [f"# Feedback: {r.assignment}, {r.student}", ""]
    lines.append(f"Autograded score: {r.score:g} / {r.max_score:g}")
    pending = [k for k, v in r.written.items() if v]
    if pending:
        lines.append(f"Written answers awaiting manual grading: {', '.join(pending)}")
    if r.findings:
        lines += ["", "## About your notebook", *[f"- {f}" for f in r.findings]]
    if r.events:
        lines += ["", "## Your code stopped the grading worker"]
        lines += [f"- {e}" for e in r.events]
    if r.cell_errors:
        lines += ["", "## Cells that raised an error when your notebook was run"]
        lines += [f"- {label}: {msg}" for label, msg in r.cell_errors.items()]
    for name, ex in r.exercises.items():
        lines += ["", f"## {name}: {ex.score:g} / {ex.points:g}"]
        if ex.visible_passed:
            lines.append("- Visible tests: passed.")
        else:
            lines.append(
                f"- Visible tests: failed ({ex.visible_message}). They must pass for "
                "this exercise to earn points."
            )
        if ex.hidden_total:
            lines.append(f"- Hidden tests: {ex.hidden_passed} of {ex.hidden_total} passed.")
            for test, msg in ex.failures.items():
                lines.append(f"  - {test}: {msg}")
    return "\n".join(lines) + "\n"


def gradescope_json(r: SubmissionResult) -> str:
    tests = []
    for name, ex in r.exercises.items():
        out = [] if ex.visible_passed else [f"visible tests failed: {ex.visible_message}"]
        out += [f"{t}: {m}" for t, m in ex.failures.items()]
        tests.append(
            {"name": name, "score": ex.score, "max_score": ex.points, "output": "\n".join(out)}
        )
    data = {
        "score": r.score,
        "output": "\n".join(r.findings + r.events),
        "tests": tests,
        "visibility": "visible",
    }
    return json.dumps(data, indent=1)


def csv_text(results: list[SubmissionResult]) -> str:
    names = list(results[0].exercises) if results else []
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["student", *names, "total", "max", "findings"])
    for r in results:
        w.writerow(
            [
                r.student,
                *(r.exercises[n].score for n in names),
                r.score,
                r.max_score,
                " | ".join(r.findings),
            ]
        )
    return buf.getvalue()


_release = functools.lru_cache(maxsize=4)(load_release)


def write_autograded_notebook(course: Path, r: SubmissionResult, submission: str) -> None:
    """autograded/<student>/<assignment>/<assignment>.ipynb for formgrader and feedback: the
    release notebook with the student's answers, and each test cell's result as its output."""
    a = r.assignment
    release = nbformat.read(release_notebook(course, a), as_version=4)
    raw, problem = read_submission(submission)  # the same careful reading as for grading
    text = None if problem else notebook_text(raw)[0]
    cells = parse_notebook(text)[0] if text is not None else None
    answers = answer_sources(cells, _release(a, course)) if cells else {}
    for c in release.cells:
        meta = c.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid in answers and meta.get("solution"):
            c.source = answers[gid]
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
            ex = r.exercises.get((gid or "").removeprefix("test_")) if meta.get("grade") else None
            if ex is not None:
                text = f"{ex.score:g} / {ex.points:g} points"
                if not ex.visible_passed:
                    text += f"\nvisible tests failed: {ex.visible_message}"
                if ex.hidden_total:
                    text += f"\nhidden tests: {ex.hidden_passed}/{ex.hidden_total} passed"
                    text += "".join(f"\n  {t}: {m}" for t, m in ex.failures.items())
                c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text + "\n")]
    dest = course / "autograded" / r.student / a / f"{a}.ipynb"
    atomic_write(dest, nbformat.writes(release))


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (made if missing) for the duration of the block."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def write_all(
    course: Path, results: list[SubmissionResult], submissions: dict[str, str], db_url: str | None
) -> dict[str, Path]:
    """Every output of a batch; returns where they are."""
    if not results:
        return {}
    a = results[0].assignment
    out = output_dir(course, a)
    for r in results:
        atomic_write(out / "feedback" / f"{r.student}.md", feedback_text(r))
        atomic_write(out / "gradescope" / r.student / "results.json", gradescope_json(r))
        if r.student in submissions:
            write_autograded_notebook(course, r, submissions[r.student])
    # every student with a result, not only this run's (after --student, the others stay); a
    # lock, so that of two commands at once the last to write has read the other's results
    with _locked(out / ".exports.lock"):
        stored = [load_result(p) for p in sorted((out / "results").glob("*.json"))]
        everyone = {r.student: r for r in stored if r is not None and r.assignment == a}
        everyone.update({r.student: r for r in results})
        atomic_write(out / "grades.csv", csv_text([everyone[k] for k in sorted(everyone)]))
    if db_url:
        write_gradebook(db_url, a, results)
    return {
        "results": out / "results",
        "feedback": out / "feedback",
        "csv": out / "grades.csv",
        "gradescope": out / "gradescope",
    }
