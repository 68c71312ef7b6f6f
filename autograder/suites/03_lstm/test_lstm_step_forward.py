"""Hidden tests of lstm_step_forward: one LSTM step, blocks i, f, g, o, against solutions.lstm.

c = f * c_prev + i * g and h = o * tanh(c) with i, f, o sigmoid gates and the tanh candidate g
cut from a = x Wx + h_prev Wh + b. Each failure names the typical mistake the answer equals, if
any (block order, tanh on a gate, c from h, o applied to c, ...).
"""

from __future__ import annotations

import numpy as np

from autograder.suites.cells.lstm import STEP
from autograder.suites.kit import Case, put


def _block_biases(a):
    # x = 0 and h_prev = 0: each gate is its own bias through its nonlinearity, the blocks as
    # different from each other as possible, so that any mix-up of the blocks shows.
    H = a["h_prev"].shape[1]
    a["x"][...], a["h_prev"][...] = 0.0, 0.0
    a["b"] = np.repeat([1.5, -2.0, 0.7, -0.4], H) + 0.1 * np.tile(np.arange(H), 4)


# saturated gates (|a| up to about 40): the result must still be finite and right
SATURATED = [put("Wx", ..., lambda v: 8.0 * v), put("Wh", ..., lambda v: 8.0 * v)]

test_values = STEP.tests(
    [
        Case(60, N=2, D=3, H=4),
        Case(61, "random inputs", N=3, D=4, H=5),
        Case(62, N=2, D=4, H=4),
        Case(63, N=3, D=9, H=2),
        Case(64, N=1, D=3, H=3),
        Case(65, N=3, D=2, H=1),
        Case(66, "h_prev = c_prev = 0", N=2, D=3, H=3, zero_states=True),
        Case(67, "x = 0, h_prev = 0, distinct bias per block", N=2, D=3, H=2, edit=_block_biases),
        Case(68, "weights scaled by 8 (saturated gates)", N=2, D=3, H=3, edit=SATURATED),
    ]
)
test_inputs_not_modified = STEP.unchanged_test(Case(69, N=2, D=3, H=4))
