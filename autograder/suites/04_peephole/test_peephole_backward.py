"""Hidden tests of peephole_backward (BPTT), on the cache of the student's own peephole_forward.

Walking t = T..1, the gradient reaching h_t is dh[:, t] + dh_next and the one reaching c_t is
dc[:, t] + dc_next (dc may be None: zero); each step's backward returns the next dh_next and
dc_next; the shared weights, the three peephole vectors included, get the SUM over t of the
per-step gradients; dh0 and dc0 are what the first step sends back.
"""

from __future__ import annotations

from autograder.suites.cells.peephole import BPTT_STEP_MISTAKES, SEQUENCE
from autograder.suites.kit import Arg, Backward, Case, put
from autograder.suites.kit.recurrent import bptt_mistakes, reference_step_backward
from solutions.peephole import (
    peephole_backward,
    peephole_forward,
    peephole_step_backward,
    peephole_step_forward,
)

SUM = "Check: d{0} is the sum over all steps of each step's d{0} (the {1} are shared by all steps)."
HINTS = {
    "dx": "Check: step t's backward gets dh[:, t] + dh_next and dc[:, t] + dc_next; its dx "
    "goes to dx[:, t].",
    "dh0": "Check: dh0 is the dh_prev returned by the backward of the first step.",
    "dc0": "Check: dc0 is the dc_prev returned by the backward of the first step.",
    "dWx": SUM.format("Wx", "weights"),
    "dWh": SUM.format("Wh", "weights"),
    "db": SUM.format("b", "weights"),
    "dp_i": SUM.format("p_i", "peepholes"),
    "dp_f": SUM.format("p_f", "peepholes"),
    "dp_o": SUM.format("p_o", "peepholes"),
}
SHAPE_HINT = (
    "Return (dx, dh0, dc0, dWx, dWh, db, dp_i, dp_f, dp_o): one gradient per argument of "
    "peephole_forward, in its order, each with the shape of that argument."
)
NO_C_CARRY = (
    "The gradient through the cell state is not carried across time steps: the gradient "
    "reaching c_t is dc[:, t] PLUS dc_next, the dc_prev that the backward of step t+1 returned. "
    "Carry dc_next backwards as you carry dh_next."
)

BPTT = Backward(
    "peephole_backward",
    SEQUENCE,
    peephole_backward,
    upstream=[Arg("dh", "N, T, H"), Arg("dc", "N, T, H")],
    title="backward through time",
    hints=HINTS,
    shape_hint=SHAPE_HINT,
    mistakes=[
        *bptt_mistakes(
            reference_step_backward(peephole_step_forward, peephole_step_backward, 2),
            peephole_forward,
            SEQUENCE.arg_names(),
            ["h", "c"],
            carry_messages={"c": NO_C_CARRY},
        ),
        *BPTT_STEP_MISTAKES,
    ],
)
NO_DC = put("dc", None, None)
ALL_BUT_LAST = (slice(None), slice(None, -1))

test_shapes = BPTT.shapes_test(Case(150, N=2, T=3, D=4, H=5))
test_values = BPTT.tests(
    [
        Case(151, "dh and dc given", N=3, T=4, D=2, H=3),
        Case(152, "dc = None", N=3, T=4, D=2, H=3, edit=NO_DC),
        Case(153, "dh = 0 except at the last step", N=2, T=5, D=3, H=3, scale={"Wh": 1.0},
             edit=[put("dh", ALL_BUT_LAST, 0.0), NO_DC]),
        # only c_T gets a gradient from above: it travels back along the cell state and,
        # through the peepholes, through the gates
        Case(154, "dh = 0, dc = 0 except at c_T", N=2, T=5, D=2, H=3,
             edit=[put("dc", ALL_BUT_LAST, 0.0), put("dh", ..., 0.0)]),
    ]
)  # fmt: skip
test_centred_differences = BPTT.gradient_check_test(Case(155, N=2, T=3, D=2, H=2))
test_edge_cases = BPTT.tests(
    [
        Case(156, N=3, T=1, D=2, H=4),
        Case(157, N=1, T=4, D=2, H=1),
        Case(158, "dc = None", N=2, T=20, D=2, H=3, scale={"Wh": 1.0}, edit=NO_DC),
    ]
)
test_inputs_not_modified = BPTT.unchanged_test(Case(159, N=2, T=3, D=3, H=4))
