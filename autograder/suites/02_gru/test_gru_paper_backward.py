"""Hidden tests of gru_paper_backward (BPTT), on the cache of the student's own gru_paper_forward.

Walking t = T..1: the gradient reaching h_t is dh[:, t] plus dh_next (what step t+1 sends back
through h_prev); the shared weights get the SUM over t of the per-step gradients; dh0 is what
step 1 sends back. With the update gate closed (u = 0) every state is a copy of h0, so
dh0 = sum_t dh[:, t]: the gradient crosses all T steps unchanged. Each test compares with
solutions.gru, or with centred differences of the student's own forward.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from solutions.gradients import numerical_gradient
from solutions.gru import gru_paper_backward as reference_backward
from solutions.gru import gru_paper_forward as reference_forward

# "02_gru" is not an identifier, so pytest imports this file as a top-level module: import the
# shared helpers by their full name, which no other assignment's helpers can shadow.
_h = import_module("autograder.suites.02_gru._helpers")
appended, call, case, copies = _h.appended, _h.call, _h.case, _h.copies
expect_gradient_check, expect_gradients = _h.expect_gradient_check, _h.expect_gradients
expect_shape, expect_unchanged, inputs = _h.expect_shape, _h.expect_unchanged, _h.inputs
paper_bptt, unpack, upstream_note = _h.paper_bptt, _h.unpack, _h.upstream_note

NAMES = ("x", "h0", "Wx", "Wh", "b")
GRADS = ("dx", "dh0", "dWx", "dWh", "db")
HINTS = {
    "dx": "Check: dx[:, t] is the dx of step t's backward, run on dh[:, t] + dh_next.",
    "dh0": "Check: dh0 is the dh_prev returned by the backward of the first step.",
    "dWx": "Check: dWx is the sum over all steps of that step's dWx.",
    "dWh": "Check: dWh is the sum over all steps of that step's dWh (step 1 uses h_prev = h0).",
    "db": "Check: db is the sum over all steps of that step's db.",
}
SHAPE_HINT = (
    "Return (dx, dh0, dWx, dWh, db): one gradient per argument of gru_paper_forward, in its "
    "order, each with the shape of that argument."
)
FIX_FORWARD = "Fix gru_paper_forward first: the gradient check differentiates it."
WHY = " (called to get the cache for gru_paper_backward)"

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
NO_DIRECT = (
    "Your step backward misses the direct path dh * (1 - u) in dh_prev (see "
    "gru_paper_step_backward): without it the gradient cannot cross the steps where u is near 0."
)


def _args(seed, N, T, D, H, zero_h0=False, w_scale=0.6):
    shapes = [(N, T, D), (N, H), (D, 3 * H), (H, 3 * H), (3 * H,), (N, T, H)]
    x, h0, Wx, Wh, b, dh = inputs(seed, shapes, [1, 1, w_scale, w_scale])
    return [x, np.zeros((N, H)) if zero_h0 else h0, Wx, Wh, b], dh


def _mistakes(args, dh):
    """Typical wrong BPTT gradients on these inputs, per gradient, with the hint naming each."""
    T = dh.shape[1]
    good = paper_bptt(*args, dh)
    no_carry = paper_bptt(*args, dh, carry=False)
    only_last = paper_bptt(*args, dh, only_last=True)
    no_direct = paper_bptt(*args, dh, direct=False)
    out = {
        "dx": [(CARRY, no_carry[0]), (ONLY_LAST, only_last[0]), (NO_DIRECT, no_direct[0])],
        "dh0": [
            (CARRY, no_carry[1]),
            (ONLY_LAST, only_last[1]),
            (NO_DIRECT, no_direct[1]),
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
            (NO_DIRECT, sum(no_direct[i])),
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
    fwd, bwd = student("gru_paper_forward"), student("gru_paper_backward")
    out = call(fwd, "gru_paper_forward", *args, why=WHY, copy=copy)
    h, cache = unpack(out, ("h", "cache"), "gru_paper_forward")
    out = call(bwd, "gru_paper_backward", dh, cache, copy=copy)
    grads = unpack(out, GRADS, "gru_paper_backward")
    return grads, upstream_note("gru_paper_forward", h, reference_forward(*args)[0])


def _check(student, args, dh, description):
    with case(description):
        grads, note = _backward(student, args, dh)
        expected = reference_backward(dh, reference_forward(*args)[1])
        with appended(note):
            expect_gradients(GRADS, grads, expected, _mistakes(args, dh), HINTS, SHAPE_HINT)


def test_returns_five_gradients_in_argument_order(student):
    args, dh = _args(130, N=2, T=3, D=4, H=5)
    with case("N=2, T=3, D=4, H=5"):
        grads, _note = _backward(student, args, dh)
        for name, g, arg in zip(GRADS, grads, args, strict=True):
            expect_shape(name, g, arg.shape, SHAPE_HINT)


def test_matches_reference_on_random_inputs(student):
    args, dh = _args(131, N=3, T=4, D=2, H=3)
    _check(student, args, dh, "N=3, T=4, D=2, H=3, random inputs")


def test_gradient_accumulates_over_time(student):
    args, dh = _args(132, N=2, T=5, D=3, H=4)
    _check(student, args, dh, "N=2, T=5, D=3, H=4")


def test_gradient_flows_back_through_time(student):
    # only the last state gets a gradient from above: everything earlier comes through dh_next
    args, dh = _args(133, N=2, T=4, D=3, H=3, w_scale=1.0)
    dh[:, :-1] = 0.0
    _check(student, args, dh, "N=2, T=4, D=3, H=3, dh = 0 except at the last step")


def test_every_step_receives_its_upstream_gradient(student):
    # only the first state gets a gradient from above
    args, dh = _args(134, N=2, T=4, D=2, H=3)
    dh[:, 1:] = 0.0
    _check(student, args, dh, "N=2, T=4, D=2, H=3, dh = 0 except at the first step")


def test_closed_update_gate_carries_the_gradient_to_h0(student):
    # u = 0 at every step: h_t = h0 for all t, so dh0 = dh.sum(axis=1) and the weights get ~0
    args, dh = _args(135, N=2, T=6, D=2, H=3)
    args[4][3:6] = -30.0
    _check(student, args, dh, "N=2, T=6, D=2, H=3, update bias -30 (u close to 0)")


def test_centred_differences_of_your_forward(student):
    args, dh = _args(136, N=2, T=3, D=2, H=2)
    fwd = student("gru_paper_forward")
    with case("N=2, T=3, D=2, H=2"):
        grads, _note = _backward(student, args, dh)

        def h_of_args():
            out = call(fwd, "gru_paper_forward", *args, why=WHY)
            h, _ = unpack(out, ("h", "cache"), "gru_paper_forward")
            expect_shape("h from gru_paper_forward", h, dh.shape, FIX_FORWARD)
            return h

        numerical = [numerical_gradient(h_of_args, a, dh) for a in args]
        expect_gradient_check(GRADS, grads, numerical, 1e-7, _mistakes(args, dh), HINTS, SHAPE_HINT)


def test_T_equals_1(student):
    args, dh = _args(137, N=3, T=1, D=2, H=4)
    _check(student, args, dh, "N=3, T=1, D=2, H=4")


def test_N_equals_1_and_H_equals_1(student):
    args, dh = _args(138, N=1, T=4, D=2, H=1)
    _check(student, args, dh, "N=1, T=4, D=2, H=1")


def test_zero_h0(student):
    args, dh = _args(139, N=2, T=3, D=2, H=3, zero_h0=True)
    _check(student, args, dh, "N=2, T=3, D=2, H=3, h0 = 0")


def test_inputs_not_modified(student):
    args, dh = _args(140, N=2, T=3, D=3, H=4)
    before, dh_before = copies(args), dh.copy()
    with case("N=2, T=3, D=3, H=4"):
        _backward(student, args, dh, copy=False)
        expect_unchanged("gru_paper_backward", ["dh"], [dh_before], [dh])
        expect_unchanged("gru_paper_forward or gru_paper_backward", NAMES, before, args)
