"""Sample submission "batch_mistakes" for 06_choosing: sums where means belong, and raw logits.

cell_cost counts the biases as multiply-adds; count_probe lets the padded steps into the fit;
bits_per_char sums over the batch and averages over time; temperature_softmax multiplies the
logits by the temperature; sample_next passes the raw logits to rng.choice as probabilities
(sampling from logits without normalising). Each suite must fail and name the mistake.
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
    """Mistake: the biases counted as multiply-adds."""
    G = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}[cell]
    n = G * H * (D + H) + 2 * G * H + (3 * H if cell == "peephole" else 0)
    return {"params": n, "macs": n}


def count_probe(x, mask, Wx, Wh, b):
    """Mistake: every step enters the fit, the padding too."""
    H = Wh.shape[0]
    zeros = np.zeros((x.shape[0], H))
    _, c, _ = lstm_forward(x, zeros, zeros, Wx, Wh, b)
    count = np.cumsum(x[..., 1] - x[..., 2], axis=1).reshape(-1)
    A = np.hstack([c.reshape(-1, H), np.ones((count.size, 1))])
    coef = np.linalg.lstsq(A, count, rcond=None)[0]
    res = count - A @ coef
    return coef[:H], float(coef[H]), float(1 - res @ res / np.sum((count - count.mean()) ** 2))


def bits_per_char(logits, targets):
    """Mistake: summed over the batch, averaged over time."""
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    return float(nll.mean(axis=1).sum() / np.log(2))


def temperature_softmax(logits, temperature):
    """Mistake: the logits are multiplied by tau."""
    z = np.asarray(logits, dtype=float)
    if temperature == 0:
        return np.eye(z.shape[-1])[z.argmax(axis=-1)]
    s = z * temperature
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sample_next(logits, temperature, seed):
    """Mistake: the logits themselves are used as probabilities."""
    rng = np.random.default_rng(seed)
    if temperature == 0:
        return np.argmax(logits, axis=1)
    return np.array([rng.choice(len(row), p=row / temperature) for row in logits])


EXPECT = {
    "cell_cost": 0.5,
    "count_probe": 0.6667,
    "bits_per_char": 0.8571,
    "temperature_softmax": 1.1111,
    "sample_next": 0.1667,
}
NAMES = {
    "cell_cost": ("added, not multiplied",),
    "count_probe": ("padded steps",),
    "bits_per_char": ("summed over the batch",),
    "temperature_softmax": ("multiplied the logits",),
    "sample_next": ("without normalising",),
}
