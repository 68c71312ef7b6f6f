"""Sample submission "mistakes" for 02_gru: typical mistakes, at most one kind per exercise.

`python course/build.py samples` puts each function below into the answer cell of the same name.
The paper-form forward functions are right, so that the exercises built on them can be checked
on their own; every other function has a mistake students make, which its hidden suite must fail
and name:

- gru_paper_step_backward forgets the direct path dh * (1 - u) in dh_prev, the copy path that
  carries the gradient when the update gate is closed;
- gru_paper_backward (written in one piece, without calling the step backward) does not carry
  dh_next from step t+1 back to step t;
- unpack_gru_weights reshapes weight_ih and weight_hh instead of transposing them;
- gru_pytorch_step_forward applies the reset gate before the matrix product, as in the paper
  form, where PyTorch applies it after (bias included).
"""

import numpy as np

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {
    "gru_paper_step_backward": 0.9,
    "gru_paper_backward": 1.0909,
    "unpack_gru_weights": 0.25,
    "gru_pytorch_step_forward": 0.2,
}
NAMES = {
    "gru_paper_step_backward": ("direct path",),
    "gru_paper_backward": ("dh_next is not carried",),
    "unpack_gru_weights": ("reshaped",),
    "gru_pytorch_step_forward": ("reset applied before the matrix product",),
}


def gru_paper_step_forward(x, h_prev, Wx, Wh, b):
    """Right."""
    H = h_prev.shape[1]
    r = 1 / (1 + np.exp(-(x @ Wx[:, :H] + h_prev @ Wh[:, :H] + b[:H])))
    u = 1 / (1 + np.exp(-(x @ Wx[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H] + b[H : 2 * H])))
    h_tilde = np.tanh(x @ Wx[:, 2 * H :] + (r * h_prev) @ Wh[:, 2 * H :] + b[2 * H :])
    h = (1 - u) * h_prev + u * h_tilde
    cache = {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "r": r, "u": u, "h_tilde": h_tilde}
    return h, cache


def gru_paper_forward(x, h0, Wx, Wh, b):
    """Right."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    steps = []
    h_t = h0
    for t in range(T):
        h_t, step = gru_paper_step_forward(x[:, t], h_t, Wx, Wh, b)
        h[:, t] = h_t
        steps.append(step)
    return h, steps


def gru_paper_step_backward(dh, cache):
    """Mistake: dh_prev lacks the direct path dh * (1 - u)."""
    x, h_prev, Wx, Wh = cache["x"], cache["h_prev"], cache["Wx"], cache["Wh"]
    r, u, h_tilde = cache["r"], cache["u"], cache["h_tilde"]
    H = h_prev.shape[1]
    da_h = dh * u * (1 - h_tilde**2)
    ds = da_h @ Wh[:, 2 * H :].T
    da_r = ds * h_prev * r * (1 - r)
    da_u = dh * (h_tilde - h_prev) * u * (1 - u)
    dh_prev = ds * r + da_r @ Wh[:, :H].T + da_u @ Wh[:, H : 2 * H].T
    da = np.concatenate([da_r, da_u, da_h], axis=1)
    dWh = np.concatenate([h_prev.T @ da_r, h_prev.T @ da_u, (r * h_prev).T @ da_h], axis=1)
    return da @ Wx.T, dh_prev, x.T @ da, dWh, da.sum(axis=0)


def gru_paper_backward(dh, cache):
    """Mistake: each step only gets dh[:, t]; the gradient from step t+1 is computed and dropped."""
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0]["x"].shape[1]))
    dWx, dWh, db = np.zeros_like(cache[0]["Wx"]), np.zeros_like(cache[0]["Wh"]), np.zeros(3 * H)
    dh_prev = np.zeros((N, H))
    for t in reversed(range(T)):
        c = cache[t]
        r, u, h_tilde, h_prev, Wh = c["r"], c["u"], c["h_tilde"], c["h_prev"], c["Wh"]
        g = dh[:, t]  # should be dh[:, t] + dh_prev
        da_h = g * u * (1 - h_tilde**2)
        ds = da_h @ Wh[:, 2 * H :].T
        da_r = ds * h_prev * r * (1 - r)
        da_u = g * (h_tilde - h_prev) * u * (1 - u)
        dh_prev = g * (1 - u) + ds * r + da_r @ Wh[:, :H].T + da_u @ Wh[:, H : 2 * H].T
        da = np.concatenate([da_r, da_u, da_h], axis=1)
        dx[:, t] = da @ c["Wx"].T
        dWx += c["x"].T @ da
        dWh += np.concatenate([h_prev.T @ da_r, h_prev.T @ da_u, (r * h_prev).T @ da_h], axis=1)
        db += da.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db


def unpack_gru_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    """Mistake: reshape instead of transpose (the shapes come out right, the numbers do not)."""
    D, H = weight_ih.shape[1], weight_hh.shape[1]
    return weight_ih.reshape(D, 3 * H), weight_hh.reshape(H, 3 * H), bias_ih.copy(), bias_hh.copy()


def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """Mistake: the reset gate multiplies h_prev before the product with Wh_n (paper placement)."""
    H = h_prev.shape[1]
    gx = x @ Wx + bx
    r = 1 / (1 + np.exp(-(gx[:, :H] + h_prev @ Wh[:, :H] + bh[:H])))
    z = 1 / (1 + np.exp(-(gx[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H] + bh[H : 2 * H])))
    n = np.tanh(gx[:, 2 * H :] + (r * h_prev) @ Wh[:, 2 * H :] + bh[2 * H :])
    return (1 - z) * n + z * h_prev, None


ANSWERS = {
    "q_reset": "The reset gate resets the hidden state to zero when a new sequence starts.",
}
