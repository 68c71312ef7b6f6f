"""Hidden tests of cifg_forward: the CIFG step over t = 1..T from h0, c0, states batch first."""

from __future__ import annotations

from autograder.suites.cells.cifg import SEQUENCE
from autograder.suites.kit import Case, put

test_values = SEQUENCE.tests(
    [
        Case(20, N=2, T=3, D=4, H=5),
        Case(21, "random h0 and c0", N=3, T=5, D=2, H=4),
        Case(22, "large c0", N=2, T=4, D=3, H=3, edit=put("c0", ..., lambda v: 3 * v)),
        Case(23, "h0 = 0 and c0 = 0", N=2, T=4, D=3, H=2, zero_states=True),
        Case(24, N=3, T=1, D=2, H=4),
        Case(25, N=1, T=4, D=1, H=3),
        Case(26, N=2, T=3, D=3, H=1),
    ]
)
test_inputs_not_modified = SEQUENCE.unchanged_test(Case(28, N=2, T=3, D=3, H=4))
