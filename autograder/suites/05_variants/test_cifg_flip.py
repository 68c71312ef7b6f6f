"""Hidden tests of cifg_flip: the gate block (first H columns of Wx and Wh, first H entries of b)
changes sign, the g and o blocks stay; the flipped cell, run in the other form (f = 1 - i), equals
the original; flipping twice is the identity; the arguments are not changed."""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import Arg, Case, Function, Mistake, call, case, expect_close, named
from solutions.cifg import cifg_flip, cifg_step_forward


def _gate(W, H):
    return W[..., :H]


def _flip(Wx, Wh, b, which=("Wx", "Wh", "b"), new_bias=None, blocks=1):
    """The flip, or a typical wrong one: only some arrays flipped, another bias, more blocks."""
    H = Wh.shape[0]
    out = {"Wx": Wx.copy(), "Wh": Wh.copy(), "b": b.copy()}
    for name in which:
        out[name][..., : blocks * H] = -out[name][..., : blocks * H]
    if new_bias is not None:
        out["b"][:H] = new_bias(b[:H])
    return out


FLIP = Function(
    "cifg_flip",
    [Arg("Wx", "D, 3H"), Arg("Wh", "H, 3H"), Arg("b", "3H")],
    returns=("Wx", "Wh", "b"),
    reference=cifg_flip,
    title="flip",
    hints="Check: the gate block changes sign in all three arrays: Wx[:, :H], Wh[:, :H] and "
    "b[:H] become their negatives; the g and o blocks stay as they are.",
    shape_hints="Return (Wx, Wh, b) with the shapes of the arguments.",
    mistakes=[
        Mistake(
            "Only the bias of the gate changed sign, in one parameterisation but not the other: "
            "the gate's columns of Wx and Wh must change sign too, since the whole "
            "pre-activation becomes its negative (1 - sigmoid(z) = sigmoid(-z)).",
            lambda Wx, Wh, b: _flip(Wx, Wh, b, which=("b",)),
        ),
        Mistake(
            "The gate's weights changed sign but its bias did not: the whole pre-activation "
            "x Wx + h Wh + b must become its negative, bias included.",
            lambda Wx, Wh, b: _flip(Wx, Wh, b, which=("Wx", "Wh")),
        ),
        Mistake(
            "The new gate bias is 1 - b: but 1 - sigmoid(z) = sigmoid(-z), not sigmoid(1 - z), "
            "so the bias changes sign, b -> -b (a forget bias of 1 is an input bias of -1).",
            lambda Wx, Wh, b: _flip(Wx, Wh, b, which=("Wx", "Wh"), new_bias=lambda v: 1 - v),
        ),
        Mistake(
            "Every block changed sign: only the gate block (the first H columns) does; the "
            "candidate g and the output gate o are the same in both parameterisations.",
            lambda Wx, Wh, b: _flip(Wx, Wh, b, blocks=3),
        ),
        Mistake(
            "Wh's gate block did not change sign: the recurrent part h Wh of the pre-activation "
            "must change sign too.",
            lambda Wx, Wh, b: _flip(Wx, Wh, b, which=("Wx", "b")),
        ),
        Mistake(
            "Wx's gate block did not change sign: the input part x Wx of the pre-activation "
            "must change sign too.",
            lambda Wx, Wh, b: _flip(Wx, Wh, b, which=("Wh", "b")),
        ),
    ],
)

test_values = FLIP.tests(
    [
        Case(50, D=3, H=4),
        Case(51, D=1, H=1),
        Case(52, D=5, H=2),
        Case(53, D=2, H=3),
    ]
)
test_inputs_not_modified = FLIP.unchanged_test(Case(54, D=3, H=4))


@named("flip, the other form computes the same cell")
def test_other_form_equals(student):
    rng = np.random.default_rng(55)
    N, D, H = 3, 2, 4
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    Wx, Wh, b = (
        rng.standard_normal((D, 3 * H)),
        rng.standard_normal((H, 3 * H)),
        rng.standard_normal(3 * H),
    )
    with case("N=3, D=2, H=4"):
        out = call(student("cifg_flip"), "cifg_flip", Wx, Wh, b)
        if not isinstance(out, tuple | list) or len(out) != 3:
            raise AssertionError("cifg_flip must return the triple (Wx, Wh, b).")
        Wx2, Wh2, b2 = (np.asarray(v, dtype=float) for v in out)
        a = x @ Wx2 + h @ Wh2 + b2  # the other form: the first block is the input gate
        i = 1 / (1 + np.exp(-a[:, :H]))
        c_other = (1 - i) * c + i * np.tanh(a[:, H : 2 * H])
        _h, c_ours, _ = cifg_step_forward(x, h, c, Wx, Wh, b)
        expect_close(
            "c of the cell f = 1 - i with your flipped weights",
            c_other,
            c_ours,
            atol=1e-10,
            hint="With the flipped weights, i = sigmoid(a_first) and f = 1 - i must reproduce "
            "our cell: the first block's pre-activation must be exactly the negative of ours.",
        )


@named("flip, twice gives the weights back")
def test_twice_is_identity(student):
    rng = np.random.default_rng(56)
    Wx, Wh, b = rng.standard_normal((3, 6)), rng.standard_normal((2, 6)), rng.standard_normal(6)
    with case("D=3, H=2"):
        once = call(student("cifg_flip"), "cifg_flip", Wx, Wh, b)
        twice = call(student("cifg_flip"), "cifg_flip", *once)
        for name, got, want in zip(("Wx", "Wh", "b"), twice, (Wx, Wh, b), strict=True):
            expect_close(
                f"{name} after two flips", np.asarray(got), want, atol=1e-12,
                hint="The flip is its own inverse: the sign changes twice.",
            )  # fmt: skip
