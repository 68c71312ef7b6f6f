"""Sample submission "gate_mistakes" for 04_peephole: peepholes that look at the wrong cell state.

`python course/build.py samples` puts each function below into the answer cell of the same
name; the other exercises stay unanswered. The hidden suites must fail and name:

- peephole_step_forward lets the input and forget gates peek at the NEW cell state c_t (it
  computes c once without peepholes, then the gates from it, then c again);
- peephole_forward is a right loop, but over this wrong step function (so it fails too, and
  the message points at the step);
- PeepholeLSTM lets the output gate peek at c_{t-1} instead of c_t.

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
    "peephole_step_forward": 0.5455,
    "peephole_forward": 0.25,
    "peephole_step_backward": 0.0,
    "peephole_backward": 0.0,
    "PeepholeLSTM": 0.9,
}
NAMES = {
    "peephole_step_forward": ("peek at the NEW cell state c",),
    "peephole_forward": ("peek at the NEW cell state c",),
    "PeepholeLSTM": ("The output gate peeks at c_prev",),
}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def peephole_step_forward(x, h_prev, c_prev, Wx, Wh, b, p_i, p_f, p_o):
    """Mistake: c_t (a first guess without peepholes) into the input and forget gates."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    g = np.tanh(a[:, 2 * H : 3 * H])
    c = sigmoid(a[:, H : 2 * H]) * c_prev + sigmoid(a[:, :H]) * g
    i = sigmoid(a[:, :H] + p_i * c)
    f = sigmoid(a[:, H : 2 * H] + p_f * c)
    c = f * c_prev + i * g
    o = sigmoid(a[:, 3 * H :] + p_o * c)
    h = o * np.tanh(c)
    return h, c, (x, h_prev, c_prev, c, i, f, g, o)


def peephole_forward(x, h0, c0, Wx, Wh, b, p_i, p_f, p_o):
    """A right loop over the wrong step."""
    h, c = h0, c0
    hs, cs, caches = [], [], []
    for t in range(x.shape[1]):
        h, c, cache = peephole_step_forward(x[:, t], h, c, Wx, Wh, b, p_i, p_f, p_o)
        hs.append(h)
        cs.append(c)
        caches.append(cache)
    return np.stack(hs, axis=1), np.stack(cs, axis=1), caches


class PeepholeLSTM(nn.Module):
    """Mistake: o = sigmoid(a_o + p_o * c_prev)."""

    def __init__(self, input_size, hidden_size, batch_first=False):
        super().__init__()
        self.hidden_size, self.batch_first = hidden_size, batch_first
        H = hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(4 * H, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(4 * H, H))
        self.bias_ih_l0 = nn.Parameter(torch.empty(4 * H))
        self.bias_hh_l0 = nn.Parameter(torch.empty(4 * H))
        self.peephole_i_l0 = nn.Parameter(torch.empty(H))
        self.peephole_f_l0 = nn.Parameter(torch.empty(H))
        self.peephole_o_l0 = nn.Parameter(torch.empty(H))
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
            a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
            i = torch.sigmoid(a_i + self.peephole_i_l0 * c)
            f = torch.sigmoid(a_f + self.peephole_f_l0 * c)
            o = torch.sigmoid(a_o + self.peephole_o_l0 * c)  # c is still c_{t-1} here
            c = f * c + i * torch.tanh(a_g)
            h = o * torch.tanh(c)
            outs.append(h)
        out = torch.stack(outs, dim=1 if self.batch_first else 0)
        return out, (h.unsqueeze(0), c.unsqueeze(0))
