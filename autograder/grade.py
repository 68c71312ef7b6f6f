"""The grading command: hidden suites against sandboxed submissions, into nbgrader's gradebook.

    python -m autograder grade 01_rnn                 # every course/submitted/<student>/01_rnn/
    python -m autograder grade 01_rnn a.ipynb b.ipynb # given files (student = file stem)
    python -m autograder grade 01_rnn --student alice --exercise rnn_backward --force

For each submission (in parallel, one sandboxed worker each):
1. read the file (a regular file, never through a symbolic link, at most 64 MB) and decode it;
   check the notebook against the released version (locked cells, test cells, grade ids,
   points, metadata). Locked and test cells are always taken from the release, never from the
   submission, so tampering changes nothing but is reported;
2. run the student's cells in the worker (under NBGRADER_EXECUTION, so experiments are skipped).
   A cell that hangs or kills the worker is reported and skipped, and the worker restarted;
3. the visible tests gate each exercise, as in nbgrader. Their code runs here, in the grading
   process, with the read-only cells of the release (so a student cannot redefine the checks or
   monkeypatch numpy or builtins under them) and the student's functions as proxies into the
   worker. Where the release's own test cell cannot run that way (it needs live objects, such
   as an nn.Module, which never cross the channel: found once per release by running the
   instructor's solution through the same proxies) it runs in the worker instead;
4. run the hidden suites here, all in one pytest session, calling the student's functions
   through the worker with plain data; score = points * passed / total if the gate passed.
   A function that hangs or kills the worker is not called again; each exercise has a budget of
   call time, so one slow function cannot starve the others.
Results are written atomically, one file per submission, keyed by a hash of the submission, the
release, the instructor's solution and the suites, so a killed run resumes where it stopped and a
rerun changes nothing. Then the gradebook (any SQLAlchemy URL) is updated, one transaction per
submission, and CSV, Gradescope ``results.json`` and one feedback file per student are written.
"""

from __future__ import annotations

import ast
import builtins
import codecs
import contextlib
import errno
import functools
import hashlib
import io
import json
import os
import re
import stat
import sys
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import hidden, sandbox
from autograder.hidden import SUITES, Outcome
from autograder.sandbox import (
    Limits,
    SandboxedWorker,
    WarmWorker,
    WorkerDied,
    isolation_note,
    warm_possible,
)
from autograder.worker import Worker, decode, encode

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
GRADER_VERSION = "2"
STUDENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MAX_FILE_BYTES = 64 << 20  # larger files are refused unread
MAX_SOURCE_BYTES = 5 << 20  # code and text of all cells together (outputs are not counted)
LARGE_FILE_BYTES = 5 << 20  # a larger file is graded, with a note about its outputs
MAX_CODE_CELLS = 1000
MAX_MESSAGE = 2000  # characters of any message that came from student code
REFERENCE_PACKAGES = ("solutions", "autograder")
DEFAULT_LIMITS = Limits()


def _clip(text: str, n: int = MAX_MESSAGE) -> str:
    text = str(text)
    return text if len(text) <= n else text[:n] + " ..."


def _show(text, n: int = 60) -> str:
    """A student-controlled string made safe for one line of a terminal or a CSV cell."""
    return repr(_clip(str(text), n))


# --------------------------------------------------------------------------- the release
@dataclass
class Cell:
    grade_id: str
    kind: str  # "answer", "tests", "written", "given"
    source: str
    points: float = 0.0
    checksum: str = ""
    flags: tuple = ()


def _kind(meta: dict) -> str | None:
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


def _flags(nb: dict) -> tuple:
    return tuple(bool(nb.get(k)) for k in ("grade", "solution", "locked"))


def release_code(assignment: str, course: Path = COURSE) -> frozenset[str]:
    """The source of every code cell of the released notebook (given, test and plain ones)."""
    path = course / "release" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    return frozenset(c.source for c in nb.cells if c.cell_type == "code")


def release_cells(assignment: str, course: Path = COURSE) -> list[Cell]:
    """The graded and locked cells of the released notebook, in order."""
    path = course / "release" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    out = []
    for c in nb.cells:
        kind = _kind(c.metadata)
        if kind:
            m = c.metadata["nbgrader"]
            out.append(
                Cell(
                    m["grade_id"],
                    kind,
                    c.source,
                    float(m.get("points", 0)),
                    m.get("checksum", ""),
                    _flags(m),
                )
            )
    return out


