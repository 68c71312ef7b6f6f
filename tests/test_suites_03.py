"""The hidden suites of 03_lstm against the reference, the sample submissions and typical mistakes.

(a) every suite gives full marks to the solution the build puts in the instructor notebook and
to the "correct" sample; (b) on the three samples with mistakes the suite of each mistaken
exercise fails and names the mistake, and unanswered exercises score zero; (c) each
typical mistake of the issue (and a few more), written as a student function or module here,
is failed and named by its suite; (d) the reference package is rejected, a missing function is
reported as not defined, and a module that calls torch.nn.LSTM inside is rejected with a message
saying so.

Samples are turned into submissions by course/build.py's own build_samples (into a temporary
folder), and each answer cell is executed as the notebook would: in a namespace holding what the
setup and helper cells define (np, torch, nn, math, sigmoid).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import math
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

from autograder.hidden import Outcome, StudentNamespace, run_suite
from solutions._common import sigmoid

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "03_lstm"
_spec = importlib.util.spec_from_file_location("course_build", ROOT / "course" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)
from autograder.suites.cells import lstm as H3  # noqa: E402

# exercise -> (module of its reference solution, points in the notebook)
EXERCISES = {
    "lstm_step_forward": ("solutions.lstm", 2),
    "lstm_forward": ("solutions.lstm", 2),
    "lstm_step_backward": ("solutions.lstm", 3),
    "lstm_backward": ("solutions.lstm", 3),
    "LSTM": ("solutions.modules", 3),
    "init_forget_bias": ("solutions.modules", 1),
}
# sample -> {exercise: words of which one failure message must contain one}; exercises not
# listed must score full marks (or, for "gate_mistakes", be unanswered: see UNANSWERED_IN).
MISTAKES = {
    "mistakes": {
        "lstm_forward": ("returned only the last state",),
        "lstm_step_backward": ("reaching c through h is missing",),
        "lstm_backward": ("through the cell state is not carried across time steps",),
        "LSTM": ("order i, f, o, g",),
        "init_forget_bias": ("into both biases",),
    },
    "gate_mistakes": {
        "lstm_step_forward": ("applied to c instead of tanh(c)",),
        "LSTM": ("tanh instead of sigmoid on the forget gate",),
    },
    "state_mistakes": {
        "lstm_step_forward": ("computed from the previous hidden state",),
        "lstm_forward": ("computed from h_{t-1} instead of c_{t-1}",),
    },
}
UNANSWERED_IN = {
    "gate_mistakes": ("lstm_forward", "lstm_step_backward", "lstm_backward", "init_forget_bias"),
    "state_mistakes": ("lstm_step_backward", "lstm_backward", "LSTM", "init_forget_bias"),
    "unanswered": tuple(EXERCISES),
}


def _run(exercise: str, namespace: dict) -> Outcome:
    """run_suite with the objects alive now frozen out of the garbage collector (it is fast)."""
    gc.freeze()
    try:
        return run_suite(ASSIGNMENT, exercise, StudentNamespace(namespace))
    finally:
        gc.unfreeze()


def _namespace() -> dict:
    """What the answer cells rely on from the notebook's setup and helper cells."""
    return {
        "np": np,
        "torch": torch,
        "nn": nn,
        "math": math,
        "sigmoid": sigmoid,
        "Callable": Callable,
        "Sequence": Sequence,
        "__name__": "submission",
    }


def _reference_namespace() -> dict:
    """The solution code the build writes into the instructor notebook, executed."""
    ns = _namespace()
    for exercise, (module, _points) in EXERCISES.items():
        exec(build.definition_source(f"{module}.{exercise}", solution=True), ns)
    return ns


def _sample_namespaces(tmp: Path) -> dict[str, dict]:
    """Build the 03_lstm samples with build_samples; run each submission's answer cells."""
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


def _assert_named(outcome: Outcome, words: Sequence[str], what: str) -> None:
    """The suite failed, some message contains one of ``words``, every message is one clean line."""
    assert outcome.failed, f"{what}: the mistake was not caught"
    text = _messages(outcome)
    assert any(w.lower() in text.lower() for w in words), f"{what}:\n{text}"
    for msg in outcome.failed.values():
        # one line for the student: no traceback, no test source, nothing from the reference
        assert msg and "\n" not in msg and "Traceback" not in msg and "solutions" not in msg, msg


# --------------------------------------------------------------------------------------------
# the reference and the samples
# --------------------------------------------------------------------------------------------


