"""The peephole LSTM cell of notebook 04: numpy variants with the typical mistakes, declarations.

Each variant computes what a student who made one particular mistake would return: the peephole
terms in the wrong place (the new c into the input or forget gate, c_prev into the output gate),
missing, swapped, or read as a full matrix (a sum over the cells, so that every cell feeds every
gate); in the backward pass the output-gate peephole's gradient that never reaches dc, the
peephole paths left out of dc_prev, a peephole gradient taken with the wrong cell state. One
table serves the step, the sequence and the nn.Module.

STEP and SEQUENCE declare peephole_step_forward and peephole_forward with their mistake tables,
for the forward and backward suites.
"""

from __future__ import annotations

import numpy as np

from autograder.suites.cells import lstm
from autograder.suites.kit import Arg, Function, Mistake
from autograder.suites.kit.recurrent import bptt, sequence_mistakes, step_advice
from solutions.peephole import peephole_forward, peephole_step_forward


def sig(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


DIAGONAL = (
    "The peepholes are diagonal, one weight per cell: p_i * c_prev element by element, so that "
    "cell k reaches only its own gates."
)

# mistake -> the hint that names it (step, sequence and module alike)
FORWARD_MISTAKES = {
    "no peepholes": (
        "The peephole terms are missing: this is the plain LSTM. Add p_i * c_prev to the input "
        "gate, p_f * c_prev to the forget gate and p_o * c to the output gate."
    ),
    "new c into i and f": (
        "The input and forget gates peek at the NEW cell state c (computed first without "
        "peepholes); they are needed to make c, so they see c_prev: i = sigmoid(a_i + p_i * "
        "c_prev), f = sigmoid(a_f + p_f * c_prev)."
    ),
    "new c into f": (
        "The forget gate peeks at the NEW cell state c; it is needed to make c, so it sees "
        "c_prev: f = sigmoid(a_f + p_f * c_prev)."
    ),
    "c_prev into o": (
        "The output gate peeks at c_prev; it comes after the update and sees the NEW cell state: "
        "o = sigmoid(a_o + p_o * c)."
    ),
    "no o peephole": "The output gate has no peephole term: o = sigmoid(a_o + p_o * c).",
    "no i f peepholes": (
        "The input and forget gates have no peephole terms: i = sigmoid(a_i + p_i * c_prev), "
        "f = sigmoid(a_f + p_f * c_prev)."
    ),
    "no i peephole": "The input gate has no peephole term: i = sigmoid(a_i + p_i * c_prev).",
    "no f peephole": "The forget gate has no peephole term: f = sigmoid(a_f + p_f * c_prev).",
    **{
        f"h_prev into {gates}": (
            f"The peephole of {gates.replace(' ', ' and ')} looks at h_prev; a peephole looks at "
            "the cell state: i = sigmoid(a_i + p_i * c_prev), f = sigmoid(a_f + p_f * c_prev)."
        )
        for gates in ("i f", "i", "f")
    },
    "h and c swapped": lstm.SWAPPED_H_C,
    "p_i p_f swapped": (
        "p_i and p_f are swapped: p_i belongs to the input gate, p_f to the forget gate."
    ),
    "full matrix": (
        "The peephole term is a sum over the cells (c_prev @ p, or a full (H, H) matrix), so "
        "every cell feeds every gate. " + DIAGONAL
    ),
    "order ifog": (
        "The blocks are read in the order i, f, o, g; here, as in PyTorch and notebook 03, the "
        "order is i, f, g, o."
    ),
    "o on c": (
        "The output gate is applied to c instead of tanh(c): h = o * tanh(c), as in the LSTM."
    ),
}


def step_forward(x, h_prev, c_prev, Wx, Wh, b, p_i, p_f, p_o, mistake=None):
    """One peephole LSTM step (row vectors, blocks i, f, g, o), or the same with one mistake."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    order = "ifog" if mistake == "order ifog" else "ifgo"
    blk = {name: a[:, k * H : (k + 1) * H] for k, name in enumerate(order)}
    if mistake == "p_i p_f swapped":
        p_i, p_f = p_f, p_i

    def peek(p, c):
        if mistake == "full matrix":
            return (c @ p)[:, None]  # (N, 1): the sum over the cells, added to every gate
        return p * c

    g = np.tanh(blk["g"])
    if mistake in ("no peepholes", "no i f peepholes"):
        i, f = sig(blk["i"]), sig(blk["f"])
    elif mistake in ("new c into i and f", "new c into f"):
        c_new = sig(blk["f"]) * c_prev + sig(blk["i"]) * g  # the plain update, computed first
        i = sig(blk["i"] + p_i * (c_new if mistake == "new c into i and f" else c_prev))
        f = sig(blk["f"] + p_f * c_new)
    elif mistake in ("h_prev into i f", "h_prev into i", "h_prev into f"):
        gates = mistake.removeprefix("h_prev into ").split()
        i = sig(blk["i"] + p_i * (h_prev if "i" in gates else c_prev))
        f = sig(blk["f"] + p_f * (h_prev if "f" in gates else c_prev))
    else:
        i, f = sig(blk["i"] + peek(p_i, c_prev)), sig(blk["f"] + peek(p_f, c_prev))
        if mistake == "no i peephole":
            i = sig(blk["i"])
        elif mistake == "no f peephole":
            f = sig(blk["f"])
    c = f * c_prev + i * g
    if mistake in ("no peepholes", "no o peephole"):
        o = sig(blk["o"])
    elif mistake == "c_prev into o":
        o = sig(blk["o"] + p_o * c_prev)
    else:
        o = sig(blk["o"] + peek(p_o, c))
    h = o * c if mistake == "o on c" else o * np.tanh(c)
    return (c, h) if mistake == "h and c swapped" else (h, c)


def sequence_forward(x, h0, c0, Wx, Wh, b, p_i, p_f, p_o, mistake=None):
    """h, c (N, T, H) of a peephole LSTM over a sequence, or with one step mistake."""
    h_t, c_t, hs, cs = h0, c0, [], []
    for t in range(x.shape[1]):
        h_t, c_t = step_forward(x[:, t], h_t, c_t, Wx, Wh, b, p_i, p_f, p_o, mistake)
        hs.append(h_t)
        cs.append(c_t)
    return np.stack(hs, axis=1), np.stack(cs, axis=1)


# --------------------------------------------------------------------------------------------
# backward mistakes
# --------------------------------------------------------------------------------------------

TOTAL = "dc_total = dc + dh * o * (1 - tanh(c)**2) + da_o * p_o"
BACKWARD_MISTAKES = {
    "no p_o in dc": (
        "The output-gate peephole's gradient does not reach dc: c also enters "
        "o = sigmoid(a_o + p_o * c), so " + TOTAL + ", and da_i, da_f, da_g and dc_prev all "
        "start from it."
    ),
    "no peepholes in dc_prev": (
        "The peephole terms are left out of the backward through the cell: c_prev also feeds "
        "the input and forget gates, so dc_prev = dc_total * f + da_i * p_i + da_f * p_f."
    ),
    "no peepholes in backward": (
        "The backward pass is the plain LSTM's: the peephole paths are missing both from "
        "dc_total (+ da_o * p_o) and from dc_prev (+ da_i * p_i + da_f * p_f)."
    ),
    "no h path": (
        "The gradient reaching c through h is missing: " + TOTAL + " (c enters h = o * tanh(c))."
    ),
    "dp_o with c_prev": (
        "dp_o is taken with c_prev; the output gate saw the NEW c: dp_o = (da_o * c).sum(axis=0)."
    ),
    "dp_i dp_f with c": (
        "dp_i and dp_f are taken with the new c; the input and forget gates saw c_prev: "
        "dp_i = (da_i * c_prev).sum(axis=0), dp_f = (da_f * c_prev).sum(axis=0)."
    ),
    "dp mean": (
        "The peephole gradients are averaged over the batch; the loss adds up the examples, so "
        "sum them: dp_i = (da_i * c_prev).sum(axis=0), and likewise dp_f and dp_o."
    ),
    "dp without da": (
        "The peephole gradients use the gate's gradient before its sigmoid: dp_i sums "
        "da_i * c_prev with da_i = dc_total * g * i * (1 - i), the gradient of the argument of "
        "the sigmoid (likewise for f and o)."
    ),
}


def step_backward(dh, dc, x, h_prev, c_prev, Wx, Wh, b, p_i, p_f, p_o, mistake=None):
    """The nine gradients of one peephole step, or the same with one backward mistake."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i = sig(a[:, :H] + p_i * c_prev)
    f = sig(a[:, H : 2 * H] + p_f * c_prev)
    g = np.tanh(a[:, 2 * H : 3 * H])
    c = f * c_prev + i * g
    o = sig(a[:, 3 * H :] + p_o * c)
    tc = np.tanh(c)
    do = dh * tc
    da_o = do * o * (1 - o)
    dct = dc + dh * o * (1 - tc**2)
    if mistake == "no h path":
        dct = dc + 0.0
    if mistake not in ("no p_o in dc", "no peepholes in backward"):
        dct = dct + da_o * p_o
    di, df = dct * g, dct * c_prev
    da_i, da_f, da_g = di * i * (1 - i), df * f * (1 - f), dct * i * (1 - g**2)
    dc_prev = dct * f
    if mistake not in ("no peepholes in dc_prev", "no peepholes in backward"):
        dc_prev = dc_prev + da_i * p_i + da_f * p_f
    gi, gf, go = (di, df, do) if mistake == "dp without da" else (da_i, da_f, da_o)
    ci = c if mistake == "dp_i dp_f with c" else c_prev
    co = c_prev if mistake == "dp_o with c_prev" else c
    red = np.mean if mistake == "dp mean" else np.sum
    dp_i, dp_f, dp_o = red(gi * ci, axis=0), red(gf * ci, axis=0), red(go * co, axis=0)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
    grads = (da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0))
    return (*grads, dp_i, dp_f, dp_o)


