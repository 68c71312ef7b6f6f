"""Hidden tests of rnn_step_backward, on the cache of the student's own rnn_step_forward.

With a = x Wx + h_prev Wh + b and h = tanh(a): da = dh (1 - h^2), dx = da Wx^T,
dh_prev = da Wh^T, dWx = x^T da, dWh = h_prev^T da, db = sum_n da. Each test compares with
solutions.rnn, or with centred differences of the student's own forward.
"""

from __future__ import annotations

import numpy as np

from autograder.suites.cells.rnn import STEP
from autograder.suites.kit import Arg, Backward, Case, Mistake
from solutions.rnn import rnn_step_backward as reference


def _grads(x, h_prev, Wx, Wh, da):
    """The five gradients of one step, given da."""
    return {
        "dx": da @ Wx.T,
        "dh_prev": da @ Wh.T,
        "dWx": x.T @ da,
        "dWh": h_prev.T @ da,
        "db": da.sum(axis=0),
    }


def _derivative(what, factor):
    """A wrong tanh derivative ``factor(a, h, h_prev)`` used for da: all five gradients."""
    message = (
        f"Wrong tanh derivative: {what}. With h = tanh(a), tanh'(a) = 1 - tanh(a)² = 1 - h², "
        f"so da = dh * (1 - h**2), with h the output of this step."
    )

    def fn(x, h_prev, Wx, Wh, b, dh):
        a = x @ Wx + h_prev @ Wh + b
        return _grads(x, h_prev, Wx, Wh, dh * factor(a, np.tanh(a), h_prev))

    return Mistake(message, fn)


def _da(x, h_prev, Wx, Wh, b, dh):
    return dh * (1 - np.tanh(x @ Wx + h_prev @ Wh + b) ** 2)


def _h(x, h_prev, Wx, Wh, b):
    return np.tanh(x @ Wx + h_prev @ Wh + b)


BACKWARD = Backward(
    "rnn_step_backward",
    STEP,
    reference,
    upstream=[Arg("dh", "N, H")],
    title="step backward",
    hints={
        "dx": "Check: dx = da @ Wx.T with da = dh * (1 - h**2).",
        "dh_prev": "Check: dh_prev = da @ Wh.T with da = dh * (1 - h**2).",
        "dWx": "Check: dWx = x.T @ da, shape (D, H).",
        "dWh": "Check: dWh = h_prev.T @ da, shape (H, H).",
        "db": "Check: db = da summed over the batch (axis 0), shape (H,).",
    },
    shape_hint=(
        "Return (dx, dh_prev, dWx, dWh, db): one gradient per argument of rnn_step_forward, in "
        "its order, each with the shape of that argument."
    ),
    mistakes=[
        _derivative("you used 1 - a², with a the pre-activation", lambda a, h, hp: 1 - a**2),
        _derivative(
            "you used 1 - h, that is 1 - tanh(a) without the square", lambda a, h, hp: 1 - h
        ),
        _derivative(
            "you used 1 - tanh(h)², applying tanh to h a second time",
            lambda a, h, hp: 1 - np.tanh(h) ** 2,
        ),
        _derivative(
            "you used h(1 - h), the derivative of the sigmoid", lambda a, h, hp: h * (1 - h)
        ),
        _derivative("you used (1 - h)²", lambda a, h, hp: (1 - h) ** 2),
        _derivative(
            "the factor tanh'(a) is missing (you used da = dh)", lambda a, h, hp: np.ones_like(h)
        ),
        _derivative(
            "you used 1 - h_prev², the derivative at the previous step's output",
            lambda a, h, hp: 1 - hp**2,
        ),
        Mistake(  # only when D = H does da @ Wx have a shape at all
            "dx = da @ Wx.T: Wx must be transposed.",
            lambda x, hp, Wx, Wh, b, dh: {"dx": _da(x, hp, Wx, Wh, b, dh) @ Wx},
        ),
        Mistake(
            "dh_prev = da @ Wh.T: Wh must be transposed.",
            lambda x, hp, Wx, Wh, b, dh: {"dh_prev": _da(x, hp, Wx, Wh, b, dh) @ Wh},
        ),
        Mistake(
            "dWx is transposed: dWx = x.T @ da, shape (D, H).",
            lambda x, hp, Wx, Wh, b, dh: {"dWx": _da(x, hp, Wx, Wh, b, dh).T @ x},
        ),
        Mistake(
            "dWh uses the new state h, but Wh multiplies h_prev: dWh = h_prev.T @ da.",
            lambda x, hp, Wx, Wh, b, dh: {
                "dWh": _h(x, hp, Wx, Wh, b).T @ _da(x, hp, Wx, Wh, b, dh)
            },
        ),
        Mistake(
            "dWh is transposed: dWh = h_prev.T @ da.",
            lambda x, hp, Wx, Wh, b, dh: {"dWh": _da(x, hp, Wx, Wh, b, dh).T @ hp},
        ),
        Mistake(
            "db is the mean over the batch; the loss adds up the examples, so sum: "
            "db = da.sum(axis=0).",
            lambda x, hp, Wx, Wh, b, dh: {"db": _da(x, hp, Wx, Wh, b, dh).mean(axis=0)},
        ),
        Mistake(
            "db must be summed over the batch (axis 0), shape (H,).",
            lambda x, hp, Wx, Wh, b, dh: {"db": _da(x, hp, Wx, Wh, b, dh)},
        ),
    ],
)

WEIGHTS = ("Wx", "Wh", "b")

test_shapes = BACKWARD.shapes_test(Case(30, N=2, D=3, H=4))
test_values = BACKWARD.tests(
    [
        Case(31, "random inputs", N=3, D=4, H=5),
        # large pre-activations: every wrong derivative is far from 1 - h^2
        Case(32, "large pre-activations", N=4, D=3, H=3, scale=dict.fromkeys(WEIGHTS, 1.5)),
    ]
)
test_centred_differences = BACKWARD.gradient_check_test(Case(33, N=2, D=3, H=4))
test_edge_cases = BACKWARD.tests(
    [
        Case(34, N=1, D=2, H=3),
        Case(35, N=3, D=2, H=1),
        Case(36, N=2, D=3, H=3),
        # h_prev = 0: dWh must be zero, because Wh only ever multiplies h_prev
        Case(37, "h_prev = 0", N=3, D=2, H=3, zero_states=True),
        Case(38, N=5, D=2, H=3),
    ]
)
test_inputs_not_modified = BACKWARD.unchanged_test(Case(39, N=2, D=3, H=4))
