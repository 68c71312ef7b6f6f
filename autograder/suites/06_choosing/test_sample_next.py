"""Hidden tests of sample_next: seeded draws from softmax(logits / tau), argmax at tau = 0."""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import call, named

# The notebook's rule that temperature 0 still draws (a Generator passed in moves on) is not
# graded: a Generator cannot cross the sandbox's plain-data channel, and with an int seed nothing
# outside one call shows whether it drew. tests/test_choosing.py checks the reference follows it.
Z = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
DRAWS = 20_000


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _ids(student, logits, tau, seed, what):
    """The student's ids as an int array of shape (N,), with messages for the usual failures."""
    try:
        ids = call(student("sample_next"), "sample_next", logits, tau, seed)
    except AssertionError as e:
        text = str(e)
        if "sum to 1" in text or "negative" in text or "non-negative" in text:
            raise AssertionError(
                text + " It looks as if you sampled from the logits (or exp(logits / tau)) "
                "without normalising: draw from temperature_softmax(logits, tau), whose rows "
                "sum to 1."
            ) from None
        raise
    if type(ids) is not np.ndarray:
        if type(ids) in (list, tuple):
            ids = np.array(ids)
        else:
            raise AssertionError(
                f"sample_next must return an int array (N,), got {type(ids).__name__}."
            )
    if ids.shape != (logits.shape[0],):
        raise AssertionError(
            f"sample_next({what}) returned shape {ids.shape}; expected ({logits.shape[0]},), one "
            "id per row of the logits."
        )
    if not (np.issubdtype(ids.dtype, np.integer) or np.all(ids == np.round(ids))):
        raise AssertionError("sample_next must return integer ids.")
    return ids.astype(np.int64)


@named("sample_next, temperature 0 takes the argmax of every row")
def test_argmax(student):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((40, 7))
    ids = _ids(student, z, 0, 0, "40 rows, tau = 0")
    if not np.array_equal(ids, z.argmax(axis=1)):
        raise AssertionError(
            "with temperature 0 every id must be the argmax of its row (greedy decoding); "
            f"{int((ids != z.argmax(axis=1)).sum())} of 40 rows differ."
        )


@named("sample_next, the same seed gives the same draws, another seed others")
def test_seeded(student):
    z = np.tile(Z, (200, 1))
    a, b = _ids(student, z, 1.0, 11, "seed 11"), _ids(student, z, 1.0, 11, "seed 11")
    if not np.array_equal(a, b):
        raise AssertionError(
            "two calls with seed=11 gave different ids: make the generator with "
            "np.random.default_rng(seed) and draw only from it (not from np.random's global state)."
        )
    c = _ids(student, z, 1.0, 12, "seed 12")
    if np.array_equal(a, c):
        raise AssertionError("seeds 11 and 12 gave the same 200 ids: use the seed you are given.")


def _frequency_test(student, tau):
    z = np.tile(Z, (DRAWS, 1))
    ids = _ids(student, z, tau, 2024, f"{DRAWS} rows, tau = {tau}")
    if ids.min() < 0 or ids.max() > 3:
        raise AssertionError(f"ids must lie in 0..V-1 = 0..3, got {ids.min()}..{ids.max()}.")
    freq = np.bincount(ids, minlength=4) / DRAWS
    p = _softmax(Z / tau)

    def matches(q):
        return np.all(np.abs(freq - q) < 5 * np.sqrt(q * (1 - q) / DRAWS) + 1e-12)

    if matches(p):
        return
    if matches(_softmax(Z)):
        hint = (
            "They follow softmax(z) whatever tau: the temperature is applied after the "
            "softmax; divide the logits by tau BEFORE the softmax."
        )
    elif matches(_softmax(Z * tau)):
        hint = "They follow softmax(z * tau): the temperature divides the logits, softmax(z / tau)."
    else:
        hint = (
            "Draw each row from temperature_softmax(logits, tau), normalised to sum to 1 "
            "(sampling from unnormalised logits or exp(logits / tau) gives other frequencies)."
        )
    raise AssertionError(
        f"with tau = {tau} the ids 0..3 came with frequencies {np.round(freq, 3)} over {DRAWS} "
        f"draws; expected about {np.round(p, 3)} = softmax(z / tau). {hint}"
    )  # fmt: skip


@named("sample_next, frequencies follow softmax(z / tau) at tau = 0.5")
def test_frequencies_sharp(student):
    _frequency_test(student, 0.5)


@named("sample_next, frequencies follow softmax(z / tau) at tau = 1")
def test_frequencies_one(student):
    _frequency_test(student, 1.0)


@named("sample_next, frequencies follow softmax(z / tau) at tau = 1.5")
def test_frequencies_flat(student):
    _frequency_test(student, 1.5)


@named("sample_next, rows with different logits")
def test_rows_apart(student):
    z = np.full((2 * 5000, 3), -30.0)
    z[:5000, 0] = 30.0  # rows 0..4999: id 0 almost surely; the others: id 2
    z[5000:, 2] = 30.0
    ids = _ids(student, z, 1.0, 5, "rows with different logits")
    if not (np.all(ids[:5000] == 0) and np.all(ids[5000:] == 2)):
        raise AssertionError(
            "each row must be drawn from its own distribution: rows whose logits put all the "
            "mass on id 0 gave other ids (or likewise for id 2)."
        )
