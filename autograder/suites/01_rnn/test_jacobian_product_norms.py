"""Hidden tests of jacobian_product_norms: norms[:, k] = ||J_T J_{T-1} ... J_{T-k+1}||, k = 0..T.

J[:, t-1] = dh_t/dh_{t-1}; the product of the last k Jacobians, in that order, is dh_T/dh_{T-k};
k = 0 is the identity. The default norm is the spectral norm (ord=2); suites pass J only.
"""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import (
    Arg,
    Case,
    Function,
    Mistakes,
    call,
    case,
    expect_match,
    expect_shape,
    is_close,
    named,
)
from solutions.gradients import jacobian_product_norms as reference

HINT = (
    "norms[:, k] is the spectral norm (ord=2) of J_T J_{T-1} ... J_{T-k+1} = dh_T/dh_{T-k}: "
    "start from the identity (k = 0) and multiply on the right by one earlier Jacobian per k."
)
SHAPE_HINT = "One norm per example for each k = 0..T: (N, T + 1), with norms[:, 0] = ||I||."
ORDER = (
    "Wrong multiplication order: dh_T/dh_{T-k} = J_T J_{T-1} ... J_{T-k+1}, so each further k "
    "multiplies the product on the RIGHT by the next earlier Jacobian (P = P @ J[:, T-k]); "
    "matrix products do not commute."
)
FIRST_K = (
    "You multiplied the first k Jacobians (from the start of the sequence); dh_T/dh_{T-k} uses "
    "the LAST k: J_T J_{T-1} ... J_{T-k+1}."
)
OFF_BY_ONE = (
    "Off by one in k: norms[:, k] must use exactly k Jacobians, so norms[:, 0] is the norm of "
    "the identity (no Jacobian) and norms[:, T] uses all T."
)


def _norms(products):
    """Spectral norms of a list of (N, H, H) products -> (N, len(products))."""
    return np.stack([np.linalg.norm(P, ord=2, axis=(1, 2)) for P in products], axis=1)


def _variant(J, order="right", first=False, ord=2):
    """Products of k = 0..T Jacobians: the last k (or the ``first`` k), multiplied in ``order``."""
    N, T, H, _ = J.shape
    P = np.broadcast_to(np.eye(H), (N, H, H))
    out = [P]
    for k in range(1, T + 1):
        Jk = J[:, k - 1] if first else J[:, T - k]
        P = P @ Jk if order == "right" else Jk @ P
        out.append(P)
    if ord == "fro":
        return np.stack([np.linalg.norm(P, ord="fro", axis=(1, 2)) for P in out], axis=1)
    return _norms(out)


def _mistakes(J):
    """Typical wrong norms for these Jacobians, each with the hint that names it."""
    ref = reference(J)
    elementwise = [np.broadcast_to(np.eye(J.shape[2]), J[:, 0].shape)]
    for k in range(1, J.shape[1] + 1):
        elementwise.append(elementwise[-1] * J[:, -k])
    return [
        (ORDER, _variant(J, order="left")),
        (FIRST_K, _variant(J, first=True)),
        (FIRST_K, _variant(J, first=True, order="left")),
        (
            "You computed the Frobenius norm; the default is the spectral norm: "
            "np.linalg.norm(P, ord=ord, axis=(-2, -1)) with ord=2.",
            _variant(J, ord="fro"),
        ),
        (
            "You multiplied the Jacobians entry by entry (*); the chain rule needs matrix "
            "products (@).",
            _norms(elementwise),
        ),
        (OFF_BY_ONE + " (You left out k = 0.)", ref[:, 1:]),
        (OFF_BY_ONE + " (You left out k = T.)", ref[:, :-1]),
        (OFF_BY_ONE, lambda got: is_close(got[:, :-1], ref[:, 1:])),
        (OFF_BY_ONE, lambda got: is_close(got[:, 1:], ref[:, :-1])),
        (
            "You returned T norms per example; k runs from 0 to T, so there are T + 1, the "
            "first (k = 0) being the norm of the identity.",
            lambda got: got.shape == ref[:, 1:].shape,
        ),
    ]


NORMS = Function(
    "jacobian_product_norms",
    [Arg("J", "N, T, H, H", scale=0.7)],
    returns=("norms",),
    reference=reference,
    title="norms",
    hints=HINT,
    shape_hints=SHAPE_HINT,
    mistakes=[Mistakes(_mistakes)],
)


def _examples_apart(a):
    # example 0 vanishes after one step, example 1 keeps its norm, example 2 is random
    a["J"][0, -1] = 0.0
    a["J"][1] = np.eye(2)


# three Jacobians whose products differ in norm with the order: ||C B|| != ||B C||
A, B, C = [[1.0, 2.0], [0.0, 1.0]], [[1.0, 0.0], [3.0, 1.0]], [[2.0, 0.0], [0.0, 0.5]]
# J_t = c_t I with distinct c_t: norms[:, k] is the product of the last k factors
SCALED_I = (np.array([2.0, 3.0, 5.0, 7.0])[:, None, None] * np.eye(2))[None]

test_values = NORMS.tests(
    [
        Case(60, N=2, T=3, H=2),
        Case(62, "random Jacobians", N=3, T=5, H=3),
        Case(
            0,
            args=[np.array([[A, B, C]])],
            label="N=1, T=3, H=2, J_1, J_2, J_3 that do not commute",
        ),
        Case(0, args=[SCALED_I], label="N=1, T=4, H=2, J_t = c_t I with c = (2, 3, 5, 7)"),
        Case(63, N=2, T=1, H=3),
        Case(64, N=2, T=4, H=1, scale={"J": 1.5}),
        Case(65, "one product per example", N=3, T=3, H=2, edit=_examples_apart),
    ]
)


@named("norms, k = 0 is the identity")
def test_k_equals_0_is_the_identity(student):
    (J,) = NORMS.arguments(Case(61, N=2, T=2, H=3))
    with case("N=2, T=2, H=3"):
        norms = call(student("jacobian_product_norms"), "jacobian_product_norms", J)
        expect_shape("norms", norms, (2, 3), SHAPE_HINT)
        wrong = [
            (
                "norms[:, 0] is the Frobenius norm of I (sqrt(H)); the default is the spectral "
                "norm, ord=2, which is 1 for the identity.",
                np.full(2, np.sqrt(3)),
            ),
            (OFF_BY_ONE, reference(J)[:, 1]),
        ]
        hint = "k = 0: dh_T/dh_T is the identity, whose spectral norm is 1."
        expect_match("norms[:, 0]", norms[:, 0], np.ones(2), wrong, hint)


test_inputs_not_modified = NORMS.unchanged_test(Case(66, N=2, T=3, H=3))
