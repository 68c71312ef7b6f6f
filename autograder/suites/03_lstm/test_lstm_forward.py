"""Hidden tests of lstm_forward: (h_t, c_t) = step(x_t, h_{t-1}, c_{t-1}) for t = 1..T.

Against solutions.lstm. Both states are carried from step to step; h and c hold the states
after every step, (N, T, H), batch first, without h0 and c0. Failures name the sequence-level
mistakes (only the last state, a state not carried, c0 or h0 included, time-major output) and
the step mistakes, which show up here too when the loop uses a wrong lstm_step_forward.
"""

from __future__ import annotations

from autograder.suites.cells.lstm import SEQUENCE
from autograder.suites.kit import Case

test_values = SEQUENCE.tests(
    [
        Case(70, N=2, T=3, D=4, H=5),
        Case(71, "random inputs", N=3, T=4, D=2, H=3),
        Case(72, N=3, T=1, D=2, H=4),
        Case(73, N=1, T=5, D=3, H=1),
        Case(74, "h0 = c0 = 0", N=2, T=4, D=3, H=3, zero_states=True),
        Case(75, N=2, T=25, D=2, H=3, scale={"Wh": 1.0}),
        Case(76, N=2, T=3, D=8, H=2),
    ]
)
test_inputs_not_modified = SEQUENCE.unchanged_test(Case(77, N=2, T=3, D=3, H=4))
