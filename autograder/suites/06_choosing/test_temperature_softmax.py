"""Hidden tests of temperature_softmax: softmax(z / tau) over the last axis; tau = 0 is argmax."""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import Case, Function, Mistake
from solutions.choosing import temperature_softmax as reference


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _make(case):
    """[logits (N, T, V), (N, V) or (V,) as the case gives sizes (V = 5 if not), tau (0.5)]."""
    rng = np.random.default_rng(case.seed)
    shape = tuple(case.sizes[k] for k in ("N", "T") if k in case.sizes) + (case.sizes.get("V", 5),)
    z = case.scale.get("logits", 3.0) * rng.standard_normal(shape)
    return [z, case.scale.get("tau", 0.5)]


def _unless_tau(value, tau, keep):
    """A mistake's value, or None where it cannot be told apart (tau equal to ``keep``)."""
    return None if tau == keep else value


PROBS = Function(
    "temperature_softmax",
    _make,
    names=("logits", "temperature"),
    returns=("p",),
    reference=reference,
    title="temperature softmax",
    hints="p = exp(z / tau - m) / sum(exp(z / tau - m)) along the last axis, m the row's "
    "largest value of z / tau; for tau = 0 a one-hot row at the argmax.",
    shape_hints="p has the shape of the logits: one probability per logit.",
    mistakes=[
        Mistake(
            "The temperature is applied after the softmax: softmax(z) / tau, renormalised, "
            "is softmax(z) again. Divide the LOGITS by tau, then take the softmax.",
            lambda z, tau: _unless_tau(_softmax(z), tau, 1.0) if tau != 0 else None,
        ),
        Mistake(
            "The temperature is applied after the softmax (softmax(z) / tau): divide the "
            "logits by tau first, then take the softmax, so that the rows sum to 1.",
            lambda z, tau: _unless_tau(_softmax(z) / tau, tau, 1.0) if tau != 0 else None,
        ),
        Mistake(
            "The probabilities are not normalised: divide exp(z / tau) by its sum over the "
            "last axis.",
            lambda z, tau: np.exp(z / tau) if tau != 0 else None,
        ),
        Mistake(
            "The probabilities are not normalised: divide exp(z / tau - max) by its sum over "
            "the last axis.",
            lambda z, tau: (
                np.exp(z / tau - (z / tau).max(axis=-1, keepdims=True)) if tau != 0 else None
            ),
        ),
        Mistake(
            "You multiplied the logits by tau; the temperature divides them: softmax(z / tau).",
            lambda z, tau: _unless_tau(_softmax(z * tau), tau, 1.0) if tau != 0 else None,
        ),
        Mistake(
            "The softmax is taken over the wrong axis: normalise along the last axis "
            "(axis=-1), one distribution per row.",
            lambda z, tau: (
                (lambda e: e / e.sum(axis=0, keepdims=True))(np.exp(z / tau - (z / tau).max()))
                if tau != 0 and z.ndim > 1
                else None
            ),
        ),
        Mistake(
            "exp overflows for small temperatures: subtract each row's largest z / tau "
            "before np.exp.",
            lambda z, tau: (
                (lambda got: not np.all(np.isfinite(got)))
                if tau != 0 and np.abs(z / tau).max() > 700
                else None
            ),
        ),
        Mistake(
            "temperature 0 must give a one-hot row at the argmax (greedy decoding), not "
            "a division by zero.",
            lambda z, tau: (lambda got: not np.all(np.isfinite(got))) if tau == 0 else None,
        ),
    ],  # fmt: skip
)

test_values = PROBS.tests(
    [
        Case(1, "tau = 1", V=5, scale={"tau": 1.0}),
        Case(2, "tau = 0.5", N=3, V=6, scale={"tau": 0.5}),
        Case(3, "tau = 1.5", N=4, V=7, scale={"tau": 1.5}),
        Case(4, "tau = 2, a (N, T, V) batch", N=2, T=3, V=4, scale={"tau": 2.0}),
        Case(5, "tau = 0.01 (large z / tau)", N=3, V=8, scale={"tau": 0.01, "logits": 10.0}),
        Case(6, "tau = 0 (argmax)", N=5, V=6, scale={"tau": 0.0}),
        Case(7, "tau = 0, one row", V=9, scale={"tau": 0.0}),
        Case(8, "V = 1", N=2, V=1, scale={"tau": 0.7}),
    ]
)
test_inputs_not_modified = PROBS.unchanged_test(Case(9, N=2, V=3, scale={"tau": 0.8}))
