"""The integrity check: a submission against its release, as small named checks, and what to run.

Locked cells (given code, tests) always come from the release; answer cells and the student's
own extra code cells come from the submission. Every copy of an answer cell runs in order
(Jupyter copies the metadata when a cell is copied or split), as in the notebook. Each check
returns what it found, in the notebook's order; a check that refuses the notebook raises
:class:`Refused`. The checks run in the order of ``REFUSALS`` then ``CELL_CHECKS``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from autograder.config import (
    LARGE_FILE_BYTES,
    MAX_CODE_CELLS,
    MAX_SOURCE_BYTES,
    show,
)
from autograder.release import Cell, Release, cell_flags
from autograder.submission import CellView, notebook_text, parse_notebook

LOCKED = {"tests": "test cell", "given": "read-only cell"}  # what a student calls each kind


@dataclass
class Plan:
    """What to run for a submission, and what was found on the way."""

    findings: list[str] = field(default_factory=list)
    # (label, code, kind) to execute in order; kind "given" (from the release) or "student"
    cells: list[tuple[str, str, str]] = field(default_factory=list)
    answered_written: set[str] = field(default_factory=set)
    readable: bool = True


class Refused(Exception):
    """The notebook cannot be graded; the message says why."""


@dataclass
class Submitted:
    """A decoded submission beside its release: what every check looks at."""

    raw: bytes
    cells: list[CellView]
    release: Release

    @cached_property
    def by_id(self) -> dict[str, Cell]:
        return {c.grade_id: c for c in self.release.cells}

    @cached_property
    def seen(self) -> Counter:
        """How many submitted cells carry each grade id, in order of first appearance."""
        return Counter(c.grade_id for c in self.cells if c.grade_id)


# --------------------------------------------------------------------------- refusals
def too_much_source(s: Submitted) -> list[str]:
    size = sum(len(c.source) for c in s.cells)
    if size > MAX_SOURCE_BYTES:
        raise Refused(
            f"the notebook's cells hold {size / 1e6:.1f} MB of code and text, over the "
            f"{MAX_SOURCE_BYTES >> 20} MB limit, so it was not run."
        )
    return []


def too_many_code_cells(s: Submitted) -> list[str]:
    n = sum(c.cell_type == "code" for c in s.cells)
    if n > MAX_CODE_CELLS:
        raise Refused(f"the notebook has {n} code cells (limit {MAX_CODE_CELLS}).")
    return []


def large_file(s: Submitted) -> list[str]:
    if len(s.raw) <= LARGE_FILE_BYTES:
        return []
    return [
        f"the notebook file is {len(s.raw) / 1e6:.1f} MB, mostly outputs, which are not used "
        "for grading: clear them (Kernel > Restart and clear outputs) before submitting."
    ]


def other_notebook(s: Submitted) -> list[str]:
    if s.release.cells and not set(s.seen) & set(s.by_id):
        raise Refused(
            "this is not the notebook of this assignment (none of its graded cells are there)."
        )
    return []


# --------------------------------------------------------------------------- cells
def foreign_or_repeated(s: Submitted) -> list[str]:
    """Grade ids the release does not have, and graded cells that appear more than once."""
    out = []
    for gid, n in s.seen.items():
        ref = s.by_id.get(gid)
        if ref is None:
            out.append(
                f"cell {show(gid)} is not part of the assignment; its code is run as an "
                "ordinary cell."
            )
        elif n > 1 and ref.kind == "answer":
            out.append(
                f"answer cell {gid} appears {n} times (a copied or split cell?); every copy is "
                "run, in order, as in your notebook."
            )
        elif n > 1:
            what = LOCKED.get(ref.kind, "written answer")
            out.append(f"{what} {gid} appears {n} times; only the original is used.")
    return out


def deleted(s: Submitted) -> list[str]:
    """Graded or locked cells of the release that are not in the submission."""
    out = []
    for c in s.release.cells:
        if c.grade_id in s.seen:
            continue
        what = LOCKED.get(c.kind)
        if what:
            out.append(f"{what} {c.grade_id} was deleted; the original is used.")
        else:
            out.append(
                f"{'answer' if c.kind == 'answer' else 'written answer'} cell {c.grade_id} "
                "is missing (deleted, or its nbgrader metadata removed)."
            )
    return out


def _locked_changes(c: CellView, ref: Cell) -> list[str]:
    """What was changed in the first copy of a test or read-only cell."""
    out, gid = [], ref.grade_id
    if c.source != ref.source:
        out.append(f"{LOCKED[ref.kind]} {gid} was edited; the original is used.")
    points = c.nbgrader.get("points", ref.points)
    try:
        changed = float(points) != ref.points
    except (TypeError, ValueError):
        changed = True
    if ref.kind == "tests" and changed:
        out.append(f"the points of {gid} were changed; the original is used.")
    if cell_flags(c.nbgrader) != ref.flags or c.cell_type != "code":
        out.append(
            f"the cell type or nbgrader metadata of {gid} was changed; the original is used."
        )
    return out


def changed(s: Submitted) -> list[str]:
    """Edited locked cells and answer cells that are no longer code, in the notebook's order."""
    out, first = [], set()
    for c in s.cells:
        ref = s.by_id.get(c.grade_id) if c.grade_id else None
        if ref is None or ref.grade_id in first:
            continue
        first.add(ref.grade_id)
        if ref.kind in LOCKED:
            out += _locked_changes(c, ref)
        elif ref.kind == "answer" and c.cell_type != "code":
            out.append(f"answer cell {ref.grade_id} is not a code cell any more; not run.")
    return out


