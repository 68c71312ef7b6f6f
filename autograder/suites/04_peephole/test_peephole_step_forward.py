"""Hidden tests of peephole_step_forward: one peephole LSTM step, against solutions.peephole.

i = sigmoid(a_i + p_i * c_prev), f = sigmoid(a_f + p_f * c_prev), g = tanh(a_g),
c = f * c_prev + i * g, o = sigmoid(a_o + p_o * c), h = o * tanh(c), with a = x Wx + h_prev Wh + b
cut into the blocks i, f, g, o. Each failure names the typical mistake the answer equals, if any
(the new c into the input or forget gate, c_prev into the output gate, a full-matrix reading,
missing or swapped peepholes, ...).
"""

from __future__ import annotations

import numpy as np

from autograder.suites.cells.peephole import STEP
from autograder.suites.kit import Case, named, put

# large peepholes and cell states: every wrong placement of a peephole is far from the right one
STRONG = [put(p, ..., lambda v: 3.0 * v) for p in ("p_i", "p_f", "p_o")]
STRONG += [put("c_prev", ..., lambda v: 2.0 * v)]


def _peepholes_only(a):
    # x = 0 and h_prev = 0: each gate is its bias plus its peephole term, nothing else
    a["x"][...], a["h_prev"][...] = 0.0, 0.0


test_values = STEP.tests(
    [
        Case(110, N=2, D=3, H=4),
        Case(111, "random inputs", N=3, D=4, H=5),
        Case(112, "large peepholes and c_prev", N=2, D=3, H=4, edit=STRONG),
        Case(113, N=1, D=3, H=3),
        Case(114, N=3, D=2, H=1),
        Case(115, N=4, D=7, H=2),
        Case(116, "x = 0, h_prev = 0", N=2, D=3, H=3, edit=_peepholes_only),
        Case(117, "h_prev = c_prev = 0", N=2, D=3, H=3, zero_states=True),
        Case(118, "zero peepholes (the LSTM of notebook 03)", N=2, D=3, H=4,
             edit=[put(p, ..., 0.0) for p in ("p_i", "p_f", "p_o")]),
    ]
)  # fmt: skip
test_inputs_not_modified = STEP.unchanged_test(Case(119, N=2, D=3, H=4))


@named("step forward, diagonal peepholes: a change in cell 0 of c_prev stays in cell 0")
def test_diagonal(student):
    """Cell 0 of c_prev may reach only its own gates: the other cells' h and c are unchanged."""
    a = STEP.arguments(Case(120, N=3, D=2, H=4))
    first = STEP.run(student, a)
    b = list(a)
    b[2] = a[2].copy()
    b[2][:, 0] += 1.5
    second = STEP.run(student, b)
    for name in ("c", "h"):
        got, before = np.asarray(second[name]), np.asarray(first[name])
        if got.shape != before.shape or got.shape != (3, 4):
            raise AssertionError(f"{name} must be (N, H) = (3, 4); got {got.shape}.")
        if not np.allclose(got[:, 1:], before[:, 1:], atol=1e-12, rtol=0):
            raise AssertionError(
                f"Changing cell 0 of c_prev changed {name} in other cells: every cell feeds "
                "every gate, as a full matrix or a sum over the cells would. The peepholes "
                "are diagonal, one weight per cell: p_i * c_prev element by element."
            )