# --------------------------------------------------------------------------- reading a file
def read_submission(path: str) -> tuple[bytes, str | None]:
    """The bytes of a submitted file and, when it cannot be used, why.

    Never follows a symbolic link, never opens anything but a regular file (a FIFO would block)
    and never reads more than MAX_FILE_BYTES + 1 bytes.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return b"", "the notebook file is missing: nothing was submitted."
    except OSError as e:
        if e.errno == errno.ELOOP:
            return b"", "the notebook is a symbolic link, which is not accepted."
        return b"", f"the notebook file could not be read ({e.strerror})."
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return b"", "the submission is not a regular file."
        if st.st_size > MAX_FILE_BYTES:
            return b"", (
                f"the notebook is {st.st_size / 1e6:.0f} MB, over the {MAX_FILE_BYTES >> 20} MB "
                "limit, and was not read: clear the outputs (Kernel > Restart and clear "
                "outputs), save and submit again."
            )
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
        if len(raw) > MAX_FILE_BYTES:
            return b"", f"the notebook is over the {MAX_FILE_BYTES >> 20} MB limit."
        return raw, None
    except OSError as e:
        return b"", f"the notebook file could not be read ({e.strerror})."
    finally:
        os.close(fd)


BINARY_KINDS = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or a .docx/.xlsx file)",
    b"\x7fELF": "a program (ELF)",
    b"\x1f\x8b": "a gzip archive",
}
BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
SAVE_AS_UTF8 = "Save the notebook from Jupyter, which writes UTF-8, and submit that file."


def notebook_text(raw: bytes) -> tuple[str | None, list[str]]:
    """Decode a submitted file: (text or None, findings). UTF-8 is expected; UTF-16/32 with a
    byte-order mark and Latin-1 are read too, with a finding, so a student's work is graded."""
    if not raw.strip():
        return None, ["the file is empty: nothing was submitted."]
    for magic, what in BINARY_KINDS.items():
        if raw.startswith(magic):
            return None, [f"the file is {what}, not a notebook (.ipynb)."]
    for bom, codec, name in BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                return None, [f"the file starts like {name} text but is not valid {name}."]
            if name == "UTF-8":
                return text, []
            return text, [
                f"the file is {name} text, not UTF-8; it was read as {name}. {SAVE_AS_UTF8}"
            ]
    if b"\x00" in raw[:64]:  # UTF-16/32 without a byte-order mark, or binary data
        enc = json.detect_encoding(raw)
        if enc != "utf-8":
            with contextlib.suppress(UnicodeDecodeError):
                text = raw.decode(enc)
                if not text.lstrip().startswith("{"):  # a notebook is a JSON object
                    raise UnicodeDecodeError(enc, raw, 0, 1, "not JSON")
                name = enc.upper().replace("-LE", "").replace("-BE", "")
                return text, [
                    f"the file is {name} text, not UTF-8; it was read as {name}. {SAVE_AS_UTF8}"
                ]
        return None, ["the file is binary data, not a notebook (.ipynb)."]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as e:
        start = e.start
    return raw.decode("latin-1"), [
        f"the file is not valid UTF-8 (byte 0x{raw[start]:02x} at offset {start}); it was read "
        f"as Latin-1, so accented letters may look wrong. {SAVE_AS_UTF8}"
    ]


@dataclass
class CellView:
    """One submitted cell, reduced to well-typed fields whatever the JSON held."""

    cell_type: str
    source: str
    grade_id: str | None
    nbgrader: dict


def _view(c) -> CellView:
    if not isinstance(c, dict):
        return CellView("", "", None, {})
    cell_type = c.get("cell_type") if isinstance(c.get("cell_type"), str) else ""
    src = c.get("source", "")
    if isinstance(src, list):
        src = "".join(s for s in src if isinstance(s, str))
    elif not isinstance(src, str):
        src = ""
    meta = c.get("metadata")
    nb = meta.get("nbgrader") if isinstance(meta, dict) else None
    nb = nb if isinstance(nb, dict) else {}
    gid = nb.get("grade_id")
    return CellView(cell_type, src, gid if isinstance(gid, str) and gid else None, nb)


def _looks_like_python(text: str) -> bool:
    if text.lstrip().startswith(("{", "[")) or len(text) > 2_000_000:
        return False
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(isinstance(n, (ast.FunctionDef, ast.Import, ast.ImportFrom)) for n in tree.body)


def parse_notebook(text: str) -> tuple[list[CellView] | None, str | None]:
    """The cells of a notebook's JSON text, or None and what is wrong with it."""
    try:
        data = json.loads(text)
    except RecursionError:
        return None, "the file is not a notebook: its JSON is nested far too deeply."
    except ValueError as e:
        if _looks_like_python(text):
            return None, (
                "the file is Python source code, not a notebook: submit the .ipynb file that "
                "Jupyter saves (a renamed .py file is not a notebook)."
            )
        where = f" (line {e.lineno}, column {e.colno})" if hasattr(e, "lineno") else ""
        return None, f"the file is not a notebook: it is not valid JSON{where}."
    if not isinstance(data, dict) or not isinstance(
        data.get("cells", data.get("worksheets")), list
    ):
        return None, "the file is JSON but not a notebook (it has no list of cells)."
    if data.get("nbformat") == 3:
        try:
            nb = nbformat.reads(text, as_version=4)
            data = json.loads(nbformat.writes(nb))
        except Exception:
            return None, "the file is an old (version 3) notebook that could not be converted."
    cells = data.get("cells")
    if not isinstance(cells, list):
        return None, "the file is JSON but not a notebook (it has no list of cells)."
    return [_view(c) for c in cells], None


# --------------------------------------------------------------------------- integrity
@dataclass
class Plan:
    """What to run for a submission, and what was found on the way."""

    findings: list[str] = field(default_factory=list)
    # (label, code, kind) to execute in order; kind "given" (from the release) or "student"
    cells: list[tuple[str, str, str]] = field(default_factory=list)
    answered_written: set[str] = field(default_factory=set)
    readable: bool = True


