"""Hidden tests of gru_paper_forward: the paper-form step applied for t = 1..T from h_0 = h0.

Returns h (N, T, H) with h[:, t] the state after reading x[:, t] (h0 left out) and a cache. A
mistake inside the step shows up here too; the messages then say which one and send the
student back to gru_paper_step_forward.
"""

from __future__ import annotations

from autograder.suites.cells.gru import PAPER_SEQUENCE
from autograder.suites.kit import Case, put

test_values = PAPER_SEQUENCE.tests(
    [
        Case(110, N=2, T=3, D=4, H=5),
        Case(111, "random h0", N=3, T=5, D=2, H=4),
        # a large h0 and a mostly closed update gate: h0 shapes every later state
        Case(112, "large h0", N=2, T=4, D=3, H=3,
             edit=[put("h0", ..., lambda v: 2 * v), put("b", slice(3, 6), -1.5)]),
        Case(113, "h0 = 0", N=2, T=4, D=3, H=2, zero_states=True),
        # zero inputs after the first step: every later state comes from the recurrence alone
        Case(114, "x = 0 after step 1", N=2, T=6, D=2, H=3, scale={"Wx": 1.0, "Wh": 1.0},
             edit=put("x", (slice(None), slice(1, None)), 0.0)),
        # u = 0 at every step: h_t = h0 for all t, whatever the inputs
        Case(115, "update bias -50 (u = 0)", N=2, T=5, D=3, H=4, edit=put("b", slice(4, 8), -50.0)),
        Case(116, N=3, T=1, D=2, H=4),
        Case(117, N=1, T=4, D=2, H=1),
    ]
)  # fmt: skip
test_inputs_not_modified = PAPER_SEQUENCE.unchanged_test(Case(118, N=2, T=3, D=3, H=4))
