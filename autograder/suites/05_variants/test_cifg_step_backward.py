"""Hidden tests of cifg_step_backward, on the cache of the student's own cifg_step_forward.

dc_total = dc + dh * o * (1 - tanh(c)^2); the coupled gate collects both of its terms,
df = dc_total * (c_prev - g); dg = dc_total * (1 - f), dc_prev = dc_total * f, do = dh * tanh(c);
da = [df f(1-f) | dg (1-g^2) | do o(1-o)], then the products of the RNN step. Each test compares
with solutions.cifg or with centred differences of the student's own forward.
"""

from __future__ import annotations

from autograder.suites.cells.cifg import STEP, STEP_MISTAKES
from autograder.suites.kit import Arg, Backward, Case, put
from solutions.cifg import cifg_step_backward

DA = (
    "da = [df * f * (1 - f) | dg * (1 - g**2) | do * o * (1 - o)], order f, g, o, with "
    "df = dc_total * (c_prev - g), dg = dc_total * (1 - f)."
)
BACKWARD = Backward(
    "cifg_step_backward",
    STEP,
    cifg_step_backward,
    upstream=[Arg("dh", "N, H"), Arg("dc", "N, H")],
    title="step backward",
    hints={
        "dx": "Check: dx = da @ Wx.T. " + DA,
        "dh_prev": "Check: dh_prev = da @ Wh.T. " + DA,
        "dc_prev": "Check: dc_prev = dc_total * f, dc_total = dc + dh * o * (1 - tanh(c)**2).",
        "dWx": "Check: dWx = x.T @ da. " + DA,
        "dWh": "Check: dWh = h_prev.T @ da. " + DA,
        "db": "Check: db = da.sum(axis=0), shape (3H,). " + DA,
    },
    shape_hint=(
        "Return (dx, dh_prev, dc_prev, dWx, dWh, db): one gradient per argument of "
        "cifg_step_forward, in its order, each with the shape of that argument."
    ),
    mistakes=STEP_MISTAKES,
)

test_shapes = BACKWARD.shapes_test(Case(30, N=2, D=3, H=4))
test_values = BACKWARD.tests(
    [
        Case(31, "random inputs", N=3, D=4, H=5),
        Case(32, "dc = 0", N=2, D=3, H=3, edit=put("dc", ..., 0.0)),
        Case(33, "dh = 0", N=2, D=3, H=3, edit=put("dh", ..., 0.0)),
        Case(34, "large c_prev", N=2, D=2, H=3, edit=put("c_prev", ..., lambda v: 3 * v)),
    ]
)
test_centred_differences = BACKWARD.gradient_check_test(Case(35, N=2, D=3, H=2))
test_edge_cases = BACKWARD.tests([Case(36, N=1, D=2, H=1), Case(37, N=3, D=7, H=2)])
test_inputs_not_modified = BACKWARD.unchanged_test(Case(39, N=2, D=3, H=4))
