"""Hidden tests of peephole_forward: (h_t, c_t) = step(x_t, h_{t-1}, c_{t-1}) for t = 1..T.

Against solutions.peephole. Both states are carried from step to step with the same weights and
peepholes; h and c hold the states after every step, (N, T, H), batch first. Failures name the
sequence-level mistakes (only the last state, a state not carried, the initial state included,
time-major output) and the step mistakes, which show up here too.
"""

from __future__ import annotations

from autograder.suites.cells.peephole import SEQUENCE
from autograder.suites.kit import Case, put

test_values = SEQUENCE.tests(
    [
        Case(130, N=2, T=3, D=4, H=5),
        Case(131, "random inputs", N=3, T=4, D=2, H=3),
        Case(132, N=3, T=1, D=2, H=4),
        Case(133, N=1, T=5, D=3, H=1),
        Case(134, "h0 = c0 = 0", N=2, T=4, D=3, H=3, zero_states=True),
        Case(135, N=2, T=25, D=2, H=3, scale={"Wh": 1.0}),
        Case(136, "large peepholes", N=2, T=6, D=2, H=3,
             edit=[put(p, ..., lambda v: 3.0 * v) for p in ("p_i", "p_f", "p_o")]),
    ]
)  # fmt: skip
test_inputs_not_modified = SEQUENCE.unchanged_test(Case(137, N=2, T=3, D=3, H=4))
