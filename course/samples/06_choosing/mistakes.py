"""Sample submission "mistakes" for 06_choosing: one typical mistake in every exercise.

cell_cost counts one bias vector (PyTorch keeps two); count_probe is fitted on the hidden states
h instead of the cell states c; bits_per_char averages over the batch but sums over time;
temperature_softmax applies the temperature after the softmax; sample_next samples from
exp(logits / tau) without normalising (rng.choice refuses it). Each suite must fail and name the
mistake. `lstm_forward` stands for the notebook's helper cell.
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
    """Mistake: one bias vector."""
    G = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}[cell]
    peep = 3 * H if cell == "peephole" else 0
    return {"params": G * H * (D + H) + G * H + peep, "macs": G * H * (D + H) + peep}


def count_probe(x, mask, Wx, Wh, b):
    """Mistake: the probe reads h, not c."""
    H = Wh.shape[0]
    zeros = np.zeros((x.shape[0], H))
    h, c, _ = lstm_forward(x, zeros, zeros, Wx, Wh, b)
    count = np.cumsum(x[..., 1] - x[..., 2], axis=1)[mask]
    A = np.hstack([h[mask], np.ones((int(mask.sum()), 1))])
    coef = np.linalg.lstsq(A, count, rcond=None)[0]
    res = count - A @ coef
    return coef[:H], float(coef[H]), float(1 - res @ res / np.sum((count - count.mean()) ** 2))


def bits_per_char(logits, targets):
    """Mistake: summed over time, averaged over the batch."""
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]  # (N, T)
    return float(nll.sum(axis=1).mean() / np.log(2))


def temperature_softmax(logits, temperature):
    """Mistake: the temperature divides the probabilities, after the softmax (then renormalised)."""
    z = np.asarray(logits, dtype=float)
    if temperature == 0:
        return np.eye(z.shape[-1])[z.argmax(axis=-1)]
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True) / temperature
    return p / p.sum(axis=-1, keepdims=True)


def sample_next(logits, temperature, seed):
    """Mistake: samples from exp(z / tau) without normalising."""
    rng = np.random.default_rng(seed)
    if temperature == 0:
        return np.argmax(logits, axis=1)
    w = np.exp(logits / temperature)
    return np.array([rng.choice(len(row), p=row) for row in w])


ANSWERS = {
    "q_counting": "The LSTM has a cell state. The GRU does not.",
}

EXPECT = {
    "cell_cost": 0.5,
    "count_probe": 0.3333,
    "bits_per_char": 0.8571,
    "temperature_softmax": 1.1111,
    "sample_next": 0.5,
}
NAMES = {
    "cell_cost": ("one bias vector",),
    "count_probe": ("hidden states h",),
    "bits_per_char": ("summed over time",),
    "temperature_softmax": ("after the softmax",),
    "sample_next": ("without normalising",),
}
