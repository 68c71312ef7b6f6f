"""Hidden tests of gru_paper_step_backward, on the cache of the student's own forward step.

Going back through h = (1 - u) h_prev + u h_tilde, h_tilde = tanh(a_h) with
a_h = x Wx_h + (r h_prev) Wh_h + b_h, and the two sigmoid gates:
dh_prev = dh (1 - u) + [d(r h_prev)] r + [da_r, da_u] [Wh_r, Wh_u]^T, du = dh (h_tilde - h_prev),
dWh = [h_prev^T da_r, h_prev^T da_u, (r h_prev)^T da_h], dx = da Wx^T, dWx = x^T da,
db = sum_n da. Each test compares with solutions.gru, or with centred differences of the
student's own forward, and names the typical mistakes.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.gradients import numerical_gradient
from solutions.gru import gru_paper_step_backward as reference_backward
from solutions.gru import gru_paper_step_forward as reference_forward

# "02_gru" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.02_gru._helpers")
appended, call, case, copies = _h.appended, _h.call, _h.case, _h.copies
expect_gradient_check, expect_gradients = _h.expect_gradient_check, _h.expect_gradients
expect_shape, expect_unchanged, inputs = _h.expect_shape, _h.expect_unchanged, _h.inputs
unpack, upstream_note, variant = _h.unpack, _h.upstream_note, _h.paper_step_backward

NAMES = ("x", "h_prev", "Wx", "Wh", "b")
GRADS = _h.PAPER_GRADS
HINTS = {
    "dx": "Check: dx = da @ Wx.T with da = [da_r, da_u, da_h] side by side, (N, 3H).",
    "dh_prev": "Check: dh_prev adds three paths: dh * (1 - u) (direct), d(r * h_prev) * r "
    "(through the candidate) and [da_r, da_u] @ [Wh_r, Wh_u].T (through the gates).",
    "dWx": "Check: dWx = x.T @ da, blocks r, u, h_tilde, shape (D, 3H).",
    "dWh": "Check: dWh = [h_prev.T @ da_r, h_prev.T @ da_u, (r * h_prev).T @ da_h], (H, 3H).",
    "db": "Check: db = da summed over the batch (axis 0), blocks r, u, h_tilde, shape (3H,).",
}
SHAPE_HINT = (
    "Return (dx, dh_prev, dWx, dWh, db): one gradient per argument of gru_paper_step_forward, "
    "in its order, each with the shape of that argument."
)
FIX_FORWARD = "Fix gru_paper_step_forward first: the gradient check differentiates it."
WHY = " (called to get the cache for gru_paper_step_backward)"

VARIANTS = [
    (
        "Direct path missing: h = (1 - u) * h_prev + u * h_tilde uses h_prev directly, so "
        "dh_prev starts with dh * (1 - u). This is the path that carries the gradient back "
        "when u is near 0.",
        {"direct": False},
    ),
    (
        "The candidate reads s = r * h_prev, so its part of dh_prev is ds * r with "
        "ds = da_h @ Wh_h.T; you left out the factor r.",
        {"reset_factor": False},
    ),
    (
        "dh_prev misses the paths through the gates: h_prev also enters r and u, so add "
        "da_r @ Wh_r.T + da_u @ Wh_u.T.",
        {"gate_paths": False},
    ),
    (
        "Conventions mixed in the backward pass: in the paper form u weighs the candidate, so "
        "dh_tilde = dh * u, du = dh * (h_tilde - h_prev) and the direct path is dh * (1 - u).",
        {"direction": "old"},
    ),
    (
        "The sigmoid derivative is missing: da_r = dr * r * (1 - r) and da_u = du * u * (1 - u).",
        {"dsigmoid": "missing"},
    ),
    (
        "Wrong sigmoid derivative: you used 1 - s², the tanh's. For s = sigmoid(a), "
        "s'(a) = s * (1 - s): da_r = dr * r * (1 - r).",
        {"dsigmoid": "tanh"},
    ),
    (
        "The tanh derivative is missing: da_h = dh_tilde * (1 - h_tilde**2).",
        {"dtanh": "missing"},
    ),
    (
        "Wrong tanh derivative: you used 1 - a², a the pre-activation. tanh'(a) = 1 - tanh(a)², "
        "so da_h = dh_tilde * (1 - h_tilde**2).",
        {"dtanh": "pre"},
    ),
    (
        "The candidate block of dWh pairs da_h with what Wh_h multiplied, s = r * h_prev: "
        "(r * h_prev).T @ da_h, not h_prev.T @ da_h.",
        {"dWh_candidate": "h_prev"},
    ),
    (
        "db is the mean over the batch; the loss adds up the examples, so sum: "
        "db = da.sum(axis=0).",
        {"db": "mean"},
    ),
]


def _args(seed, N, D, H, zero_h_prev=False, scale=1.0):
    shapes = [(N, D), (N, H), (D, 3 * H), (H, 3 * H), (3 * H,), (N, H)]
    x, h_prev, Wx, Wh, b, dh = inputs(seed, shapes, [1, 1, scale, scale, scale])
    return [x, np.zeros((N, H)) if zero_h_prev else h_prev, Wx, Wh, b], dh


def _mistakes(args, dh):
    """Typical wrong gradients on these inputs, per gradient, with the hint naming each."""
    out = {g: [] for g in GRADS}
    for hint, kwargs in VARIANTS:
        for g, value in variant(dh, *args, **kwargs).items():
            out[g].append((hint, value))
    da_shape_hint = "db must be summed over the batch (axis 0), shape (3H,)."
    out["db"].append((da_shape_hint, lambda got: got.shape == (dh.shape[0], 3 * dh.shape[1])))
    return out


def _backward(student, args, dh, copy=True):
    """The student's gradients on the cache of their own forward, and a note if that is wrong."""
    fwd, bwd = student("gru_paper_step_forward"), student("gru_paper_step_backward")
    out = call(fwd, "gru_paper_step_forward", *args, why=WHY, copy=copy)
    h, cache = unpack(out, ("h", "cache"), "gru_paper_step_forward")
    out = call(bwd, "gru_paper_step_backward", dh, cache, copy=copy)
    grads = unpack(out, GRADS, "gru_paper_step_backward")
    return grads, upstream_note("gru_paper_step_forward", h, reference_forward(*args)[0])