def test_samples_are_the_five_expected():
    assert sorted(p.stem for p in (build.SAMPLES / ASSIGNMENT).glob("*.py")) == [
        "correct",
        "gate_mistakes",
        "mistakes",
        "state_mistakes",
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


@pytest.mark.parametrize(
    "sample,exercise",
    [(s, e) for s, named in MISTAKES.items() for e in named],
)
def test_mistaken_sample_fails_and_the_message_names_the_mistake(outcomes, sample, exercise):
    outcome = outcomes[sample][exercise]
    points = EXERCISES[exercise][1]
    assert outcome.score(points) < points
    _assert_named(outcome, MISTAKES[sample][exercise], f"{sample}/{exercise}")


def test_mistakes_sample_keeps_its_correct_exercise(outcomes):
    outcome = outcomes["mistakes"]["lstm_step_forward"]
    assert not outcome.failed, _messages(outcome)


@pytest.mark.parametrize(
    "sample,exercise", [(s, e) for s, exs in UNANSWERED_IN.items() for e in exs]
)
def test_unanswered_exercises_score_zero_and_say_why(outcomes, sample, exercise):
    outcome = outcomes[sample][exercise]
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


def test_module_that_calls_the_builtin_lstm_is_rejected():
    class WrapsBuiltin(nn.LSTM):  # same parameters, and torch.nn.LSTM's forward
        def __init__(self, input_size, hidden_size, batch_first=False):
            super().__init__(input_size, hidden_size, batch_first=batch_first)

    outcome = _run("LSTM", {"LSTM": WrapsBuiltin})
    assert outcome.total > 0 and not outcome.passed, outcome.passed
    for msg in outcome.failed.values():
        assert "built-in recurrent layers" in msg, msg


def test_a_kernel_saved_before_the_check_is_still_rejected():
    """A reference to torch's fused kernel taken at import time, under another name, escapes
    the patched attributes; the torch-function mode still refuses it."""
    kernel = getattr(torch, "_" + "VF").lstm  # saved before any check runs

    class Sneaky(nn.LSTM):
        def __init__(self, input_size, hidden_size, batch_first=False):
            super().__init__(input_size, hidden_size, batch_first=batch_first)

        def forward(self, x, hx=None):
            n = x.shape[0] if self.batch_first else x.shape[1]
            if hx is None:
                z = x.new_zeros(1, n, self.hidden_size)
                hx = (z, z)
            out, h, c = kernel(
                x, hx, self._flat_weights, True, 1, 0.0, False, False, self.batch_first
            )
            return out, (h, c)

    outcome = _run("LSTM", {"LSTM": Sneaky})
    assert outcome.total > 0 and not outcome.passed, outcome.passed
    for msg in outcome.failed.values():
        assert "built-in recurrent layers" in msg, msg


def test_source_that_names_the_kernels_is_rejected():
    """A class that works (the equations by hand) but whose code names torch._VF's kernels is
    failed by the static check, with a message naming what it found."""
    from solutions.modules import LSTM as Reference

    class Mine(Reference):
        def uses(self):
            return torch._VF.lstm_cell

    Mine.__module__ = "__main__"
    outcome = _run("LSTM", {"LSTM": Mine})
    failed = outcome.failed
    assert list(failed) == ["test_writes_the_equations_instead_of_calling_torch"], failed
    assert (
        "LSTM uses _VF, lstm_cell" in failed["test_writes_the_equations_instead_of_calling_torch"]
    )


# --------------------------------------------------------------------------------------------
# each typical mistake, written here as a student would make it, is failed and named
# --------------------------------------------------------------------------------------------

STEP_FORWARD_NAMES = {
    "order ifog": "order i, f, o, g",
    "order figo": "input and forget blocks are swapped",
    "tanh on i": "tanh instead of sigmoid on the input gate",
    "tanh on f": "tanh instead of sigmoid on the forget gate",
    "tanh on o": "tanh instead of sigmoid on the output gate",
    "sigmoid on g": "sigmoid instead of tanh on the candidate",
    "c from h": "computed from the previous hidden state",
    "o on c": "applied to c instead of tanh(c)",
    "h from c_prev": "h uses the old cell state",
    "no forget": "forget gate is missing",
    "no bias": "bias b is missing",
}


def _mistaken_step_forward(mistake: str) -> Callable:
    def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
        h, c = H3.step_forward(x, h_prev, c_prev, Wx, Wh, b, mistake=mistake)
        return h, c, (x, h_prev, c_prev, Wx, Wh, b)

    return lstm_step_forward


@pytest.mark.parametrize("mistake", STEP_FORWARD_NAMES)
def test_step_forward_suite_names_each_mistake(mistake):
    outcome = _run("lstm_step_forward", {"lstm_step_forward": _mistaken_step_forward(mistake)})
    _assert_named(outcome, (STEP_FORWARD_NAMES[mistake],), mistake)


BACKWARD_NAMES = {
    "no h path": "reaching c through h is missing",
    "tanh' of c": "1 - tanh(c)**2, not 1 - c**2",
    "sigmoid' as tanh'": "s * (1 - s)",
    "no f in dc_prev": "dc_prev = dc_total * f",
    "df with c": "multiplied the OLD cell state",
    "da order ifog": "concatenated in the order i, f, o, g",
    "dWh with h": "used the previous hidden state h_prev",
}


@pytest.mark.parametrize("mistake", BACKWARD_NAMES)
def test_step_backward_suite_names_each_mistake(mistake):
    def lstm_step_backward(dh, dc, cache):
        return H3.step_backward(dh, dc, *cache, mistake=mistake)

    ns = {
        "lstm_step_forward": _mistaken_step_forward(None),
        "lstm_step_backward": lstm_step_backward,
    }
    _assert_named(_run("lstm_step_backward", ns), (BACKWARD_NAMES[mistake],), mistake)


def _mistaken_bptt(carry_c=True, carry_h=True, accumulate=True):
    def lstm_forward(x, h0, c0, Wx, Wh, b):
        h, c = H3.sequence_forward(x, h0, c0, Wx, Wh, b)
        return h, c, (x, h0, c0, Wx, Wh, b, h, c)

    def lstm_backward(dh, dc, cache):
        x, h0, c0, Wx, Wh, b, h, c = cache
        T = x.shape[1]
        dx, dWx, dWh, db = np.zeros_like(x), 0 * Wx, 0 * Wh, 0 * b
        dh_next, dc_next = 0 * h0, 0 * c0
        for t in reversed(range(T)):
            h_prev, c_prev = (h0, c0) if t == 0 else (h[:, t - 1], c[:, t - 1])
            up_c = 0.0 if dc is None else dc[:, t]
            g = H3.step_backward(
                dh[:, t] + (dh_next if carry_h else 0.0),
                up_c + (dc_next if carry_c else 0.0),
                x[:, t],
                h_prev,
                c_prev,
                Wx,
                Wh,
                b,
            )
            dx[:, t], dh_next, dc_next = g[0], g[1], g[2]
            if accumulate:
                dWx, dWh, db = dWx + g[3], dWh + g[4], db + g[5]
            else:
                dWx, dWh, db = g[3], g[4], g[5]
        return dx, dh_next, dc_next, dWx, dWh, db

    return {"lstm_forward": lstm_forward, "lstm_backward": lstm_backward}


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({}, None),
        ({"carry_c": False}, "through the cell state is not carried across time steps"),
        ({"carry_h": False}, "dh_next is not carried"),
        ({"accumulate": False}, "add up the gradients of every step"),
    ],
)
def test_backward_suite_names_each_mistake(kwargs, words):
    outcome = _run("lstm_backward", _mistaken_bptt(**kwargs))
    if words is None:  # the harness itself is right
        assert not outcome.failed, _messages(outcome)
    else:
        _assert_named(outcome, (words,), str(kwargs))


