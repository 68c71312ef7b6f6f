"""Hidden tests of cifg_backward (BPTT), on the cache of the student's own cifg_forward.

Walking t = T..1, step t's backward gets dh[:, t] + dh_next and dc[:, t] + dc_next (dc may be
None: zeros); the weight gradients are summed over the steps; dh0 and dc0 are what step 1 sends
back. Each test compares with solutions.cifg or with centred differences of the student's own
forward, and names the typical BPTT mistakes and the coupling's.
"""

from __future__ import annotations

from autograder.suites.cells.cifg import BACKWARD as COUPLING
from autograder.suites.cells.cifg import SEQUENCE, step_grads
from autograder.suites.kit import Arg, Backward, Case, Mistakes, put
from autograder.suites.kit.recurrent import bptt, bptt_mistakes, reference_step_backward
from solutions.cifg import cifg_backward, cifg_forward, cifg_step_backward, cifg_step_forward

STEP_BACKWARD = reference_step_backward(cifg_step_forward, cifg_step_backward, 2)
GRADS = ("dx", "dh0", "dc0", "dWx", "dWh", "db")


def _with_step_mistake(key):
    """BPTT done right around a step backward with one of the coupling's mistakes."""

    def step_backward(dh, dc, x, h_prev, c_prev, Wx, Wh, b):
        g = step_grads(x, h_prev, c_prev, Wx, Wh, b, dh, dc, mistake=key)
        return g["dx"], g["dh_prev"], g["dc_prev"], g["dWx"], g["dWh"], g["db"]

    def family(x, h0, c0, Wx, Wh, b, dh, dc):
        dx, d0, per_step = bptt(step_backward, cifg_forward, (x, h0, c0, Wx, Wh, b), (dh, dc), 2)
        values = [dx, *d0, *(sum(s) for s in per_step)]
        return [(COUPLING[key], dict(zip(GRADS, values, strict=True)))]

    return Mistakes(family)


BPTT = Backward(
    "cifg_backward",
    SEQUENCE,
    cifg_backward,
    upstream=[Arg("dh", "N, T, H"), Arg("dc", "N, T, H")],
    title="backward through time",
    hints={
        "dx": "Check: step t's backward gets dh[:, t] + dh_next and dc[:, t] + dc_next; its dx "
        "goes into dx[:, t].",
        "dh0": "Check: dh0 is the dh_prev returned by the backward of the first step.",
        "dc0": "Check: dc0 is the dc_prev returned by the backward of the first step.",
        "dWx": "Check: dWx is the sum over all steps of each step's dWx.",
        "dWh": "Check: dWh is the sum over all steps of each step's dWh.",
        "db": "Check: db is the sum over all steps of each step's db.",
    },
    shape_hint=(
        "Return (dx, dh0, dc0, dWx, dWh, db): one gradient per argument of cifg_forward, in its "
        "order, each with the shape of that argument."
    ),
    mistakes=[_with_step_mistake(k) for k in COUPLING]
    + bptt_mistakes(STEP_BACKWARD, cifg_forward, SEQUENCE.arg_names(), ["h", "c"]),
)
NO_DC = put("dc", None, None)

test_shapes = BPTT.shapes_test(Case(40, N=2, T=3, D=4, H=5))
test_values = BPTT.tests(
    [
        Case(41, "random inputs", N=3, T=4, D=2, H=3),
        Case(42, "dc = None", N=2, T=5, D=3, H=4, edit=NO_DC),
        Case(
            43,
            "dh = 0 except at the last step, dc = None",
            N=2,
            T=4,
            D=3,
            H=3,
            edit=[put("dh", (slice(None), slice(None, -1)), 0.0), NO_DC],
        ),
        Case(44, "dh = 0", N=2, T=4, D=2, H=3, edit=put("dh", ..., 0.0)),
    ]
)
test_centred_differences = BPTT.gradient_check_test(Case(45, N=2, T=3, D=3, H=2))
test_edge_cases = BPTT.tests(
    [
        Case(46, N=3, T=1, D=2, H=4),
        Case(47, N=1, T=4, D=2, H=1),
        Case(48, "h0 = 0 and c0 = 0", N=2, T=3, D=2, H=3, zero_states=True),
    ]
)
test_inputs_not_modified = BPTT.unchanged_test(Case(49, N=2, T=3, D=3, H=4))
