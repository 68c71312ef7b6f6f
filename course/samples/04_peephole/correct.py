"""Sample submission "correct" for 04_peephole: every exercise right, written as a student might.

`python course/build.py samples` puts each function below into the answer cell of the same name
and the ANSWERS into the written-answer cells. The hidden suites must give full marks.

Written differently from the course's reference on purpose: the gates one by one with their own
weight slices, the peepholes as diag(p) matrices, the backward pass through named intermediate
gradients, and a module whose peepholes are applied with torch.diag. The imports and `sigmoid`
below stand for the notebook's setup and helper cells.
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


def peephole_step_forward(x, h_prev, c_prev, Wx, Wh, b, p_i, p_f, p_o):
    """Right: one gate at a time, each peephole as a diagonal matrix."""
    H = h_prev.shape[1]

    def pre(k):
        cols = slice(k * H, (k + 1) * H)
        return x @ Wx[:, cols] + h_prev @ Wh[:, cols] + b[cols]

    gi = sigmoid(pre(0) + c_prev @ np.diag(p_i))
    gf = sigmoid(pre(1) + c_prev @ np.diag(p_f))
    gg = np.tanh(pre(2))
    c = gf * c_prev + gi * gg
    go = sigmoid(pre(3) + c @ np.diag(p_o))
    h = go * np.tanh(c)
    cache = {"in": (x, h_prev, c_prev, Wx, Wh, p_i, p_f, p_o), "gates": (gi, gf, gg, go), "c": c}
    return h, c, cache


def peephole_forward(x, h0, c0, Wx, Wh, b, p_i, p_f, p_o):
    """Right: collect the states in lists and stack them."""
    hs, cs, caches = [], [], []
    h, c = h0, c0
    for t in range(x.shape[1]):
        h, c, cache = peephole_step_forward(x[:, t, :], h, c, Wx, Wh, b, p_i, p_f, p_o)
        hs.append(h)
        cs.append(c)
        caches.append(cache)
    return np.stack(hs, 1), np.stack(cs, 1), caches


def peephole_step_backward(dh, dc, cache):
    """Right: every path into c and c_prev added up."""
    x, h_prev, c_prev, Wx, Wh, p_i, p_f, p_o = cache["in"]
    gi, gf, gg, go = cache["gates"]
    c = cache["c"]
    tc = np.tanh(c)
    d_o = dh * tc
    z_o = d_o * go * (1 - go)  # through the output gate's sigmoid
    dc_all = dc + dh * go * (1 - tc * tc) + z_o * p_o  # direct, through h, through o's peephole
    z_i = dc_all * gg * gi * (1 - gi)
    z_f = dc_all * c_prev * gf * (1 - gf)
    z_g = dc_all * gi * (1 - gg * gg)
    dc_prev = dc_all * gf + z_i * p_i + z_f * p_f
    dz = np.hstack([z_i, z_f, z_g, z_o])
    return (
        dz @ Wx.T,
        dz @ Wh.T,
        dc_prev,
        x.T @ dz,
        h_prev.T @ dz,
        dz.sum(0),
        np.einsum("nh,nh->h", z_i, c_prev),
        np.einsum("nh,nh->h", z_f, c_prev),
        np.einsum("nh,nh->h", z_o, c),
    )


def peephole_backward(dh, dc, cache):
    """Right: walk back in time carrying dh_next and dc_next."""
    N, T, H = dh.shape
    grads = None
    dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
    dx = None
    for t in range(T - 1, -1, -1):
        dc_t = dc_next + (0 if dc is None else dc[:, t, :])
        g = peephole_step_backward(dh[:, t, :] + dh_next, dc_t, cache[t])
        if dx is None:
            dx = np.zeros((N, T, g[0].shape[1]))
            grads = [np.zeros_like(v) for v in g[3:]]
        dx[:, t, :] = g[0]
        dh_next, dc_next = g[1], g[2]
        grads = [a + v for a, v in zip(grads, g[3:], strict=True)]
    return (dx, dh_next, dc_next, *grads)


class PeepholeLSTM(nn.Module):
    """Right: the peepholes applied as diagonal matrices with torch.diag."""

    def __init__(self, input_size, hidden_size, batch_first=False):
        super().__init__()
        self.input_size, self.hidden_size, self.batch_first = (
            input_size,
            hidden_size,
            batch_first,
        )
        H, D = hidden_size, input_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(4 * H, D))
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
        if hx is None:
            h = torch.zeros(N, H, dtype=x.dtype)
            c = torch.zeros(N, H, dtype=x.dtype)
        else:
            h, c = hx[0][0], hx[1][0]
        P_i, P_f, P_o = (
            torch.diag(p) for p in (self.peephole_i_l0, self.peephole_f_l0, self.peephole_o_l0)
        )
        b = self.bias_ih_l0 + self.bias_hh_l0
        outs = []
        for t in range(x.shape[0]):
            a = x[t] @ self.weight_ih_l0.T + h @ self.weight_hh_l0.T + b
            a_i, a_f, a_g, a_o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            i = torch.sigmoid(a_i + c @ P_i)
            f = torch.sigmoid(a_f + c @ P_f)
            c = f * c + i * torch.tanh(a_g)
            o = torch.sigmoid(a_o + c @ P_o)
            h = o * torch.tanh(c)
            outs.append(h)
        out = torch.stack(outs)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, (h[None], c[None])


ANSWERS = {
    "q_which_state": (
        "(a) i and f are computed before the new cell state exists: they are what makes "
        "c_t = f c_{t-1} + i g, so they can only look at c_{t-1}. The output gate is applied "
        "after the update, to tanh(c_t), so it can look at the value it is about to show, c_t. "
        "(b) It runs (the shapes are the same) but it is another cell: when c jumps in one "
        "step, e.g. the step a cue is written or a count crosses its threshold, o reacts one "
        "step late, which breaks precise timing."
    ),
    "q_when_peepholes": (
        "They should matter when a gate must act on what the cell holds while the output gate "
        "hides it (timing, counting to a threshold). With short delays h = o tanh(c) leaks "
        "enough of c to the gates, which is why both cells solved the short delays in my run; "
        "the difference I saw was within the spread of the five seeds. To look for the paper's "
        "effect: longer delays (30-60 at T = 150), delays one step apart, more training, more "
        "seeds."
    ),
}
