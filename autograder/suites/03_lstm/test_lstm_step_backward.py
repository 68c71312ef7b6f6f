"""Hidden tests of lstm_step_backward, on the cache of the student's own lstm_step_forward.

dc_total = dc + dh * o * (1 - tanh(c)^2); do = dh * tanh(c), di = dc_total * g,
dg = dc_total * i, df = dc_total * c_prev, dc_prev = dc_total * f; da = the four blocks through
their nonlinearities in the order i, f, g, o; then the products of the RNN step. Each test
compares with solutions.lstm or with centred differences of the student's forward pass.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.gradients import numerical_gradient
from solutions.lstm import lstm_step_backward as reference_backward
from solutions.lstm import lstm_step_forward as reference_forward

# "03_lstm" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.03_lstm._helpers")
STEP_ARGS, appended, call, case = _h.STEP_ARGS, _h.appended, _h.call, _h.case
copies, expect_gradient_check = _h.copies, _h.expect_gradient_check
expect_gradients, expect_shape, expect_unchanged = (
    _h.expect_gradients,
    _h.expect_shape,
    _h.expect_unchanged,
)
inputs, step_backward_candidates, unpack = _h.inputs, _h.step_backward_candidates, _h.unpack
upstream_note = _h.upstream_note

GRADS = tuple("d" + n for n in STEP_ARGS)
DA = (
    "da = [di * i * (1 - i) | df * f * (1 - f) | dg * (1 - g**2) | do * o * (1 - o)], order "
    "i, f, g, o."
)
HINTS = {
    "dx": "Check: dx = da @ Wx.T. " + DA,
    "dh_prev": "Check: dh_prev = da @ Wh.T. " + DA,
    "dc_prev": "Check: dc_prev = dc_total * f with dc_total = dc + dh * o * (1 - tanh(c)**2).",
    "dWx": "Check: dWx = x.T @ da. " + DA,
    "dWh": "Check: dWh = h_prev.T @ da. " + DA,
    "db": "Check: db = da.sum(axis=0), (4H,). " + DA,
}
SHAPE_HINT = (
    "Return (dx, dh_prev, dc_prev, dWx, dWh, db): one gradient per argument of "
    "lstm_step_forward, in its order, each with the shape of that argument."
)
WHY = " (called to get the cache for lstm_step_backward)"
FIX_FORWARD = "Fix lstm_step_forward first: the gradient check differentiates it."


def _args(seed, N, D, H):
    shapes = [(N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,), (N, H), (N, H)]
    *args, dh, dc = inputs(seed, shapes)
    return args, dh, dc


def _backward(student, args, dh, dc, copy=True):
    """The student's gradients on the cache of their own forward, and a note if that is wrong."""
    fwd, bwd = student("lstm_step_forward"), student("lstm_step_backward")
    out = call(fwd, "lstm_step_forward", *args, why=WHY, copy=copy)
    h, c, cache = unpack(out, ("h", "c", "cache"), "lstm_step_forward")
    out = call(bwd, "lstm_step_backward", dh, dc, cache, copy=copy)
    grads = unpack(out, GRADS, "lstm_step_backward")
    h_ref, c_ref, _ = reference_forward(*args)
    note = upstream_note("lstm_step_forward", c, c_ref) or upstream_note(
        "lstm_step_forward", h, h_ref
    )
    return grads, note


def _check(student, args, dh, dc, description):
    with case(description):
        grads, note = _backward(student, args, dh, dc)
        expected = reference_backward(dh, dc, reference_forward(*args)[2])
        with appended(note):
            cands = step_backward_candidates(dh, dc, args)
            expect_gradients(GRADS, grads, expected, cands, HINTS, SHAPE_HINT)


def test_returns_six_gradients_in_argument_order(student):
    args, dh, dc = _args(80, N=2, D=3, H=4)
    with case("N=2, D=3, H=4"):
        grads, _note = _backward(student, args, dh, dc)
        for name, g, arg in zip(GRADS, grads, args, strict=True):
            expect_shape(name, g, arg.shape, SHAPE_HINT)


def test_matches_reference_on_random_inputs(student):
    args, dh, dc = _args(81, N=3, D=4, H=5)
    _check(student, args, dh, dc, "N=3, D=4, H=5, random inputs")


def test_gradient_from_h_only(student):
    # dc = 0: c gets its gradient only through h = o * tanh(c)
    args, dh, dc = _args(82, N=2, D=3, H=3)
    _check(student, args, dh, np.zeros_like(dc), "N=2, D=3, H=3, dc = 0")


def test_gradient_from_c_only(student):
    # dh = 0: the output gate gets no gradient, everything comes from dc
    args, dh, dc = _args(83, N=2, D=3, H=3)
    _check(student, args, np.zeros_like(dh), dc, "N=2, D=3, H=3, dh = 0")


def test_centred_differences_of_your_forward(student):
    args, dh, dc = _args(84, N=2, D=3, H=2)
    fwd = student("lstm_step_forward")
    with case("N=2, D=3, H=2"):
        grads, _note = _backward(student, args, dh, dc)

        def outputs():
            out = call(fwd, "lstm_step_forward", *args, why=WHY)
            h, c, _ = unpack(out, ("h", "c", "cache"), "lstm_step_forward")
            expect_shape("h from lstm_step_forward", h, dh.shape, FIX_FORWARD)
            expect_shape("c from lstm_step_forward", c, dc.shape, FIX_FORWARD)
            return h, c

        numerical = [numerical_gradient(outputs, a, (dh, dc)) for a in args]
        cands = step_backward_candidates(dh, dc, args)
        expect_gradient_check(GRADS, grads, numerical, 1e-7, cands, HINTS, SHAPE_HINT)


def test_N_equals_1_and_H_equals_1(student):
    args, dh, dc = _args(85, N=1, D=2, H=1)
    _check(student, args, dh, dc, "N=1, D=2, H=1")


def test_D_much_larger_than_H(student):
    args, dh, dc = _args(86, N=3, D=7, H=2)
    _check(student, args, dh, dc, "N=3, D=7, H=2")


def test_inputs_not_modified(student):
    args, dh, dc = _args(87, N=2, D=3, H=4)
    before, d_before = copies(args), copies([dh, dc])
    with case("N=2, D=3, H=4"):
        _backward(student, args, dh, dc, copy=False)
        expect_unchanged("lstm_step_backward", ["dh", "dc"], d_before, [dh, dc])
        expect_unchanged("lstm_step_forward or lstm_step_backward", STEP_ARGS, before, args)
