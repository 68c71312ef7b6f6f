"""Sample submission "coupling_mistakes" for 05_variants: the coupling treated as two free gates.

cifg_step_forward is right; the rest of what is answered has a typical mistake its hidden suite
must fail and name; cifg_forward and cifg_backward are left unanswered:

- cifg_step_backward keeps i and f as free gates: df = dc_total * c_prev, without the -g term;
- cifg_flip writes the new gate bias as 1 - b (and flips the weights);
- parameter_count double-counts the biases (2 * biases per block);
- switched_cell ignores the output_activation switch (tanh for every model).
"""

import numpy as np
import torch

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {
    "cifg_forward": 0.0,
    "cifg_step_backward": 0.6667,
    "cifg_backward": 0.0,
    "cifg_flip": 0.2857,
    "parameter_count": 0.0,
    "switched_cell": 0.6667,
}
NAMES = {
    "cifg_step_backward": ("treats the input gate as a gate of its own",),
    "cifg_flip": ("The new gate bias is 1 - b",),
    "parameter_count": ("double-counted",),
    "switched_cell": ("output_activation switch is ignored",),
}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def cifg_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Right."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    f, g, o = sigmoid(a[:, :H]), np.tanh(a[:, H : 2 * H]), sigmoid(a[:, 2 * H :])
    i = 1 - f
    c = f * c_prev + i * g
    return o * np.tanh(c), c, (x, h_prev, c_prev, Wx, Wh, f, i, g, o, c)


def cifg_step_backward(dh, dc, cache):
    """Mistake: i treated as a gate of its own, so df = dc_total * c_prev only."""
    x, h_prev, c_prev, Wx, Wh, f, i, g, o, c = cache
    tc = np.tanh(c)
    dct = dc + dh * o * (1 - tc**2)
    df = dct * c_prev
    dg = dct * i
    da = np.concatenate([df * f * (1 - f), dg * (1 - g**2), dh * tc * o * (1 - o)], axis=1)
    return da @ Wx.T, da @ Wh.T, dct * f, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def cifg_flip(Wx, Wh, b):
    """Mistake: the new gate bias is 1 - b instead of -b (the weights are flipped)."""
    H = Wh.shape[0]
    Wx, Wh, b = Wx.copy(), Wh.copy(), b.copy()
    Wx[:, :H] *= -1
    Wh[:, :H] *= -1
    b[:H] = 1 - b[:H]
    return Wx, Wh, b


def parameter_count(cell, input_size, hidden_size, biases=2):
    """Mistake: the biases double-counted, 2 * biases vectors per block."""
    D, H = input_size, hidden_size
    G = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}[cell]
    return G * (D * H + H * H + 2 * biases * H) + (3 * H if cell == "peephole" else 0)


def switched_cell(f, i, g, c_prev, forget_gate, output_activation):
    """Mistake: the output_activation switch is ignored (tanh for every model)."""
    c = torch.where(forget_gate, f * c_prev, c_prev) + i * g
    return c, torch.tanh(c)
