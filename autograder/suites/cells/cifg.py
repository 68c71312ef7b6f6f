"""The CIFG cell of notebook 05 (coupled input and forget gate, i = 1 - f), row vectors.

a = x Wx + h_prev Wh + b with blocks f, g, o; c = f * c_prev + (1 - f) * g; h = o * tanh(c).
STEP and SEQUENCE are cifg_step_forward and cifg_forward with their typical mistakes; STEP_MISTAKES
and the gradient helpers serve the backward suites.
"""

from __future__ import annotations

import numpy as np

from autograder.suites.cells.lstm import SWAPPED_H_C
from autograder.suites.kit import Arg, Function, Mistake
from autograder.suites.kit.recurrent import sequence_mistakes, step_advice
from solutions.cifg import cifg_forward, cifg_step_forward


def _sig(a):
    return 1 / (1 + np.exp(-a))


def step(x, h, c_prev, Wx, Wh, b, mistake=None):
    """One CIFG step (h, c), or the same step with one typical mistake (a key of FORWARD)."""
    H = h.shape[1]
    a = x @ Wx + (c_prev if mistake == "c for h" else h) @ Wh + (0 if mistake == "no bias" else b)
    order = {"order fog": "fog", "order gfo": "gfo"}.get(mistake, "fgo")
    blocks = {k: a[:, j * H : (j + 1) * H] for j, k in enumerate(order)}
    f = np.tanh(blocks["f"]) if mistake == "tanh on f" else _sig(blocks["f"])
    g, o = np.tanh(blocks["g"]), _sig(blocks["o"])
    i = {"i = f": f, "no input gate": 1.0}.get(mistake, 1 - f)
    if mistake == "reversed coupling":
        c = (1 - f) * c_prev + f * g
    else:
        c = f * c_prev + i * g
    if mistake == "o on c":
        return o * c, c
    if mistake == "h from c_prev":
        return o * np.tanh(c_prev), c
    if mistake == "h and c swapped":
        return c, o * np.tanh(c)
    return o * np.tanh(c), c


FORWARD = {
    "h and c swapped": SWAPPED_H_C,
    "i = f": (
        "The input gate is f itself (c = f * c_prev + f * g); in a CIFG the input gate is "
        "i = 1 - f: c = f * c_prev + (1 - f) * g."
    ),
    "reversed coupling": (
        "The coupling is reversed: you wrote c = (1 - f) * c_prev + f * g. In this course the "
        "gate learnt is the FORGET gate: f keeps the old state, 1 - f writes the candidate."
    ),
    "no input gate": (
        "The candidate is written in full (c = f * c_prev + g): it must be scaled by the input "
        "gate i = 1 - f."
    ),
    "order fog": "The blocks are read as f, o, g; the order is f, g, o (a[:, H:2H] is g).",
    "order gfo": "The blocks are read as g, f, o; the order is f, g, o (a[:, 0:H] is f).",
    "tanh on f": "tanh instead of sigmoid on the gate f: a gate takes values in (0, 1).",
    "o on c": "The output gate is applied to c instead of tanh(c): h = o * tanh(c).",
    "h from c_prev": "h uses the old cell state: h = o * tanh(c) with the NEW c of this step.",
    "c for h": "The recurrent term uses c_prev; it is h_prev @ Wh (the gates read h, not c).",
    "no bias": "The bias b is missing: add it to the pre-activation before cutting it into blocks.",
}


def _mistake(key, k):
    return Mistake(FORWARD[key], lambda *a: step(*a, mistake=key)[k] if k is not None else
                   dict(zip(("h", "c"), step(*a, mistake=key), strict=True)))  # fmt: skip


STEP_ARGS = [
    Arg("x", "N, D"),
    Arg("h_prev", "N, H", state=True),
    Arg("c_prev", "N, H", state=True),
    Arg("Wx", "D, 3H"),
    Arg("Wh", "H, 3H"),
    Arg("b", "3H"),
]

