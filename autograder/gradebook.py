"""Read scores out of nbgrader's gradebook and print them as a per-exercise table."""

from __future__ import annotations

from nbgrader.api import Gradebook


def scores(db_url: str, assignment: str) -> dict[str, dict[str, float]]:
    """{student: {grade_id: score}} for every graded cell of ``assignment`` (autograde or manual).

    A cell nobody has graded yet (a written answer before manual grading) is left out.
    """
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
    with Gradebook(db_url) as gb:
        a = gb.find_assignment(assignment)
        return {c.name: float(c.max_score) for nb in a.notebooks for c in nb.grade_cells}


def format_table(table: dict[str, dict[str, float]], maxima: dict[str, float]) -> str:
    """A fixed-width table: one row per student, one column per graded cell, and the total."""
    cols = sorted(maxima)
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
