"""Hidden tests of rnn_step_forward: h = tanh(x Wx + h_prev Wh + b), against solutions.rnn."""

from __future__ import annotations

from autograder.suites.cells.rnn import STEP
from autograder.suites.kit import Case, put

test_values = STEP.tests(
    [
        Case(10, N=2, D=3, H=4),
        Case(11, "random inputs", N=3, D=4, H=5),
        Case(12, N=2, D=4, H=4),
        Case(13, N=3, D=7, H=2),
        Case(14, N=1, D=3, H=4),
        Case(15, N=3, D=2, H=1),
        Case(16, "h_prev = 0", N=2, D=3, H=3, zero_states=True),
        # x = 0 and h_prev = 0: then h = tanh(b) in every row
        Case(
            17,
            "x = 0 and h_prev = 0",
            N=3,
            D=2,
            H=4,
            edit=[put("x", ..., 0), put("h_prev", ..., 0)],
        ),
    ]
)
test_inputs_not_modified = STEP.unchanged_test(Case(18, N=2, D=3, H=4))
