"""Sample submission "units_mistakes" for 06_choosing: wrong units and a missing normalisation.

cell_cost draws the peepholes as full H x H matrices; count_probe has no intercept;
bits_per_char reports nats (natural log) as bits; temperature_softmax forgets to divide by the
sum; sample_next applies the temperature after the softmax, so its draws follow softmax(z) at
every temperature. Each suite must fail and name the mistake.
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
    """Mistake: peephole weights as H x H matrices."""
    G = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}[cell]
    peep = 3 * H * H if cell == "peephole" else 0
    return {"params": G * H * (D + H) + 2 * G * H + peep, "macs": G * H * (D + H) + peep}


def count_probe(x, mask, Wx, Wh, b):
    """Mistake: no intercept column."""
    H = Wh.shape[0]
    zeros = np.zeros((x.shape[0], H))
    _, c, _ = lstm_forward(x, zeros, zeros, Wx, Wh, b)
    count = np.cumsum(x[..., 1] - x[..., 2], axis=1)[mask]
    w = np.linalg.lstsq(c[mask], count, rcond=None)[0]
    res = count - c[mask] @ w
    return w, 0.0, float(1 - res @ res / np.sum((count - count.mean()) ** 2))


def bits_per_char(logits, targets):
    """Mistake: natural log, so nats."""
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(log_p, targets[..., None], axis=-1).mean())


def temperature_softmax(logits, temperature):
    """Mistake: not normalised."""
    z = np.asarray(logits, dtype=float)
    if temperature == 0:
        return np.eye(z.shape[-1])[z.argmax(axis=-1)]
    s = z / temperature
    return np.exp(s - s.max(axis=-1, keepdims=True))


def sample_next(logits, temperature, seed):
    """Mistake: the temperature divides the probabilities after the softmax (no effect)."""
    rng = np.random.default_rng(seed)
    if temperature == 0:
        return np.argmax(logits, axis=1)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True) / temperature
    p = p / p.sum(axis=1, keepdims=True)
    return np.array([rng.choice(p.shape[1], p=row) for row in p])


EXPECT = {
    "cell_cost": 1.5,
    "count_probe": 0.3333,
    "bits_per_char": 0.2857,
    "temperature_softmax": 1.1111,
    "sample_next": 0.6667,
}
NAMES = {
    "cell_cost": ("diagonal",),
    "count_probe": ("no intercept",),
    "bits_per_char": ("nats",),
    "temperature_softmax": ("not normalised",),
    "sample_next": ("after the softmax",),
}