def plan_submission(raw: bytes, release: list[Cell], problem: str | None = None) -> Plan:
    """Parse a submission and check it against the release.

    Locked cells (given code, tests) always come from the release; answer cells and the
    student's own extra code cells come from the submission. Every copy of an answer cell runs
    in order (Jupyter copies the metadata when a cell is copied or split), as in the notebook.
    """
    plan = Plan()

    def refuse(why: str) -> Plan:
        plan.readable = False
        plan.findings.append(why)
        return plan

    if problem:
        return refuse(problem)
    text, notes = notebook_text(raw)
    plan.findings += notes
    if text is None:
        plan.readable = False
        return plan
    cells, why = parse_notebook(text)
    if cells is None:
        return refuse(why)
    source_bytes = sum(len(c.source) for c in cells)
    if source_bytes > MAX_SOURCE_BYTES:
        return refuse(
            f"the notebook's cells hold {source_bytes / 1e6:.1f} MB of code and text, over the "
            f"{MAX_SOURCE_BYTES >> 20} MB limit, so it was not run."
        )
    n_code = sum(c.cell_type == "code" for c in cells)
    if n_code > MAX_CODE_CELLS:
        return refuse(f"the notebook has {n_code} code cells (limit {MAX_CODE_CELLS}).")
    if len(raw) > LARGE_FILE_BYTES:
        plan.findings.append(
            f"the notebook file is {len(raw) / 1e6:.1f} MB, mostly outputs, which are not used "
            "for grading: clear them (Kernel > Restart and clear outputs) before submitting."
        )

    by_id = {c.grade_id: c for c in release}
    seen: dict[str, int] = {}
    for c in cells:
        if c.grade_id:
            seen[c.grade_id] = seen.get(c.grade_id, 0) + 1
    if release and not set(seen) & set(by_id):
        return refuse(
            "this is not the notebook of this assignment (none of its graded cells are there)."
        )
    for gid, n in seen.items():
        ref = by_id.get(gid)
        if ref is None:
            plan.findings.append(
                f"cell {_show(gid)} is not part of the assignment; its code is run as an "
                "ordinary cell."
            )
        elif n > 1 and ref.kind == "answer":
            plan.findings.append(
                f"answer cell {gid} appears {n} times (a copied or split cell?); every copy is "
                "run, in order, as in your notebook."
            )
        elif n > 1:
            what = {"tests": "test cell", "given": "read-only cell"}.get(ref.kind, "written answer")
            plan.findings.append(f"{what} {gid} appears {n} times; only the original is used.")
    for c in release:
        if c.grade_id not in seen:
            what = {"tests": "test cell", "given": "read-only cell"}.get(c.kind)
            if what:
                plan.findings.append(f"{what} {c.grade_id} was deleted; the original is used.")
            else:
                plan.findings.append(
                    f"{'answer' if c.kind == 'answer' else 'written answer'} cell {c.grade_id} "
                    "is missing (deleted, or its nbgrader metadata removed)."
                )

    for c in release:  # deleted read-only cells still run, first
        if c.kind == "given" and c.grade_id not in seen:
            plan.cells.append((c.grade_id, c.source, "given"))
    used: dict[str, int] = {}
    for i, c in enumerate(cells):
        ref = by_id.get(c.grade_id) if c.grade_id else None
        if ref is None:
            if c.cell_type == "code":
                plan.cells.append((f"cell {i}", c.source, "student"))
            continue
        gid = ref.grade_id
        used[gid] = used.get(gid, 0) + 1
        first = used[gid] == 1
        if ref.kind in ("given", "tests"):
            if first:
                what = "test cell" if ref.kind == "tests" else "read-only cell"
                if c.source != ref.source:
                    plan.findings.append(f"{what} {gid} was edited; the original is used.")
                points = c.nbgrader.get("points", ref.points)
                try:
                    changed = float(points) != ref.points
                except (TypeError, ValueError):
                    changed = True
                if ref.kind == "tests" and changed:
                    plan.findings.append(f"the points of {gid} were changed; the original is used.")
                if _flags(c.nbgrader) != ref.flags or c.cell_type != "code":
                    plan.findings.append(
                        f"the cell type or nbgrader metadata of {gid} was changed; the original "
                        "is used."
                    )
                if ref.kind == "given":
                    plan.cells.append((gid, ref.source, "given"))
        elif ref.kind == "answer":
            if c.cell_type == "code":
                label = gid if first else f"{gid} (copy {used[gid]})"
                plan.cells.append((label, c.source, "student"))
            elif first:
                plan.findings.append(f"answer cell {gid} is not a code cell any more; not run.")
        elif ref.kind == "written" and first:
            if c.source.strip() != ref.source.strip():
                plan.answered_written.add(gid)
    return plan


# --------------------------------------------------------------------------- the student proxy
class SandboxError(RuntimeError):
    """The sandbox failed before any student code ran: the grader's problem, not a grade."""


