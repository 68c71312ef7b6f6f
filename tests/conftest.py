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


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """A copy of the course folder (sources, release, samples) without anything generated."""
    dest = tmp_path / "course"
    ignore = shutil.ignore_patterns(*GENERATED, "__pycache__", ".nbgrader.log")
    shutil.copytree(COURSE, dest, ignore=ignore)
    return dest
