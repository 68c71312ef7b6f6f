"""Hidden tests of rnn_forward: h_t = tanh(x_t Wx + h_{t-1} Wh + b) for t = 1..T from h_0 = h0."""

from __future__ import annotations

from autograder.suites.cells.rnn import SEQUENCE
from autograder.suites.kit import Case, put

test_values = SEQUENCE.tests(
    [
        Case(20, N=2, T=3, D=4, H=5),
        Case(21, "random h0", N=3, T=5, D=2, H=4),
        # strong recurrent weights and a large h0, so that h0 changes every later state
        Case(
            22,
            "large h0",
            N=2,
            T=4,
            D=3,
            H=3,
            scale={"Wh": 1.0},
            edit=put("h0", ..., lambda v: 2 * v),
        ),
        Case(23, "h0 = 0", N=2, T=4, D=3, H=2, zero_states=True),
        # zero inputs after the first step: every later state comes from the recurrence alone
        Case(
            24,
            "x = 0 after step 1",
            N=2,
            T=6,
            D=2,
            H=3,
            scale={"Wh": 1.0},
            edit=put("x", (slice(None), slice(1, None)), 0.0),
        ),
        Case(25, N=3, T=1, D=2, H=4),
        Case(26, N=1, T=4, D=1, H=3),
        Case(27, N=2, T=3, D=3, H=1),
    ]
)
test_inputs_not_modified = SEQUENCE.unchanged_test(Case(28, N=2, T=3, D=3, H=4))