STEP = Function(
    "cifg_step_forward",
    STEP_ARGS,
    returns=("h", "c", "cache"),
    reference=cifg_step_forward,
    title="step forward",
    hints="Check: a = x @ Wx + h_prev @ Wh + b, blocks f, g, o; f = sigmoid, g = tanh, "
    "o = sigmoid; c = f * c_prev + (1 - f) * g; h = o * tanh(c).",
    shape_hints="h and c are the new hidden and cell states, (N, H).",
    mistakes=[_mistake(k, None) for k in FORWARD],
)

SEQUENCE = Function(
    "cifg_forward",
    [
        Arg("x", "N, T, D"),
        Arg("h0", "N, H", state=True),
        Arg("c0", "N, H", state=True),
        Arg("Wx", "D, 3H"),
        Arg("Wh", "H, 3H", scale=0.5),
        Arg("b", "3H"),
    ],  # fmt: skip
    returns=("h", "c", "cache"),
    reference=cifg_forward,
    title="sequence forward",
    hints="Check that step t starts from the h and the c of step t-1 (step 1 from h0, c0), with "
    "the same weights.",
    shape_hints="h and c hold every state of every example, h_1..h_T and c_1..c_T: (N, T, H).",
    mistakes=sequence_mistakes(
        "cifg_forward", cifg_forward, cifg_step_forward, ["h0", "c0"], ["h", "c"]
    ),
    advice=step_advice(STEP),
)


# --------------------------------------------------------------------------- backward mistakes
BACKWARD = {
    "i free": (
        "df = dc_total * c_prev only: that treats the input gate as a gate of its own. In a CIFG "
        "f appears twice, c = f * c_prev + (1 - f) * g, so df = dc_total * (c_prev - g)."
    ),
    "sign": (
        "df = dc_total * (c_prev + g): the g term has the wrong sign. d/df of (1 - f) * g is -g, "
        "so df = dc_total * (c_prev - g)."
    ),
    "both signs": (
        "df = dc_total * (g - c_prev): both signs are reversed (that is the gradient of the "
        "other parameterisation, f = 1 - i). Here df = dc_total * (c_prev - g)."
    ),
    "dg with f": "dg = dc_total * f: the candidate is scaled by the input gate 1 - f.",
    "dc_prev with 1-f": "dc_prev = dc_total * f: the forget gate scales the old state.",
    "no h path": (
        "The gradient reaching c through h is missing: dc_total = dc + dh * o * (1 - tanh(c)**2) "
        "(c is used twice, directly and inside h = o * tanh(c))."
    ),
    "tanh' of c": "The derivative of tanh(c) is 1 - tanh(c)**2, not 1 - c**2.",
    "sigmoid' as tanh'": "The derivative of a sigmoid gate s is s * (1 - s), not 1 - s**2.",
}


def step_grads(x, h_prev, c_prev, Wx, Wh, b, dh, dc, mistake=None):
    """The six gradients of one CIFG step {dx, dh_prev, dc_prev, dWx, dWh, db}, or with one
    typical mistake (a key of BACKWARD)."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    f, g, o = _sig(a[:, :H]), np.tanh(a[:, H : 2 * H]), _sig(a[:, 2 * H :])
    c = f * c_prev + (1 - f) * g
    tc = np.tanh(c)
    d_tanh = 1 - c**2 if mistake == "tanh' of c" else 1 - tc**2
    dct = dc + (0 if mistake == "no h path" else dh * o * d_tanh)
    df = {
        "i free": dct * c_prev,
        "sign": dct * (c_prev + g),
        "both signs": dct * (g - c_prev),
    }.get(mistake, dct * (c_prev - g))
    dg = dct * (f if mistake == "dg with f" else 1 - f)
    dc_prev = dct * (1 - f if mistake == "dc_prev with 1-f" else f)
    do = dh * tc
    s = (lambda v: 1 - v**2) if mistake == "sigmoid' as tanh'" else (lambda v: v * (1 - v))
    da = np.concatenate([df * s(f), dg * (1 - g**2), do * s(o)], axis=1)
    return {
        "dx": da @ Wx.T,
        "dh_prev": da @ Wh.T,
        "dc_prev": dc_prev,
        "dWx": x.T @ da,
        "dWh": h_prev.T @ da,
        "db": da.sum(axis=0),
    }


STEP_MISTAKES = [
    Mistake(msg, lambda *a, k=k: step_grads(*a, mistake=k)) for k, msg in BACKWARD.items()
]
