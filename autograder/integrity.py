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
from autograder.release import Cell, Release, cell_flags, defined_names
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
    # answer cells found by the functions they define (their nbgrader metadata was lost or
    # their grade id renamed): grade id -> the submitted cell, as a person counts ("cell 7")
    matched: dict[str, str] = field(default_factory=dict)


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

    @property
    def ids(self) -> list[str | None]:
        return self._matching[0]

    @property
    def by_name(self) -> dict[str, int]:
        """Answer grade id -> index of the cell matched to it by name."""
        return self._matching[1]

    @property
    def by_code(self) -> dict[str, int]:
        """Locked or written grade id -> index of the cell matched to it by its code (by its
        question's, for a written answer)."""
        return self._matching[2]

    @cached_property
    def _matching(self) -> tuple[list[str | None], dict[str, int], dict[str, int]]:
        """The grade id each submitted cell is graded as: its own where the release has it;
        for a cell without one (metadata lost) or with one the release does not have (renamed),
        the id of a release cell that is nowhere else in the submission and that it matches: a
        read-only or test cell by its exact code, a written answer by following the text of its
        question, an answer cell by defining every function and class the release's answer
        cell defines (the first such cell)."""
        ids = [c.grade_id if c.grade_id in self.by_id else None for c in self.cells]
        by_name: dict[str, int] = {}
        by_code: dict[str, int] = {}
        present = set(ids)
        free = [i for i, c in enumerate(self.cells) if ids[i] is None and c.cell_type == "code"]
        locked = {
            _code(c.source): c.grade_id
            for c in self.release.cells
            if c.kind in LOCKED and c.grade_id not in present
        }
        for i in free:
            gid = locked.pop(_code(self.cells[i].source), None)
            if gid is not None:
                ids[i] = gid
                by_code[gid] = i
        questions = {_code(q): gid for gid, q in self.release.questions if gid not in present}
        for i, c in enumerate(self.cells[:-1]):  # a written answer: the cell after its question
            gid = questions.get(_code(c.source)) if ids[i] is None and c.source.strip() else None
            after = self.cells[i + 1]
            if gid and ids[i + 1] is None and after.cell_type == "markdown":
                ids[i + 1] = gid
                by_code[gid] = i + 1
                del questions[_code(c.source)]
        for gid, names in self.release.answer_names.items():
            if gid in present or not names:
                continue
            for i in free:
                if ids[i] is None and set(names) <= set(defined_names(self.cells[i].source)):
                    ids[i] = gid
                    by_name[gid] = i
                    break
        return ids, by_name, by_code

    @cached_property
    def seen(self) -> Counter:
        """How many submitted cells are graded as each grade id, in order of first appearance;
        grade ids the release does not have are counted too."""
        ids = self.ids
        return Counter(
            ids[i] or c.grade_id for i, c in enumerate(self.cells) if ids[i] or c.grade_id
        )


