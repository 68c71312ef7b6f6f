"""The hidden suites of 01_rnn against the reference, the sample submissions and bad namespaces.

(a) every suite gives full marks to the solution the build puts in the instructor notebook and
to the "correct" sample; (b) on the "mistakes" sample the suite of each mistaken exercise fails
and names the mistake, and the "unanswered" sample scores zero; (c) a function imported from the
reference package is rejected; (d) a missing function is reported as not defined.

Samples are turned into submissions by course/build.py's own build_samples (into a temporary
folder), and each answer cell is executed as the notebook would: in a namespace with `np`.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import shutil
from collections.abc import Sequence
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.hidden import Outcome, StudentNamespace, run_suite

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_rnn"
_spec = importlib.util.spec_from_file_location("course_build", ROOT / "course" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

# exercise -> (module of its reference solution, points in the notebook)
EXERCISES = {
    "rnn_step_forward": ("solutions.rnn", 2),
    "rnn_forward": ("solutions.rnn", 2),
    "rnn_step_backward": ("solutions.rnn", 2),
    "rnn_backward": ("solutions.rnn", 3),
    "rnn_step_jacobians": ("solutions.gradients", 1),
    "jacobian_product_norms": ("solutions.gradients", 2),
    "clip_by_global_norm": ("solutions.gradients", 2),
}
# exercise -> words of which at least one failure message on the mistakes sample must contain one
MISTAKES = {
    "rnn_forward": ("only the last state",),
    "rnn_step_backward": ("derivative", "1 - a²"),
    "rnn_backward": ("accumulate",),
    "rnn_step_jacobians": ("transpose",),
    "jacobian_product_norms": ("multiplication order",),
    "clip_by_global_norm": ("global norm", "value clipping"),
}
CORRECT_IN_MISTAKES = set(EXERCISES) - set(MISTAKES)


def _run(exercise: str, namespace: dict) -> Outcome:
    """run_suite with the objects alive now frozen out of the garbage collector.

    pytest collects garbage several times per session, and inside this test session the heap is
    large, which makes each in-process run of a suite several times slower than the suite.
    """
    gc.freeze()
    try:
        return run_suite(ASSIGNMENT, exercise, StudentNamespace(namespace))
    finally:
        gc.unfreeze()


def _namespace() -> dict:
    # What the answer cells rely on from the setup cell: `np`, and `Sequence`, which the released
    # cell of clip_by_global_norm uses in its annotations.
    return {"np": np, "Sequence": Sequence, "__name__": "submission"}


def _reference_namespace() -> dict:
    """The solution code the build writes into the instructor notebook, executed."""
    ns = _namespace()
    for exercise, (module, _points) in EXERCISES.items():
        exec(build.definition_source(f"{module}.{exercise}", solution=True), ns)
    return ns


def _sample_namespaces(tmp: Path) -> dict[str, dict]:
    """Build the 01_rnn samples with build_samples; run each submission's answer cells."""
    samples = tmp / "samples"
    shutil.copytree(build.SAMPLES / ASSIGNMENT, samples / ASSIGNMENT)
    original = build.SAMPLES
    build.SAMPLES = samples  # only this assignment's samples, written under tmp
    try:
        paths = build.build_samples(tmp / "submitted")
    finally:
        build.SAMPLES = original
    out = {}
    for path in paths:
        ns = _namespace()
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in EXERCISES:
                try:
                    exec(cell.source, ns)
                except Exception:  # like a notebook cell that fails: its names stay undefined
                    pass
        out[path.parent.parent.name] = ns
    return out


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, dict[str, Outcome]]:
    """Outcome of every suite on the reference and on each sample, computed once."""
    spaces = {"reference": _reference_namespace()}
    spaces.update(_sample_namespaces(tmp_path_factory.mktemp("samples")))
    return {who: {ex: _run(ex, ns) for ex in EXERCISES} for who, ns in spaces.items()}


def _messages(outcome: Outcome) -> str:
    return "\n".join(f"{name}: {msg}" for name, msg in outcome.failed.items())


def test_samples_are_the_three_expected():
    assert sorted(p.stem for p in (build.SAMPLES / ASSIGNMENT).glob("*.py")) == [
        "correct",
        "mistakes",
        "unanswered",
    ]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_suite_has_a_sensible_number_of_tests(outcomes, exercise):
    assert 5 <= outcomes["reference"][exercise].total <= 12


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_solution_scores_full_marks(outcomes, exercise):
    outcome = outcomes["reference"][exercise]
    assert not outcome.failed, _messages(outcome)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_correct_sample_scores_full_marks(outcomes, exercise):
    outcome = outcomes["correct"][exercise]
    assert not outcome.failed, _messages(outcome)
    assert outcome.total == outcomes["reference"][exercise].total


@pytest.mark.parametrize("exercise", sorted(CORRECT_IN_MISTAKES))
def test_mistakes_sample_keeps_its_correct_exercises(outcomes, exercise):
    outcome = outcomes["mistakes"][exercise]
    assert not outcome.failed, _messages(outcome)


@pytest.mark.parametrize("exercise", MISTAKES)
def test_mistakes_sample_fails_and_the_message_names_the_mistake(outcomes, exercise):
    outcome = outcomes["mistakes"][exercise]
    points = EXERCISES[exercise][1]
    assert outcome.score(points) < points, f"{exercise}: the mistake was not caught"
    text = _messages(outcome)
    assert any(word.lower() in text.lower() for word in MISTAKES[exercise]), text
    for msg in outcome.failed.values():
        # one line for the student: no traceback, no test source, nothing from the reference
        assert msg and "\n" not in msg and "Traceback" not in msg and "solutions" not in msg, msg


@pytest.mark.parametrize("exercise", EXERCISES)
def test_unanswered_sample_scores_zero_and_says_why(outcomes, exercise):
    outcome = outcomes["unanswered"][exercise]
    assert outcome.total > 0 and not outcome.passed, outcome.passed
    for msg in outcome.failed.values():
        assert "not implemented" in msg or "is not defined" in msg, msg


@pytest.mark.parametrize("exercise", EXERCISES)
def test_function_imported_from_solutions_is_rejected(exercise):
    ns = {name: getattr(importlib.import_module(mod), name) for name, (mod, _) in EXERCISES.items()}
    outcome = _run(exercise, ns)
    assert outcome.total > 0 and not outcome.passed, outcome.passed
    for msg in outcome.failed.values():
        assert "imported from the course's solutions" in msg, msg


@pytest.mark.parametrize("exercise", EXERCISES)
def test_missing_function_is_reported_as_not_defined(exercise):
    outcome = _run(exercise, {"np": np})
    assert outcome.total > 0 and not outcome.passed, outcome.passed
    for msg in outcome.failed.values():
        assert "is not defined" in msg, msg
