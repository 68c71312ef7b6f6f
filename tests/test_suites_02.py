"""The hidden suites of 02_gru against the reference, the sample submissions and typical mistakes.

(a) Every suite gives full marks to the solution the build puts in the instructor notebook and
to the "correct" sample. (b) On the "mistakes" and "mixed_conventions" samples the suite of each
mistaken exercise fails and names the mistake, the right exercises keep full marks, and the
"unanswered" sample scores zero. (c) A catalogue of typical mistakes, each a small wrong function
dropped into an otherwise right namespace, is caught and named. (d) A function imported from the
reference package is rejected and a missing one is reported as not defined. (e) The GRU variants
the suites build their diagnoses from equal the reference in their default setting.

Samples are turned into submissions by course/build.py's own build_samples (into a temporary
folder), and each answer cell is executed as the notebook would: in a namespace with `np` and the
notebook's `sigmoid`.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.hidden import Outcome, StudentNamespace, run_suite
from solutions import gru

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_gru"
_spec = importlib.util.spec_from_file_location("course_build", ROOT / "course" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)
from autograder.suites.cells import gru as helpers  # noqa: E402

# exercise -> points in the notebook (every reference solution lives in solutions.gru)
EXERCISES = {
    "gru_paper_step_forward": 3,
    "gru_paper_forward": 2,
    "gru_paper_step_backward": 3,
    "gru_paper_backward": 3,
    "unpack_gru_weights": 1,
    "gru_pytorch_step_forward": 2,
}
# sample -> exercise -> words of which at least one failure message must contain one
MISTAKES = {
    "mistakes": {
        "gru_paper_step_backward": ("direct path",),
        "gru_paper_backward": ("dh_next is not carried",),
        "unpack_gru_weights": ("reshaped",),
        "gru_pytorch_step_forward": ("reset applied before the matrix product",),
    },
    "mixed_conventions": {
        "gru_paper_step_forward": ("conventions mixed",),
        "gru_paper_forward": ("conventions mixed",),
        "gru_paper_step_backward": ("fix gru_paper_step_forward first",),
        "gru_paper_backward": ("fix gru_paper_forward first",),
        "unpack_gru_weights": ("missing bias",),
        "gru_pytorch_step_forward": ("gate order",),
    },
}
SAMPLES = ("correct", "mistakes", "mixed_conventions", "unanswered")


def _run(exercise: str, namespace: dict) -> Outcome:
    """run_suite with the objects alive now frozen out of the garbage collector (see 01)."""
    gc.freeze()
    try:
        return run_suite(ASSIGNMENT, exercise, StudentNamespace(namespace))
    finally:
        gc.unfreeze()


def _namespace() -> dict:
    """What the answer cells rely on from the given cells: `np`, `sigmoid`, typing names."""
    ns = {"np": np, "Sequence": Sequence, "Callable": Callable, "__name__": "submission"}
    exec(build.definition_source("solutions._common.sigmoid", solution=False), ns)
    return ns


def _reference_namespace() -> dict:
    """The solution code the build writes into the instructor notebook, executed."""
    ns = _namespace()
    for exercise in EXERCISES:
        exec(build.definition_source(f"solutions.gru.{exercise}", solution=True), ns)
    return ns


def _sample_namespaces(tmp: Path) -> dict[str, dict]:
    """Build the 02_gru samples with build_samples; run each submission's answer cells."""
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


def _one_line(outcome: Outcome) -> None:
    for msg in outcome.failed.values():
        # one line for the student: no traceback, no test source, nothing from the reference
        assert msg and "\n" not in msg and "Traceback" not in msg and "solutions" not in msg, msg


def test_samples_are_the_expected_ones():
    assert sorted(p.stem for p in (build.SAMPLES / ASSIGNMENT).glob("*.py")) == sorted(SAMPLES)


def test_points_match_the_notebook_source():
    text = (build.SOURCES / f"{ASSIGNMENT}.py").read_text()
    for exercise, points in EXERCISES.items():
        assert f"#| nbgrader: tests id={exercise} points={points}\n" in text, exercise


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


@pytest.mark.parametrize(
    "sample,exercise",
    [(s, e) for s in MISTAKES for e in EXERCISES if e not in MISTAKES[s]],
)
def test_mistake_samples_keep_their_right_exercises(outcomes, sample, exercise):
    outcome = outcomes[sample][exercise]
    assert not outcome.failed, _messages(outcome)


