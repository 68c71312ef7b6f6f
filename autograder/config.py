"""Paths, limits and shared facts of the grader, each defined once and imported everywhere else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# --------------------------------------------------------------------------- paths
ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
SUITES = Path(__file__).resolve().parent / "suites"


def release_notebook(course: Path, assignment: str) -> Path:
    """The student version nbgrader generated: what every submission is checked against."""
    return course / "release" / assignment / f"{assignment}.ipynb"


def source_notebook(course: Path, assignment: str) -> Path:
    """The instructor's version (with the solution), which decides where visible tests run."""
    return course / "source" / assignment / f"{assignment}.ipynb"


def output_dir(course: Path, assignment: str) -> Path:
    """Where the grading command writes results, feedback, CSV and Gradescope files."""
    return course / "grading" / assignment


# --------------------------------------------------------------------------- the reference
# Packages a student's function must not come from (that would hand in the reference), which
# the sandbox hides and a warm worker never preloads.
REFERENCE_PACKAGES = ("solutions", "autograder")


def from_reference(module: str) -> bool:
    """Whether a module name lies in one of the course's own packages."""
    return str(module).split(".")[0] in REFERENCE_PACKAGES


def imported_from_course(name: str, module: str) -> str:
    """The message for a student's function that is the course's own."""
    return f"{name} is imported from the course's {module} package; write your own."


# --------------------------------------------------------------------------- submissions
GRADER_VERSION = "5"  # part of every result's key: bump it when scores or results change
STUDENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MAX_FILE_BYTES = 64 << 20  # larger files are refused unread
MAX_SOURCE_BYTES = 5 << 20  # code and text of all cells together (outputs are not counted)
LARGE_FILE_BYTES = 5 << 20  # a larger file is graded, with a note about its outputs
MAX_CODE_CELLS = 1000
MAX_MESSAGE = 2000  # characters of any message that came from student code


def clip(text, n: int = MAX_MESSAGE) -> str:
    """A message from student code, cut to ``n`` characters."""
    text = str(text)
    return text if len(text) <= n else text[:n] + " ..."


def show(text, n: int = 60) -> str:
    """A student-controlled string made safe for one line of a terminal or a CSV cell."""
    return repr(clip(str(text), n))


# --------------------------------------------------------------------------- the worker's limits
@dataclass(frozen=True)
class Limits:
    """Resource and time limits for one worker."""

    memory_bytes: int = 3 << 30  # address space per process, and memory of all of them (cgroup)
    cpu_seconds: int = 300  # CPU time of the worker process over its whole life
    processes: int = 256  # processes and threads of one worker (cgroup)
    cpu_cores: float = 1.0  # CPU share of one worker, all its processes together (cgroup)
    file_bytes: int = 16 << 20  # largest file the student may write (on the private tmpfs)
    open_files: int = 256
    # wall time for one call of a student's function: the suites call with tiny inputs, on which
    # the reference takes milliseconds; a call that runs this long is a loop, not a slow answer
    call_seconds: float = 20.0
    cell_seconds: float = 120.0  # wall time for one cell of the student's notebook
    setup_seconds: float = 180.0  # wall time for one read-only cell (imports torch, ...)
    # wall time of all calls of one exercise (visible + hidden): nbgrader's cell timeout
    exercise_seconds: float = 300.0
    submission_seconds: float = 1200.0  # wall time of all requests for one submission
    # worker starts per submission: the first, then one after each death (each killing cell is
    # skipped and each killing function poisoned from then on, so each costs one start)
    max_starts: int = 16
    tmpfs_bytes: int = 64 << 20  # size of the private /tmp
    max_reply_bytes: int = 16 << 20  # a larger reply is refused and the worker killed
    max_reply_objects: int = 10_000  # opaque objects (handles) in one reply, likewise


DEFAULT_LIMITS = Limits()


def limits_with(settings: list[str], base: Limits = DEFAULT_LIMITS) -> Limits:
    """``base`` with ``NAME=VALUE`` settings applied (``cell_seconds=60``, ``call_seconds=5``,
    ...; the fields of :class:`Limits`); a ValueError that says what is wrong otherwise."""
    from dataclasses import fields, replace

    kinds = {f.name: type(getattr(base, f.name)) for f in fields(Limits)}
    changes = {}
    for item in settings:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in kinds:
            raise ValueError(
                f"--limit {item!r}: give NAME=VALUE with NAME one of {', '.join(kinds)}"
            )
        try:
            number = kinds[name](float(value)) if kinds[name] is int else float(value)
        except ValueError:
            raise ValueError(f"--limit {item!r}: {value!r} is not a number") from None
        if number <= 0:
            raise ValueError(f"--limit {item!r}: must be above 0")
        changes[name] = number
    return replace(base, **changes)
