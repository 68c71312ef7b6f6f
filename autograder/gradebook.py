"""nbgrader's gradebook, read and written in one place.

Scores in (one transaction per submission), scores out, and the per-exercise table the command
prints. The gradebook is any SQLAlchemy URL nbgrader takes: the course's SQLite file by default,
PostgreSQL for a course graded by several processes or machines at once (``postgresql://`` is
given the pinned driver, psycopg). Several grading commands may write at once: a submission whose
transaction collides with another command's (the same student or submission created by both) is
rolled back and written again, so nothing is lost and nothing is doubled.
"""

from __future__ import annotations

import contextlib
import logging
import time

from autograder.results import SubmissionResult

# nbgrader.api is imported where it is used: it takes seconds, and the class report and the
# similarity report, which import this module's neighbours, never need it.
WRITE_ATTEMPTS = 8  # per submission, when other commands write the same rows at the same time


class GradebookError(Exception):
    pass


def gradebook_url(url: str) -> str:
    """The URL with the pinned PostgreSQL driver: SQLAlchemy's default for ``postgresql://`` is
    psycopg2, which is not installed; ``postgresql+psycopg://`` names psycopg (version 3)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def shown_url(url: str) -> str:
    """The URL for messages, without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: say so as it was given
        return url


@contextlib.contextmanager
def _quiet_nbgrader():
    """nbgrader logs a traceback for each transaction it rolls back; a collision with another
    command is expected here (and retried), not an error to show."""
    logger = logging.getLogger("tornado.application")  # nbgrader.api's app_log
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _write_one(gb, assignment: str, r: SubmissionResult) -> None:
    from nbgrader.api import MissingEntry

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


def write_gradebook(db_url: str, assignment: str, results: list[SubmissionResult]) -> None:
    """Set the autograded scores of each submission, one transaction per submission.

    Idempotent: rows are found or created once and then updated, so running it again (or after
    a crash, or beside another command) leaves exactly one grade per cell. Written answers that
    were answered are marked for manual grading; unanswered ones get 0, as nbgrader does.
    """
    import warnings

    from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
    from sqlalchemy.exc import DBAPIError, SAWarning

    url = gradebook_url(db_url)
    try:
        gb = Gradebook(url)
    except (DBAPIError, ImportError, ValueError) as e:
        raise GradebookError(
            f"cannot open the gradebook at {shown_url(db_url)} ({type(e).__name__}: "
            f"{str(e).splitlines()[0][:300]}); check the URL and that the server runs."
        ) from None
    with gb, warnings.catch_warnings(), _quiet_nbgrader():
        warnings.simplefilter("ignore", SAWarning)  # raised inside nbgrader's add_submission
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise GradebookError(
                f"{assignment} is not in the gradebook at {shown_url(db_url)}: run `nbgrader "
                f"generate_assignment {assignment} --db=URL` in the course folder first."
            ) from None
        for r in results:
            for attempt in range(WRITE_ATTEMPTS):
                try:
                    _write_one(gb, assignment, r)
                    break
                except (InvalidEntry, DBAPIError) as e:  # another command wrote the same rows
                    gb.db.rollback()
                    if attempt == WRITE_ATTEMPTS - 1:
                        raise GradebookError(
                            f"{r.student}: the gradebook refused the grades {WRITE_ATTEMPTS} "
                            f"times ({type(e).__name__}: {str(e).splitlines()[0][:300]})"
                        ) from None
                    time.sleep(0.05 * (attempt + 1))


def scores(db_url: str, assignment: str) -> dict[str, dict[str, float]]:
    """{student: {grade_id: score}} for every graded cell of ``assignment`` (autograde or manual).

    A cell nobody has graded yet (a written answer before manual grading) is left out.
    """
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, float]] = {}
    with Gradebook(gradebook_url(db_url)) as gb:
        for sub in gb.assignment_submissions(assignment):
            row = out.setdefault(sub.student_id, {})
            for nb in sub.notebooks:
                for grade in nb.grades:
                    if not grade.needs_manual_grade:
                        row[grade.name] = float(grade.score)
    return out


def max_points(db_url: str, assignment: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(db_url)) as gb:
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