def _code(source: str) -> str:
    """A cell's code as compared with the release: trailing spaces and blank lines aside."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def cell_label(i: int) -> str:
    """A submitted cell as a person counts them in the notebook (markdown cells included)."""
    return f"cell {i + 1}"


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
    own = {c.grade_id for c in s.cells} & set(s.by_id)
    if s.release.cells and not own and not s.by_name:
        names = [n for names in s.release.answer_names.values() for n in names]
        raise Refused(
            "this is not the notebook of this assignment (none of its graded cells are there, "
            f"and no cell defines {', '.join(names[:3])}{' ...' if len(names) > 3 else ''})."
        )
    return []


# --------------------------------------------------------------------------- cells
def matched(s: Submitted) -> list[str]:
    """Cells graded as the release's cells although their grade ids were lost or renamed: one
    line that says how, for the instructor to confirm."""
    if not s.by_name and not s.by_code:
        return []
    how = []
    for gid, i in s.by_name.items():
        names, old = s.release.answer_names[gid], s.cells[i].grade_id
        notes = [f"defines {', '.join(names)}"] if names != (gid,) else []
        notes += [f"grade id {show(old, 30)}"] if old else []
        how.append(f"{gid} = your {cell_label(i)}" + (f" ({'; '.join(notes)})" if notes else ""))
    line = (
        "the nbgrader metadata of some cells was lost or their grade ids renamed (cells copied "
        "into a new notebook?), so they were matched to the assignment's cells: "
    )
    parts = []
    if how:
        parts.append("answer cells by the functions they define: " + "; ".join(how))
    written = [
        f"{g} = your {cell_label(i)}" for g, i in s.by_code.items() if g in s.release.written
    ]
    if written:
        parts.append("written answers as the cell after their question: " + "; ".join(written))
    if len(s.by_code) > len(written):
        parts.append(f"{len(s.by_code) - len(written)} read-only or test cell(s) by their code")
    return [line + ", and ".join(parts) + ". The instructor should confirm this match."]


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
    """Edited locked cells and answer cells that are no longer code, in the notebook's order.
    (A locked cell matched by its code is unchanged but for the metadata ``matched`` names.)"""
    out, first = [], set()
    for i, c in enumerate(s.cells):
        gid = s.ids[i]
        ref = s.by_id.get(gid) if gid else None
        if ref is None or ref.grade_id in first:
            continue
        first.add(ref.grade_id)
        if ref.kind in LOCKED and s.by_code.get(gid) == i:
            continue
        if ref.kind in LOCKED:
            out += _locked_changes(c, ref)
        elif ref.kind == "answer" and c.cell_type != "code":
            out.append(f"answer cell {ref.grade_id} is not a code cell any more; not run.")
    return out


REFUSALS = (too_much_source, too_many_code_cells, large_file, other_notebook)
CELL_CHECKS = (matched, foreign_or_repeated, deleted, changed)


# --------------------------------------------------------------------------- what runs
def cells_to_run(s: Submitted) -> list[tuple[str, str, str]]:
    """(label, code, kind) in the notebook's order: read-only cells from the release, answers
    and the student's own code cells as submitted. A deleted read-only cell runs where the
    release has it: before the first cell that comes after it there (so that it finds what the
    read-only cells before it made, as in the release)."""
    order = {c.grade_id: k for k, c in enumerate(s.release.cells)}
    pending = [c for c in s.release.cells if c.kind == "given" and c.grade_id not in s.seen]
    run: list[tuple[str, str, str]] = []

    def deleted_before(position: int) -> None:
        while pending and order[pending[0].grade_id] < position:
            c = pending.pop(0)
            run.append((c.grade_id, c.source, "given"))

    used: Counter = Counter()
    for i, c in enumerate(s.cells):
        ref = s.by_id.get(s.ids[i]) if s.ids[i] else None
        if ref is None:
            if c.cell_type == "code":
                run.append((cell_label(i), c.source, "student"))
            continue
        gid = ref.grade_id
        deleted_before(order[gid])
        used[gid] += 1
        if ref.kind == "given" and used[gid] == 1:
            run.append((gid, ref.source, "given"))
        elif ref.kind == "answer" and c.cell_type == "code":
            label = gid if used[gid] == 1 else f"{gid} (copy {used[gid]})"
            run.append((label, c.source, "student"))
    deleted_before(len(order))
    return run


def answered_written(s: Submitted) -> set[str]:
    """Written answers whose first copy differs from the release's text."""
    out, first = set(), set()
    for i, c in enumerate(s.cells):
        ref = s.by_id.get(s.ids[i]) if s.ids[i] else None
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
    plan.matched = {gid: cell_label(i) for gid, i in s.by_name.items()}
    return plan


def answer_sources(cells: list[CellView], release: Release) -> dict[str, str]:
    """The code of each answer cell as graded (the first copy; matched by name where its grade
    id was lost), for the autograded notebook."""
    s = Submitted(b"", cells, release)
    out: dict[str, str] = {}
    for i, c in enumerate(cells):
        gid = s.ids[i]
        if gid and gid not in out and s.by_id[gid].kind in ("answer", "written"):
            out[gid] = c.source
    return out
