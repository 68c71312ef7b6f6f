"""Hidden tests of gru_paper_step_forward, the GRU step in the paper form, against solutions.gru.

r = sigmoid(x Wx_r + h_prev Wh_r + b_r), u = sigmoid(x Wx_u + h_prev Wh_u + b_u),
h_tilde = tanh(x Wx_h + (r * h_prev) Wh_h + b_h), h = (1 - u) * h_prev + u * h_tilde;
blocks r, u, h_tilde of width H side by side in Wx (D, 3H), Wh (H, 3H), b (3H,).
"""

from __future__ import annotations

from autograder.suites.cells.gru import PAPER_STEP
from autograder.suites.kit import Case, put

STRONG = dict.fromkeys(("Wx", "Wh", "b"), 1.5)

test_values = PAPER_STEP.tests(
    [
        Case(100, N=2, D=3, H=4),
        Case(101, "random inputs", N=3, D=4, H=5),
        # update gates pushed towards 0 or 1 unit by unit, so the two directions differ a lot
        Case(102, "update gates near 0 and near 1", N=3, D=2, H=4,
             edit=put("b", slice(4, 8), [3.0, -3.0, 2.0, -2.0])),
        # a strong reset gate that differs between units: (r * h) Wh and r * (h Wh) differ
        Case(103, "reset gates near 1, near 0 and in between", N=2, D=3, H=3, scale=STRONG,
             edit=put("b", slice(0, 3), [3.0, -3.0, 0.0])),
        # u = sigmoid(-50) = 0: h must equal h_prev exactly, whatever the candidate is
        Case(104, "update bias -50 (u = 0)", N=2, D=3, H=4, edit=put("b", slice(4, 8), -50.0)),
        # x = 0 and h_prev = 0: r, u and h_tilde are functions of their bias blocks alone
        Case(105, "x = 0 and h_prev = 0", N=3, D=2, H=4,
             edit=[put("x", ..., 0.0), put("h_prev", ..., 0.0)]),
        Case(106, N=1, D=7, H=2),
        Case(107, N=3, D=2, H=1),
        Case(108, "h_prev = 0", N=2, D=3, H=3, zero_states=True),
    ]
)  # fmt: skip
test_inputs_not_modified = PAPER_STEP.unchanged_test(Case(109, N=2, D=3, H=4))
