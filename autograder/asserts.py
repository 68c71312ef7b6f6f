"""Assertion helpers with messages a student can act on: the visible tests and the hidden suites.

The build inlines this module into each notebook's test-helper cell, so it uses only numpy and
must stay self-contained. Every failure is an AssertionError whose message says which quantity is
wrong, the largest error and where it is, and what to check, for example::

    h: largest error 4.1e-01 at index (0, 2): got 0.3521, expected 0.7612 (tolerance 1e-08).
    Check: did you add the bias b and apply tanh to the whole pre-activation?
"""

from __future__ import annotations

import numpy as np


def _as_checked_array(name, got, shape=None):
    if type(got) is not np.ndarray:  # exact type: subclasses and array-likes can lie
        raise AssertionError(f"{name} must be a numpy array, got {type(got).__name__}.")
    if not (np.issubdtype(got.dtype, np.floating) or np.issubdtype(got.dtype, np.integer)):
        raise AssertionError(f"{name} has dtype {got.dtype}; return a floating-point array.")
    if shape is not None and got.shape != tuple(shape):
        raise AssertionError(f"{name} has shape {got.shape}, expected {tuple(shape)}.")
    return got


def expect_shape(name, got, shape, hint=""):
    """Fail unless ``got`` is a numpy array of exactly ``shape``."""
    try:
        _as_checked_array(name, got, shape)
    except AssertionError as e:
        raise AssertionError(f"{e} {hint}".rstrip()) from None


def expect_close(name, got, expected, atol=1e-8, rtol=1e-6, hint=""):
    """Fail unless ``got`` equals ``expected`` within ``atol + rtol * |expected|`` everywhere.

    The message gives the largest error, its index, both values there, and ``hint``.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = _as_checked_array(name, got, expected.shape).astype(np.float64)
    if not np.all(np.isfinite(got)):
        idx = np.unravel_index(np.argmax(~np.isfinite(got)), got.shape)
        raise AssertionError(f"{name} contains {got[idx]} at index {idx}. {hint}".rstrip())
    err = np.abs(got - expected)
    bad = err > atol + rtol * np.abs(expected)
    if bad.any():
        idx = np.unravel_index(np.argmax(np.where(bad, err, -1.0)), err.shape)
        where = f" at index {tuple(int(i) for i in idx)}" if got.ndim else ""
        raise AssertionError(
            f"{name}: largest error {err[idx]:.1e}{where}: got {got[idx]:.6g}, "
            f"expected {expected[idx]:.6g} ({int(bad.sum())} of {bad.size} entries off; "
            f"tolerance {atol:g}). {hint}".rstrip()
        )


def expect_rel_error(name, got, expected, tol=1e-7, hint=""):
    """Fail unless the norm-wise relative error ||got - expected|| / (||got|| + ||expected||)
    is at most ``tol`` (for gradients checked against centred differences)."""
    expected = np.asarray(expected, dtype=np.float64)
    got = _as_checked_array(name, got, expected.shape).astype(np.float64)
    denom = np.linalg.norm(got) + np.linalg.norm(expected)
    rel = 0.0 if denom == 0 else float(np.linalg.norm(got - expected) / denom)
    if not rel <= tol:
        err = np.abs(got - expected)
        idx = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
        zeros = " (yours is all zeros)" if not got.any() else ""
        raise AssertionError(
            f"{name}: relative error {rel:.1e}{zeros} (should be below {tol:g}); the largest "
            f"difference is at index {idx}: got {got[idx]:.6g}, expected {expected[idx]:.6g}. "
            f"{hint}".rstrip()
        )
    return rel