class RemoteStudent:
    """The ``student`` fixture of the hidden suites, backed by a sandboxed worker.

    Starts the worker and runs the notebook's cells in it; a cell that kills the worker or
    does not finish in time is reported and skipped on every replay. After a death the worker is
    restarted and the cells replayed (at most ``limits.max_starts`` starts in all); the function
    whose call killed it is not called again ("poisoned"), so an infinite loop costs its time
    once. Calls made while ``begin(exercise)`` is in force count against that exercise's budget.
    """

    def __init__(self, worker_factory, cells: list[tuple[str, str, str]], limits: Limits):
        self.factory = worker_factory
        self.cells = cells
        self.limits = limits
        self.worker = None
        self.starts = 0
        self.skipped: set[int] = set()
        self.cell_errors: dict[str, str] = {}
        self.events: list[str] = []
        self.poisoned: dict[str, str] = {}
        self.spent: dict[str, float] = {}
        self.exercise: str | None = None
        self.broken: SandboxError | None = None  # seen even where a suite swallows it
        self.course_code: frozenset[str] = frozenset()  # the release's code cells, verbatim
        self.deadline = time.monotonic() + limits.submission_seconds

    # -- the worker
    def start(self) -> None:
        self._ensure()

    def begin(self, exercise: str | None) -> None:
        self.exercise = exercise

    def _event(self, text: str) -> None:
        text = _clip(text, 500)
        if text not in self.events:
            self.events.append(text)

    def _ensure(self):
        try:
            return self._start_if_needed()
        except SandboxError as e:
            self.broken = e
            raise

    def _start_if_needed(self):
        while self.worker is None or self.worker.proc is None:
            if self.starts >= self.limits.max_starts:
                raise WorkerDied(
                    f"your code stopped the grading worker {self.starts} times, so nothing more "
                    "of this notebook was run"
                )
            self.starts += 1
            worker = self.factory()
            try:
                worker.start()
            except (OSError, WorkerDied) as e:  # nothing of the student's has run yet
                raise SandboxError(f"the sandboxed worker did not start ({e})") from None
            self.worker = worker
            try:  # a first request that runs no student code: the worker's baseline
                worker.request({"op": "output"}, self.limits.setup_seconds)
            except WorkerDied as e:  # nothing of the student's has run: the grader's fault
                raise SandboxError(f"the sandboxed worker did not start ({e})") from None
            student_ran = False
            for i, (label, code, kind) in enumerate(self.cells):
                if i in self.skipped:
                    continue
                timeout = self.limits.setup_seconds if kind == "given" else self.limits.cell_seconds
                try:
                    reply = worker.request({"op": "exec", "code": code, "label": label}, timeout)
                except WorkerDied as e:
                    if not student_ran:
                        raise SandboxError(
                            f"read-only cell {label} killed the worker ({e})"
                        ) from None
                    self.skipped.add(i)
                    self.cell_errors[label] = _clip(f"{e}; this cell was skipped")
                    self._event(f"{label}: {e}; the cell was skipped")
                    break
                if not reply["ok"] and kind == "given" and not student_ran:
                    raise SandboxError(  # e.g. a library the sandbox does not let it load
                        f"read-only cell {label} fails in the sandbox: {reply.get('summary')}"
                    )
                if not reply["ok"] and label not in self.cell_errors:
                    self.cell_errors[label] = _clip(reply.get("summary") or "error")
                student_ran = student_ran or kind == "student"
        return self.worker

    def request(self, message: dict, timeout: float | None = None, name: str | None = None):
        if name is not None and name in self.poisoned:
            raise WorkerDied(self.poisoned[name])
        timeout = self.limits.call_seconds if timeout is None else timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise WorkerDied(
                f"the notebook used up its time budget ({self.limits.submission_seconds:g} s); "
                "no more calls were made"
            )
        timeout = min(timeout, left)
        by_budget = False
        ex = self.exercise
        if ex is not None:
            left = self.limits.exercise_seconds - self.spent.get(ex, 0.0)
            if left <= 0:
                raise WorkerDied(
                    f"the time budget of this exercise ({self.limits.exercise_seconds:g} s of "
                    "calls) is used up; no more calls were made"
                )
            if left < timeout:
                timeout, by_budget = left, True
        worker = self._ensure()
        t0 = time.monotonic()
        try:
            return worker.request(message, timeout)
        except WorkerDied as e:
            why = str(e)
            if by_budget and why.startswith("no answer within"):
                why = (
                    f"the time budget of this exercise ({self.limits.exercise_seconds:g} s of "
                    "calls) ran out during this call; the worker was stopped"
                )
            who = name or message.get("label") or message.get("op")
            self._event(f"{who}: {why}")
            if name is not None:
                self.poisoned[name] = f"not called again: an earlier call of {name} failed ({why})"
            raise WorkerDied(why) from None
        finally:
            if ex is not None:
                self.spent[ex] = self.spent.get(ex, 0.0) + time.monotonic() - t0

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def output(self) -> str:
        try:
            value = self.request({"op": "output"}, timeout=10).get("value", "")
        except WorkerDied:
            return ""
        return _clip(value, 21_000) if isinstance(value, str) else ""  # the worker keeps 20 000

    # -- what the gate's namespace asks for
    def remote_global(self, name: str):
        """A global of the student's namespace: a function becomes a proxy, data is copied."""
        info = self.request({"op": "describe", "name": name}, name=name)
        if not info["ok"] or not info.get("defined"):
            raise KeyError(name)
        if info.get("callable"):
            if str(info.get("module", "")).split(".")[0] in REFERENCE_PACKAGES:
                return _Refused(name, str(info.get("module")))
            return _RemoteFunction(self, name)
        reply = self.request({"op": "value", "name": name}, name=name)
        if not reply["ok"]:
            raise KeyError(name)
        return decode(reply.get("value"))

    # -- the fixture interface (see autograder/hidden.py)
    def __call__(self, name: str):
        try:
            info = self.request({"op": "describe", "name": name}, name=name)
        except WorkerDied as e:
            pytest.fail(f"{name}: {e}", pytrace=False)
        if not info["ok"] or not info.get("defined"):
            pytest.fail(f"{name} is not defined: run the cell that defines it.", pytrace=False)
        if not info.get("callable"):
            pytest.fail(
                f"{name} is a {_clip(info.get('type'), 40)}, not a function.", pytrace=False
            )
        module = str(info.get("module", ""))
        if module.split(".")[0] in REFERENCE_PACKAGES:
            pytest.fail(
                f"{name} is imported from the course's {_clip(module, 60)} package; "
                "write your own.",
                pytrace=False,
            )
        return _RemoteFunction(self, name)

    def sources(self) -> list[str]:
        """The code the student wrote: answer cells and added or edited cells, as submitted.
        Cells exactly as the release has them (the course's own experiment code) are left out."""
        return [c for _, c, k in self.cells if k == "student" and c not in self.course_code]

    def names_used(self, name: str) -> set[str]:
        """The names the function's code refers to: what the worker reports, joined with what
        the submitted source says (which the worker cannot hide)."""
        names = _static_names([c for _, c, k in self.cells if k == "student"], name)
        try:
            reply = self.request({"op": "names_used", "name": name}, name=name)
            value = reply.get("value") if reply["ok"] else None
            if isinstance(value, list):
                names |= {str(v) for v in value}
        except WorkerDied:
            pass
        return names

    def module_check(self, class_name: str, **kwargs) -> dict:
        self(class_name)
        reply = self._call_remote(
            {"op": "module_check", "name": class_name, "kwargs": encode(kwargs)}, class_name
        )
        return decode(reply.get("value"))

    def module_function(self, fn_name: str, module_name: str, **kwargs) -> dict:
        self(fn_name)
        message = {
            "op": "module_function",
            "name": fn_name,
            "module_name": module_name,
            "kwargs": encode(kwargs),
        }
        return decode(self._call_remote(message, fn_name).get("value"))

    def _call_remote(self, message: dict, name: str) -> dict:
        reply = self.request(message, name=name)
        if not reply["ok"]:
            err = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            if err.get("type") == "BuiltinUsed":
                pytest.fail(f"{name}: {_clip(err.get('message'))}", pytrace=False)
            raise _rebuild_exception(err)
        return reply


