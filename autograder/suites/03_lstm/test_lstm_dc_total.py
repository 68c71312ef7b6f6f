"""Hidden tests of lstm_dc_total: dc_total = dc + dh * o * (1 - tanh(c)**2), against solutions.lstm.

The cell state c of a step is used twice (it leaves the step, and it makes h = o * tanh(c)), so
its total gradient adds the gradient dc that comes back along it and the one through h. The
mistakes named: the path through h left out, dc left out, the slope of tanh taken as 1 - c**2 or
as 1 - tanh(c), the factor o left out, do = dh * tanh(c) in place of the path through h.
"""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import Arg, Case, Function, Mistake, named, put
from solutions.lstm import lstm_dc_total

DC_TOTAL = Function(
    "lstm_dc_total",
    [Arg("dh", "N, H"), Arg("dc", "N, H"), Arg("o", "N, H"), Arg("c", "N, H")],
    returns=("dc_total",),
    reference=lstm_dc_total,
    title="dc_total",
    hints="Check: dc_total = dc + dh * o * (1 - tanh(c)**2): c leaves the step (dc) and makes "
    "h = o * tanh(c) (dh times the slope of h with respect to c).",
    shape_hints="dc_total has the shape of c, (N, H).",
    mistakes=[
        Mistake(
            "The path through h is missing: c also makes h = o * tanh(c), so dc_total = dc + "
            "dh * o * (1 - tanh(c)**2), not dc alone.",
            lambda dh, dc, o, c: dc,
        ),
        Mistake(
            "dc is missing: the gradient that comes back along the cell state adds to the one "
            "through h.",
            lambda dh, dc, o, c: dh * o * (1 - np.tanh(c) ** 2),
        ),
        Mistake(
            "The slope of tanh at c is 1 - tanh(c)**2, not 1 - c**2 (c is not the output of a "
            "tanh).",
            lambda dh, dc, o, c: dc + dh * o * (1 - c**2),
        ),
        Mistake(
            "The slope of tanh at c is 1 - tanh(c)**2, not 1 - tanh(c).",
            lambda dh, dc, o, c: dc + dh * o * (1 - np.tanh(c)),
        ),
        Mistake(
            "The output gate o is missing from the path through h: h = o * tanh(c), so the "
            "path contributes dh * o * (1 - tanh(c)**2).",
            lambda dh, dc, o, c: dc + dh * (1 - np.tanh(c) ** 2),
        ),
        Mistake(
            "dh * tanh(c) is do, the gradient of the output gate; the path into c is "
            "dh * o * (1 - tanh(c)**2).",
            lambda dh, dc, o, c: dc + dh * np.tanh(c),
        ),
    ],
)

test_values = DC_TOTAL.tests(
    [
        Case(40, N=2, H=3),
        Case(41, N=1, H=4),
        Case(42, N=3, H=1),
        Case(43, "dh = 0", N=2, H=3, edit=[put("dh", ..., 0)]),
        Case(44, "c = 0", N=2, H=2, edit=[put("c", ..., 0)]),
        Case(45, "large |c| (tanh saturated)", N=2, H=3, scale={"c": 8.0}),
    ]
)
test_inputs_not_modified = DC_TOTAL.unchanged_test(Case(46, N=2, H=3))


@named("dc_total against a centred difference")
def test_numerical(student):
    """Independent of the reference: d/dc of sum(dh * o * tanh(c) + dc * c), centred, float64."""
    rng = np.random.default_rng(47)
    dh, dc, o, c = (rng.standard_normal((2, 3)) for _ in range(4))
    eps = 1e-6
    numeric = dc + dh * o * (np.tanh(c + eps) - np.tanh(c - eps)) / (2 * eps)
    got = DC_TOTAL.run(student, [dh, dc, o, c])["dc_total"]
    if not np.allclose(got, numeric, atol=1e-7):
        raise AssertionError(
            f"dc_total differs from a centred difference of the loss by "
            f"{np.abs(got - numeric).max():.1e}: dc_total = dc + dh * o * (1 - tanh(c)**2)."
        )
