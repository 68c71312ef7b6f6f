"""Hidden tests of switched_cell(f, i, g, c_prev, forget_gate, output_activation) -> (c, s):
c = f * c_prev + i * g where the model has a forget gate, c_prev + i * g where not (NFG, f = 1);
s = tanh(c) where it has an output activation, c where not (NOAF).

The student's torch function runs in the worker through the notebook's given module
SwitchedCellProbe (student.module_check: plain arrays in and out, float64, gradients by autograd);
the expected values and gradients come from solutions.batched.switched_cell through the same
module, run here. Failures name the typical mistakes, computed in numpy.
"""

from __future__ import annotations

import numpy as np
import torch

from autograder.hidden import run_module_check
from autograder.suites.kit import call, case, expect_match, named
from solutions.batched import switched_cell as reference

PROBE = "SwitchedCellProbe"
OUTPUTS = ("c", "s")
INPUTS = ("f", "i", "g", "c_prev")


class _ReferenceProbe(torch.nn.Module):
    """The notebook's SwitchedCellProbe around the reference function."""

    def __init__(self, forget_gate, output_activation):
        super().__init__()
        self.forget_gate = torch.tensor(list(forget_gate)).reshape(-1, 1, 1)
        self.output_activation = torch.tensor(list(output_activation)).reshape(-1, 1, 1)

    def forward(self, f, i, g, c_prev):
        return reference(f, i, g, c_prev, self.forget_gate, self.output_activation)


def _mistakes(f, i, g, c_prev, fg, oa):
    """[(message, (c, s))] of the typical mistakes, in numpy, for per-model flags fg, oa (M,)."""
    fg, oa = np.asarray(fg).reshape(-1, 1, 1), np.asarray(oa).reshape(-1, 1, 1)

    def out(c, s_on=None):
        s = np.where(oa, np.tanh(c), c) if s_on is None else s_on(c)
        return c, s

    good_c = np.where(fg, f * c_prev, c_prev) + i * g
    return [
        (
            "Without a forget gate your cell forgets everything (f = 0, c = i * g). No forget "
            "gate means f = 1: the cell keeps everything, c = c_prev + i * g.",
            out(np.where(fg, f * c_prev, 0.0) + i * g),
        ),
        (
            "The forget_gate switch is ignored: every model keeps f * c_prev; an NFG model "
            "(forget_gate False) has f = 1, c = c_prev + i * g.",
            out(f * c_prev + i * g),
        ),
        (
            "The forget_gate switch is reversed: where it is True, c = f * c_prev + i * g; where "
            "it is False (NFG), c = c_prev + i * g.",
            out(np.where(fg, c_prev, f * c_prev) + i * g),
        ),
        (
            "Without a forget gate your c is c_prev alone: the new content i * g is still added, "
            "c = c_prev + i * g.",
            out(np.where(fg, f * c_prev + i * g, c_prev)),
        ),
        (
            "The output_activation switch is ignored: an NOAF model (output_activation False) "
            "has s = c, no tanh.",
            out(good_c, np.tanh),
        ),
        (
            "The output_activation switch is reversed: where it is True, s = tanh(c); where it "
            "is False (NOAF), s = c.",
            out(good_c, lambda c: np.where(oa, c, np.tanh(c))),
        ),
        (
            "s is computed from c_prev; it is tanh of the NEW c (or the new c itself for NOAF).",
            out(good_c, lambda c: np.where(oa, np.tanh(c_prev), c_prev)),
        ),
    ]


def _data(seed, M, N, H):
    rng = np.random.default_rng(seed)
    f, i = (1 / (1 + np.exp(-rng.standard_normal((M, N, H)))) for _ in range(2))
    g = np.tanh(rng.standard_normal((M, N, H)))
    c_prev = 2 * rng.standard_normal((M, N, H))
    up = [rng.standard_normal((M, N, H)) for _ in OUTPUTS]
    return [f, i, g, c_prev], up


def _check(student, seed, fg, oa, N=2, H=3, label=""):
    M = len(fg)
    xs, up = _data(seed, M, N, H)
    kwargs = {"init_args": (list(fg), list(oa)), "inputs": xs, "grad_outputs": up}
    with case(
        label or f"M={M}, N={N}, H={H}, forget_gate={list(fg)}, output_activation={list(oa)}"
    ):
        student("switched_cell")  # defined, and not imported from the course's package
        got = call(lambda: student.module_check(PROBE, **kwargs), "switched_cell")
        want = run_module_check(_ReferenceProbe, **kwargs)
        outs = got.get("outputs") if isinstance(got, dict) else None
        if not isinstance(outs, list) or len(outs) != 2:
            raise AssertionError(
                "switched_cell must return the pair (c, s) of torch tensors, each (M, N, H)."
            )
        cands = _mistakes(*xs, fg, oa)
        for k, name in enumerate(OUTPUTS):
            expect_match(
                name,
                outs[k],
                want["outputs"][k],
                [(m, v[k]) for m, v in cands],
                hint="c = f * c_prev + i * g (forget gate) or c_prev + i * g (NFG); s = tanh(c) "
                "or c (NOAF); apply the per-model switches with torch.where.",
                shape_hint="c and s have the shape of f, (M, N, H).",
            )
        for name, g_got, g_want in zip(
            INPUTS, got["input_grads"], want["input_grads"], strict=True
        ):
            if g_got is None:
                raise AssertionError(
                    f"No gradient reached {name}: compute c and s with torch operations on the "
                    "tensors you were given (no .detach(), .numpy(), .item() or in-place writes)."
                )
            expect_match(
                f"d{name}",
                g_got,
                g_want,
                hint="The values are right but this gradient is not: keep every step in torch "
                "on the given tensors so that autograd sees it.",
            )


ALL = ([True, False, True, False], [True, True, False, False])


@named("switches, every combination of forget gate and output activation")
def test_every_combination(student):
    _check(student, 90, *ALL)


@named("switches, a vanilla cell (both on)")
def test_vanilla(student):
    _check(student, 91, [True, True], [True, True], N=3, H=2)


@named("switches, NFG only (no forget gate)")
def test_nfg(student):
    _check(student, 92, [False, False, False], [True, True, True], N=2, H=4)


@named("switches, NOAF only (no output activation)")
def test_noaf(student):
    _check(student, 93, [True, True], [False, False], N=3, H=3)


@named("switches, one model, N=1, H=1")
def test_single(student):
    _check(student, 94, [False], [False], N=1, H=1)


@named("switches, many models in a mixed order")
def test_many(student):
    rng = np.random.default_rng(95)
    fg, oa = (rng.random(9) < 0.5 for _ in range(2))
    _check(student, 96, [bool(v) for v in fg], [bool(v) for v in oa], N=2, H=2)