@pytest.mark.parametrize("sample,exercise", [(s, e) for s in MISTAKES for e in MISTAKES[s]])
def test_mistake_samples_fail_and_the_message_names_the_mistake(outcomes, sample, exercise):
    outcome = outcomes[sample][exercise]
    points = EXERCISES[exercise]
    assert outcome.score(points) < points, f"{sample}/{exercise}: the mistake was not caught"
    text = _messages(outcome)
    assert any(word.lower() in text.lower() for word in MISTAKES[sample][exercise]), text
    _one_line(outcome)


@pytest.mark.parametrize("exercise", ["gru_paper_step_backward", "gru_paper_backward"])
def test_a_backward_right_for_a_wrong_forward_earns_partial_credit(outcomes, exercise):
    """mixed_conventions: its backward passes the check against its own forward only."""
    outcome = outcomes["mixed_conventions"][exercise]
    assert "test_centred_differences_of_your_forward" in outcome.passed, _messages(outcome)
    assert 0 < outcome.score(EXERCISES[exercise]) < EXERCISES[exercise]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_unanswered_sample_scores_zero_and_says_why(outcomes, exercise):
    outcome = outcomes["unanswered"][exercise]
    assert outcome.total > 0 and not outcome.passed, outcome.passed
    for msg in outcome.failed.values():
        assert "not implemented" in msg or "is not defined" in msg, msg


@pytest.mark.parametrize("exercise", EXERCISES)
def test_function_imported_from_solutions_is_rejected(exercise):
    ns = {name: getattr(gru, name) for name in EXERCISES}
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


# ------------------------------------------------------------- catalogue of typical mistakes

