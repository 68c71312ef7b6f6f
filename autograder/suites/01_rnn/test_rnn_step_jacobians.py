"""Hidden tests of rnn_step_jacobians: J[n, t-1] = dh_t/dh_{t-1} = diag(1 - h_t^2) Wh^T.

Row vectors: h_t = tanh(x_t Wx + h_{t-1} Wh + b), so dh_t[i]/dh_{t-1}[j] = (1 - h_t[i]^2) Wh[j, i].
"""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import (
    Arg,
    Case,
    Function,
    Mistakes,
    call,
    case,
    expect_match,
    inputs,
    is_close,
    named,
    put,
)
from solutions.gradients import numerical_gradient
from solutions.gradients import rnn_step_jacobians as reference
from solutions.rnn import rnn_step_forward

HINT = (
    "J[n, t-1][i, j] = dh_t[i]/dh_{t-1}[j] = (1 - h_t[i]**2) * Wh[j, i]: row i of Wh.T scaled "
    "by 1 - h_t[i]**2."
)
SHAPE_HINT = "J holds one H x H Jacobian per example and step: (N, T, H, H)."
TRANSPOSE = (
    "You scaled the rows of Wh, but J_t = diag(1 - h_t²) Wh^T: h_t depends on h_{t-1} through "
    "h_{t-1} @ Wh, so dh_t[i]/dh_{t-1}[j] = (1 - h_t[i]²) Wh[j, i]. Transpose Wh."
)


def _mistakes(h, Wh):
    """Typical wrong Jacobians for these states, each with the hint that names it."""
    d = 1 - h**2  # (N, T, H)

    def rows(f):  # scale row i of Wh^T by f_i
        return f[..., :, None] * Wh.T

    wrong_derivative = (
        "Wrong tanh derivative: {}. tanh'(a) = 1 - tanh(a)² = 1 - h_t², where h_t is already "
        "tanh(a)."
    )
    no_factor = np.broadcast_to(Wh.T, h.shape + h.shape[-1:])
    out = [
        (TRANSPOSE, d[..., :, None] * Wh),
        (
            "You scaled the columns of Wh^T; row i of J belongs to output unit i, so scale row i "
            "by 1 - h_t[i]².",
            Wh.T * d[..., None, :],
        ),
        (
            "Your J is transposed: row i must be output unit i, J[n, t-1][i, j] = "
            "dh_t[i]/dh_{t-1}[j].",
            Wh * d[..., None, :],
        ),
        (wrong_derivative.format("you used 1 - h_t"), rows(1 - h)),
        (wrong_derivative.format("you used 1 - tanh(h_t)²"), rows(1 - np.tanh(h) ** 2)),
        (wrong_derivative.format("you used h_t(1 - h_t), the sigmoid's"), rows(h * (1 - h))),
        (wrong_derivative.format("the factor 1 - h_t² is missing"), no_factor),
    ]
    if h.shape[1] > 1:  # J_t using the derivative at h_{t-1} instead of h_t
        shifted = rows(d)[:, :-1]
        out.append(
            (
                "J[n, t-1] uses the derivative at h_{t-1}; the Jacobian of step t uses the state "
                "it produces: diag(1 - h_t²) Wh^T, with h_t = h[:, t-1].",
                lambda got: is_close(got[:, 1:], shifted),
            )
        )
    return out


JACOBIANS = Function(
    "rnn_step_jacobians",
    [Arg("h", "N, T, H"), Arg("Wh", "H, H")],
    returns=("J",),
    reference=reference,
    title="Jacobians",
    hints=HINT,
    shape_hints=SHAPE_HINT,
    mistakes=[Mistakes(_mistakes)],
)
TANH = put("h", ..., np.tanh)  # states of a tanh RNN lie in (-1, 1)

test_values = JACOBIANS.tests(
    [
        Case(50, N=2, T=3, H=4, edit=TANH),
        Case(51, "random states", N=3, T=4, H=3, edit=TANH),
        # tanh' = 1 - h^2 = 0: these units pass no gradient back
        Case(53, "some h = +-1", N=2, T=2, H=4, edit=[TANH, put("h", (0, 1, [0, 2]), [1.0, -1.0])]),
        Case(54, N=2, T=3, H=1, edit=TANH),
        Case(55, N=1, T=1, H=3, edit=TANH),
    ]
)


@named("Jacobians, the derivative of one step")
def test_is_the_derivative_of_one_step(student):
    # J of a real step against centred differences of h_1 = tanh(x Wx + h0 Wh + b) in h0
    x, h0, Wx, Wh, b = inputs(52, [(1, 2), (1, 3), (2, 3), (3, 3), (3,)])
    h1 = rnn_step_forward(x, h0, Wx, Wh, b)[0]
    numerical = np.stack(
        [
            numerical_gradient(lambda: rnn_step_forward(x, h0, Wx, Wh, b)[0], h0, np.eye(3)[[i]])[0]
            for i in range(3)
        ]
    )  # row i: d h_1[i] / d h0
    with case("N=1, T=1, H=3, the states of one step"):
        J = call(student("rnn_step_jacobians"), "rnn_step_jacobians", h1[:, None], Wh)
        cands = JACOBIANS.candidates([h1[:, None], Wh])["J"]
        expect_match("J", J, numerical[None, None], cands, HINT, SHAPE_HINT, atol=1e-7)


test_inputs_not_modified = JACOBIANS.unchanged_test(Case(56, N=2, T=3, H=3, edit=TANH))