def _static_names(sources: list[str], name: str) -> set[str]:
    """Names and attributes used inside every top-level def/class ``name`` of ``sources``."""
    out: set[str] = set()
    for src in sources:
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            is_def = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if is_def and node.name == name:
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Name):
                        out.add(sub.id)
                    elif isinstance(sub, ast.Attribute):
                        out.add(sub.attr)
    return out


class _RemoteFunction:
    def __init__(self, student: RemoteStudent, name: str):
        self.student, self.name = student, name
        self.__name__ = name

    def __repr__(self):
        return f"<student function {self.name}>"

    def __call__(self, *args):
        payload = encode(list(args))  # TypeError for anything but plain data
        reply = self.student.request(
            {"op": "call", "name": self.name, "args": payload}, name=self.name
        )
        if not reply["ok"]:
            raise _rebuild_exception(reply.get("error"))
        changed = reply.get("changed")
        for i, value in changed.items() if isinstance(changed, dict) else ():
            with contextlib.suppress(Exception):  # mirror in-place changes of array arguments
                arg, new = args[int(i)], decode(value)
                if type(arg) is np.ndarray and type(new) is np.ndarray and arg.shape == new.shape:
                    arg[...] = new
        return decode(reply.get("value"))


class _Refused:
    def __init__(self, name: str, module: str):
        self.name, self.module = name, module

    def __call__(self, *args, **kwargs):
        raise AssertionError(
            f"{self.name} is imported from the course's {_clip(self.module, 60)} package; "
            "write your own."
        )


_EXCEPTIONS = {
    name: obj
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, Exception)
}


def _rebuild_exception(err) -> BaseException:
    """The student's exception, re-created here by type name and message (never unpickled)."""
    err = err if isinstance(err, dict) else {}
    name, message = _clip(err.get("type", "Exception"), 60), _clip(err.get("message", ""))
    if name == "SystemExit":
        return SystemExit(message)
    cls = _EXCEPTIONS.get(name)
    if cls is not None:
        try:
            return cls(message)
        except Exception:
            pass
    return type(name if name.isidentifier() else "StudentError", (Exception,), {})(message)


# --------------------------------------------------------------------------- the visible tests
class _GateNamespace(dict):
    """Globals for running a test cell here: the release's read-only cells fill it; any other
    name is looked up in the student's worker (a function becomes a proxy, data is copied)."""

    def __init__(self, student):
        super().__init__(__name__="__main__", __builtins__=builtins)
        self._student = student

    def __missing__(self, name):
        if hasattr(builtins, name) or name.startswith("__"):
            raise KeyError(name)
        value = self._student.remote_global(name)
        self[name] = value
        return value


@contextlib.contextmanager
def _process_state():
    """Run notebook cells here without leaving a trace: numpy's print options, error handling
    and random state, torch's default dtype, threads and random state, warning filters, and
    NBGRADER_EXECUTION (set while inside, as nbgrader does) are restored afterwards."""
    np_print, np_err = np.get_printoptions(), np.geterr()
    np_rng = np.random.get_state()  # noqa: NPY002 (the legacy global state is what cells touch)
    had_torch = "torch" in sys.modules
    if had_torch:
        torch = sys.modules["torch"]
        t_dtype, t_threads, t_rng = (
            torch.get_default_dtype(),
            torch.get_num_threads(),
            torch.get_rng_state(),
        )
    env = {k: os.environ.get(k) for k in ("NBGRADER_EXECUTION", "MPLBACKEND")}
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        with warnings.catch_warnings():
            yield
    finally:
        np.set_printoptions(**np_print)
        np.seterr(**np_err)
        np.random.set_state(np_rng)  # noqa: NPY002
        torch = sys.modules.get("torch")
        if torch is not None:
            if had_torch:
                torch.set_default_dtype(t_dtype)
                torch.set_num_threads(t_threads)
                torch.set_rng_state(t_rng)
            else:
                torch.set_default_dtype(torch.float32)
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _exception_line(e: BaseException) -> str:
    return traceback.format_exception_only(type(e), e)[-1].strip()


@functools.lru_cache(maxsize=256)
def _compiled(source: str, label: str):
    """The release's cells, compiled once per grading process (they are the same for everyone)."""
    return compile(source, label, "exec")