# Each entry: (exercise, wrong code for it, words one failure message must contain). The code is
# executed in a namespace that holds the reference for every other exercise.
CATALOGUE = {
    "paper step: bias missing": (
        "gru_paper_step_forward",
        """
def gru_paper_step_forward(x, h_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    r = sigmoid(x @ Wx[:, :H] + h_prev @ Wh[:, :H])
    u = sigmoid(x @ Wx[:, H:2*H] + h_prev @ Wh[:, H:2*H])
    c = np.tanh(x @ Wx[:, 2*H:] + (r * h_prev) @ Wh[:, 2*H:])
    return (1 - u) * h_prev + u * c, None
""",
        ("missing bias",),
    ),
    "paper step: reset after the product": (
        "gru_paper_step_forward",
        """
def gru_paper_step_forward(x, h_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + b
    r = sigmoid(a[:, :H] + h_prev @ Wh[:, :H])
    u = sigmoid(a[:, H:2*H] + h_prev @ Wh[:, H:2*H])
    c = np.tanh(a[:, 2*H:] + r * (h_prev @ Wh[:, 2*H:]))
    return (1 - u) * h_prev + u * c, None
""",
        ("reset applied after the matrix product",),
    ),
    "paper step: r and u swapped": (
        "gru_paper_step_forward",
        """
def gru_paper_step_forward(x, h_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + b
    u = sigmoid(a[:, :H] + h_prev @ Wh[:, :H])
    r = sigmoid(a[:, H:2*H] + h_prev @ Wh[:, H:2*H])
    c = np.tanh(a[:, 2*H:] + (r * h_prev) @ Wh[:, 2*H:])
    return (1 - u) * h_prev + u * c, None
""",
        ("gate order",),
    ),
    "paper step: tuple instead of pair": (
        "gru_paper_step_forward",
        """
def gru_paper_step_forward(x, h_prev, Wx, Wh, b):
    return np.zeros_like(h_prev)
""",
        ("must return (h, cache)",),
    ),
    "paper sequence: only the last state": (
        "gru_paper_forward",
        """
def gru_paper_forward(x, h0, Wx, Wh, b):
    h = h0
    for t in range(x.shape[1]):
        h, _ = gru_paper_step_forward(x[:, t], h, Wx, Wh, b)
    return h, None
""",
        ("only the last state",),
    ),
    "paper step backward: sigmoid derivative as tanh's": (
        "gru_paper_step_backward",
        """
def gru_paper_step_backward(dh, cache):
    x, h_prev, Wx, Wh = cache["x"], cache["h_prev"], cache["Wx"], cache["Wh"]
    r, u, c = cache["r"], cache["u"], cache["h_tilde"]
    H = h_prev.shape[1]
    da_h = dh * u * (1 - c**2)
    ds = da_h @ Wh[:, 2*H:].T
    da_r = ds * h_prev * (1 - r**2)
    da_u = dh * (c - h_prev) * (1 - u**2)
    dh_prev = dh * (1 - u) + ds * r + da_r @ Wh[:, :H].T + da_u @ Wh[:, H:2*H].T
    da = np.concatenate([da_r, da_u, da_h], axis=1)
    dWh = np.concatenate([h_prev.T @ da_r, h_prev.T @ da_u, (r * h_prev).T @ da_h], axis=1)
    return da @ Wx.T, dh_prev, x.T @ da, dWh, da.sum(axis=0)
""",
        ("sigmoid derivative",),
    ),
    "paper step backward: candidate block of dWh from h_prev": (
        "gru_paper_step_backward",
        """
def gru_paper_step_backward(dh, cache):
    x, h_prev, Wx, Wh = cache["x"], cache["h_prev"], cache["Wx"], cache["Wh"]
    r, u, c = cache["r"], cache["u"], cache["h_tilde"]
    H = h_prev.shape[1]
    da_h = dh * u * (1 - c**2)
    ds = da_h @ Wh[:, 2*H:].T
    da_r = ds * h_prev * r * (1 - r)
    da_u = dh * (c - h_prev) * u * (1 - u)
    dh_prev = dh * (1 - u) + ds * r + da_r @ Wh[:, :H].T + da_u @ Wh[:, H:2*H].T
    da = np.concatenate([da_r, da_u, da_h], axis=1)
    dWh = h_prev.T @ da
    return da @ Wx.T, dh_prev, x.T @ da, dWh, da.sum(axis=0)
""",
        ("r * h_prev",),
    ),
    "BPTT: weight gradients overwritten": (
        "gru_paper_backward",
        """
def gru_paper_backward(dh, cache):
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache["steps"][0]["x"].shape[1]))
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dh_next, dWx, dWh, db = gru_paper_step_backward(
            dh[:, t] + dh_next, cache["steps"][t]
        )
    return dx, dh_next, dWx, dWh, db
""",
        ("accumulate",),
    ),
    "unpack: gate blocks reordered to z, r, n": (
        "unpack_gru_weights",
        """
def unpack_gru_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    H = weight_hh.shape[1]
    def zrn(a):
        return np.concatenate([a[H:2*H], a[:H], a[2*H:]], axis=0)
    return zrn(weight_ih).T, zrn(weight_hh).T, zrn(bias_ih), zrn(bias_hh)
""",
        ("gate order",),
    ),
    "unpack: biases swapped": (
        "unpack_gru_weights",
        """
def unpack_gru_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    return weight_ih.T.copy(), weight_hh.T.copy(), bias_hh.copy(), bias_ih.copy()
""",
        ("swapped",),
    ),
    "PyTorch step: z on the candidate": (
        "gru_pytorch_step_forward",
        """
def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    gx, gh = x @ Wx + bx, h_prev @ Wh + bh
    r = sigmoid(gx[:, :H] + gh[:, :H])
    z = sigmoid(gx[:, H:2*H] + gh[:, H:2*H])
    n = np.tanh(gx[:, 2*H:] + r * gh[:, 2*H:])
    return z * n + (1 - z) * h_prev, None
""",
        ("conventions mixed",),
    ),
    "PyTorch step: bh_n outside the reset": (
        "gru_pytorch_step_forward",
        """
def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    gx, gh = x @ Wx + bx, h_prev @ Wh + bh
    r = sigmoid(gx[:, :H] + gh[:, :H])
    z = sigmoid(gx[:, H:2*H] + gh[:, H:2*H])
    n = np.tanh(gx[:, 2*H:] + bh[2*H:] + r * (h_prev @ Wh[:, 2*H:]))
    return (1 - z) * n + z * h_prev, None
""",
        ("outside the reset",),
    ),
    "PyTorch step: bias_hh missing": (
        "gru_pytorch_step_forward",
        """
def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    gx, gh = x @ Wx + bx, h_prev @ Wh
    r = sigmoid(gx[:, :H] + gh[:, :H])
    z = sigmoid(gx[:, H:2*H] + gh[:, H:2*H])
    n = np.tanh(gx[:, 2*H:] + r * gh[:, 2*H:])
    return (1 - z) * n + z * h_prev, None
""",
        ("missing bias",),
    ),
    "PyTorch step: calls torch.nn.GRUCell": (
        "gru_pytorch_step_forward",
        """
import torch

def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    cell = torch.nn.GRUCell(x.shape[1], h_prev.shape[1]).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(Wx.T))
        cell.weight_hh.copy_(torch.tensor(Wh.T))
        cell.bias_ih.copy_(torch.tensor(bx))
        cell.bias_hh.copy_(torch.tensor(bh))
        return cell(torch.tensor(x), torch.tensor(h_prev)).numpy(), None
""",
        ("built-in gru",),
    ),
}


