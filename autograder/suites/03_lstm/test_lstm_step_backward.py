"""Hidden tests of lstm_step_backward, on the cache of the student's own lstm_step_forward.

dc_total = dc + dh * o * (1 - tanh(c)^2); do = dh * tanh(c), di = dc_total * g,
dg = dc_total * i, df = dc_total * c_prev, dc_prev = dc_total * f; da = the four blocks through
their nonlinearities in the order i, f, g, o; then the products of the RNN step. Each test
compares with solutions.lstm or with centred differences of the student's forward pass.
"""

from __future__ import annotations

from autograder.suites.cells.lstm import STEP, STEP_BACKWARD_MISTAKES
from autograder.suites.kit import Arg, Backward, Case, put
from solutions.lstm import lstm_step_backward as reference

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

BACKWARD = Backward(
    "lstm_step_backward",
    STEP,
    reference,
    upstream=[Arg("dh", "N, H"), Arg("dc", "N, H")],
    title="step backward",
    hints=HINTS,
    shape_hint=SHAPE_HINT,
    mistakes=STEP_BACKWARD_MISTAKES,
)

test_shapes = BACKWARD.shapes_test(Case(80, N=2, D=3, H=4))
test_values = BACKWARD.tests(
    [
        Case(81, "random inputs", N=3, D=4, H=5),
        # dc = 0: c gets its gradient only through h = o * tanh(c)
        Case(82, "dc = 0", N=2, D=3, H=3, edit=put("dc", ..., 0.0)),
        # dh = 0: the output gate gets no gradient, everything comes from dc
        Case(83, "dh = 0", N=2, D=3, H=3, edit=put("dh", ..., 0.0)),
    ]
)
test_centred_differences = BACKWARD.gradient_check_test(Case(84, N=2, D=3, H=2))
test_edge_cases = BACKWARD.tests([Case(85, N=1, D=2, H=1), Case(86, N=3, D=7, H=2)])
test_inputs_not_modified = BACKWARD.unchanged_test(Case(87, N=2, D=3, H=4))
