"""Hidden tests of gru_paper_step_backward, on the cache of the student's own forward step.

Going back through h = (1 - u) h_prev + u h_tilde, h_tilde = tanh(a_h) with
a_h = x Wx_h + (r h_prev) Wh_h + b_h, and the two sigmoid gates:
dh_prev = dh (1 - u) + [d(r h_prev)] r + [da_r, da_u] [Wh_r, Wh_u]^T, du = dh (h_tilde - h_prev),
dWh = [h_prev^T da_r, h_prev^T da_u, (r h_prev)^T da_h], dx = da Wx^T, dWx = x^T da,
db = sum_n da. Each test compares with solutions.gru, or with centred differences of the
student's own forward, and names the typical mistakes.
"""

from __future__ import annotations

from autograder.suites.cells.gru import PAPER_GRADS, PAPER_STEP, paper_step_backward
from autograder.suites.kit import Arg, Backward, Case, Mistake, put
from solutions.gru import gru_paper_step_backward as reference

HINTS = {
    "dx": "Check: dx = da @ Wx.T with da = [da_r, da_u, da_h] side by side, (N, 3H).",
    "dh_prev": "Check: dh_prev adds three paths: dh * (1 - u) (direct), d(r * h_prev) * r "
    "(through the candidate) and [da_r, da_u] @ [Wh_r, Wh_u].T (through the gates).",
    "dWx": "Check: dWx = x.T @ da, blocks r, u, h_tilde, shape (D, 3H).",
    "dWh": "Check: dWh = [h_prev.T @ da_r, h_prev.T @ da_u, (r * h_prev).T @ da_h], (H, 3H).",
    "db": "Check: db = da summed over the batch (axis 0), blocks r, u, h_tilde, shape (3H,).",
}
SHAPE_HINT = (
    "Return (dx, dh_prev, dWx, dWh, db): one gradient per argument of gru_paper_step_forward, "
    "in its order, each with the shape of that argument."
)
VARIANTS = [
    (
        "Direct path missing: h = (1 - u) * h_prev + u * h_tilde uses h_prev directly, so "
        "dh_prev starts with dh * (1 - u). This is the path that carries the gradient back "
        "when u is near 0.",
        {"direct": False},
    ),
    (
        "The candidate reads s = r * h_prev, so its part of dh_prev is ds * r with "
        "ds = da_h @ Wh_h.T; you left out the factor r.",
        {"reset_factor": False},
    ),
    (
        "dh_prev misses the paths through the gates: h_prev also enters r and u, so add "
        "da_r @ Wh_r.T + da_u @ Wh_u.T.",
        {"gate_paths": False},
    ),
    (
        "Conventions mixed in the backward pass: in the lecture form u weighs the candidate, so "
        "dh_tilde = dh * u, du = dh * (h_tilde - h_prev) and the direct path is dh * (1 - u).",
        {"direction": "old"},
    ),
    (
        "The tanh derivative is missing: da_h = dh_tilde * (1 - h_tilde**2).",
        {"dtanh": "missing"},
    ),
    (
        "Wrong tanh derivative: you used 1 - a², a the pre-activation. tanh'(a) = 1 - tanh(a)², "
        "so da_h = dh_tilde * (1 - h_tilde**2).",
        {"dtanh": "pre"},
    ),
    (
        "The sign of the update gate's gradient is flipped: h = (1 - u) * h_prev + u * h_tilde "
        "gives du = dh * (h_tilde - h_prev); yours is dh * (h_prev - h_tilde).",
        {"du_sign": -1.0},
    ),
    (
        "Wrong tanh derivative: you used 1 - h_tilde, not 1 - h_tilde²; tanh'(a) = 1 - tanh(a)², "
        "so da_h = dh_tilde * (1 - h_tilde**2).",
        {"dtanh": "unsquared"},
    ),
    (
        "The candidate block of dWh pairs da_h with what Wh_h multiplied, s = r * h_prev: "
        "(r * h_prev).T @ da_h, not h_prev.T @ da_h.",
        {"dWh_candidate": "h_prev"},
    ),
    (
        "db is the mean over the batch; the loss adds up the examples, so sum: "
        "db = da.sum(axis=0).",
        {"db": "mean"},
    ),
]


SIGMOID_SLIPS = {
    "missing": "the sigmoid derivative is missing",
    "tanh": "you used 1 - s², the tanh's",
    "output": "you used s itself",
}
GATES = {"ru": "both gates", "r": "the reset gate r", "u": "the update gate u"}
RIGHT = {
    "ru": "da_r = dr * r * (1 - r) and da_u = du * u * (1 - u)",
    "r": "da_r = dr * r * (1 - r)",
    "u": "da_u = du * u * (1 - u)",
}
VARIANTS += [
    (
        f"Wrong sigmoid derivative in {GATES[gates]}: {slip}. For s = sigmoid(a), "
        f"s'(a) = s * (1 - s): {RIGHT[gates]}.",
        {"dsigmoid": kind, "dsigmoid_gates": gates},
    )
    for kind, slip in SIGMOID_SLIPS.items()
    for gates in GATES
]


def _variant(kwargs):
    return lambda *a: paper_step_backward(a[-1], *a[:-1], **kwargs)


BACKWARD = Backward(
    "gru_paper_step_backward",
    PAPER_STEP,
    reference,
    upstream=[Arg("dh", "N, H")],
    title="paper step backward",
    hints=HINTS,
    shape_hint=SHAPE_HINT,
    mistakes=[
        *(Mistake(hint, _variant(kwargs)) for hint, kwargs in VARIANTS),
        Mistake(
            "db must be summed over the batch (axis 0), shape (3H,).",
            lambda *a: {"db": lambda got: got.shape == (a[-1].shape[0], 3 * a[-1].shape[1])},
        ),
    ],
)
assert BACKWARD.grads == PAPER_GRADS
STRONG = dict.fromkeys(("Wx", "Wh", "b"), 1.5)
U = slice(3, 6)  # the update gate's block of b when H = 3

test_shapes = BACKWARD.shapes_test(Case(120, N=2, D=3, H=4))
test_values = BACKWARD.tests([Case(121, "random inputs", N=3, D=4, H=5)])
test_centred_differences = BACKWARD.gradient_check_test(Case(122, N=2, D=3, H=2))
test_gates = BACKWARD.tests(
    [
        # u = 0: h = h_prev, so dh_prev = dh and every other gradient is (almost) zero
        Case(123, "update bias -30 (u close to 0)", N=3, D=2, H=3, edit=put("b", U, -30.0)),
        # u = 1: h = h_tilde, the gradient reaches h_prev only through the candidate and r
        Case(124, "update bias +30 (u close to 1)", N=3, D=2, H=3, edit=put("b", U, 30.0)),
        # reset gates near 1, near 0 and in between; large candidate weights
        Case(125, "strong reset gates", N=2, D=3, H=3, scale=STRONG,
             edit=put("b", slice(0, 3), [3.0, -3.0, 0.0])),
        Case(126, N=1, D=2, H=1),
        # h_prev = 0: the r and u blocks of dWh and the reset gradient vanish
        Case(127, "h_prev = 0", N=3, D=2, H=3, zero_states=True),
        Case(128, N=5, D=2, H=3),
    ]
)  # fmt: skip
test_inputs_not_modified = BACKWARD.unchanged_test(Case(129, N=2, D=3, H=4))
