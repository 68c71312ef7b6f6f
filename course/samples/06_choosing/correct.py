"""Sample submission "correct" for 06_choosing: every exercise right, written as a student might.

`python course/build.py samples` puts each function below into the answer cell of the same name
and the ANSWERS into the written-answer cells. The hidden suites must give full marks. The code
differs from the reference on purpose (a table of counts, the normal equations, logaddexp, one
rng.choice per row). `lstm_forward` stands for the notebook's helper cell (a copy, so that the
file runs on its own).
"""

import numpy as np


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """The notebook's given helper (its helper cell defines it; this copy is for running the file)."""
    H = h0.shape[1]
    h, c, hs, cs = h0, c0, [], []
    for t in range(x.shape[1]):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f = 1 / (1 + np.exp(-a[:, :H])), 1 / (1 + np.exp(-a[:, H : 2 * H]))
        g, o = np.tanh(a[:, 2 * H : 3 * H]), 1 / (1 + np.exp(-a[:, 3 * H :]))
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs, 1), np.stack(cs, 1), None


def cell_cost(cell, D, H):
    """Right: weights per block, biases twice, peepholes diagonal."""
    blocks = dict(rnn=1, gru=3, lstm=4, peephole=4, cifg=3)[cell]
    weights = blocks * H * D + blocks * H * H
    extra = 3 * H if cell == "peephole" else 0
    return {"params": weights + 2 * blocks * H + extra, "macs": weights + extra}


def count_probe(x, mask, Wx, Wh, b):
    """Right: the normal equations instead of lstsq."""
    N, H = x.shape[0], Wh.shape[0]
    _, c, _ = lstm_forward(x, np.zeros((N, H)), np.zeros((N, H)), Wx, Wh, b)
    n_a = np.cumsum(x[:, :, 1], axis=1)
    n_b = np.cumsum(x[:, :, 2], axis=1)
    target = (n_a - n_b)[mask]
    feats = np.concatenate([c[mask], np.ones((int(mask.sum()), 1))], axis=1)
    coef = np.linalg.pinv(feats.T @ feats) @ (feats.T @ target)
    pred = feats @ coef
    r2 = 1 - np.sum((target - pred) ** 2) / np.sum((target - np.mean(target)) ** 2)
    return coef[:H], float(coef[H]), float(r2)


def bits_per_char(logits, targets):
    """Right: logaddexp for the log of the sum of exponentials."""
    z = np.asarray(logits, dtype=float)
    lse = np.logaddexp.reduce(z, axis=-1)  # (N, T)
    picked = np.take_along_axis(z, targets[..., None], axis=-1)[..., 0]
    return float(np.mean(lse - picked) / np.log(2))


def temperature_softmax(logits, temperature):
    """Right: greedy one-hot at 0, else a shifted softmax of z / tau."""
    z = np.asarray(logits, dtype=float)
    if temperature == 0:
        out = np.zeros_like(z)
        np.put_along_axis(out, np.argmax(z, axis=-1)[..., None], 1.0, axis=-1)
        return out
    s = z / temperature
    s = s - np.max(s, axis=-1, keepdims=True)
    e = np.exp(s)
    return e / np.sum(e, axis=-1, keepdims=True)


def sample_next(logits, temperature, seed):
    """Right: one rng.choice per row."""
    rng = np.random.default_rng(seed)
    p = temperature_softmax(logits, temperature)
    return np.array([rng.choice(p.shape[1], p=row) for row in p], dtype=np.int64)


ANSWERS = {
    "q_counting": (
        "(a) The counting unit keeps its forget gate near 1 and writes about the same amount "
        "i*g at each step, +d on an a and -d on a b, so c_t = c_{t-1} +- d goes up and down in a "
        "straight line. Nothing squashes c, so it can grow with n. (b) The GRU state is a convex "
        "mix (1-z) n + z h of values in (-1, 1), so it is bounded and cannot add a constant."
    ),
    "q_choosing": (
        "(a) No: at H = 64 the fixed cost per operation dominates and the measured ratio was "
        "near 1, and PyTorch's CPU LSTM even has a fused oneDNN kernel. (b) Not reliably: the "
        "two were close here and in the literature; compare at equal parameters and equal time "
        "over several seeds."
    ),
}

EXPECT = {}
NAMES = {}
