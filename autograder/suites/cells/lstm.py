"""The LSTM cell of notebook 03: numpy variants with the typical mistakes, and the declarations.

Each variant computes what a student who made one particular mistake would return (block order,
tanh on a gate, c from h, o applied to c, ...; in the backward pass a missing path, a wrong
derivative), so that a suite can name the mistake when a student's answer equals it. The same
mistakes are made in the numpy step, the sequence and the nn.Module, so one table serves every
forward suite.

STEP and SEQUENCE declare lstm_step_forward and lstm_forward with their mistake tables, for the
forward and backward suites.
"""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import Arg, Function, Mistake
from autograder.suites.kit.recurrent import sequence_mistakes, step_advice
from solutions.lstm import lstm_forward, lstm_step_forward


def sig(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


# --------------------------------------------------------------------------------------------
# forward mistakes
# --------------------------------------------------------------------------------------------

# Every cell with two states (LSTM, peephole, CIFG) can return or unpack them the wrong way round.
SWAPPED_H_C = (
    "h and c are swapped: your h equals the new cell state c and your c the new hidden state h. "
    "A step returns (h, c, cache) in that order, and a loop over it must unpack them in that "
    "order too (h, c, cache = step(...))."
)

# mistake -> the hint that names it. The same mistakes are made in the numpy step, the sequence
# and the nn.Module, so one table serves every forward suite.
FORWARD_MISTAKES = {
    "order ifog": (
        "The blocks are read in the order i, f, o, g (CS231n's); here, as in PyTorch, the order is "
        "i, f, g, o: a[:, 2H:3H] is the candidate g and a[:, 3H:4H] the output gate o."
    ),
    "order figo": (
        "The input and forget blocks are swapped: in the order i, f, g, o the first H columns "
        "(rows of PyTorch's weights) are the input gate and the next H the forget gate."
    ),
    "tanh on i": (
        "tanh instead of sigmoid on the input gate i: the three gates i, f, o use the sigmoid "
        "(values in (0, 1)); only the candidate g uses tanh."
    ),
    "tanh on f": (
        "tanh instead of sigmoid on the forget gate f: the three gates i, f, o use the sigmoid "
        "(values in (0, 1)); only the candidate g uses tanh."
    ),
    "tanh on o": (
        "tanh instead of sigmoid on the output gate o: the three gates i, f, o use the sigmoid "
        "(values in (0, 1)); only the candidate g uses tanh."
    ),
    "sigmoid on g": (
        "sigmoid instead of tanh on the candidate g: the new content g = tanh(a[:, 2H:3H]) must "
        "be able to be negative."
    ),
    "c from h": (
        "The new cell state is computed from the previous hidden state instead of the previous "
        "cell state: c = f * c_prev + i * g (the forget gate scales the old CELL state)."
    ),
    "o on c": (
        "The output gate is applied to c instead of tanh(c): h = o * tanh(c), the cell state is "
        "squashed before it is shown."
    ),
    "h from c_prev": "h uses the old cell state: h = o * tanh(c) with the NEW c of this step.",
    "no forget": (
        "The forget gate is missing: c = f * c_prev + i * g, not c_prev + i * g (that is the "
        "1997 LSTM without forget gate)."
    ),
    "no bias": "The bias b is missing: add it to the pre-activation before cutting it into blocks.",
    "h and c swapped": SWAPPED_H_C,
}


def step_forward(x, h_prev, c_prev, Wx, Wh, b, mistake=None):
    """One LSTM step (row vectors, blocks i, f, g, o), or the same step with one mistake."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + (0.0 if mistake == "no bias" else b)
    order = {"order ifog": "ifog", "order figo": "figo"}.get(mistake, "ifgo")
    blocks = {name: a[:, k * H : (k + 1) * H] for k, name in enumerate(order)}
    act = {n: (np.tanh if mistake == f"tanh on {n}" else sig)(blocks[n]) for n in "ifo"}
    g = sig(blocks["g"]) if mistake == "sigmoid on g" else np.tanh(blocks["g"])
    i, f, o = act["i"], act["f"], act["o"]
    old = h_prev if mistake == "c from h" else c_prev
    c = (old if mistake == "no forget" else f * old) + i * g
    if mistake == "o on c":
        h = o * c
    elif mistake == "h from c_prev":
        h = o * np.tanh(c_prev)
    else:
        h = o * np.tanh(c)
    return (c, h) if mistake == "h and c swapped" else (h, c)


def sequence_forward(x, h0, c0, Wx, Wh, b, mistake=None):
    """h, c (N, T, H) of an LSTM over a sequence, or with one step mistake or one of:

    "no c carry" (every step starts from c0), "no h carry" (every step starts from h0).
    """
    h_t, c_t, hs, cs = h0, c0, [], []
    step_mistake = mistake if mistake in FORWARD_MISTAKES else None
    for t in range(x.shape[1]):
        h_in = h0 if mistake == "no h carry" else h_t
        c_in = c0 if mistake == "no c carry" else c_t
        h_t, c_t = step_forward(x[:, t], h_in, c_in, Wx, Wh, b, step_mistake)
        hs.append(h_t)
        cs.append(c_t)
    return np.stack(hs, axis=1), np.stack(cs, axis=1)


# --------------------------------------------------------------------------------------------
# backward mistakes
# --------------------------------------------------------------------------------------------

BACKWARD_MISTAKES = {
    "no h path": (
        "The gradient reaching c through h is missing: dc_total = dc + dh * o * (1 - tanh(c)**2) "
        "(c is used twice, directly and inside h = o * tanh(c)); di, df, dg and dc_prev all "
        "start from dc_total."
    ),
    "no dc from above": (
        "The gradient dc from above is left out: dc_total = dc + dh * o * (1 - tanh(c)**2) "
        "adds both paths into c (the direct one from the next step, and the one through h)."
    ),
    "tanh' of g unsquared": (
        "Wrong derivative of the candidate: you used 1 - g; g = tanh(a_g), so dg * (1 - g**2)."
    ),
    "tanh' of c": (
        "The derivative of tanh(c) is written with c instead of tanh(c): it is 1 - tanh(c)**2, "
        "not 1 - c**2."
    ),
    "sigmoid' as tanh'": (
        "The derivative of a sigmoid gate s is s * (1 - s); 1 - s**2 is the derivative of tanh."
    ),
    "no f in dc_prev": "dc_prev = dc_total * f: the forget gate scales the gradient as well.",
    "df with c": "df = dc_total * c_prev (the forget gate multiplied the OLD cell state).",
    "da order ifog": (
        "The blocks of da are concatenated in the order i, f, o, g; keep the forward pass's "
        "order i, f, g, o."
    ),
    "dWh with h": "dWh = h_prev.T @ da: the product used the previous hidden state h_prev.",
}


def step_backward(dh, dc, x, h_prev, c_prev, Wx, Wh, b, mistake=None):
    """The six gradients of one LSTM step, or the same with one backward mistake."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f = sig(a[:, :H]), sig(a[:, H : 2 * H])
    g, o = np.tanh(a[:, 2 * H : 3 * H]), sig(a[:, 3 * H :])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * tc
    dtanh = 1 - c**2 if mistake == "tanh' of c" else 1 - tc**2
    dct = dc if mistake == "no h path" else dc + dh * o * dtanh
    if mistake == "no dc from above":
        dct = dh * o * dtanh
    do, di, dg = dh * tc, dct * g, dct * i
    df = dct * (c if mistake == "df with c" else c_prev)
    dc_prev = dct if mistake == "no f in dc_prev" else dct * f

    def dsig(s):
        return 1 - s**2 if mistake == "sigmoid' as tanh'" else s * (1 - s)

    dtanh_g = 1 - g if mistake == "tanh' of g unsquared" else 1 - g**2
    parts = {"i": di * dsig(i), "f": df * dsig(f), "g": dg * dtanh_g, "o": do * dsig(o)}
    order = "ifog" if mistake == "da order ifog" else "ifgo"
    da = np.concatenate([parts[k] for k in order], axis=1)
    dWh = (h if mistake == "dWh with h" else h_prev).T @ da
    return da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, dWh, da.sum(axis=0)


STEP_BACKWARD_MISTAKES = [
    Mistake(hint, lambda *a, m=mistake: step_backward(a[-2], a[-1], *a[:-2], mistake=m))
    for mistake, hint in BACKWARD_MISTAKES.items()
]  # for lstm_step_backward: arguments (*step args, dh, dc)


# --------------------------------------------------------------------------------------------
# declarations
# --------------------------------------------------------------------------------------------


def table_mistakes(table: dict, fn) -> list[Mistake]:
    """One Mistake per entry {mistake: message} of ``table``, computed by ``fn(..., mistake=)``
    (a step or a sequence variant; the peephole cell uses it with its own table)."""
    return [
        Mistake(hint, lambda *a, m=mistake: fn(*a, mistake=m)) for mistake, hint in table.items()
    ]


# The arguments of an LSTM step and sequence (the peephole cell adds p_i, p_f, p_o to them).
STEP_ARGS = [
    Arg("x", "N, D"),
    Arg("h_prev", "N, H", state=True),
    Arg("c_prev", "N, H", state=True),
    Arg("Wx", "D, 4H"),
    Arg("Wh", "H, 4H"),
    Arg("b", "4H"),
]
SEQUENCE_ARGS = [
    Arg("x", "N, T, D"),
    Arg("h0", "N, H", state=True),
    Arg("c0", "N, H", state=True),
    Arg("Wx", "D, 4H"),
    Arg("Wh", "H, 4H", scale=0.5),
    Arg("b", "4H"),
]
STEP_SHAPE_HINTS = {
    "c": "c is the new cell state: one row per example, H columns, (N, H).",
    "h": "h is the new hidden state: one row per example, H columns, (N, H).",
}
SEQUENCE_SHAPE_HINT = (
    "h and c hold the states after every step of every example: (N, T, H), batch first."
)

STEP = Function(
    "lstm_step_forward",
    STEP_ARGS,
    returns=("h", "c", "cache"),
    reference=lstm_step_forward,
    compare=("c", "h"),
    title="step forward",
    hints={
        "c": "Check: a = x @ Wx + h_prev @ Wh + b cut into blocks i, f, g, o of H columns; "
        "i, f sigmoid, g tanh; c = f * c_prev + i * g.",
        "h": "Check: h = o * tanh(c) with o = sigmoid(a[:, 3H:4H]) and the new c.",
    },
    shape_hints=STEP_SHAPE_HINTS,
    mistakes=table_mistakes(FORWARD_MISTAKES, step_forward),
)

C_FROM_H = (
    "c_t was computed from h_{t-1} instead of c_{t-1}: pass the c that the previous step "
    "returned as c_prev (c0 for the first step), and check that lstm_step_forward uses c_prev."
)

SEQUENCE = Function(
    "lstm_forward",
    SEQUENCE_ARGS,
    returns=("h", "c", "cache"),
    reference=lstm_forward,
    compare=("c", "h"),
    title="sequence forward",
    hints=(
        "Check that step t starts from the h AND the c of step t-1 (h0 and c0 for the first "
        "step) and that h[:, t], c[:, t] are the states after reading x[:, t]."
    ),
    shape_hints=SEQUENCE_SHAPE_HINT,
    mistakes=[
        Mistake(C_FROM_H, lambda *a: sequence_forward(*a, mistake="c from h")),
        *sequence_mistakes(
            "lstm_forward", lstm_forward, lstm_step_forward, ["h0", "c0"], ["h", "c"]
        ),  # fmt: skip
        *table_mistakes(FORWARD_MISTAKES, sequence_forward),
    ],
    advice=step_advice(STEP),
)
