"""Hidden tests of bits_per_char: softmax cross-entropy averaged over batch and time, in bits."""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import Case, Function, Mistake
from solutions.choosing import bits_per_char as reference

LN2 = np.log(2.0)


def _nll(z, y):
    """(N, T) natural-log negative log-likelihoods, computed stably."""
    z = z - z.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]


def _naive(z, y):
    """Mean bits without subtracting the maximum (overflows for large logits)."""
    with np.errstate(all="ignore"):
        p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
        return float(-np.log2(np.take_along_axis(p, y[..., None], axis=-1)).mean())


def _overflows(z, y):
    """A predicate "the answer is not finite" where the naive formula overflows, else None."""
    if np.isfinite(_naive(z, y)):
        return None
    return lambda got: not np.all(np.isfinite(got))


def _make(case):
    """[logits (N, T, V), targets (N, T)] for a case with sizes N, T, V (V = 5 if not given)."""
    rng = np.random.default_rng(case.seed)
    N, T, V = case.sizes["N"], case.sizes["T"], case.sizes.get("V", 5)
    z = case.scale.get("logits", 2.0) * rng.standard_normal((N, T, V))
    return [z, rng.integers(0, V, (N, T))]


BPC = Function(
    "bits_per_char",
    _make,
    names=("logits", "targets"),
    returns=("bpc",),
    reference=reference,
    numbers=("bpc",),
    title="bits per character",
    hints="bpc = -(1 / (N T)) sum over every (n, t) of log2 softmax(z[n, t])[y[n, t]]: the mean "
    "over the batch and over time, in base 2 (ln p / ln 2).",
    mistakes=[
        Mistake(
            "You reported nats (the natural log); bits are nats / ln 2.",
            lambda z, y: _nll(z, y).mean(),
        ),
        Mistake(
            "You averaged over the batch but summed over time: take the mean over every "
            "step (n, t), so the number does not grow with T.",
            lambda z, y: _nll(z, y).sum(axis=1).mean() / LN2,
        ),
        Mistake(
            "You summed over the batch and averaged over time: take the mean over every "
            "step (n, t), so the number does not grow with N.",
            lambda z, y: _nll(z, y).mean(axis=1).sum() / LN2,
        ),
        Mistake(
            "You summed over batch and time instead of averaging over every step.",
            lambda z, y: _nll(z, y).sum() / LN2,
        ),
        Mistake(
            "You summed over time and reported nats: average over every step and divide by ln 2.",
            lambda z, y: _nll(z, y).sum(axis=1).mean(),
        ),
        Mistake(
            "The log-softmax overflows for large logits: subtract each row's largest logit "
            "before np.exp (z - m - log(sum(exp(z - m)))).",
            lambda z, y: (
                lambda v: (lambda got: not np.isfinite(got).all()) if not np.isfinite(v) else None
            )(_naive(z, y)),
        ),
        Mistake(
            "You used the probability of the target, not its logarithm.",
            lambda z, y: float(-np.exp(-_nll(z, y)).mean()),
        ),
    ],  # fmt: skip
)

test_values = BPC.tests(
    [
        Case(1, N=3, T=5, V=7),
        Case(2, N=1, T=1, V=2),
        Case(3, N=2, T=9, V=60),
        Case(4, "T = 1", N=4, T=1, V=5),
        Case(5, "N = 1", N=1, T=6, V=4),
        Case(6, "large logits (scale 500)", N=2, T=3, V=5, scale={"logits": 500.0}),
    ]
)
test_inputs_not_modified = BPC.unchanged_test(Case(7, N=2, T=3, V=4))
