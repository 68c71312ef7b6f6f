"""Hidden tests of rnn_backward (BPTT), on the cache of the student's own rnn_forward.

Walking t = T..1: the gradient reaching h_t is dh[:, t] plus dh_next (what step t+1 sends back
through h_prev); da_t = that * (1 - h_t^2); the shared weights get the SUM over t of the
per-step gradients; dh0 is what step 1 sends back. Each test compares with solutions.rnn, or with
centred differences of the student's own forward, and names the typical BPTT mistakes.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.gradients import numerical_gradient
from solutions.rnn import rnn_backward as reference_backward
from solutions.rnn import rnn_forward as reference_forward

# "01_rnn" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.01_rnn._helpers")
appended, call, case, copies = _h.appended, _h.call, _h.case, _h.copies
expect_gradient_check, expect_gradients = _h.expect_gradient_check, _h.expect_gradients
expect_shape, expect_unchanged, inputs = _h.expect_shape, _h.expect_unchanged, _h.inputs
unpack, upstream_note = _h.unpack, _h.upstream_note

NAMES = ("x", "h0", "Wx", "Wh", "b")
GRADS = ("dx", "dh0", "dWx", "dWh", "db")
HINTS = {
    "dx": "Check: dx[:, t] = da_t @ Wx.T, where da_t = (dh[:, t] + dh_next) * (1 - h_t**2).",
    "dh0": "Check: dh0 is the dh_prev returned by the backward of the first step.",
    "dWx": "Check: dWx is the sum over all steps of x_t.T @ da_t.",
    "dWh": "Check: dWh is the sum over all steps of h_{t-1}.T @ da_t (h_0 = h0 at step 1).",
    "db": "Check: db is the sum over all steps and examples of da_t.",
}
SHAPE_HINT = (
    "Return (dx, dh0, dWx, dWh, db): one gradient per argument of rnn_forward, in its order, "
    "each with the shape of that argument."
)
FIX_FORWARD = "Fix rnn_forward first: the gradient check differentiates it."
WHY = " (called to get the cache for rnn_backward)"

ACCUMULATE = (
    "{name} is the gradient of time step t={t} alone: the weights are shared by all T steps, so "
    "accumulate (add up) the gradient of every step, starting from zeros ({name} += ..., not "
    "{name} = ...)."
)
CARRY = (
    "dh_next is not carried: the gradient reaching h_t is dh[:, t] from above PLUS dh_next, the "
    "dh_prev that the backward of step t+1 returned; walk backwards in time adding it."
)
ONLY_LAST = (
    "Only dh[:, T-1] was used: every state h_t also gets its own upstream gradient dh[:, t]; "
    "add it to dh_next at each step."
)


def _args(seed, N, T, D, H, zero_h0=False, wh_scale=0.5):
    shapes = [(N, T, D), (N, H), (D, H), (H, H), (H,), (N, T, H)]
    x, h0, Wx, Wh, b, dh = inputs(seed, shapes, [1, 1, 1, wh_scale])
    return [x, np.zeros((N, H)) if zero_h0 else h0, Wx, Wh, b], dh


def _bptt(x, h0, Wx, Wh, b, dh, carry=True, only_last=False):
    """BPTT on the reference states, keeping each step's weight gradients apart.

    Returns dx, dh0 and the lists of per-step dWx, dWh, db (index t-1 for step t). Without
    ``carry`` no gradient flows from step t+1 to step t; with ``only_last`` only dh[:, T-1]
    comes from above.
    """
    hs = reference_forward(x, h0, Wx, Wh, b)[0]
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = [None] * T, [None] * T, [None] * T
    d_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else hs[:, t - 1]
        up = dh[:, t] if (t == T - 1 or not only_last) else 0.0
        da = (up + (d_next if carry else 0.0)) * (1 - hs[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        d_next = da @ Wh.T
        dWx[t], dWh[t], db[t] = x[:, t].T @ da, h_prev.T @ da, da.sum(axis=0)
    return dx, d_next, dWx, dWh, db


def _mistakes(args, dh):
    """Typical wrong BPTT gradients on these inputs, per gradient, with the hint naming each."""
    T = dh.shape[1]
    good = _bptt(*args, dh)
    no_carry = _bptt(*args, dh, carry=False)
    only_last = _bptt(*args, dh, only_last=True)
    out = {
        "dx": [(CARRY, no_carry[0]), (ONLY_LAST, only_last[0])],
        "dh0": [
            (CARRY, no_carry[1]),
            (ONLY_LAST, only_last[1]),
            (
                "dh0 is the gradient flowing into h0 out of step 1 (that step's dh_prev), not "
                "dh[:, 0].",
                dh[:, 0],
            ),
            (
                "dh0 is zero: return the dh_prev of the first step, the gradient flowing into h0.",
                np.zeros_like(good[1]),
            ),
        ],
    }
    for i, name in enumerate(("dWx", "dWh", "db"), start=2):
        cands = []
        for t in range(T):
            cands.append((ACCUMULATE.format(name=name, t=t + 1), good[i][t]))
            cands.append(
                (ACCUMULATE.format(name=name, t=t + 1) + " Also, " + CARRY, no_carry[i][t])
            )
        cands += [
            (CARRY, sum(no_carry[i])),
            (ONLY_LAST, sum(only_last[i])),
            (
                f"{name} is averaged over time; the gradients of shared weights add up: sum them, "
                "do not divide by T.",
                sum(good[i]) / T,
            ),
        ]
        out[name] = cands
    return out


def _backward(student, args, dh, copy=True):
    """The student's gradients on the cache of their own forward, and a note if that is wrong."""
    fwd, bwd = student("rnn_forward"), student("rnn_backward")
    out = call(fwd, "rnn_forward", *args, why=WHY, copy=copy)
    h, cache = unpack(out, ("h", "cache"), "rnn_forward")
    out = call(bwd, "rnn_backward", dh, cache, copy=copy)
    grads = unpack(out, GRADS, "rnn_backward")
    return grads, upstream_note("rnn_forward", h, reference_forward(*args)[0])