def run_gate_here(test_source: str, given: list[tuple[str, str]], student, label: str):
    """Run a release test cell in this process against the student's functions in the worker.

    Returns (passed, message). Only the release's code runs here; what the student's functions
    return arrives as plain data or opaque handles.
    """
    ns = _GateNamespace(student)
    sink = io.StringIO()
    with _process_state(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        for glabel, code in given:
            with contextlib.suppress(Exception):
                exec(_compiled(code, glabel), ns)
        try:
            exec(_compiled(test_source, label), ns)
        except WorkerDied as e:
            return False, _clip(str(e))
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # AssertionError, NameError, the student's exceptions...
            return False, _clip(_exception_line(e))
    return True, ""


def run_gate_in_worker(test_source: str, student: RemoteStudent, exercise: str):
    """The fallback for test cells that need live objects: run the cell in the worker."""
    try:
        reply = student.request(
            {"op": "exec", "code": test_source, "label": f"test_{exercise}"},
            timeout=student.limits.cell_seconds,
            name=f"test_{exercise}",
        )
    except WorkerDied as e:
        return False, _clip(str(e))
    return reply["ok"], "" if reply["ok"] else _clip(reply.get("summary") or "failed")


class _LocalWorker:
    """The worker protocol served in this process: only for the instructor's own solution."""

    def __init__(self):
        self.proc = None

    def start(self):
        self.impl, self.proc = Worker(), True

    def request(self, message: dict, timeout: float | None = None) -> dict:
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            try:
                reply = self.impl.handle(json.loads(json.dumps(message)))
            except Exception as e:
                reply = {"ok": False, "error": {"type": type(e).__name__, "message": str(e)}}
        return json.loads(json.dumps(reply))

    def stop(self):
        self.proc = None


def _source_notebook(course: Path, assignment: str) -> Path:
    return course / "source" / assignment / f"{assignment}.ipynb"


@functools.lru_cache(maxsize=8)
def _calibrate(release_file: str, source_file: str, digest: str) -> tuple[tuple[str, str], ...]:
    course = Path(release_file).parents[2]
    assignment = Path(release_file).stem
    release = release_cells(assignment, course)
    tests = [c for c in release if c.kind == "tests"]
    try:
        raw = Path(source_file).read_bytes()
    except OSError:
        return tuple((c.grade_id.removeprefix("test_"), "sandbox") for c in tests)
    plan = plan_submission(raw, release)
    # the read-only and answer cells only: the notebook's free cells (experiments) are not needed
    cells = [c for c in plan.cells if not c[0].startswith("cell ")]
    limits = Limits(call_seconds=600, cell_seconds=600, setup_seconds=600, exercise_seconds=1e9)
    reference = RemoteStudent(_LocalWorker, cells, limits)
    given = [(c.grade_id, c.source) for c in release if c.kind == "given"]
    modes = []
    with _process_state():
        reference.start()
        for c in tests:
            ok, _ = run_gate_here(c.source, given, reference, c.grade_id)
            modes.append((c.grade_id.removeprefix("test_"), "grader" if ok else "sandbox"))
    return tuple(modes)


def calibrate_gates(assignment: str, course: Path = COURSE) -> dict[str, str]:
    """Where each exercise's visible tests run: "grader" (here, against proxies; the
    instructor's solution passes them that way) or "sandbox" (in the worker)."""
    rel = course / "release" / assignment / f"{assignment}.ipynb"
    src = _source_notebook(course, assignment)
    digest = hashlib.sha256(
        rel.read_bytes() + (src.read_bytes() if src.is_file() else b"")
    ).hexdigest()
    return dict(_calibrate(str(rel), str(src), digest))


# --------------------------------------------------------------------------- the hidden suites
def run_suites(assignment: str, exercises: list[str], student) -> dict[str, Outcome]:
    """The hidden suites of ``exercises`` in one pytest session (autograder.hidden.run_suites,
    which also tells ``student.begin`` which exercise runs), messages clipped for the feedback."""
    outcomes = hidden.run_suites(assignment, exercises, student)
    for outcome in outcomes.values():
        outcome.failed = {name: _clip(msg) for name, msg in outcome.failed.items()}
    return outcomes


# --------------------------------------------------------------------------- grading one
@dataclass
class ExerciseResult:
    points: float
    score: float = 0.0
    visible_passed: bool = False
    visible_message: str = ""
    hidden_passed: int = 0
    hidden_total: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    gate: str = ""  # where the visible tests ran: "grader" or "sandbox"


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    key: str
    readable: bool
    findings: list[str]
    cell_errors: dict[str, str]
    exercises: dict[str, ExerciseResult]
    written: dict[str, bool]  # written answer grade id -> answered
    events: list[str] = field(default_factory=list)  # what the student's code did to the worker
    printed: str = ""
    seconds: float = 0.0
    isolation: str = ""

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises.values()), 4)

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises.values())


def suites_digest(assignment: str) -> str:
    h = hashlib.sha256(GRADER_VERSION.encode())
    folder = SUITES / assignment
    for p in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def submission_key(raw: bytes, assignment: str, course: Path, problem: str | None = None) -> str:
    """What a result depends on: the file, the release, the instructor's solution (which decides
    where the visible tests run), the suites and this grader's version."""
    h = hashlib.sha256(raw)
    h.update((problem or "").encode())
    h.update((course / "release" / assignment / f"{assignment}.ipynb").read_bytes())
    src = _source_notebook(course, assignment)
    h.update(src.read_bytes() if src.is_file() else b"")
    h.update(suites_digest(assignment).encode())
    return h.hexdigest()