REFUSALS = (too_much_source, too_many_code_cells, large_file, other_notebook)
CELL_CHECKS = (foreign_or_repeated, deleted, changed)


# --------------------------------------------------------------------------- what runs
def cells_to_run(s: Submitted) -> list[tuple[str, str, str]]:
    """(label, code, kind) in order: deleted read-only cells first, then the notebook's cells,
    read-only ones from the release, answers and the student's own code cells as submitted."""
    run = [
        (c.grade_id, c.source, "given")
        for c in s.release.cells
        if c.kind == "given" and c.grade_id not in s.seen
    ]
    used: Counter = Counter()
    for i, c in enumerate(s.cells):
        ref = s.by_id.get(c.grade_id) if c.grade_id else None
        if ref is None:
            if c.cell_type == "code":
                run.append((f"cell {i + 1}", c.source, "student"))  # as a person counts
            continue
        gid = ref.grade_id
        used[gid] += 1
        if ref.kind == "given" and used[gid] == 1:
            run.append((gid, ref.source, "given"))
        elif ref.kind == "answer" and c.cell_type == "code":
            label = gid if used[gid] == 1 else f"{gid} (copy {used[gid]})"
            run.append((label, c.source, "student"))
    return run


def answered_written(s: Submitted) -> set[str]:
    """Written answers whose first copy differs from the release's text."""
    out, first = set(), set()
    for c in s.cells:
        ref = s.by_id.get(c.grade_id) if c.grade_id else None
        if ref is None or ref.kind != "written" or ref.grade_id in first:
            continue
        first.add(ref.grade_id)
        if c.source.strip() != ref.source.strip():
            out.add(ref.grade_id)
    return out


def plan_submission(raw: bytes, release: Release, problem: str | None = None) -> Plan:
    """Decode a submission and check it against the release: what to run, what was found."""
    plan = Plan()
    try:
        if problem:
            raise Refused(problem)
        text, notes = notebook_text(raw)
        plan.findings += notes
        if text is None:
            plan.readable = False
            return plan
        cells, why = parse_notebook(text)
        if cells is None:
            raise Refused(why)
        s = Submitted(raw, cells, release)
        for check in REFUSALS:
            plan.findings += check(s)
    except Refused as e:
        plan.readable = False
        plan.findings.append(str(e))
        return plan
    for check in CELL_CHECKS:
        plan.findings += check(s)
    plan.cells = cells_to_run(s)
    plan.answered_written = answered_written(s)
    return plan
