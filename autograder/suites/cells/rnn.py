"""The vanilla RNN cell of notebook 01: h = tanh(x Wx + h_prev Wh + b), row vectors.

STEP and SEQUENCE are rnn_step_forward and rnn_forward with their typical mistakes, used by the
forward and backward suites.
"""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import Arg, Function, Mistake
from autograder.suites.kit.recurrent import sequence_mistakes, step_advice
from solutions.rnn import rnn_forward, rnn_step_forward


def _sig(a):
    return 1 / (1 + np.exp(-a))


STEP = Function(
    "rnn_step_forward",
    [
        Arg("x", "N, D"),
        Arg("h_prev", "N, H", state=True),
        Arg("Wx", "D, H"),
        Arg("Wh", "H, H"),
        Arg("b", "H"),
    ],  # fmt: skip
    returns=("h", "cache"),
    reference=rnn_step_forward,
    title="step forward",
    hints="Check: h = tanh(x @ Wx + h_prev @ Wh + b), tanh applied once to the whole sum.",
    shape_hints="h is the new hidden state: one row per example, H columns, (N, H).",
    mistakes=[
        Mistake(
            "The bias b is missing: add b (one value per hidden unit) before the tanh.",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh),
        ),
        Mistake(
            "tanh is missing: h is tanh of the pre-activation, not the pre-activation itself.",
            lambda x, h, Wx, Wh, b: x @ Wx + h @ Wh + b,
        ),
        Mistake(
            "Your h equals sigmoid(a), not tanh(a): you used the sigmoid; the vanilla RNN step "
            "uses tanh.",
            lambda x, h, Wx, Wh, b: _sig(x @ Wx + h @ Wh + b),
        ),
        Mistake(
            "Your h equals relu(a), not tanh(a): the vanilla RNN step squashes with tanh.",
            lambda x, h, Wx, Wh, b: np.maximum(x @ Wx + h @ Wh + b, 0.0),
        ),
        Mistake(
            "b is added after the tanh: your h equals tanh(x @ Wx + h_prev @ Wh) + b; the bias "
            "belongs inside, tanh(x @ Wx + h_prev @ Wh + b).",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh) + b,
        ),
        Mistake(
            "Wh is transposed: with row vectors the recurrent term is h_prev @ Wh.",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh.T + b),
        ),
        Mistake(
            "tanh was applied to each term separately; apply it once, to the whole sum.",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx) + np.tanh(h @ Wh) + np.tanh(b),
        ),
        Mistake(
            "h_prev is ignored: the new state depends on the previous one through h_prev @ Wh.",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + b),
        ),
        Mistake(
            "x is ignored: the input enters through x @ Wx.",
            lambda x, h, Wx, Wh, b: np.tanh(h @ Wh + b),
        ),
        Mistake(  # only when D = H does x @ Wx.T have a shape at all
            "Wx is transposed: with row vectors the input term is x @ Wx.",
            lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh + b),
        ),
    ],
)

SEQUENCE = Function(
    "rnn_forward",
    [
        Arg("x", "N, T, D"),
        Arg("h0", "N, H", state=True),
        Arg("Wx", "D, H"),
        Arg("Wh", "H, H", scale=0.5),
        Arg("b", "H"),
    ],  # fmt: skip
    returns=("h", "cache"),
    reference=rnn_forward,
    title="sequence forward",
    hints="Check that step t starts from the h of step t-1 (step 1 from h0), with the same "
    "weights.",
    shape_hints="h holds every hidden state h_1..h_T of every example: (N, T, H), batch first.",
    mistakes=sequence_mistakes("rnn_forward", rnn_forward, rnn_step_forward, ["h0"], ["h"]),
    advice=step_advice(STEP),
)
