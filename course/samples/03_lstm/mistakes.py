"""Sample submission "mistakes" for 03_lstm: one typical mistake per exercise.

`python course/build.py samples` puts each function below into the answer cell of the same name.
lstm_step_forward is right, so that the exercises built on it can be checked; every other
function has a mistake students make, which its hidden suite must fail and name:

- lstm_forward returns only the last cell state c_T (as torch.nn.LSTM does) instead of every
  c_t; its cache is complete, so the backward exercises can still be checked;
- lstm_step_backward leaves out the path from h into c (dc_total = dc);
- lstm_backward does not carry the gradient through the cell state across time steps;
- LSTM reads PyTorch's fused weights in CS231n's gate order i, f, o, g;
- init_forget_bias puts the value into both biases.

The imports and `sigmoid` stand for the notebook's setup and helper cells.
"""

import math

import numpy as np
import torch
from torch import nn

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {
    "lstm_forward": 0.25,
    "lstm_step_backward": 1.125,
    "lstm_backward": 0.9,
    "LSTM": 0.6,
    "init_forget_bias": 0.1429,
}
NAMES = {
    "lstm_forward": ("returned only the last state",),
    "lstm_step_backward": ("reaching c through h is missing",),
    "lstm_backward": ("through the cell state is not carried across time steps",),
    "LSTM": ("order i, f, o, g",),
    "init_forget_bias": ("into both biases",),
}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Right."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H])
    g, o = np.tanh(a[:, 2 * H : 3 * H]), sigmoid(a[:, 3 * H :])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "Wx": Wx, "Wh": Wh}
    cache.update({"i": i, "f": f, "g": g, "o": o, "c": c})
    return h, c, cache


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """Mistake: returns only the last cell state c_T, as torch.nn.LSTM does (cache complete)."""
    h, c = h0, c0
    hs, steps = [], []
    for t in range(x.shape[1]):
        h, c, step = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        steps.append(step)
    return np.stack(hs, 1), c, steps


def lstm_step_backward(dh, dc, cache):
    """Mistake: dc_total = dc, without the gradient that reaches c through h = o * tanh(c)."""
    i, f, g, o, c = (cache[k] for k in "ifgoc")
    tc = np.tanh(c)
    dc_total = dc
    da = np.concatenate(
        [
            dc_total * g * i * (1 - i),
            dc_total * cache["c_prev"] * f * (1 - f),
            dc_total * i * (1 - g**2),
            dh * tc * o * (1 - o),
        ],
        axis=1,
    )
    dx = da @ cache["Wx"].T
    dh_prev = da @ cache["Wh"].T
    return dx, dh_prev, dc_total * f, cache["x"].T @ da, cache["h_prev"].T @ da, da.sum(0)


def lstm_backward(dh, dc, cache):
    """Mistake: only dh_next is carried back; each step's cell gradient is dc[:, t] alone."""
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0]["x"].shape[1]))
    dWx, dWh = np.zeros_like(cache[0]["Wx"]), np.zeros_like(cache[0]["Wh"])
    db = np.zeros(4 * H)
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        s = cache[t]
        i, f, g, o, c = s["i"], s["f"], s["g"], s["o"], s["c"]
        dh_t = dh[:, t] + dh_next
        dc_t = (0.0 if dc is None else dc[:, t]) + dh_t * o * (1 - np.tanh(c) ** 2)
        da = np.concatenate(
            [
                dc_t * g * i * (1 - i),
                dc_t * s["c_prev"] * f * (1 - f),
                dc_t * i * (1 - g**2),
                dh_t * np.tanh(c) * o * (1 - o),
            ],
            axis=1,
        )
        dx[:, t] = da @ s["Wx"].T
        dh_next = da @ s["Wh"].T
        dWx, dWh, db = dWx + s["x"].T @ da, dWh + s["h_prev"].T @ da, db + da.sum(0)
        dc_prev = dc_t * f  # computed, but never passed on to step t-1
    return dx, dh_next, dc_prev, dWx, dWh, db


class LSTM(nn.Module):
    """Mistake: the fused blocks are read in the order i, f, o, g."""

    def __init__(self, input_size, hidden_size, batch_first=False):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.batch_first = batch_first
        H = hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(4 * H, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(4 * H, H))
        self.bias_ih_l0 = nn.Parameter(torch.empty(4 * H))
        self.bias_hh_l0 = nn.Parameter(torch.empty(4 * H))
        self.reset_parameters()

    def reset_parameters(self):
        k = 1 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-k, k)

    def forward(self, input, hx=None):
        x = input.transpose(0, 1) if self.batch_first else input
        N, H = x.shape[1], self.hidden_size
        h, c = (x.new_zeros(N, H), x.new_zeros(N, H)) if hx is None else (hx[0][0], hx[1][0])
        outs = []
        for x_t in x:
            a = x_t @ self.weight_ih_l0.T + h @ self.weight_hh_l0.T
            a = a + self.bias_ih_l0 + self.bias_hh_l0
            i, f, o, g = a.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        out = torch.stack(outs, 1 if self.batch_first else 0)
        return out, (h.unsqueeze(0), c.unsqueeze(0))


def init_forget_bias(lstm, value=1.0):
    """Mistake: the value goes into both biases, so the gate's bias is 2 * value."""
    H = lstm.hidden_size
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith("bias"):
                p[H : 2 * H] = value
    return lstm


ANSWERS = {
    "q_additive_update": "Because the LSTM has more gates, so it can learn more.",
    "q_output_gate": "The output gate makes the output between 0 and 1.",
}
