"""Hidden tests of lstm_backward (BPTT), on the cache of the student's own lstm_forward.

Walking t = T..1, the gradient reaching h_t is dh[:, t] + dh_next and the one reaching c_t is
dc[:, t] + dc_next (dc may be None: zero); each step's backward returns the next dh_next and
dc_next; the shared weights get the SUM over t of the per-step gradients; dh0 and dc0 are what
the first step sends back. The suite names the typical BPTT mistakes, first of all the cell-state
gradient that is not carried from step to step.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.gradients import numerical_gradient
from solutions.lstm import lstm_backward as reference_backward
from solutions.lstm import lstm_forward as reference_forward

# "03_lstm" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.03_lstm._helpers")
SEQ_ARGS, appended, call, case = _h.SEQ_ARGS, _h.appended, _h.call, _h.case
copies, expect_gradient_check = _h.copies, _h.expect_gradient_check
expect_gradients, expect_shape, expect_unchanged = (
    _h.expect_gradients,
    _h.expect_shape,
    _h.expect_unchanged,
)
inputs, step_backward, unpack, upstream_note = (
    _h.inputs,
    _h.step_backward,
    _h.unpack,
    _h.upstream_note,
)

GRADS = tuple("d" + n for n in SEQ_ARGS)
HINTS = {
    "dx": "Check: step t's backward gets dh[:, t] + dh_next and dc[:, t] + dc_next; its dx "
    "goes to dx[:, t].",
    "dh0": "Check: dh0 is the dh_prev returned by the backward of the first step.",
    "dc0": "Check: dc0 is the dc_prev returned by the backward of the first step.",
    "dWx": "Check: dWx is the sum over all steps of each step's dWx.",
    "dWh": "Check: dWh is the sum over all steps of each step's dWh (h_{t-1} = h0 at step 1).",
    "db": "Check: db is the sum over all steps of each step's db.",
}
SHAPE_HINT = (
    "Return (dx, dh0, dc0, dWx, dWh, db): one gradient per argument of lstm_forward, in its "
    "order, each with the shape of that argument."
)
WHY = " (called to get the cache for lstm_backward)"
FIX_FORWARD = "Fix lstm_forward first: the gradient check differentiates it."
DC_NONE = "(In this test dc is None: no gradient reaches the cell states from above; use zeros.)"

NO_C_CARRY = (
    "The gradient through the cell state is not carried across time steps: the gradient "
    "reaching c_t is dc[:, t] PLUS dc_next, the dc_prev that the backward of step t+1 returned. "
    "Carry dc_next backwards as you carry dh_next."
)
NO_H_CARRY = (
    "dh_next is not carried: the gradient reaching h_t is dh[:, t] PLUS the dh_prev that the "
    "backward of step t+1 returned."
)
ACCUMULATE = (
    "{name} is the gradient of time step t={t} alone: the weights are shared by all T steps, so "
    "add up the gradients of every step, starting from zeros ({name} += ...)."
)


def _args(seed, N, T, D, H, wh_scale=0.5):
    shapes = [(N, T, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,), (N, T, H), (N, T, H)]
    *args, dh, dc = inputs(seed, shapes, [1, 1, 1, 1, wh_scale])
    return args, dh, dc


def _bptt(args, dh, dc, carry_c=True, carry_h=True):
    """BPTT on the reference states, keeping each step's weight gradients apart."""
    x, h0, c0, Wx, Wh, b = args
    h, c, _ = reference_forward(*args)
    T = x.shape[1]
    dx = np.zeros_like(x)
    per_step = {"dWx": [None] * T, "dWh": [None] * T, "db": [None] * T}
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        c_prev = c0 if t == 0 else c[:, t - 1]
        up_c = 0.0 if dc is None else dc[:, t]
        g = step_backward(
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
        per_step["dWx"][t], per_step["dWh"][t], per_step["db"][t] = g[3], g[4], g[5]
    return dx, dh_next, dc_next, per_step


def _mistakes(args, dh, dc):
    """Typical wrong BPTT gradients on these inputs, per gradient, with the hint naming each."""
    good = _bptt(args, dh, dc)
    no_c = _bptt(args, dh, dc, carry_c=False)
    no_h = _bptt(args, dh, dc, carry_h=False)
    out = {"dx": [(NO_C_CARRY, no_c[0]), (NO_H_CARRY, no_h[0])]}
    out["dh0"] = [
        (NO_C_CARRY, no_c[1]),
        (NO_H_CARRY, no_h[1]),
        ("dh0 is the gradient flowing out of step 1 into h0, not dh[:, 0].", dh[:, 0]),
        ("dh0 is zero: return the dh_prev of the first step.", np.zeros_like(good[1])),
    ]
    out["dc0"] = [
        (NO_C_CARRY, no_c[2]),
        (NO_H_CARRY, no_h[2]),
        ("dc0 is zero: return the dc_prev of the first step (carry dc_next).", 0 * good[2]),
    ]
    if dc is not None:
        out["dc0"].append(("dc0 is the gradient flowing out of step 1, not dc[:, 0].", dc[:, 0]))
    T = dh.shape[1]
    for name in ("dWx", "dWh", "db"):
        cands = [(ACCUMULATE.format(name=name, t=t + 1), good[3][name][t]) for t in range(T)]
        cands += [
            (NO_C_CARRY, sum(no_c[3][name])),
            (NO_H_CARRY, sum(no_h[3][name])),
            (
                f"{name} is averaged over time; the gradients of shared weights add up.",
                sum(good[3][name]) / T,
            ),
        ]
        out[name] = cands
    return out


def _backward(student, args, dh, dc, copy=True):
    """The student's gradients on the cache of their own forward, and a note if that is wrong."""
    fwd, bwd = student("lstm_forward"), student("lstm_backward")
    out = call(fwd, "lstm_forward", *args, why=WHY, copy=copy)
    h, c, cache = unpack(out, ("h", "c", "cache"), "lstm_forward")
    out = call(bwd, "lstm_backward", dh, dc, cache, copy=copy)
    grads = unpack(out, GRADS, "lstm_backward")
    h_ref, c_ref, _ = reference_forward(*args)
    note = upstream_note("lstm_forward", h, h_ref) or upstream_note("lstm_forward", c, c_ref)
    return grads, note


def _check(student, args, dh, dc, description):
    with case(description), appended(DC_NONE if dc is None else ""):
        grads, note = _backward(student, args, dh, dc)
        expected = reference_backward(dh, dc, reference_forward(*args)[2])
        with appended(note):
            expect_gradients(GRADS, grads, expected, _mistakes(args, dh, dc), HINTS, SHAPE_HINT)


def test_returns_six_gradients_in_argument_order(student):
    args, dh, dc = _args(90, N=2, T=3, D=4, H=5)
    with case("N=2, T=3, D=4, H=5"):
        grads, _note = _backward(student, args, dh, dc)
        for name, g, arg in zip(GRADS, grads, args, strict=True):
            expect_shape(name, g, arg.shape, SHAPE_HINT)


def test_matches_reference_with_dc(student):
    args, dh, dc = _args(91, N=3, T=4, D=2, H=3)
    _check(student, args, dh, dc, "N=3, T=4, D=2, H=3, dh and dc given")


def test_matches_reference_with_dc_none(student):
    args, dh, _dc = _args(92, N=3, T=4, D=2, H=3)
    _check(student, args, dh, None, "N=3, T=4, D=2, H=3, dc = None")


def test_loss_on_the_last_hidden_state_only(student):
    # everything before step T reaches the loss only through dh_next and dc_next
    args, dh, _dc = _args(93, N=2, T=5, D=3, H=3, wh_scale=1.0)
    dh[:, :-1] = 0.0
    _check(student, args, dh, None, "N=2, T=5, D=3, H=3, dh = 0 except at the last step")


def test_gradient_along_the_cell_state(student):
    # only c_T gets a gradient from above: it travels back along the cell state
    args, dh, dc = _args(94, N=2, T=5, D=2, H=3)
    dc[:, :-1] = 0.0
    _check(student, args, np.zeros_like(dh), dc, "N=2, T=5, dh = 0, dc = 0 except at c_T")


def test_centred_differences_of_your_forward(student):
    args, dh, dc = _args(95, N=2, T=3, D=2, H=2)
    fwd = student("lstm_forward")
    with case("N=2, T=3, D=2, H=2"):
        grads, _note = _backward(student, args, dh, dc)

        def outputs():
            out = call(fwd, "lstm_forward", *args, why=WHY)
            h, c, _ = unpack(out, ("h", "c", "cache"), "lstm_forward")
            expect_shape("h from lstm_forward", h, dh.shape, FIX_FORWARD)
            expect_shape("c from lstm_forward", c, dc.shape, FIX_FORWARD)
            return h, c

        numerical = [numerical_gradient(outputs, a, (dh, dc)) for a in args]
        cands = _mistakes(args, dh, dc)
        expect_gradient_check(GRADS, grads, numerical, 1e-7, cands, HINTS, SHAPE_HINT)


def test_T_equals_1(student):
    args, dh, dc = _args(96, N=3, T=1, D=2, H=4)
    _check(student, args, dh, dc, "N=3, T=1, D=2, H=4")


def test_N_equals_1_and_H_equals_1(student):
    args, dh, dc = _args(97, N=1, T=4, D=2, H=1)
    _check(student, args, dh, dc, "N=1, T=4, D=2, H=1")


def test_long_sequence(student):
    args, dh, _dc = _args(98, N=2, T=20, D=2, H=3, wh_scale=1.0)
    _check(student, args, dh, None, "N=2, T=20, D=2, H=3, dc = None")


def test_inputs_not_modified(student):
    args, dh, dc = _args(99, N=2, T=3, D=3, H=4)
    before, d_before = copies(args), copies([dh, dc])
    with case("N=2, T=3, D=3, H=4"):
        _backward(student, args, dh, dc, copy=False)
        expect_unchanged("lstm_backward", ["dh", "dc"], d_before, [dh, dc])
        expect_unchanged("lstm_forward or lstm_backward", SEQ_ARGS, before, args)
