"""Where grading results go: nbgrader's gradebook, CSV, Gradescope results.json, feedback files,
and the autograded notebooks that formgrader and ``nbgrader generate_feedback`` read."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import nbformat

from autograder.grade import (
    SubmissionResult,
    _atomic_write,
    load_result,
    notebook_text,
    output_dir,
    parse_notebook,
    read_submission,
)


class GradebookError(Exception):
    pass


def write_gradebook(db_url: str, assignment: str, results: list[SubmissionResult]) -> None:
    """Set the autograded scores of each submission, one transaction per submission.

    Idempotent: rows are found or created once and then updated, so running it again (or after
    a crash) leaves exactly one grade per cell. Written answers that were answered are marked
    for manual grading; unanswered ones get 0, as nbgrader does.
    """
    import warnings

    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    with Gradebook(db_url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # raised inside nbgrader's add_submission
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise GradebookError(
                f"{assignment} is not in the gradebook: run `nbgrader generate_assignment "
                f"{assignment}` in the course folder first."
            ) from None
        for r in results:
            gb.update_or_create_student(r.student)
            try:
                sub = gb.find_submission(assignment, r.student)
            except MissingEntry:
                sub = gb.add_submission(assignment, r.student)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    if grade.name.startswith("test_"):
                        ex = r.exercises.get(grade.name.removeprefix("test_"))
                        grade.auto_score = ex.score if ex else 0.0
                        grade.needs_manual_grade = False
                    elif grade.name in r.written:
                        answered = r.written[grade.name]
                        grade.auto_score = None if answered else 0.0
                        grade.needs_manual_grade = answered
            gb.db.commit()


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


def write_autograded_notebook(course: Path, r: SubmissionResult, submission: str) -> None:
    """autograded/<student>/<assignment>/<assignment>.ipynb for formgrader and feedback: the
    release notebook with the student's answers, and each test cell's result as its output."""
    a = r.assignment
    release = nbformat.read(course / "release" / a / f"{a}.ipynb", as_version=4)
    answers = {}
    raw, problem = read_submission(submission)  # the same careful reading as for grading
    text = None if problem else notebook_text(raw)[0]
    cells = parse_notebook(text)[0] if text is not None else None
    for c in cells or []:
        if c.grade_id and c.grade_id not in answers:
            answers[c.grade_id] = c.source
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
    _atomic_write(dest, nbformat.writes(release))


def write_all(
    course: Path, results: list[SubmissionResult], submissions: dict[str, str], db_url: str | None
) -> dict[str, Path]:
    """Every output of a batch; returns where they are."""
    if not results:
        return {}
    a = results[0].assignment
    out = output_dir(course, a)
    for r in results:
        _atomic_write(out / "feedback" / f"{r.student}.md", feedback_text(r))
        _atomic_write(out / "gradescope" / r.student / "results.json", gradescope_json(r))
        if r.student in submissions:
            write_autograded_notebook(course, r, submissions[r.student])
    # every student with a result, not only this run's (after --student, the others stay)
    stored = [load_result(p) for p in sorted((out / "results").glob("*.json"))]
    everyone = {r.student: r for r in stored if r is not None and r.assignment == a}
    everyone.update({r.student: r for r in results})
    _atomic_write(out / "grades.csv", csv_text([everyone[k] for k in sorted(everyone)]))
    if db_url:
        write_gradebook(db_url, a, results)
    return {
        "results": out / "results",
        "feedback": out / "feedback",
        "csv": out / "grades.csv",
        "gradescope": out / "gradescope",
    }
