"""Results: one JSON file per submission, written atomically, and the key that keeps it valid.

The key covers the file, the release, the instructor's solution, the suites and the grader's
version.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.release import Release


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
    # failed hidden test -> the typical mistake its message names: {"key": ..., "message": ...}
    # (see autograder/diagnosis.py); tests whose failure names no listed mistake are absent
    mistakes: dict[str, dict[str, str]] = field(default_factory=dict)


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
    # answer cells found by the functions they define (metadata lost or grade ids renamed):
    # grade id -> the submitted cell ("cell 7"); the findings say so in words
    matched: dict[str, str] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises.values()), 4)

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises.values())


def submission_key(raw: bytes, release: Release, problem: str | None = None) -> str:
    """What a result depends on: the file (or why it could not be read) and the release's
    key material (see :class:`autograder.release.Release`)."""
    h = hashlib.sha256(raw)
    h.update((problem or "").encode())
    h.update(release.key_material)
    return h.hexdigest()


def atomic_write(path: Path, text: str) -> None:
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
