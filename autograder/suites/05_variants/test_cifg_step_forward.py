"""Hidden tests of cifg_step_forward: c = f * c_prev + (1 - f) * g, h = o * tanh(c); blocks f, g,
o."""

from __future__ import annotations

from autograder.suites.cells.cifg import STEP
from autograder.suites.kit import Case, put

test_values = STEP.tests(
    [
        Case(10, N=2, D=3, H=4),
        Case(11, "random inputs", N=3, D=4, H=5),
        Case(12, N=1, D=3, H=2),
        Case(13, N=3, D=2, H=1),
        Case(14, N=2, D=6, H=2),
        Case(15, "h_prev = 0 and c_prev = 0", N=2, D=3, H=3, zero_states=True),
        # a large old cell state: keeping it (f) and writing g (1 - f) are far apart
        Case(16, "large c_prev", N=2, D=2, H=3, edit=put("c_prev", ..., lambda v: 3 * v)),
    ]
)
test_inputs_not_modified = STEP.unchanged_test(Case(18, N=2, D=3, H=4))
