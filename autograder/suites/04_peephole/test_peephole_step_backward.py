"""Hidden tests of peephole_step_backward, on the cache of the student's own peephole_step_forward.

da_o = dh * tanh(c) * o (1 - o); dc_total = dc + dh * o * (1 - tanh(c)^2) + da_o * p_o;
da_i = dc_total * g * i (1 - i), da_f = dc_total * c_prev * f (1 - f),
da_g = dc_total * i (1 - g^2); dc_prev = dc_total * f + da_i * p_i + da_f * p_f;
dp_i = sum_n da_i c_prev, dp_f = sum_n da_f c_prev, dp_o = sum_n da_o c; then the products of
the LSTM step. Each test compares with solutions.peephole or with centred differences of the
student's forward, and names the typical mistakes (the output-gate peephole's gradient that does
not reach dc, the peephole terms left out of dc_prev, ...).
"""

from __future__ import annotations

from autograder.suites.cells.peephole import STEP, STEP_BACKWARD_MISTAKES, TOTAL
from autograder.suites.kit import Arg, Backward, Case, put
from solutions.peephole import peephole_step_backward as reference

DA = "da = [da_i | da_f | da_g | da_o] (blocks i, f, g, o), with " + TOTAL + "."
HINTS = {
    "dx": "Check: dx = da @ Wx.T. " + DA,
    "dh_prev": "Check: dh_prev = da @ Wh.T. " + DA,
    "dc_prev": "Check: dc_prev = dc_total * f + da_i * p_i + da_f * p_f, with " + TOTAL + ".",
    "dWx": "Check: dWx = x.T @ da. " + DA,
    "dWh": "Check: dWh = h_prev.T @ da. " + DA,
    "db": "Check: db = da.sum(axis=0), (4H,). " + DA,
    "dp_i": "Check: dp_i = (da_i * c_prev).sum(axis=0), (H,). " + DA,
    "dp_f": "Check: dp_f = (da_f * c_prev).sum(axis=0), (H,). " + DA,
    "dp_o": "Check: dp_o = (da_o * c).sum(axis=0), (H,), with the new c and "
    "da_o = dh * tanh(c) * o * (1 - o).",
}
SHAPE_HINT = (
    "Return (dx, dh_prev, dc_prev, dWx, dWh, db, dp_i, dp_f, dp_o): one gradient per argument "
    "of peephole_step_forward, in its order, each with the shape of that argument (the "
    "peephole gradients are (H,))."
)

BACKWARD = Backward(
    "peephole_step_backward",
    STEP,
    reference,
    upstream=[Arg("dh", "N, H"), Arg("dc", "N, H")],
    title="step backward",
    hints=HINTS,
    shape_hint=SHAPE_HINT,
    mistakes=STEP_BACKWARD_MISTAKES,
)
STRONG = [put(p, ..., lambda v: 3.0 * v) for p in ("p_i", "p_f", "p_o")]

test_shapes = BACKWARD.shapes_test(Case(140, N=2, D=3, H=4))
test_values = BACKWARD.tests(
    [
        Case(141, "random inputs", N=3, D=4, H=5),
        Case(142, "large peepholes", N=2, D=3, H=3, edit=STRONG),
        # dc = 0: c gets its gradient only through h and the output gate's peephole
        Case(143, "dc = 0", N=2, D=3, H=3, edit=put("dc", ..., 0.0)),
        # dh = 0: the output gate gets no gradient, everything comes from dc
        Case(144, "dh = 0", N=2, D=3, H=3, edit=put("dh", ..., 0.0)),
    ]
)
test_centred_differences = BACKWARD.gradient_check_test(Case(145, N=2, D=3, H=2))
test_edge_cases = BACKWARD.tests([Case(146, N=1, D=2, H=1), Case(147, N=3, D=7, H=2)])
test_inputs_not_modified = BACKWARD.unchanged_test(Case(148, N=2, D=3, H=4))
