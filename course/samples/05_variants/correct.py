"""Sample submission "correct" for 05_variants: right answers written differently from the reference.

`python course/build.py samples` puts each function below into the answer cell of the same name
and each entry of ANSWERS into the written answer of that id. Every exercise must get full marks.
The imports and `sigmoid` stand for the notebook's setup and helper cells.
"""

import numpy as np
import torch

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {}
NAMES = {}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def cifg_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Right: one block at a time, c written as a move towards g; the cache is a tuple."""
    H = h_prev.shape[1]

    def pre(k):
        cols = slice(k * H, (k + 1) * H)
        return x @ Wx[:, cols] + h_prev @ Wh[:, cols] + b[cols]

    f = 1.0 / (1.0 + np.exp(-pre(0)))
    g = np.tanh(pre(1))
    o = 1.0 / (1.0 + np.exp(-pre(2)))
    c = g + f * (c_prev - g)
    h = o * np.tanh(c)
    return h, c, (x, h_prev, c_prev, Wx, Wh, f, g, o, c)


def cifg_forward(x, h0, c0, Wx, Wh, b):
    """Right: collects the states in lists and stacks them at the end."""
    hs, cs, caches = [], [], []
    h, c = h0, c0
    for x_t in np.moveaxis(x, 1, 0):
        h, c, cache = cifg_step_forward(x_t, h, c, Wx, Wh, b)
        hs.append(h)
        cs.append(c)
        caches.append(cache)
    return np.stack(hs, axis=1), np.stack(cs, axis=1), caches


def cifg_step_backward(dh, dc, cache):
    """Right: the two terms of df written out separately."""
    x, h_prev, c_prev, Wx, Wh, f, g, o, c = cache
    tc = np.tanh(c)
    dct = dc + dh * o * (1 - tc * tc)
    df = dct * c_prev - dct * g  # keep term, write term (i = 1 - f)
    da_f = df * f * (1 - f)
    da_g = dct * (1 - f) * (1 - g * g)
    da_o = dh * tc * o * (1 - o)
    da = np.hstack([da_f, da_g, da_o])
    return da @ Wx.T, da @ Wh.T, dct * f, x.T @ da, h_prev.T @ da, np.sum(da, axis=0)


def cifg_backward(dh, dc, cache):
    """Right: dc = None handled by a zero array; gradients accumulated in a dict."""
    N, T, H = dh.shape
    if dc is None:
        dc = np.zeros_like(dh)
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    sums = None
    carry_h, carry_c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        g = cifg_step_backward(dh[:, t] + carry_h, dc[:, t] + carry_c, cache[t])
        dx[:, t], carry_h, carry_c = g[0], g[1], g[2]
        sums = list(g[3:]) if sums is None else [s + v for s, v in zip(sums, g[3:], strict=True)]
    return (dx, carry_h, carry_c, *sums)


def cifg_flip(Wx, Wh, b):
    """Right: multiply by a sign vector, -1 on the gate block and +1 elsewhere."""
    H = Wh.shape[0]
    sign = np.concatenate([-np.ones(H), np.ones(2 * H)])
    return Wx * sign, Wh * sign, b * sign


def parameter_count(cell, input_size, hidden_size, biases=2):
    """Right: weights, biases and peepholes counted separately."""
    D, H = input_size, hidden_size
    G = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}[cell]
    weights = G * (D * H + H * H)
    bias_entries = G * biases * H
    peepholes = 3 * H if cell == "peephole" else 0
    return int(weights + bias_entries + peepholes)


def switched_cell(f, i, g, c_prev, forget_gate, output_activation):
    """Right: the forget switch as a blend with a float mask, the output switch with where."""
    keep = forget_gate.to(f.dtype)  # 1 where the model has a forget gate
    f_used = keep * f + (1 - keep)  # f, or 1 without a forget gate
    c = f_used * c_prev + i * g
    s = torch.where(output_activation, torch.tanh(c), c)
    return c, s


ANSWERS = {
    "q_forget_gate": (
        "(a) Without a forget gate the cell only adds, c_t = c_0 + sum of i*g, so on a long "
        "stream it grows without bound and cannot clear old content; tanh(c) saturates and "
        "learning stops. (b) tanh bounds what a large cell state shows; without it and without "
        "a forget gate, huge values reach h and the gates."
    ),
    "q_learning_rate": (
        "(a) A wrong learning rate stops any cell from training (stuck or unstable); Greff "
        "sampled a wide range, ours is narrow and NIG fails at every rate. (b) Tune the "
        "learning rate per architecture and compare over seeds with equal budgets."
    ),
}
