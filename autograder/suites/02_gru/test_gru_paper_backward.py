"""Hidden tests of gru_paper_backward (BPTT), on the cache of the student's own gru_paper_forward.

Walking t = T..1: the gradient reaching h_t is dh[:, t] plus dh_next (what step t+1 sends back
through h_prev); the shared weights get the SUM over t of the per-step gradients; dh0 is what
step 1 sends back. With the update gate closed (u = 0) every state is a copy of h0, so
dh0 = sum_t dh[:, t]: the gradient crosses all T steps unchanged. Each test compares with
solutions.gru, or with centred differences of the student's own forward.
"""

from __future__ import annotations

from autograder.suites.cells.gru import PAPER_GRADS, PAPER_SEQUENCE, paper_step_backward
from autograder.suites.kit import Arg, Backward, Case, Mistakes, put
from autograder.suites.kit.recurrent import bptt, bptt_mistakes, reference_step_backward
from solutions.gru import (
    gru_paper_backward,
    gru_paper_forward,
    gru_paper_step_backward,
    gru_paper_step_forward,
)

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
NO_DIRECT = (
    "Your step backward misses the direct path dh * (1 - u) in dh_prev (see "
    "gru_paper_step_backward): without it the gradient cannot cross the steps where u is near 0."
)


def _no_direct_step(dh, *step_args):
    """A step backward without the direct path dh * (1 - u), as the (dx, dh_prev, ...) tuple."""
    grads = paper_step_backward(dh, *step_args, direct=False)
    return tuple(grads[g] for g in PAPER_GRADS)


def _no_direct(x, h0, Wx, Wh, b, dh):
    dx, (dh0,), (dWx, dWh, db) = bptt(
        _no_direct_step, gru_paper_forward, [x, h0, Wx, Wh, b], [dh], 1
    )
    values = {"dx": dx, "dh0": dh0, "dWx": sum(dWx), "dWh": sum(dWh), "db": sum(db)}
    return [(NO_DIRECT, values)]


BPTT = Backward(
    "gru_paper_backward",
    PAPER_SEQUENCE,
    gru_paper_backward,
    upstream=[Arg("dh", "N, T, H")],
    title="backward through time",
    hints=HINTS,
    shape_hint=SHAPE_HINT,
    mistakes=[
        *bptt_mistakes(
            reference_step_backward(gru_paper_step_forward, gru_paper_step_backward, 1),
            gru_paper_forward,
            PAPER_SEQUENCE.arg_names(),
            ["h"],
        ),
        Mistakes(_no_direct),
    ],
)
W = {"Wx": 0.6, "Wh": 0.6}  # this suite's weight scale (the forward suite's is 0.7)
W1 = {"Wx": 1.0, "Wh": 1.0}
ALL_BUT = {"last": (slice(None), slice(None, -1)), "first": (slice(None), slice(1, None))}

test_shapes = BPTT.shapes_test(Case(130, N=2, T=3, D=4, H=5, scale=W))
test_values = BPTT.tests(
    [
        Case(131, "random inputs", N=3, T=4, D=2, H=3, scale=W),
        Case(132, N=2, T=5, D=3, H=4, scale=W),
        # only the last state gets a gradient from above: everything earlier comes through dh_next
        Case(133, "dh = 0 except at the last step", N=2, T=4, D=3, H=3, scale=W1,
             edit=put("dh", ALL_BUT["last"], 0.0)),
        # only the first state gets a gradient from above
        Case(134, "dh = 0 except at the first step", N=2, T=4, D=2, H=3, scale=W,
             edit=put("dh", ALL_BUT["first"], 0.0)),
        # u = 0 at every step: h_t = h0 for all t, so dh0 = dh.sum(axis=1) and the weights get ~0
        Case(135, "update bias -30 (u close to 0)", N=2, T=6, D=2, H=3, scale=W,
             edit=put("b", slice(3, 6), -30.0)),
    ]
)  # fmt: skip
test_centred_differences = BPTT.gradient_check_test(Case(136, N=2, T=3, D=2, H=2, scale=W))
test_edge_cases = BPTT.tests(
    [
        Case(137, N=3, T=1, D=2, H=4, scale=W),
        Case(138, N=1, T=4, D=2, H=1, scale=W),
        Case(139, "h0 = 0", N=2, T=3, D=2, H=3, scale=W, zero_states=True),
    ]
)
test_inputs_not_modified = BPTT.unchanged_test(Case(140, N=2, T=3, D=3, H=4, scale=W))
