"""Sample submission "backward_mistakes" for 04_peephole: the forward right, the backward not.

`python course/build.py samples` puts each function below into the answer cell of the same
name; the module and the written answers stay unanswered. The hidden suites must give full marks
to the two forward functions and fail and name:

- peephole_step_backward leaves the peephole terms out of the backward through the cell
  (dc_prev = dc_total * f, without + da_i * p_i + da_f * p_f);
- peephole_backward, written in one loop without the step function, lets the output-gate
  peephole's gradient miss dc (dc_total without + da_o * p_o).

The imports and `sigmoid` stand for the notebook's setup and helper cells.
"""

import numpy as np

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {
    "peephole_step_backward": 0.6667,
    "peephole_backward": 0.6,
    "PeepholeLSTM": 0.0,
}
NAMES = {
    "peephole_step_backward": ("left out of the backward through the cell",),
    "peephole_backward": ("output-gate peephole's gradient does not reach dc",),
}


def sigmoid(z):
    """The notebook's helper (its setup cells define it; this copy is for running the file)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def peephole_step_forward(x, h_prev, c_prev, Wx, Wh, b, p_i, p_f, p_o):
    """Right."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i = sigmoid(a[:, :H] + p_i * c_prev)
    f = sigmoid(a[:, H : 2 * H] + p_f * c_prev)
    g = np.tanh(a[:, 2 * H : 3 * H])
    c = f * c_prev + i * g
    o = sigmoid(a[:, 3 * H :] + p_o * c)
    h = o * np.tanh(c)
    return h, c, (x, h_prev, c_prev, c, Wx, Wh, p_i, p_f, p_o, i, f, g, o)


def peephole_forward(x, h0, c0, Wx, Wh, b, p_i, p_f, p_o):
    """Right."""
    N, T, _ = x.shape
    H = h0.shape[1]
    h, c = np.zeros((N, T, H)), np.zeros((N, T, H))
    caches = []
    h_t, c_t = h0, c0
    for t in range(T):
        h_t, c_t, cache = peephole_step_forward(x[:, t], h_t, c_t, Wx, Wh, b, p_i, p_f, p_o)
        h[:, t], c[:, t] = h_t, c_t
        caches.append(cache)
    return h, c, caches


def peephole_step_backward(dh, dc, cache):
    """Mistake: dc_prev = dc_total * f only."""
    x, h_prev, c_prev, c, Wx, Wh, p_i, p_f, p_o, i, f, g, o = cache
    tc = np.tanh(c)
    da_o = dh * tc * o * (1 - o)
    dct = dc + dh * o * (1 - tc**2) + da_o * p_o
    da_i = dct * g * i * (1 - i)
    da_f = dct * c_prev * f * (1 - f)
    da_g = dct * i * (1 - g**2)
    dc_prev = dct * f
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
    return (
        da @ Wx.T,
        da @ Wh.T,
        dc_prev,
        x.T @ da,
        h_prev.T @ da,
        da.sum(axis=0),
        (da_i * c_prev).sum(axis=0),
        (da_f * c_prev).sum(axis=0),
        (da_o * c).sum(axis=0),
    )


def peephole_backward(dh, dc, cache):
    """Mistake: in one loop, dc_total misses the output-gate peephole's da_o * p_o."""
    N, T, H = dh.shape
    Wx, Wh = cache[0][4], cache[0][5]
    dx = np.zeros((N, T, Wx.shape[0]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H)
    dp = [np.zeros(H) for _ in range(3)]
    dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        x, h_prev, c_prev, c, _, _, p_i, p_f, p_o, i, f, g, o = cache[t]
        dh_t = dh[:, t] + dh_next
        dc_t = dc_next if dc is None else dc[:, t] + dc_next
        tc = np.tanh(c)
        da_o = dh_t * tc * o * (1 - o)
        dct = dc_t + dh_t * o * (1 - tc**2)
        da_i = dct * g * i * (1 - i)
        da_f = dct * c_prev * f * (1 - f)
        da_g = dct * i * (1 - g**2)
        dc_next = dct * f + da_i * p_i + da_f * p_f
        da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
        dx[:, t] = da @ Wx.T
        dh_next = da @ Wh.T
        dWx += x.T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dp[0] += (da_i * c_prev).sum(axis=0)
        dp[1] += (da_f * c_prev).sum(axis=0)
        dp[2] += (da_o * c).sum(axis=0)
    return (dx, dh_next, dc_next, dWx, dWh, db, *dp)
