"""Sample submission "correct" for 03_lstm: every exercise right, written as a student might.

`python course/build.py samples` puts each function below into the answer cell of the same name
and the ANSWERS into the written-answer cells. The hidden suites must give full marks.

Only the functions and classes named like answer cells reach the notebook; the imports and
`sigmoid` below stand for the notebook's setup and helper cells.
"""

import math

import numpy as np
import torch
from torch import nn

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {}
NAMES = {}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Right, with the four gates computed block by block."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    gate_i = sigmoid(a[:, :H])
    gate_f = sigmoid(a[:, H : 2 * H])
    cand = np.tanh(a[:, 2 * H : 3 * H])
    gate_o = sigmoid(a[:, 3 * H :])
    c = gate_f * c_prev + gate_i * cand
    h = gate_o * np.tanh(c)
    return h, c, (x, h_prev, c_prev, Wx, Wh, gate_i, gate_f, cand, gate_o, c)


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """Right: a list of step caches."""
    hs, cs, caches = [], [], []
    h, c = h0, c0
    for t in range(x.shape[1]):
        h, c, step = lstm_step_forward(x[:, t, :], h, c, Wx, Wh, b)
        hs.append(h)
        cs.append(c)
        caches.append(step)
    return np.stack(hs, axis=1), np.stack(cs, axis=1), caches


def lstm_step_backward(dh, dc, cache):
    """Right."""
    x, h_prev, c_prev, Wx, Wh, gate_i, gate_f, cand, gate_o, c = cache
    tc = np.tanh(c)
    dc_all = dc + dh * gate_o * (1 - tc**2)
    d_i = dc_all * cand * gate_i * (1 - gate_i)
    d_f = dc_all * c_prev * gate_f * (1 - gate_f)
    d_g = dc_all * gate_i * (1 - cand**2)
    d_o = dh * tc * gate_o * (1 - gate_o)
    da = np.hstack([d_i, d_f, d_g, d_o])
    return da @ Wx.T, da @ Wh.T, dc_all * gate_f, x.T @ da, h_prev.T @ da, np.sum(da, axis=0)


def lstm_backward(dh, dc, cache):
    """Right."""
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros(4 * H)
    dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dc_here = dc_next if dc is None else dc[:, t, :] + dc_next
        g = lstm_step_backward(dh[:, t, :] + dh_next, dc_here, cache[t])
        dx[:, t, :] = g[0]
        dh_next, dc_next = g[1], g[2]
        dWx += g[3]
        dWh += g[4]
        db += g[5]
    return dx, dh_next, dc_next, dWx, dWh, db


class LSTM(nn.Module):
    """Right."""

    def __init__(self, input_size, hidden_size, batch_first=False):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.batch_first = batch_first
        self.weight_ih_l0 = nn.Parameter(torch.zeros(4 * hidden_size, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.zeros(4 * hidden_size, hidden_size))
        self.bias_ih_l0 = nn.Parameter(torch.zeros(4 * hidden_size))
        self.bias_hh_l0 = nn.Parameter(torch.zeros(4 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        k = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def forward(self, input, hx=None):
        x = input.transpose(0, 1) if self.batch_first else input
        T, N, _ = x.shape
        H = self.hidden_size
        if hx is None:
            h = torch.zeros(N, H, dtype=x.dtype)
            c = torch.zeros(N, H, dtype=x.dtype)
        else:
            h, c = hx[0].squeeze(0), hx[1].squeeze(0)
        b = self.bias_ih_l0 + self.bias_hh_l0
        hs = []
        for t in range(T):
            a = x[t] @ self.weight_ih_l0.T + h @ self.weight_hh_l0.T + b
            ai, af, ag, ao = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            c = torch.sigmoid(af) * c + torch.sigmoid(ai) * torch.tanh(ag)
            h = torch.sigmoid(ao) * torch.tanh(c)
            hs.append(h)
        out = torch.stack(hs)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, (h[None], c[None])


def init_forget_bias(lstm, value=1.0):
    """Right."""
    H = lstm.hidden_size
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith("bias_ih"):
                p[H : 2 * H] = value
            elif name.startswith("bias_hh"):
                p[H : 2 * H] = 0.0
    return lstm


ANSWERS = {
    "q_additive_update": (
        "(a) Along the cell state dc_t/dc_{t-1} = diag(f_t): no W_h and no tanh' factor as in "
        "the RNN Jacobian diag(1-h^2) W_h^T. Over k steps it is the product of the forget gates, "
        "so if they stay near 1 the gradient reaches far back unchanged. "
        "(b) At initialisation f is about sigmoid(0) = 0.5, so the product is 0.5^k. Training "
        "pushes f towards 1 where memory is needed, and a forget bias of 1 starts it at 0.73."
    ),
    "q_output_gate": (
        "The output gate decides what of the memory is shown: with o near 0 the LSTM can keep a "
        "value in c without it appearing in h or disturbing the next gates, and show it later. "
        "In the GRU the state is the output. Example: in the adding problem the first marked "
        "number is kept hidden in c until the last step."
    ),
}