@pytest.mark.parametrize("name", CATALOGUE)
def test_typical_mistake_is_caught_and_named(name):
    exercise, code, words = CATALOGUE[name]
    ns = _reference_namespace()
    exec(code, ns)
    outcome = _run(exercise, ns)
    assert outcome.failed, f"{name}: not caught"
    text = _messages(outcome)
    assert any(w.lower() in text.lower() for w in words), text
    _one_line(outcome)


# ------------------------------------------------------------- the suites' own GRU variants


def test_helper_variants_equal_the_reference():
    rng = np.random.default_rng(0)
    N, T, D, H = 3, 4, 2, 5
    x, h0, Wx, Wh, b, bh = (
        rng.standard_normal(s)
        for s in [(N, T, D), (N, H), (D, 3 * H), (H, 3 * H), (3 * H,), (3 * H,)]
    )
    dh = rng.standard_normal((N, T, H))
    np.testing.assert_allclose(
        helpers.paper_step(x[:, 0], h0, Wx, Wh, b)[0],
        gru.gru_paper_step_forward(x[:, 0], h0, Wx, Wh, b)[0],
        atol=1e-14,
    )
    np.testing.assert_allclose(
        helpers.paper_sequence(x, h0, Wx, Wh, b),
        gru.gru_paper_forward(x, h0, Wx, Wh, b)[0],
        atol=1e-14,
    )
    np.testing.assert_allclose(
        helpers.pytorch_step(x[:, 0], h0, Wx, Wh, b, bh)[0],
        gru.gru_pytorch_step_forward(x[:, 0], h0, Wx, Wh, b, bh)[0],
        atol=1e-14,
    )
    step = helpers.paper_step_backward(dh[:, 0], x[:, 0], h0, Wx, Wh, b)
    ref = gru.gru_paper_step_backward(
        dh[:, 0], gru.gru_paper_step_forward(x[:, 0], h0, Wx, Wh, b)[1]
    )
    for name, expected in zip(helpers.PAPER_GRADS, ref, strict=True):
        np.testing.assert_allclose(step[name], expected, atol=1e-13, err_msg=name)
    dx, dh0, dWx, dWh, db = helpers.paper_bptt(x, h0, Wx, Wh, b, dh)
    ref = gru.gru_paper_backward(dh, gru.gru_paper_forward(x, h0, Wx, Wh, b)[1])
    for got, expected in zip((dx, dh0, sum(dWx), sum(dWh), sum(db)), ref, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_every_listed_mistake_differs_from_the_right_answer():
    """On random inputs no mistake variant coincides with the reference, so each can be named."""
    rng = np.random.default_rng(1)
    x, h, Wx, Wh, b, bh = (
        rng.standard_normal(s) for s in [(3, 2), (3, 4), (2, 12), (4, 12), (12,), (12,)]
    )
    right = gru.gru_paper_step_forward(x, h, Wx, Wh, b)[0]
    for hint, value in helpers.paper_step_mistakes(x, h, Wx, Wh, b):
        assert np.abs(value - right).max() > 1e-3, hint
    right = gru.gru_pytorch_step_forward(x, h, Wx, Wh, b, bh)[0]
    for hint, value in helpers.pytorch_step_mistakes(x, h, Wx, Wh, b, bh):
        assert np.abs(value - right).max() > 1e-3, hint
