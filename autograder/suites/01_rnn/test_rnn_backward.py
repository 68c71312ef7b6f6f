"""Hidden tests of rnn_backward (BPTT), on the cache of the student's own rnn_forward.

Walking t = T..1: the gradient reaching h_t is dh[:, t] plus dh_next (what step t+1 sends back
through h_prev); da_t = that * (1 - h_t^2); the shared weights get the SUM over t of the
per-step gradients; dh0 is what step 1 sends back. Each test compares with solutions.rnn, or with
centred differences of the student's own forward, and names the typical BPTT mistakes.
"""

from __future__ import annotations

from autograder.suites.cells.rnn import SEQUENCE
from autograder.suites.kit import Arg, Backward, Case, put
from autograder.suites.kit.recurrent import bptt_mistakes, reference_step_backward
from solutions.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

BPTT = Backward(
    "rnn_backward",
    SEQUENCE,
    rnn_backward,
    upstream=[Arg("dh", "N, T, H")],
    title="backward through time",
    hints={
        "dx": "Check: dx[:, t] = da_t @ Wx.T, where da_t = (dh[:, t] + dh_next) * (1 - h_t**2).",
        "dh0": "Check: dh0 is the dh_prev returned by the backward of the first step.",
        "dWx": "Check: dWx is the sum over all steps of x_t.T @ da_t.",
        "dWh": "Check: dWh is the sum over all steps of h_{t-1}.T @ da_t (h_0 = h0 at step 1).",
        "db": "Check: db is the sum over all steps and examples of da_t.",
    },
    shape_hint=(
        "Return (dx, dh0, dWx, dWh, db): one gradient per argument of rnn_forward, in its order, "
        "each with the shape of that argument."
    ),
    mistakes=bptt_mistakes(
        reference_step_backward(rnn_step_forward, rnn_step_backward, 1),
        rnn_forward,
        SEQUENCE.arg_names(),
        ["h"],
    ),
)
ONLY_AT = {"last": (slice(None), slice(None, -1)), "first": (slice(None), slice(1, None))}

test_shapes = BPTT.shapes_test(Case(40, N=2, T=3, D=4, H=5))
test_values = BPTT.tests(
    [
        Case(41, "random inputs", N=3, T=4, D=2, H=3),
        Case(42, N=2, T=5, D=3, H=4),
        # only the last state gets a gradient from above: everything earlier comes through dh_next
        Case(
            43,
            "dh = 0 except at the last step",
            N=2,
            T=4,
            D=3,
            H=3,
            scale={"Wh": 1.0},
            edit=put("dh", ONLY_AT["last"], 0.0),
        ),  # fmt: skip
        # only the first state gets a gradient from above
        Case(
            44,
            "dh = 0 except at the first step",
            N=2,
            T=4,
            D=2,
            H=3,
            edit=put("dh", ONLY_AT["first"], 0.0),
        ),  # fmt: skip
    ]
)
test_centred_differences = BPTT.gradient_check_test(Case(45, N=2, T=3, D=3, H=2))
test_edge_cases = BPTT.tests(
    [
        Case(46, N=3, T=1, D=2, H=4),
        Case(47, N=1, T=4, D=2, H=1),
        Case(48, "h0 = 0", N=2, T=3, D=2, H=3, zero_states=True),
    ]
)
test_inputs_not_modified = BPTT.unchanged_test(Case(49, N=2, T=3, D=3, H=4))
