"""Sample submission "mistakes" for 05_variants: the typical mistakes of the notebook.

`python course/build.py samples` puts each function below into the answer cell of the same name.
cifg_step_forward and cifg_forward are right, so that the exercises built on them can be checked;
the others have a mistake students make, which its hidden suite must fail and name:

- cifg_step_backward takes df from the wrong sign of the coupling, dc_total * (c_prev + g);
- cifg_backward carries the gradients correctly but calls that step backward (the coupling's
  mistake must be named there too);
- cifg_flip flips the bias of the gate block in one parameterisation only, not its weights;
- parameter_count misses a bias: one per block even when PyTorch's two are asked for;
- switched_cell reads "no forget gate" as f = 0 (the cell forgets everything).
"""

import numpy as np
import torch

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {
    "cifg_step_backward": 0.6667,
    "cifg_backward": 0.6,
    "cifg_flip": 0.2857,
    "parameter_count": 0.9091,
    "switched_cell": 0.6667,
}
NAMES = {
    "cifg_step_backward": ("the g term has the wrong sign",),
    "cifg_backward": ("the g term has the wrong sign",),
    "cifg_flip": ("Only the bias of the gate changed sign",),
    "parameter_count": ("a missing bias",),
    "switched_cell": ("forgets everything (f = 0",),
}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def cifg_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Right."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    f, g, o = sigmoid(a[:, :H]), np.tanh(a[:, H : 2 * H]), sigmoid(a[:, 2 * H :])
    c = f * c_prev + (1 - f) * g
    h = o * np.tanh(c)
    return (
        h,
        c,
        {
            "x": x,
            "h_prev": h_prev,
            "c_prev": c_prev,
            "Wx": Wx,
            "Wh": Wh,
            "f": f,
            "g": g,
            "o": o,
            "c": c,
        },
    )


def cifg_forward(x, h0, c0, Wx, Wh, b):
    """Right."""
    h, c, hs, cs, steps = h0, c0, [], [], []
    for t in range(x.shape[1]):
        h, c, step = cifg_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        cs.append(c)
        steps.append(step)
    return np.stack(hs, 1), np.stack(cs, 1), steps


def cifg_step_backward(dh, dc, cache):
    """Mistake: df = dc_total * (c_prev + g), the wrong sign of the coupling's g term."""
    f, g, o, c = cache["f"], cache["g"], cache["o"], cache["c"]
    tc = np.tanh(c)
    dct = dc + dh * o * (1 - tc**2)
    df = dct * (cache["c_prev"] + g)
    da = np.concatenate([df * f * (1 - f), dct * (1 - f) * (1 - g**2), dh * tc * o * (1 - o)], 1)
    return (
        da @ cache["Wx"].T,
        da @ cache["Wh"].T,
        dct * f,
        cache["x"].T @ da,
        cache["h_prev"].T @ da,
        da.sum(0),
    )


def cifg_backward(dh, dc, cache):
    """Right loop, but on the step backward above."""
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0]["x"].shape[1]))
    dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dc_t = dc_next if dc is None else dc[:, t] + dc_next
        dx[:, t], dh_next, dc_next, gx, gh, gb = cifg_step_backward(
            dh[:, t] + dh_next, dc_t, cache[t]
        )
        dWx, dWh, db = dWx + gx, dWh + gh, db + gb
    return dx, dh_next, dc_next, dWx, dWh, db


def cifg_flip(Wx, Wh, b):
    """Mistake: only the bias of the gate block changes sign, not its weights."""
    H = Wh.shape[0]
    b = b.copy()
    b[:H] = -b[:H]
    return Wx.copy(), Wh.copy(), b


def parameter_count(cell, input_size, hidden_size, biases=2):
    """Mistake: always one bias per block (a missing bias in PyTorch's count)."""
    D, H = input_size, hidden_size
    G = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}[cell]
    return G * (D * H + H * H + H) + (3 * H if cell == "peephole" else 0)


def switched_cell(f, i, g, c_prev, forget_gate, output_activation):
    """Mistake: without a forget gate the old state is dropped (f = 0) instead of kept."""
    c = torch.where(forget_gate, f * c_prev, torch.zeros_like(c_prev)) + i * g
    s = torch.where(output_activation, torch.tanh(c), c)
    return c, s