MODULE_NAMES = {
    "order ifog": "order i, f, o, g",
    "order figo": "input and forget blocks are swapped",
    "tanh on i": "tanh instead of sigmoid on the input gate",
    "tanh on o": "tanh instead of sigmoid on the output gate",
    "c from h": "computed from the previous hidden state",
    "o on c": "applied to c instead of tanh(c)",
    "bias_ih only": "uses only bias_ih_l0",
    "hx ignored": "hx is ignored",
    "batch_first ignored": "batch_first=True is ignored",
    "states without layer dim": "no layer dimension",
    "detached": "no gradient reached",
}


def _mistaken_module(mistake: str | None):
    """A from-scratch LSTM class with one typical mistake (None: right)."""

    class MistakenLSTM(nn.Module):
        def __init__(self, input_size, hidden_size, batch_first=False):
            super().__init__()
            self.hidden_size, self.batch_first = hidden_size, batch_first
            G = 4 * hidden_size
            self.weight_ih_l0 = nn.Parameter(torch.empty(G, input_size))
            self.weight_hh_l0 = nn.Parameter(torch.empty(G, hidden_size))
            self.bias_ih_l0 = nn.Parameter(torch.empty(G))
            self.bias_hh_l0 = nn.Parameter(torch.empty(G))
            k = 1 / math.sqrt(hidden_size)
            with torch.no_grad():
                for p in self.parameters():
                    p.uniform_(-k, k)

        def forward(self, input, hx=None):
            first = self.batch_first and mistake != "batch_first ignored"
            x = input.transpose(0, 1) if first else input
            N, H = x.shape[1], self.hidden_size
            if hx is None or mistake == "hx ignored":
                h, c = x.new_zeros(N, H), x.new_zeros(N, H)
            else:
                h, c = hx[0][0], hx[1][0]
            b = self.bias_ih_l0 if mistake == "bias_ih only" else self.bias_ih_l0 + self.bias_hh_l0
            w_hh = self.weight_hh_l0.detach() if mistake == "detached" else self.weight_hh_l0
            outs = []
            for x_t in x:
                a = x_t @ self.weight_ih_l0.T + h @ w_hh.T + b
                blocks = a.chunk(4, dim=1)
                order = {"order ifog": "ifog", "order figo": "figo"}.get(mistake, "ifgo")
                z = dict(zip(order, blocks, strict=True))
                act = {
                    k: (torch.tanh if mistake == f"tanh on {k}" else torch.sigmoid)(z[k])
                    for k in "ifo"
                }
                old = h if mistake == "c from h" else c
                c = act["f"] * old + act["i"] * torch.tanh(z["g"])
                h = act["o"] * (c if mistake == "o on c" else torch.tanh(c))
                outs.append(h)
            out = torch.stack(outs, 1 if first else 0)
            if mistake == "states without layer dim":
                return out, (h, c)
            return out, (h[None], c[None])

    return MistakenLSTM


