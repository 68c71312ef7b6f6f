"""The suite kit (autograder/suites/kit) and the cells' numpy variants (autograder/suites/cells).

The kit: shapes in symbols, cases drawn reproducibly, deep copies and the in-place check at any
depth, readable test ids, a mistake that does not apply left out, exceptions reported with the
function's name. The variants: with no mistake each equals the reference in solutions/, and on
random inputs every listed mistake differs from the right answer (else it could not be named).
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.suites.cells import gru, lstm
from autograder.suites.kit import (
    Arg,
    Case,
    Function,
    Mistake,
    Mistakes,
    call,
    collect,
    copies,
    expect_unchanged,
    put,
    readable,
)
from solutions import gru as gru_ref
from solutions import lstm as lstm_ref


# --------------------------------------------------------------------------- kit
def test_shapes_in_symbols():
    sizes = {"N": 2, "T": 5, "D": 3, "H": 4}
    assert Arg("x", "N, T, D").shape(sizes) == (2, 5, 3)
    assert Arg("Wh", "H, 4H").shape(sizes) == (4, 16)
    assert Arg("b", "3H").shape(sizes) == (12,)
    assert Arg("J", "N, T, H, H").shape(sizes) == (2, 5, 4, 4)
    assert Arg("w", "2, H").shape(sizes) == (2, 4)
    with pytest.raises(ValueError, match="cannot read the size"):
        Arg("bad", "N + 1").shape(sizes)


def _ref(x, h, W):
    return np.tanh(x @ W + h), "cache"


F = Function(
    "f",
    [Arg("x", "N, D"), Arg("h", "N, H", state=True), Arg("W", "D, H", scale=2.0)],
    returns=("y", "cache"),
    reference=_ref,
)


def test_cases_are_drawn_reproducibly_with_scales_states_and_edits():
    a = F.draw(Case(3, N=2, D=3, H=4))
    b = F.draw(Case(3, N=2, D=3, H=4))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    rng = np.random.default_rng(3)
    x, h, W = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((3, 4))
    assert np.array_equal(a["x"], x) and np.array_equal(a["W"], 2.0 * W)
    z = F.draw(Case(3, N=2, D=3, H=4, zero_states=True, scale={"W": 1.0}))
    assert not z["h"].any() and np.array_equal(z["W"], W)
    e = F.draw(Case(3, N=2, D=3, H=4, edit=[put("x", (0, 1), 7.0), put("h", ..., lambda v: -v)]))
    assert e["x"][0, 1] == 7.0 and np.array_equal(e["h"], -h)
    assert Case(3, "h = 0", N=2, D=3, H=4).label == "N=2, D=3, H=4, h = 0"


def test_given_arguments_are_copied_for_every_draw():
    given = np.ones(3)
    c = Case(0, args=[given, given, given], edit=put("x", 0, 5.0), label="given")
    assert F.draw(c)["x"][0] == 5.0 and given[0] == 1.0


def test_copies_and_in_place_check_reach_arrays_at_any_depth():
    value = {"a": [np.zeros(2), (np.ones(3),)], "n": 3}
    before = copies(value)
    assert before["a"][1][0] is not value["a"][1][0]
    value["a"][1][0][2] = 5.0
    with pytest.raises(
        AssertionError, match=r"g changed its argument grads in place: grads\['a'\]\[1\]\[0\] "
    ):
        expect_unchanged("g", ["grads"], [before], [value])
    value["a"].append(np.zeros(1))
    with pytest.raises(AssertionError, match="items were added, removed or replaced"):
        expect_unchanged("g", ["grads"], [copies(before)], [value])


def test_call_names_the_function_and_copies_its_arguments():
    def f(x):
        x[0] = 9.0
        raise ValueError("shapes (2,) and (3,) not aligned")

    x = np.zeros(2)
    with pytest.raises(AssertionError, match=r"^f raised ValueError: shapes .* not aligned\.$"):
        call(f, "f", [x])
    assert x[0] == 0.0

    def g():
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="g is not implemented yet"):
        call(g, "g")


def test_mistakes_that_do_not_apply_are_left_out_and_families_expand():
    table = [
        Mistake("transposed", lambda x, W: x @ W.T),  # only when the shapes fit
        Mistake("none", lambda x, W: None),
        Mistakes(lambda x, W: [(f"step {t}", {"y": x * t}) for t in range(2)]),
    ]
    found = collect(table, ("y",), np.ones((2, 3)), np.ones((3, 4)))
    assert [m for m, _ in found["y"]] == ["none", "step 0", "step 1"]


def test_test_ids_must_be_unique():
    with pytest.raises(ValueError, match="same name"):
        readable(["a, N=1", "a, N=1"], [1, 2])


# --------------------------------------------------------------------------- cells' variants
def _random(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def test_gru_variants_equal_the_reference():
    N, T, D, H = 3, 4, 2, 5
    x, h0, Wx, Wh, b, bh = _random(
        0, [(N, T, D), (N, H), (D, 3 * H), (H, 3 * H), (3 * H,), (3 * H,)]
    )
    (dh,) = _random(1, [(N, T, H)])
    np.testing.assert_allclose(
        gru.paper_step(x[:, 0], h0, Wx, Wh, b)[0],
        gru_ref.gru_paper_step_forward(x[:, 0], h0, Wx, Wh, b)[0],
        atol=1e-14,
    )
    np.testing.assert_allclose(
        gru.paper_sequence(x, h0, Wx, Wh, b),
        gru_ref.gru_paper_forward(x, h0, Wx, Wh, b)[0],
        atol=1e-14,
    )
    np.testing.assert_allclose(
        gru.pytorch_step(x[:, 0], h0, Wx, Wh, b, bh)[0],
        gru_ref.gru_pytorch_step_forward(x[:, 0], h0, Wx, Wh, b, bh)[0],
        atol=1e-14,
    )
    step = gru.paper_step_backward(dh[:, 0], x[:, 0], h0, Wx, Wh, b)
    cache = gru_ref.gru_paper_step_forward(x[:, 0], h0, Wx, Wh, b)[1]
    for name, expected in zip(
        gru.PAPER_GRADS, gru_ref.gru_paper_step_backward(dh[:, 0], cache), strict=True
    ):
        np.testing.assert_allclose(step[name], expected, atol=1e-13, err_msg=name)
    dx, dh0, dWx, dWh, db = gru.paper_bptt(x, h0, Wx, Wh, b, dh)
    ref = gru_ref.gru_paper_backward(dh, gru_ref.gru_paper_forward(x, h0, Wx, Wh, b)[1])
    for got, expected in zip((dx, dh0, sum(dWx), sum(dWh), sum(db)), ref, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_lstm_variants_equal_the_reference():
    N, T, D, H = 3, 4, 2, 5
    x, h0, c0, Wx, Wh, b = _random(2, [(N, T, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)])
    dh, dc = _random(3, [(N, H), (N, H)])
    h, c, cache = lstm_ref.lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    got = lstm.step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    np.testing.assert_allclose(got[0], h, atol=1e-14)
    np.testing.assert_allclose(got[1], c, atol=1e-14)
    for g, e in zip(
        lstm.step_backward(dh, dc, x[:, 0], h0, c0, Wx, Wh, b),
        lstm_ref.lstm_step_backward(dh, dc, cache),
        strict=True,
    ):
        np.testing.assert_allclose(g, e, atol=1e-13)
    hs, cs = lstm.sequence_forward(x, h0, c0, Wx, Wh, b)
    ref = lstm_ref.lstm_forward(x, h0, c0, Wx, Wh, b)
    np.testing.assert_allclose(hs, ref[0], atol=1e-13)
    np.testing.assert_allclose(cs, ref[1], atol=1e-13)


def test_every_listed_mistake_differs_from_the_right_answer():
    """On random inputs no mistake variant coincides with the reference, so each can be named."""
    x, h, c, Wx, Wh, b, bh = _random(4, [(3, 2), (3, 4), (3, 4), (2, 12), (4, 12), (12,), (12,)])
    right = gru_ref.gru_paper_step_forward(x, h, Wx, Wh, b)[0]
    for hint, value in gru.paper_step_mistakes(x, h, Wx, Wh, b):
        assert np.abs(value - right).max() > 1e-3, hint
    right = gru_ref.gru_pytorch_step_forward(x, h, Wx, Wh, b, bh)[0]
    for hint, value in gru.pytorch_step_mistakes(x, h, Wx, Wh, b, bh):
        assert np.abs(value - right).max() > 1e-3, hint
    W4x, W4h, b4 = _random(5, [(2, 16), (4, 16), (16,)])
    right = lstm_ref.lstm_step_forward(x, h, c, W4x, W4h, b4)[:2]
    for mistake, hint in lstm.FORWARD_MISTAKES.items():
        wrong = lstm.step_forward(x, h, c, W4x, W4h, b4, mistake=mistake)
        assert max(np.abs(w - r).max() for w, r in zip(wrong, right, strict=True)) > 1e-3, hint


def test_dtype_test_refuses_float32_outputs():
    def student(name):
        return lambda x, h, W: (np.tanh(x @ W + h).astype(np.float32), None)

    c = Case(1, N=2, D=3, H=4)
    with pytest.raises(AssertionError, match="y has dtype float32, but the inputs are float64"):
        F.dtype_test(c)(student, c)
    F.dtype_test(c)(lambda name: lambda x, h, W: (np.tanh(x @ W + h), None), c)


def test_standard_cases_cover_the_edge_sizes():
    from autograder.suites.kit import standard_cases

    cases = standard_cases(10, sequence=True)
    sizes = [c.sizes for c in cases]
    assert {"N": 1}.items() <= sizes[2].items() and sizes[3]["H"] == 1
    assert any(s["T"] == 1 for s in sizes) and any(s["D"] == s["H"] for s in sizes)
    assert any(c.zero_states for c in cases) and len({c.label for c in cases}) == len(cases)


def _bits(logits, targets):
    """Mean cross-entropy in bits per character of integer targets under softmax(logits)."""
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(logp, targets[..., None], -1).mean() / np.log(2))


def _logits_and_targets(c):
    rng = np.random.default_rng(c.seed)
    N, V = c.sizes["N"], c.sizes["V"]
    return [rng.standard_normal((N, V)), rng.integers(0, V, size=N)]


BITS = Function(
    "bits_per_character",
    _logits_and_targets,
    returns=("loss",),
    reference=_bits,
    names=("logits", "targets"),
    numbers=("loss",),
    title="bits per character",
    hints="Check: the mean over characters of -log2 p(target).",
    mistakes=[
        Mistake(
            "You used the natural log: divide by log(2) for bits.",
            lambda lg, tg: _bits(lg, tg) * np.log(2),
        ),  # fmt: skip
    ],
)


def test_a_function_returning_a_number_is_checked_and_its_mistake_named():
    c = Case(3, N=5, V=4)
    test = BITS.tests([c])
    test(lambda name: _bits, c)  # right: passes
    with pytest.raises(AssertionError, match=r"^loss: .*natural log.*\[case: N=5, V=4\]$"):
        test(lambda name: lambda lg, tg: _bits(lg, tg) * np.log(2), c)
    with pytest.raises(AssertionError, match="loss must be a number"):
        test(lambda name: lambda lg, tg: [1.0], c)

    def in_place(logits, targets):
        targets[0] = 0
        return _bits(logits, targets)

    with pytest.raises(
        AssertionError, match="bits_per_character changed its argument targets in place: targets "
    ):
        BITS.unchanged_test(Case(4, N=5, V=4))(lambda name: in_place, Case(4, N=5, V=4))