def preload_modules(release: list[Cell]) -> tuple[str, ...]:
    """The modules the read-only cells import (numpy, torch, matplotlib.pyplot...): what a
    warm worker imports once instead of every submission's worker importing them anew."""
    names = {"numpy"}
    for c in release:
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
    return tuple(sorted(n for n in names if n.split(".")[0] not in REFERENCE_PACKAGES))


def worker_factory(
    limits: Limits, use_bwrap: bool | None, preload: tuple[str, ...], warm: bool | None = None
):
    """Make workers: warm ones (forked from a zygote that has the libraries loaded) where
    possible, otherwise cold ones (a new sandbox that imports everything itself). Both give the
    same isolation; a zygote that cannot start is reported once and the cold path taken."""
    warm = warm_possible(use_bwrap) and warm is not False

    def make():
        nonlocal warm
        if warm:
            try:
                sandbox.zygote_for(preload)
                return WarmWorker(preload, limits)
            except (OSError, WorkerDied) as e:
                warm = False
                print(f"warm workers unavailable ({e}); using cold ones", file=sys.stderr)
        return SandboxedWorker(limits, use_bwrap)

    return make


def grade_submission(
    assignment: str,
    student: str,
    path: str,
    course: Path = COURSE,
    limits: Limits = DEFAULT_LIMITS,
    only: str | None = None,
    use_bwrap: bool | None = None,
    gate_modes: dict[str, str] | None = None,
    warm: bool | None = None,
) -> SubmissionResult:
    """Grade one submission file (see the module docstring). ``warm=False`` starts a cold
    sandbox for the submission instead of forking a warm worker (same isolation, slower)."""
    t0 = time.perf_counter()
    release = release_cells(assignment, course)
    raw, problem = read_submission(path)
    key = submission_key(raw, assignment, course, problem)
    plan = plan_submission(raw, release, problem)
    exercises = {
        c.grade_id.removeprefix("test_"): ExerciseResult(points=c.points)
        for c in release
        if c.kind == "tests"
    }
    written = {
        c.grade_id: c.grade_id in plan.answered_written for c in release if c.kind == "written"
    }
    result = SubmissionResult(
        student,
        assignment,
        key,
        plan.readable,
        plan.findings,
        {},
        exercises,
        written,
        isolation=isolation_note(use_bwrap),
    )
    if not plan.readable:
        result.seconds = time.perf_counter() - t0
        return result

    modes = gate_modes if gate_modes is not None else calibrate_gates(assignment, course)
    tests = {c.grade_id.removeprefix("test_"): c for c in release if c.kind == "tests"}
    given = [(c.grade_id, c.source) for c in release if c.kind == "given"]
    selected = [ex for ex in exercises if not only or ex == only]
    factory = worker_factory(limits, use_bwrap, preload_modules(release), warm)
    proxy = RemoteStudent(factory, plan.cells, limits)
    proxy.course_code = release_code(assignment, course)
    try:
        try:
            proxy.start()
        except WorkerDied as e:
            result.findings.append(f"your notebook could not be run: {e}.")
            selected = []
        for ex in selected:  # 1. the visible tests gate each exercise
            res = exercises[ex]
            proxy.begin(ex)
            res.gate = modes.get(ex, "sandbox")
            if res.gate == "grader":
                gate = run_gate_here(tests[ex].source, given, proxy, f"test_{ex}")
            else:
                gate = run_gate_in_worker(tests[ex].source, proxy, ex)
            res.visible_passed, res.visible_message = gate
        with_suite = [ex for ex in selected if (SUITES / assignment / f"test_{ex}.py").is_file()]
        outcomes = run_suites(assignment, with_suite, proxy) if with_suite else {}
        proxy.begin(None)
        for ex in selected:  # 2. the hidden suites give the partial credit
            res, outcome = exercises[ex], outcomes.get(ex)
            if outcome is None:  # no hidden suite: the visible tests decide
                res.score = res.points if res.visible_passed else 0.0
                continue
            res.hidden_passed, res.hidden_total = len(outcome.passed), outcome.total
            res.failures = dict(outcome.failed)
            res.score = outcome.score(res.points) if res.visible_passed else 0.0
        if proxy.broken is not None:  # no grade from a sandbox that failed on its own
            raise proxy.broken
        result.printed = proxy.output() if selected else ""
        result.cell_errors = dict(proxy.cell_errors)
        result.events = list(proxy.events)
    finally:
        proxy.close()
    result.seconds = time.perf_counter() - t0
    return result


