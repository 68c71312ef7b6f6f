"""Sample submission "gate_mistakes" for 03_lstm: two mistakes in the gate equations.

`python course/build.py samples` puts each function below into the answer cell of the same
name; the other exercises stay unanswered. The hidden suites must fail and name:

- lstm_step_forward applies the output gate to c instead of tanh(c) (h = o * c);
- LSTM uses tanh instead of the sigmoid on the forget gate.

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
    "lstm_step_forward": 0.2,
    "lstm_forward": 0.0,
    "lstm_step_backward": 0.0,
    "lstm_backward": 0.0,
    "LSTM": 0.6,
    "init_forget_bias": 0.0,
}
NAMES = {
    "lstm_step_forward": ("applied to c instead of tanh(c)",),
    "LSTM": ("tanh instead of sigmoid on the forget gate",),
}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Mistake: h = o * c."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H])
    g, o = np.tanh(a[:, 2 * H : 3 * H]), sigmoid(a[:, 3 * H :])
    c = f * c_prev + i * g
    h = o * c
    return h, c, (x, h_prev, c_prev, i, f, g, o, c)


class LSTM(nn.Module):
    """Mistake: f = tanh(a_f)."""

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
        b = self.bias_ih_l0 + self.bias_hh_l0
        outs = []
        for x_t in x:
            i, f, g, o = (x_t @ self.weight_ih_l0.T + h @ self.weight_hh_l0.T + b).chunk(4, 1)
            c = torch.tanh(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        out = torch.stack(outs, 1 if self.batch_first else 0)
        return out, (h.unsqueeze(0), c.unsqueeze(0))


ANSWERS = {
    "q_output_gate": "It can hide the memory: with o = 0 nothing of c shows in h.",
}
