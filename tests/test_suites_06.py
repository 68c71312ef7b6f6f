"""The hidden suites of 06_choosing against the reference, the samples and bad namespaces.

(a) every suite gives full marks to the solution the build puts in the instructor notebook and to
the two independent correct samples; (b) each typical mistake of the issue (and a few more) is in
a sample, loses points and is named in the feedback; (c) the unanswered sample scores zero;
(d) functions imported from the reference package are rejected and missing ones reported.

Samples become submissions through course/build.py's own build_samples (into a temporary
folder); each answer cell then runs as the notebook would run it, in a namespace holding what
the notebook's setup and helper cells define (np, torch, F, math and the given lstm_forward).
"""

from __future__ import annotations

import gc
import importlib.util
import math
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.hidden import Outcome, StudentNamespace, run_suite

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "06_choosing"
_spec = importlib.util.spec_from_file_location("course_build", ROOT / "course" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

EXERCISES = ("cell_cost", "count_probe", "bits_per_char", "temperature_softmax", "sample_next")
GIVEN = (
    "solutions._common.sigmoid",
    "solutions.lstm.lstm_step_forward",
    "solutions.lstm.lstm_forward",
)

FULL = "full"
ZERO = "zero"
# sample -> exercise -> FULL, ZERO or words of which a failure message must contain one
EXPECTED: dict[str, dict[str, object]] = {
    "correct": dict.fromkeys(EXERCISES, FULL),
    "correct_torch": dict.fromkeys(EXERCISES, FULL),
    "unanswered": dict.fromkeys(EXERCISES, ZERO),
    "mistakes": {
        "cell_cost": ("one bias vector",),
        "count_probe": ("hidden states h",),
        "bits_per_char": ("summed over time",),
        "temperature_softmax": ("after the softmax",),
        "sample_next": ("without normalising",),
    },
    "units_mistakes": {
        "cell_cost": ("diagonal",),
        "count_probe": ("no intercept",),
        "bits_per_char": ("nats",),
        "temperature_softmax": ("not normalised",),
        "sample_next": ("after the softmax",),
    },
    "batch_mistakes": {
        "cell_cost": ("added, not multiplied",),
        "count_probe": ("padded steps",),
        "bits_per_char": ("summed over the batch",),
        "temperature_softmax": ("multiplied the logits",),
        "sample_next": ("without normalising",),
    },
}


def _run(exercise: str, namespace: dict) -> Outcome:
    gc.freeze()  # see tests/test_suites_01.py: a large heap makes pytest's collections slow
    try:
        return run_suite(ASSIGNMENT, exercise, StudentNamespace(namespace))
    finally:
        gc.unfreeze()


def _namespace() -> dict:
    """What the notebook's setup and helper cells define before the answer cells run."""
    ns = {"np": np, "torch": torch, "F": F, "math": math, "__name__": "submission"}
    for name in GIVEN:
        exec(build.definition_source(name, solution=False), ns)
    return ns


def _reference_namespace() -> dict:
    ns = _namespace()
    for exercise in EXERCISES:
        exec(build.definition_source(f"solutions.choosing.{exercise}", solution=True), ns)
    return ns


def _sample_namespaces(tmp: Path) -> dict[str, dict]:
    samples = tmp / "samples"
    shutil.copytree(build.SAMPLES / ASSIGNMENT, samples / ASSIGNMENT)
    original = build.SAMPLES
    build.SAMPLES = samples
    try:
        paths = build.build_samples(tmp / "submitted")
    finally:
        build.SAMPLES = original
    out = {}
    for path in paths:
        if path.parent.name != ASSIGNMENT:
            continue
        ns = _namespace()
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in EXERCISES:
                try:
                    exec(cell.source, ns)
                except Exception:
                    pass
        out[path.parent.parent.name] = ns
    return out


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, dict[str, Outcome]]:
    spaces = {"reference": _reference_namespace()}
    spaces.update(_sample_namespaces(tmp_path_factory.mktemp("samples")))
    return {who: {ex: _run(ex, ns) for ex in EXERCISES} for who, ns in spaces.items()}


def _messages(outcome: Outcome) -> str:
    return "\n".join(f"{name}: {msg}" for name, msg in outcome.failed.items())


def test_every_sample_is_declared():
    assert sorted(p.stem for p in (build.SAMPLES / ASSIGNMENT).glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_solution_scores_full_marks(outcomes, exercise):
    outcome = outcomes["reference"][exercise]
    assert 5 <= outcome.total <= 12
    assert not outcome.failed, _messages(outcome)


CASES = [(s, e) for s, table in EXPECTED.items() for e in table]


@pytest.mark.parametrize(("sample", "exercise"), CASES)
def test_sample_scores_as_declared(outcomes, sample, exercise):
    outcome, want = outcomes[sample][exercise], EXPECTED[sample][exercise]
    assert outcome.total == outcomes["reference"][exercise].total
    if want == FULL:
        assert not outcome.failed, _messages(outcome)
    elif want == ZERO:
        assert not outcome.passed, outcome.passed
        for msg in outcome.failed.values():
            assert "not implemented" in msg, msg
    else:
        assert outcome.failed, f"{sample}/{exercise}: the mistake was not caught"
        text = _messages(outcome)
        assert any(w.lower() in text.lower() for w in want), text
        for msg in outcome.failed.values():
            assert msg and "\n" not in msg and "Traceback" not in msg, msg
            assert "solutions" not in msg, msg


@pytest.mark.parametrize("exercise", EXERCISES)
def test_function_imported_from_solutions_is_rejected(exercise):
    from solutions import choosing

    ns = {name: getattr(choosing, name) for name in EXERCISES} | {"np": np}
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
