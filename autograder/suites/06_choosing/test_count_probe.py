"""Hidden tests of count_probe: least squares of n_a - n_b on the LSTM's cell states c_t."""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import Case, Function, Mistake, call, named
from solutions.choosing import count_probe as reference
from solutions.lstm import lstm_forward
from solutions.tasks import counting_batch


def _make(case):
    """[x, mask, Wx, Wh, b]: strings with the case's n values and random LSTM weights."""
    rng = np.random.default_rng(case.seed)
    H = case.sizes["H"]
    x, _, mask = counting_batch(getattr(case, "sizes_n", [2, 3, 5]), dtype=np.float64)
    Wx = rng.standard_normal((4, 4 * H))
    Wh = 0.5 * rng.standard_normal((H, 4 * H))
    b = rng.standard_normal(4 * H)
    return [x, mask, Wx, Wh, b]


def _fit(states, count):
    A = np.hstack([states, np.ones((len(states), 1))])
    coef = np.linalg.lstsq(A, count, rcond=None)[0]
    res = count - A @ coef
    return coef[:-1], float(coef[-1]), float(1 - res @ res / ((count - count.mean()) ** 2).sum())


def _states(x, Wx, Wh, b):
    zeros = np.zeros((x.shape[0], Wh.shape[0]))
    h, c, _ = lstm_forward(x, zeros, zeros, Wx, Wh, b)
    return h, c


def _count(x):
    return np.cumsum(x[..., 1] - x[..., 2], axis=1)


def _on_h(x, mask, Wx, Wh, b):
    h, _ = _states(x, Wx, Wh, b)
    return _fit(h[mask], _count(x)[mask])


def _no_intercept(x, mask, Wx, Wh, b):
    _, c = _states(x, Wx, Wh, b)
    C, y = c[mask], _count(x)[mask]
    w = np.linalg.lstsq(C, y, rcond=None)[0]
    res = y - C @ w
    return w, 0.0, float(1 - res @ res / ((y - y.mean()) ** 2).sum())


def _count_before(x, mask, Wx, Wh, b):
    _, c = _states(x, Wx, Wh, b)
    return _fit(c[mask], (_count(x) - (x[..., 1] - x[..., 2]))[mask])


def _a_only(x, mask, Wx, Wh, b):
    _, c = _states(x, Wx, Wh, b)
    return _fit(c[mask], np.cumsum(x[..., 1], axis=1)[mask])


def _padding_too(x, mask, Wx, Wh, b):
    _, c = _states(x, Wx, Wh, b)
    return _fit(c.reshape(-1, c.shape[-1]), _count(x).reshape(-1))


def _w_only(fn):
    return lambda *a: {"w": fn(*a)[0]}


PROBE = Function(
    "count_probe",
    _make,
    returns=("w", "w0", "r2"),
    reference=reference,
    numbers=("w0", "r2"),
    title="count probe",
    hints="Fit n_a - n_b (cumsum over time of x[..., 1] - x[..., 2], the current symbol "
    "included) on the cell states c[mask] (lstm_forward's second output) with an intercept "
    "column of ones; r2 = 1 - sum(residual**2) / sum((count - count.mean())**2).",
    shape_hints={"w": "w holds one weight per unit: (H,)."},
    mistakes=[
        Mistake(
            "You fitted the probe on the hidden states h; fit it on the cell states c "
            "(the second output of lstm_forward): h = o * tanh(c) squashes the count.",
            _on_h,
        ),
        Mistake(
            "The fit has no intercept: append a column of ones to c[mask] (the last "
            "coefficient is w0).",
            _no_intercept,
        ),
        Mistake(
            "The count leaves out the symbol read at step t: n_a - n_b after step t "
            "includes it (np.cumsum, not a shifted sum).",
            _count_before,
        ),
        Mistake(
            "The count is n_a only; the probe reads n_a - n_b (a's minus b's so far).", _a_only
        ),
        Mistake(
            "The padded steps entered the fit: use only the real steps, c[mask] and count[mask].",
            _padding_too,
        ),
    ],  # fmt: skip
)


def _case(seed, note, H, n_values):
    c = Case(seed, note, H=H)
    c.sizes_n = n_values
    c.label = f"H={H}, n = {', '.join(map(str, n_values))}" + (f", {note}" if note else "")
    return c


test_values = PROBE.tests(
    [
        _case(1, "", 3, [2, 5, 3]),
        _case(2, "", 5, [1, 4, 7, 2]),
        _case(3, "", 1, [3, 6]),
        _case(4, "one string", 2, [6]),
        _case(5, "", 8, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    ]
)


@named("count probe, inputs not modified")
def test_inputs_not_modified(student):
    """By hand: the kit's unchanged test takes float arrays only, and mask is bool."""
    args = _make(_case(6, "", 3, [2, 4]))
    before = [a.copy() for a in args]
    call(student("count_probe"), "count_probe", *args, copy=False)
    for name, old, new in zip(("x", "mask", "Wx", "Wh", "b"), before, args, strict=True):
        if not (type(new) is np.ndarray and new.shape == old.shape and np.array_equal(new, old)):
            raise AssertionError(
                f"count_probe changed its argument {name} in place; work on copies (no +=, "
                "[...] = or in-place methods on an argument)."
            )