STEP_BACKWARD_MISTAKES = [
    Mistake(hint, lambda *a, m=mistake: step_backward(a[-2], a[-1], *a[:-2], mistake=m))
    for mistake, hint in BACKWARD_MISTAKES.items()
]  # for peephole_step_backward: arguments (*step args, dh, dc)


def _bptt_with(mistake):
    """peephole_backward whose every step makes the step-backward ``mistake``: {gradient: value}."""

    def step(dh, dc, *step_args):
        return step_backward(dh, dc, *step_args, mistake=mistake)

    def fn(*a):
        args, (dh, dc) = a[:9], a[9:]
        dx, (dh0, dc0), per_step = bptt(step, peephole_forward, args, (dh, dc), 2)
        names = ("dWx", "dWh", "db", "dp_i", "dp_f", "dp_o")
        return {"dx": dx, "dh0": dh0, "dc0": dc0} | {
            n: sum(steps) for n, steps in zip(names, per_step, strict=True)
        }

    return fn


BPTT_STEP_MISTAKES = [
    Mistake(hint, _bptt_with(mistake)) for mistake, hint in BACKWARD_MISTAKES.items()
]  # for peephole_backward: the step mistakes, made at every step of the loop


# --------------------------------------------------------------------------------------------
# declarations
# --------------------------------------------------------------------------------------------

