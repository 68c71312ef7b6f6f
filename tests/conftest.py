"""What several test modules share: a throwaway copy of the course folder.

course/build.py is imported as the module ``course.build`` (``from course import build``), once,
like any other module; nothing here loads it by file path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[1] / "course"
# what the build, nbgrader and the grading command write into the course folder
GENERATED = ("gradebook.db", "executed", "submitted", "autograded", "feedback", "grading")


def copy_course(dest: Path) -> Path:
    """Copy the course folder (sources, release, samples) to ``dest``, without anything
    generated; return ``dest``. For copies shared by a module's tests (``course_copy`` makes
    one per test)."""
    ignore = shutil.ignore_patterns(*GENERATED, "__pycache__", ".nbgrader.log")
    shutil.copytree(COURSE, dest, ignore=ignore)
    return dest


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """A copy of the course folder (sources, release, samples) without anything generated."""
    return copy_course(tmp_path / "course")


def _is_current(executed: Path, name: str) -> bool:
    """True when ``executed`` is a run of the current build of ``name`` (the same code cells)."""
    import nbformat

    if not executed.is_file():
        return False
    built = nbformat.read(COURSE / "source" / name / f"{name}.ipynb", as_version=4)
    ran = nbformat.read(executed, as_version=4)
    code = [[c.source for c in nb.cells if c.cell_type == "code"] for nb in (built, ran)]
    return code[0] == code[1]


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory) -> dict[str, Path]:
    """Every solution notebook executed top to bottom in full, once per test session.

    Runs kept in course/executed/ (``make demo`` writes them) are reused when their code cells are
    those of the current build; the others are executed into a temporary folder. Returns
    {notebook name: path of the executed notebook}; the execution times are printed.
    """
    from course import build

    out = tmp_path_factory.mktemp("executed")
    names = [s.stem for s in build.sources()]
    stale = [n for n in names if not _is_current(COURSE / "executed" / f"{n}.ipynb", n)]
    if stale:
        timings = build.execute(names=stale, out_dir=out)
        print("execution seconds:", {k: round(v, 1) for k, v in timings.items()})
    for n in set(names) - set(stale):
        shutil.copy(COURSE / "executed" / f"{n}.ipynb", out / f"{n}.ipynb")
    return {n: out / f"{n}.ipynb" for n in names}