def _check(student, args, dh, description):
    with case(description):
        grads, note = _backward(student, args, dh)
        expected = reference_backward(dh, reference_forward(*args)[1])
        with appended(note):
            expect_gradients(GRADS, grads, expected, _mistakes(args, dh), HINTS, SHAPE_HINT)


def test_returns_five_gradients_in_argument_order(student):
    args, dh = _args(120, N=2, D=3, H=4)
    with case("N=2, D=3, H=4"):
        grads, _note = _backward(student, args, dh)
        for name, g, arg in zip(GRADS, grads, args, strict=True):
            expect_shape(name, g, arg.shape, SHAPE_HINT)


def test_matches_reference_on_random_inputs(student):
    args, dh = _args(121, N=3, D=4, H=5)
    _check(student, args, dh, "N=3, D=4, H=5, random inputs")


def test_centred_differences_of_your_forward(student):
    args, dh = _args(122, N=2, D=3, H=2)
    fwd = student("gru_paper_step_forward")
    with case("N=2, D=3, H=2"):
        grads, _note = _backward(student, args, dh)

        def h_of_args():
            out = call(fwd, "gru_paper_step_forward", *args, why=WHY)
            h, _ = unpack(out, ("h", "cache"), "gru_paper_step_forward")
            expect_shape("h from gru_paper_step_forward", h, dh.shape, FIX_FORWARD)
            return h

        numerical = [numerical_gradient(h_of_args, a, dh) for a in args]
        expect_gradient_check(GRADS, grads, numerical, 1e-7, _mistakes(args, dh), HINTS, SHAPE_HINT)


def test_closed_update_gate_passes_the_gradient_straight_back(student):
    # u = 0: h = h_prev, so dh_prev = dh and every other gradient is (almost) zero
    args, dh = _args(123, N=3, D=2, H=3)
    args[4][3:6] = -30.0
    _check(student, args, dh, "N=3, D=2, H=3, update bias -30 (u close to 0)")


def test_open_update_gate(student):
    # u = 1: h = h_tilde, the gradient reaches h_prev only through the candidate and r
    args, dh = _args(124, N=3, D=2, H=3)
    args[4][3:6] = 30.0
    _check(student, args, dh, "N=3, D=2, H=3, update bias +30 (u close to 1)")


def test_reset_gate_scales_the_candidate_path(student):
    # reset gates near 1, near 0 and in between; large candidate weights
    args, dh = _args(125, N=2, D=3, H=3, scale=1.5)
    args[4][0:3] = [3.0, -3.0, 0.0]
    _check(student, args, dh, "N=2, D=3, H=3, strong reset gates")


def test_N_equals_1_and_H_equals_1(student):
    args, dh = _args(126, N=1, D=2, H=1)
    _check(student, args, dh, "N=1, D=2, H=1")


def test_zero_h_prev(student):
    # h_prev = 0: the r and u blocks of dWh and the reset gradient vanish
    args, dh = _args(127, N=3, D=2, H=3, zero_h_prev=True)
    _check(student, args, dh, "N=3, D=2, H=3, h_prev = 0")


def test_bias_gradient_sums_over_the_batch(student):
    args, dh = _args(128, N=5, D=2, H=3)
    _check(student, args, dh, "N=5, D=2, H=3")


def test_inputs_not_modified(student):
    args, dh = _args(129, N=2, D=3, H=4)
    before, dh_before = copies(args), dh.copy()
    with case("N=2, D=3, H=4"):
        _backward(student, args, dh, copy=False)
        expect_unchanged("gru_paper_step_backward", ["dh"], [dh_before], [dh])
        expect_unchanged("gru_paper_step_forward or gru_paper_step_backward", NAMES, before, args)
