"""The released notebook of an assignment, parsed once per batch.

Its graded and locked cells, the exercises, what the read-only cells import, and what every
result's key depends on.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat

from autograder.config import (
    COURSE,
    GRADER_VERSION,
    SUITES,
    from_reference,
    release_notebook,
    source_notebook,
)


@dataclass(frozen=True)
class Cell:
    grade_id: str
    kind: str  # "answer", "tests", "written", "given"
    source: str
    points: float = 0.0
    checksum: str = ""
    flags: tuple = ()


def cell_kind(meta: dict) -> str | None:
    """The kind of a cell from its nbgrader metadata, or None for an ordinary cell."""
    nb = meta.get("nbgrader")
    if not isinstance(nb, dict) or not nb:
        return None
    if nb.get("grade") and nb.get("solution"):
        return "written"
    if nb.get("grade"):
        return "tests"
    if nb.get("solution"):
        return "answer"
    if nb.get("locked"):
        return "given"
    return None


def cell_flags(nb: dict) -> tuple:
    """The nbgrader flags a submitted cell must keep: (grade, solution, locked)."""
    return tuple(bool(nb.get(k)) for k in ("grade", "solution", "locked"))


def exercise_of(test_id: str) -> str:
    """The exercise a test cell grades: its grade id without ``test_``."""
    return test_id.removeprefix("test_")


def defined_names(source: str) -> tuple[str, ...]:
    """The names of the functions and classes a cell defines at its top level, in order
    (none if it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return tuple(dict.fromkeys(n.name for n in tree.body if isinstance(n, kinds)))


def suites_digest(assignment: str) -> str:
    """A hash of this grader's version and the assignment's hidden suites."""
    h = hashlib.sha256(GRADER_VERSION.encode())
    folder = SUITES / assignment
    for p in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Release:
    """One assignment's release, read from the course folder by :func:`load_release`."""

    assignment: str
    course: Path
    cells: tuple[Cell, ...]  # the graded and locked cells, in order
    code: frozenset[str]  # the source of every code cell (given, test and plain ones)
    # what a result depends on besides the submitted file: the release, the instructor's
    # solution (which decides where the visible tests run), the suites and the grader's version
    key_material: bytes
    # (written answer's grade id, the text of the ordinary cell right before it: its question),
    # how a written answer that lost its metadata is found
    questions: tuple[tuple[str, str], ...] = ()

    @cached_property
    def tests(self) -> dict[str, Cell]:
        """Each exercise's test cell, by exercise name, in order."""
        return {exercise_of(c.grade_id): c for c in self.cells if c.kind == "tests"}

    @cached_property
    def answers_of(self) -> dict[str, tuple[str, ...]]:
        """Each exercise's answer cells (grade ids): those between its test cell and the one
        before."""
        out, pending = {}, []
        for c in self.cells:
            if c.kind == "answer":
                pending.append(c.grade_id)
            elif c.kind == "tests":
                out[exercise_of(c.grade_id)] = tuple(pending)
                pending = []
        return out

    @cached_property
    def answer_names(self) -> dict[str, tuple[str, ...]]:
        """The functions and classes each answer cell defines in the release (its stub): how a
        submitted cell that lost its nbgrader metadata is recognised."""
        return {c.grade_id: defined_names(c.source) for c in self.cells if c.kind == "answer"}

    @cached_property
    def exercises(self) -> list[str]:
        return list(self.tests)

    @cached_property
    def given(self) -> list[tuple[str, str]]:
        """(grade id, source) of the read-only cells, in order."""
        return [(c.grade_id, c.source) for c in self.cells if c.kind == "given"]

    @cached_property
    def written(self) -> list[str]:
        return [c.grade_id for c in self.cells if c.kind == "written"]

    def has_suite(self, exercise: str) -> bool:
        return (SUITES / self.assignment / f"test_{exercise}.py").is_file()

    @cached_property
    def preload(self) -> tuple[str, ...]:
        """The modules the read-only cells import (numpy, torch, matplotlib.pyplot...): what a
        warm worker imports once instead of every submission's worker importing them anew."""
        names = {"numpy"}
        for c in self.cells:
            if c.kind != "given":
                continue
            try:
                tree = ast.parse(c.source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module)
        return tuple(sorted(n for n in names if not from_reference(n)))


def parse_release(assignment: str, course: Path, raw: bytes, key_material: bytes) -> Release:
    """A :class:`Release` from the released notebook's bytes (as a cluster's worker gets them)."""
    nb = nbformat.reads(raw.decode(), as_version=4)
    cells, questions, before = [], [], None
    for c in nb.cells:
        kind = cell_kind(c.metadata)
        if kind:
            m = c.metadata["nbgrader"]
            points, checksum = float(m.get("points", 0)), m.get("checksum", "")
            cells.append(Cell(m["grade_id"], kind, c.source, points, checksum, cell_flags(m)))
            if kind == "written" and before is not None:
                questions.append((m["grade_id"], before))
        before = c.source if not kind else None
    return Release(
        assignment,
        course,
        tuple(cells),
        frozenset(c.source for c in nb.cells if c.cell_type == "code"),
        key_material,
        tuple(questions),
    )


def load_release(assignment: str, course: Path = COURSE) -> Release:
    """Read and parse the released notebook (and the instructor's, for the key) once."""
    raw = release_notebook(course, assignment).read_bytes()
    src = source_notebook(course, assignment)
    material = (
        raw + (src.read_bytes() if src.is_file() else b"") + suites_digest(assignment).encode()
    )
    return parse_release(assignment, course, raw, material)