PEEPHOLES = [Arg("p_i", "H"), Arg("p_f", "H"), Arg("p_o", "H")]


STEP = Function(
    "peephole_step_forward",
    [*lstm.STEP_ARGS, *PEEPHOLES],
    returns=("h", "c", "cache"),
    reference=peephole_step_forward,
    compare=("c", "h"),
    title="step forward",
    hints={
        "c": "Check: i = sigmoid(a_i + p_i * c_prev), f = sigmoid(a_f + p_f * c_prev), "
        "g = tanh(a_g), c = f * c_prev + i * g, blocks i, f, g, o of a = x @ Wx + h_prev @ Wh + b.",
        "h": "Check: o = sigmoid(a_o + p_o * c) with the NEW c, and h = o * tanh(c).",
    },
    shape_hints=lstm.STEP_SHAPE_HINTS,
    mistakes=lstm.table_mistakes(FORWARD_MISTAKES, step_forward),
)

SEQUENCE = Function(
    "peephole_forward",
    [*lstm.SEQUENCE_ARGS, *PEEPHOLES],
    returns=("h", "c", "cache"),
    reference=peephole_forward,
    compare=("c", "h"),
    title="sequence forward",
    hints=(
        "Check that step t starts from the h AND the c of step t-1 (h0 and c0 for the first "
        "step), with the same weights and peepholes, and that h[:, t], c[:, t] are the states "
        "after reading x[:, t]."
    ),
    shape_hints=lstm.SEQUENCE_SHAPE_HINT,
    mistakes=[
        *sequence_mistakes(
            "peephole_forward", peephole_forward, peephole_step_forward, ["h0", "c0"], ["h", "c"]
        ),  # fmt: skip
        *lstm.table_mistakes(FORWARD_MISTAKES, sequence_forward),
    ],
    advice=step_advice(STEP),
)
