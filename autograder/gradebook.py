"""nbgrader's gradebook, read and written in one place.

Scores in (one transaction per submission), scores out, and the per-exercise table the command
prints.
"""

from __future__ import annotations

from autograder.results import SubmissionResult

# nbgrader.api is imported where it is used: it takes seconds, and the class report and the
# similarity report, which import this module's neighbours, never need it.


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


def scores(db_url: str, assignment: str) -> dict[str, dict[str, float]]:
    """{student: {grade_id: score}} for every graded cell of ``assignment`` (autograde or manual).

    A cell nobody has graded yet (a written answer before manual grading) is left out.
    """
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, float]] = {}
    with Gradebook(db_url) as gb:
        for sub in gb.assignment_submissions(assignment):
            row = out.setdefault(sub.student_id, {})
            for nb in sub.notebooks:
                for grade in nb.grades:
                    if not grade.needs_manual_grade:
                        row[grade.name] = float(grade.score)
    return out


def max_points(db_url: str, assignment: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        a = gb.find_assignment(assignment)
        return {c.name: float(c.max_score) for nb in a.notebooks for c in nb.grade_cells}


def format_table(table: dict[str, dict[str, float]], maxima: dict[str, float]) -> str:
    """A fixed-width table: one row per student, one column per graded cell in the order of
    ``maxima`` (the grading command gives the notebook's order), and the total."""
    cols = list(maxima)
    short = [c.removeprefix("test_") for c in cols]
    width = max(8, *(len(s) for s in short))
    first = max(12, *(len(name) + 1 for name in table)) if table else 12
    head = f"{'student':<{first}}" + "".join(f"{s:>{width + 1}}" for s in short) + f"{'total':>9}"
    lines = [head, "-" * len(head)]
    lines.append(
        f"{'(max)':<{first}}"
        + "".join(f"{maxima[c]:>{width + 1}g}" for c in cols)
        + f"{sum(maxima.values()):>9g}"
    )
    for student in sorted(table):
        row = table[student]
        cells = "".join(
            f"{row[c]:>{width + 1}.3g}" if c in row else f"{'-':>{width + 1}}" for c in cols
        )
        lines.append(f"{student:<{first}}{cells}{sum(row.values()):>9.3g}")
    lines.append("('-': not graded yet, e.g. a written answer awaiting manual grading)")
    return "\n".join(lines)