# --------------------------------------------------------------------------- batches
def collect(assignment: str, course: Path, paths: list[str], student: str | None):
    """(student, path) pairs to grade, and the problems found while collecting them.

    Symbolic links anywhere in a student's part of the tree are refused, names must be plain
    (letters, digits, ._@-), and two files may not claim the same student.
    """
    problems, pairs = [], []
    if paths:
        for p in paths:
            if Path(p).is_symlink():
                problems.append(f"{_show(p)}: a symbolic link; skipped.")
                continue
            pairs.append((Path(p).stem, p))
    else:
        base = course / "submitted"
        for d in sorted(base.iterdir()) if base.is_dir() else []:
            sub, nb = d / assignment, d / assignment / f"{assignment}.ipynb"
            if d.is_symlink() or sub.is_symlink() or nb.is_symlink():
                link = next(x for x in (d, sub, nb) if x.is_symlink())
                problems.append(
                    f"{_show(d.name)}: {link.relative_to(base)} is a symbolic link (to "
                    f"{_show(os.readlink(link))}); skipped, not graded."
                )
                continue
            if not d.is_dir() or not sub.is_dir():
                continue  # no submission of this assignment
            if not nb.exists():
                found = sorted(x.name for x in sub.glob("*.ipynb"))
                problems.append(
                    f"{_show(d.name)}: no {assignment}.ipynb in the submission"
                    + (f" (found {_show(', '.join(found))})" if found else "")
                    + "; graded as empty."
                )
            pairs.append((d.name, str(nb)))
    out, names = [], set()
    for name, p in pairs:
        if not STUDENT_NAME.match(name):
            problems.append(
                f"{_show(name)}: not a valid student name (letters, digits, ._@-); skipped."
            )
            continue
        if name in names:
            problems.append(
                f"{_show(name)}: more than one submission for this student; skipped {_show(p)}."
            )
            continue
        names.add(name)
        if student and name != student:
            continue
        out.append((name, p))
    return out, problems


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def result_to_json(r: SubmissionResult) -> str:
    data = asdict(r)
    data["score"], data["max_score"] = r.score, r.max_score
    return json.dumps(data, indent=1, sort_keys=True)


def result_from_json(text: str) -> SubmissionResult:
    data = json.loads(text)
    data.pop("score", None), data.pop("max_score", None)
    data["exercises"] = {k: ExerciseResult(**v) for k, v in data["exercises"].items()}
    return SubmissionResult(**data)


def load_result(path: Path) -> SubmissionResult | None:
    """A result file, or None if it is missing or damaged (then it is simply redone)."""
    try:
        return result_from_json(path.read_text())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _grade_task(args) -> tuple[str, str]:
    """Grade one submission in a pool process; ("ok", result JSON) or ("error", why)."""
    assignment, student, path, course, limits, only, out_path, use_bwrap, modes, warm = args
    try:
        r = grade_submission(
            assignment, student, path, Path(course), limits, only, use_bwrap, modes, warm
        )
        if only:  # regrading one exercise: keep the others
            old = load_result(Path(out_path))
            if old is not None and old.key == r.key:
                old.exercises[only] = r.exercises[only]
                old.events += [e for e in r.events if e not in old.events]
                r = old
        text = result_to_json(r)
        _atomic_write(Path(out_path), text)
        return "ok", text
    except Exception as e:  # a bug of the grader, not the student's doing: say so, go on
        return "error", f"the grader failed ({type(e).__name__}: {_clip(e, 300)}); run again"


def _pool_init() -> None:
    sandbox._set_parent_death_signal()  # a killed command leaves no grading process behind


def output_dir(course: Path, assignment: str) -> Path:
    return course / "grading" / assignment


def grade_batch(
    assignment: str,
    paths: list[str] | None = None,
    course: Path = COURSE,
    student: str | None = None,
    exercise: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    progress: bool = True,
    use_bwrap: bool | None = None,
    log=print,
    warm: bool | None = None,
) -> tuple[list[SubmissionResult], list[str]]:
    """Grade many submissions in parallel; reuse results whose key is unchanged."""
    import multiprocessing

    from tqdm.auto import tqdm

    use_bwrap = sandbox._use_bwrap(use_bwrap)  # decided here, so every process agrees
    warm = sandbox.warm_possible(use_bwrap) and warm is not False
    release = release_cells(assignment, course)
    names = [c.grade_id.removeprefix("test_") for c in release if c.kind == "tests"]
    if exercise and exercise not in names:
        raise ValueError(f"no exercise {exercise!r} in {assignment}; one of {', '.join(names)}")
    pairs, problems = collect(assignment, course, paths or [], student)
    if student and not pairs:
        problems.append(f"no submission of student {_show(student)} was found.")
    modes = calibrate_gates(assignment, course)
    out = output_dir(course, assignment) / "results"
    todo, done = [], []
    for name, p in pairs:
        target = out / f"{name}.json"
        raw, problem = read_submission(p)
        key = submission_key(raw, assignment, course, problem)
        old = load_result(target)
        same = old is not None and old.key == key
        if same and not force and not exercise:
            done.append(old)
            continue
        only = exercise if (exercise and same) else None  # no valid result: grade it all
        task = (assignment, name, p, str(course), limits, only, str(target), use_bwrap, modes)
        todo.append((*task, warm))
    jobs = max(1, jobs or os.cpu_count() or 1)
    # Pool processes fork from a server that has imported the grader, torch and pyplot once
    # (what the read-only cells import when the visible tests run here), instead of each
    # importing them anew; the server and its children die with this process.
    os.environ.setdefault("MPLBACKEND", "Agg")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["autograder.grade", "torch", "matplotlib.pyplot"])
    for _attempt in range(3):  # a pool whose process was killed is replaced; its tasks rerun
        if not todo:
            break
        retry = []
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(todo)), mp_context=ctx, initializer=_pool_init
        ) as pool:
            futures = {pool.submit(_grade_task, t): t for t in todo}
            bar = tqdm(
                as_completed(futures),
                total=len(futures),
                desc=f"grading {assignment}",
                disable=not progress,
                file=sys.stderr,
            )
            for f in bar:
                task = futures[f]
                try:
                    status, payload = f.result()
                except BrokenProcessPool:
                    retry.append(task)
                    continue
                if status == "ok":
                    done.append(result_from_json(payload))
                else:
                    problems.append(f"{task[1]}: {payload}")
        todo = retry
    for task in todo:
        problems.append(f"{task[1]}: a grading process was killed three times; not graded.")
    done.sort(key=lambda r: r.student)
    return done, problems
