"""Sample submission "matrix_mistakes" for 04_peephole: peepholes read as full matrices.

`python course/build.py samples` puts each function below into the answer cell of the same
name; the other exercises stay unanswered. The hidden suites must fail and name:

- peephole_step_forward sums over the cells (c_prev @ p, added to every gate), the numpy form
  of "every cell feeds every gate";
- PeepholeLSTM creates (H, H) peephole matrices (a full-matrix reading of the concatenated
  diagram) and multiplies the cell state by them.

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
    "peephole_forward": 0.0,
    "peephole_step_backward": 0.0,
    "peephole_backward": 0.0,
    "PeepholeLSTM": 0.3,
}
NAMES = {
    "peephole_step_forward": ("every cell feeds every gate",),
    "PeepholeLSTM": ("(H, H) matrices",),
}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def peephole_step_forward(x, h_prev, c_prev, Wx, Wh, b, p_i, p_f, p_o):
    """Mistake: c_prev @ p_i (one number per example) added to every unit of the gate."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i = sigmoid(a[:, :H] + (c_prev @ p_i)[:, None])
    f = sigmoid(a[:, H : 2 * H] + (c_prev @ p_f)[:, None])
    g = np.tanh(a[:, 2 * H : 3 * H])
    c = f * c_prev + i * g
    o = sigmoid(a[:, 3 * H :] + (c @ p_o)[:, None])
    h = o * np.tanh(c)
    return h, c, None


class PeepholeLSTM(nn.Module):
    """Mistake: (H, H) peephole matrices, c @ P."""

    def __init__(self, input_size, hidden_size, batch_first=False):
        super().__init__()
        self.hidden_size, self.batch_first = hidden_size, batch_first
        H = hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(4 * H, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(4 * H, H))
        self.bias_ih_l0 = nn.Parameter(torch.empty(4 * H))
        self.bias_hh_l0 = nn.Parameter(torch.empty(4 * H))
        self.peephole_i_l0 = nn.Parameter(torch.empty(H, H))
        self.peephole_f_l0 = nn.Parameter(torch.empty(H, H))
        self.peephole_o_l0 = nn.Parameter(torch.empty(H, H))
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
            i = torch.sigmoid(a_i + c @ self.peephole_i_l0)
            f = torch.sigmoid(a_f + c @ self.peephole_f_l0)
            c = f * c + i * torch.tanh(a_g)
            o = torch.sigmoid(a_o + c @ self.peephole_o_l0)
            h = o * torch.tanh(c)
            outs.append(h)
        out = torch.stack(outs, dim=1 if self.batch_first else 0)
        return out, (h.unsqueeze(0), c.unsqueeze(0))
