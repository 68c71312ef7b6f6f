"""The peephole cell's numpy variants (autograder/suites/cells/peephole.py): without a mistake
they equal solutions.peephole; every listed mistake gives a different answer on random inputs."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.suites.cells import peephole as P4
from solutions import peephole


def _args(seed, N=3, T=None, D=2, H=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D) if T is None else (N, T, D))
    shapes = [(N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,), (H,), (H,), (H,)]
    return [x] + [rng.standard_normal(s) for s in shapes]


def test_variants_without_a_mistake_equal_the_reference():
    a = _args(0)
    h, c, cache = peephole.peephole_step_forward(*a)
    np.testing.assert_allclose(P4.step_forward(*a), (h, c), atol=1e-12)
    dh, dc = np.random.default_rng(1).standard_normal((2, 3, 4))
    want = peephole.peephole_step_backward(dh, dc, cache)
    for got, ref in zip(P4.step_backward(dh, dc, *a), want, strict=True):
        np.testing.assert_allclose(got, ref, atol=1e-12)
    s = _args(2, T=5)
    h, c, _ = peephole.peephole_forward(*s)
    np.testing.assert_allclose(P4.sequence_forward(*s), (h, c), atol=1e-12)


@pytest.mark.parametrize("mistake", P4.FORWARD_MISTAKES)
def test_every_forward_mistake_differs(mistake):
    a = _args(3)
    right, wrong = P4.step_forward(*a), P4.step_forward(*a, mistake=mistake)
    assert not all(np.allclose(r, w) for r, w in zip(right, wrong, strict=True))


@pytest.mark.parametrize("mistake", P4.BACKWARD_MISTAKES)
def test_every_backward_mistake_differs(mistake):
    a = _args(4)
    dh, dc = np.random.default_rng(5).standard_normal((2, 3, 4))
    right, wrong = P4.step_backward(dh, dc, *a), P4.step_backward(dh, dc, *a, mistake=mistake)
    assert not all(np.allclose(r, w) for r, w in zip(right, wrong, strict=True))