def _check(student, args, dh, description):
    with case(description):
        grads, note = _backward(student, args, dh)
        expected = reference_backward(dh, reference_forward(*args)[1])
        with appended(note):
            expect_gradients(GRADS, grads, expected, _mistakes(args, dh), HINTS, SHAPE_HINT)


def test_returns_five_gradients_in_argument_order(student):
    args, dh = _args(40, N=2, T=3, D=4, H=5)
    with case("N=2, T=3, D=4, H=5"):
        grads, _note = _backward(student, args, dh)
        for name, g, arg in zip(GRADS, grads, args, strict=True):
            expect_shape(name, g, arg.shape, SHAPE_HINT)


def test_matches_reference_on_random_inputs(student):
    args, dh = _args(41, N=3, T=4, D=2, H=3)
    _check(student, args, dh, "N=3, T=4, D=2, H=3, random inputs")


def test_gradient_accumulates_over_time(student):
    args, dh = _args(42, N=2, T=5, D=3, H=4)
    _check(student, args, dh, "N=2, T=5, D=3, H=4")


def test_gradient_flows_back_through_time(student):
    # only the last state gets a gradient from above: everything earlier comes through dh_next
    args, dh = _args(43, N=2, T=4, D=3, H=3, wh_scale=1.0)
    dh[:, :-1] = 0.0
    _check(student, args, dh, "N=2, T=4, D=3, H=3, dh = 0 except at the last step")


def test_every_step_receives_its_upstream_gradient(student):
    # only the first state gets a gradient from above
    args, dh = _args(44, N=2, T=4, D=2, H=3)
    dh[:, 1:] = 0.0
    _check(student, args, dh, "N=2, T=4, D=2, H=3, dh = 0 except at the first step")


def test_centred_differences_of_your_forward(student):
    args, dh = _args(45, N=2, T=3, D=3, H=2)
    fwd = student("rnn_forward")
    with case("N=2, T=3, D=3, H=2"):
        grads, _note = _backward(student, args, dh)

        def h_of_args():
            out = call(fwd, "rnn_forward", *args, why=WHY)
            h, _ = unpack(out, ("h", "cache"), "rnn_forward")
            expect_shape("h from rnn_forward", h, dh.shape, FIX_FORWARD)
            return h

        numerical = [numerical_gradient(h_of_args, a, dh) for a in args]
        expect_gradient_check(GRADS, grads, numerical, 1e-7, _mistakes(args, dh), HINTS, SHAPE_HINT)


def test_T_equals_1(student):
    args, dh = _args(46, N=3, T=1, D=2, H=4)
    _check(student, args, dh, "N=3, T=1, D=2, H=4")


def test_N_equals_1_and_H_equals_1(student):
    args, dh = _args(47, N=1, T=4, D=2, H=1)
    _check(student, args, dh, "N=1, T=4, D=2, H=1")


def test_zero_h0(student):
    args, dh = _args(48, N=2, T=3, D=2, H=3, zero_h0=True)
    _check(student, args, dh, "N=2, T=3, D=2, H=3, h0 = 0")


def test_inputs_not_modified(student):
    args, dh = _args(49, N=2, T=3, D=3, H=4)
    before, dh_before = copies(args), dh.copy()
    with case("N=2, T=3, D=3, H=4"):
        _backward(student, args, dh, copy=False)
        expect_unchanged("rnn_backward", ["dh"], [dh_before], [dh])
        expect_unchanged("rnn_forward or rnn_backward", NAMES, before, args)