def test_module_harness_is_right():
    outcome = _run("LSTM", {"LSTM": _mistaken_module(None)})
    assert not outcome.failed, _messages(outcome)


@pytest.mark.parametrize("mistake", MODULE_NAMES)
def test_module_suite_names_each_mistake(mistake):
    outcome = _run("LSTM", {"LSTM": _mistaken_module(mistake)})
    _assert_named(outcome, (MODULE_NAMES[mistake],), mistake)


def _mistaken_forget_bias(mistake: str):
    def init_forget_bias(lstm, value=1.0):
        H = lstm.hidden_size
        block = slice(0, H) if mistake == "wrong block" else slice(H, 2 * H)
        with torch.no_grad():
            for name, p in lstm.named_parameters():
                if mistake == "first layer only" and not name.endswith(("_l0", "_ih", "_hh")):
                    continue
                if name.startswith("bias_ih") or (mistake == "both" and name.startswith("bias")):
                    p[block] = value
                elif name.startswith("bias_hh") and mistake != "not zeroed":
                    p[block] = 0.0
        return lstm

    return init_forget_bias


@pytest.mark.parametrize(
    "mistake,words",
    [
        ("both", "into both biases"),
        ("not zeroed", "bias_hh still holds its old values"),
        ("wrong block", "input-gate block"),
        ("first layer only", "Only the first layer"),
    ],
)
def test_forget_bias_suite_names_each_mistake(mistake, words):
    outcome = _run("init_forget_bias", {"init_forget_bias": _mistaken_forget_bias(mistake)})
    _assert_named(outcome, (words,), mistake)


# --------------------------------------------------------------------------------------------
# the embedded reference is self-contained
# --------------------------------------------------------------------------------------------


def test_embedded_module_equals_torch_and_needs_no_decorator():
    """The class the notebook embeds runs without the decorator of solutions.modules."""
    ns = _reference_namespace()
    torch.manual_seed(0)
    builtin = nn.LSTM(3, 4, batch_first=True)
    mine = ns["LSTM"](3, 4, True)
    assert type(mine).__module__ == "submission" and not hasattr(mine, "gate_blocks")
    mine.load_state_dict(builtin.state_dict())
    mine, builtin = mine.double(), builtin.double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    for a, b in zip(
        [mine(x)[0], *mine(x)[1]], [builtin(x)[0], *builtin(x)[1]], strict=True
    ):  # output, h_n, c_n
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
