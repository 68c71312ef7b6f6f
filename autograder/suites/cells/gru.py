"""The GRU cells of notebook 02: numpy variants with the typical mistakes, and the declarations.

The variants compute, with numpy in the grading process, what a GRU step gives when it is
written with one of the typical mistakes: the update gate on the wrong term, the reset gate on
the wrong side of the matrix product, gate blocks in the wrong order, a missing bias, a wrong
derivative. The suites compare a student's answer with these variants to name the mistake. The
correct setting of every variant is the course's equation, so the variants double as an
independent transcription of the reference (tests/test_suites.py checks that they agree).

PAPER_STEP, PAPER_SEQUENCE and PYTORCH_STEP declare gru_paper_step_forward, gru_paper_forward
and gru_pytorch_step_forward with their mistake tables, for the forward and backward suites.

Block notation (course, row vectors): Wx (D, 3H), Wh (H, 3H) and the biases (3H,) hold three
column blocks of width H. Paper form: r, u, h_tilde; PyTorch form: r, z, n.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from autograder.suites.kit import Arg, Function, Mistake, Mistakes, is_close
from autograder.suites.kit.recurrent import sequence_mistakes
from solutions.gru import gru_paper_forward, gru_paper_step_forward, gru_pytorch_step_forward

PAPER_GATES = ("r", "u", "h_tilde")
PYTORCH_GATES = ("r", "z", "n")
ORDERS = [p for p in permutations(range(3)) if p != (0, 1, 2)]  # every wrong block order


# --------------------------------------------------------------------------------------------
# messages that name the typical mistakes (shared by several suites)
# --------------------------------------------------------------------------------------------

PAPER_WRONG_TERM = (
    "Conventions mixed: your update gate weighs the old state, h = u * h_prev + (1 - u) * "
    "h_tilde (PyTorch's direction). In the lecture form u weighs the CANDIDATE: "
    "h = (1 - u) * h_prev + u * h_tilde."
)
PAPER_RESET_AFTER = (
    "Reset applied after the matrix product, r * (h_prev @ Wh_h) (PyTorch's placement). The paper "
    "form resets the state first and then multiplies: (r * h_prev) @ Wh_h."
)
PAPER_NO_RESET = (
    "The reset gate is never used: the candidate reads r * h_prev, not h_prev: "
    "h_tilde = tanh(x @ Wx_h + (r * h_prev) @ Wh_h + b_h)."
)
PAPER_NO_BIAS = (
    "Missing bias: b is not added. Add its blocks b[:H], b[H:2H], b[2H:] to the pre-activations "
    "of r, u and h_tilde."
)
PAPER_NO_CANDIDATE_BIAS = (
    "Missing bias: the candidate's block b[2H:] is not added inside the tanh of h_tilde."
)
PAPER_NO_GATE_BIAS = "Missing bias: the gates' blocks b[:H] (r) and b[H:2H] (u) are not added."
PAPER_ORDER = (
    "Gate order: you read the blocks as {got}. The blocks of Wx, Wh and b are r, u, h_tilde in "
    "that order: columns 0:H belong to r, H:2H to u, 2H:3H to the candidate."
)
PAPER_ONLY_CANDIDATE = (
    "h is the candidate alone; the new state mixes it with the old one: "
    "h = (1 - u) * h_prev + u * h_tilde."
)
PAPER_NO_KEEP = (
    "The term (1 - u) * h_prev is missing: h = (1 - u) * h_prev + u * h_tilde keeps part of the "
    "old state."
)
PAPER_SIGMOID_CANDIDATE = "The candidate h_tilde uses tanh; only the gates r and u use the sigmoid."

PT_WRONG_TERM = (
    "Conventions mixed: your z weighs the candidate, h = z * n + (1 - z) * h_prev (the paper's "
    "direction). In PyTorch's form z weighs the OLD STATE: h = (1 - z) * n + z * h_prev."
)
PT_RESET_BEFORE = (
    "Reset applied before the matrix product, (r * h_prev) @ Wh_n (the lecture form's placement). "
    "torch.nn.GRUCell multiplies first and then resets, bias included: "
    "r * (h_prev @ Wh_n + bh_n)."
)
PT_PAPER_FORM = (
    "This is the lecture form (reset before the product, the update gate on the candidate). "
    "torch.nn.GRUCell uses n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n + bh_n)) and "
    "h = (1 - z) * n + z * h_prev."
)
PT_BHN_OUTSIDE = (
    "bh's n block is added outside the reset: it belongs inside, r * (h_prev @ Wh_n + bh_n). "
    "That is why PyTorch keeps two biases: bx_n is not reset, bh_n is."
)
PT_BHN_NOT_RESET = (
    "The reset gate must multiply bh's n block too: r * (h_prev @ Wh_n + bh_n). Either you "
    "reset before the product (the lecture form's placement) or you added bh_n outside the reset."
)
PT_NO_BH = "Missing bias: bh (bias_hh) is not added. Both biases enter, bh_n inside the reset."
PT_NO_BX = "Missing bias: bx (bias_ih) is not added. Both biases enter every gate."
PT_ORDER = (
    "Gate order: you read the blocks as {got}. PyTorch's fused weights are ordered r, z, n: "
    "columns 0:H belong to the reset gate, H:2H to the update gate z, 2H:3H to n."
)


# --------------------------------------------------------------------------------------------
# forward variants
# --------------------------------------------------------------------------------------------


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow warnings for large |a|."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def blocks(A: np.ndarray, H: int, order=(0, 1, 2)) -> list[np.ndarray]:
    """The three column blocks of A (last axis 3H) in the given order."""
    return [A[..., k * H : (k + 1) * H] for k in order]


def paper_step(
    x,
    h_prev,
    Wx,
    Wh,
    b,
    reset="before",
    weighs="candidate",
    bias="all",
    order=(0, 1, 2),
    candidate="tanh",
):
    """A lecture-form GRU step, correct with the defaults; returns (h, parts).

    reset: "before" (r * h_prev) Wh_h | "after" r * (h_prev Wh_h) | "none".
    weighs: "candidate" (1-u) h_prev + u h_tilde | "old" u h_prev + (1-u) h_tilde |
        "only_candidate" h_tilde | "no_keep" u h_tilde.
    bias: "all" | "none" | "no_candidate" | "no_gates".
    order: the block indices used for (r, u, h_tilde).
    candidate: "tanh" | "sigmoid".
    """
    H = h_prev.shape[1]
    bxr, bxu, bxh = blocks(Wx, H, order)
    bhr, bhu, bhh = blocks(Wh, H, order)
    br, bu, bh = blocks(b, H, order)
    if bias in ("none", "no_gates"):
        br, bu = 0 * br, 0 * bu
    if bias in ("none", "no_candidate"):
        bh = 0 * bh
    r = sigmoid(x @ bxr + h_prev @ bhr + br)
    u = sigmoid(x @ bxu + h_prev @ bhu + bu)
    if reset == "before":
        rec = (r * h_prev) @ bhh
    elif reset == "after":
        rec = r * (h_prev @ bhh)
    else:
        rec = h_prev @ bhh
    act = np.tanh if candidate == "tanh" else sigmoid
    h_tilde = act(x @ bxh + rec + bh)
    h = {
        "candidate": (1 - u) * h_prev + u * h_tilde,
        "old": u * h_prev + (1 - u) * h_tilde,
        "only_candidate": h_tilde,
        "no_keep": u * h_tilde,
    }[weighs]
    return h, {"r": r, "u": u, "h_tilde": h_tilde}


def paper_sequence(x, h0, Wx, Wh, b, **variant):
    """States h_1..h_T (N, T, H) of the lecture form, every step computed by ``paper_step``."""
    h, out = h0, []
    for t in range(x.shape[1]):
        h = paper_step(x[:, t], h, Wx, Wh, b, **variant)[0]
        out.append(h)
    return np.stack(out, axis=1)


def paper_step_mistakes(x, h_prev, Wx, Wh, b) -> list:
    """Typical wrong paper-form steps on these inputs, each with the hint that names it."""
    out = [
        (PAPER_WRONG_TERM, paper_step(x, h_prev, Wx, Wh, b, weighs="old")[0]),
        (PAPER_RESET_AFTER, paper_step(x, h_prev, Wx, Wh, b, reset="after")[0]),
        (PAPER_NO_RESET, paper_step(x, h_prev, Wx, Wh, b, reset="none")[0]),
        (PAPER_NO_BIAS, paper_step(x, h_prev, Wx, Wh, b, bias="none")[0]),
        (PAPER_NO_CANDIDATE_BIAS, paper_step(x, h_prev, Wx, Wh, b, bias="no_candidate")[0]),
        (PAPER_NO_GATE_BIAS, paper_step(x, h_prev, Wx, Wh, b, bias="no_gates")[0]),
        (PAPER_ONLY_CANDIDATE, paper_step(x, h_prev, Wx, Wh, b, weighs="only_candidate")[0]),
        (PAPER_NO_KEEP, paper_step(x, h_prev, Wx, Wh, b, weighs="no_keep")[0]),
        (PAPER_SIGMOID_CANDIDATE, paper_step(x, h_prev, Wx, Wh, b, candidate="sigmoid")[0]),
        (
            PAPER_WRONG_TERM + " Also, " + PAPER_RESET_AFTER,
            paper_step(x, h_prev, Wx, Wh, b, weighs="old", reset="after")[0],
        ),
    ]
    for order in ORDERS:
        got = ", ".join(PAPER_GATES[k] for k in np.argsort(order))
        out.append((PAPER_ORDER.format(got=got), paper_step(x, h_prev, Wx, Wh, b, order=order)[0]))
    return out


def pytorch_step(
    x, h_prev, Wx, Wh, bx, bh, reset="after", weighs="old", bias="both", order=(0, 1, 2)
):
    """A PyTorch-form GRU step (torch.nn.GRUCell with the defaults); returns (h, parts).

    reset: "after" r * (h_prev Wh_n + bh_n) | "before" (r * h_prev) Wh_n + bh_n.
    weighs: "old" (1-z) n + z h_prev | "candidate" z n + (1-z) h_prev.
    bias: "both" | "no_bh" | "no_bx" | "bhn_outside" (bh_n added outside the reset).
    order: the block indices used for (r, z, n).
    """
    H = h_prev.shape[1]
    if bias == "no_bh":
        bh = 0 * bh
    if bias == "no_bx":
        bx = 0 * bx
    xr, xz, xn = blocks(x @ Wx + bx, H, order)
    hr, hz, _ = blocks(h_prev @ Wh + bh, H, order)
    Wh_n, bh_n = blocks(Wh, H, order)[2], blocks(bh, H, order)[2]
    r = sigmoid(xr + hr)
    z = sigmoid(xz + hz)
    if reset == "after" and bias != "bhn_outside":
        rec = r * (h_prev @ Wh_n + bh_n)
    elif reset == "after":
        rec = r * (h_prev @ Wh_n) + bh_n
    else:
        rec = (r * h_prev) @ Wh_n + bh_n
    n = np.tanh(xn + rec)
    h = (1 - z) * n + z * h_prev if weighs == "old" else z * n + (1 - z) * h_prev
    return h, {"r": r, "z": z, "n": n}


def pytorch_step_mistakes(x, h_prev, Wx, Wh, bx, bh) -> list:
    """Typical wrong PyTorch-form steps on these inputs, each with the hint that names it."""
    args = (x, h_prev, Wx, Wh, bx, bh)
    before, outside = (
        pytorch_step(*args, reset="before")[0],
        pytorch_step(*args, bias="bhn_outside")[0],
    )
    # with h_prev = 0 or H = 1 these two mistakes give the same numbers: name both
    both = PT_BHN_NOT_RESET if is_close(before, outside) else None
    out = [
        (PT_WRONG_TERM, pytorch_step(*args, weighs="candidate")[0]),
        (both or PT_RESET_BEFORE, before),
        (PT_PAPER_FORM, pytorch_step(*args, reset="before", weighs="candidate")[0]),
        (both or PT_BHN_OUTSIDE, outside),
        (PT_NO_BH, pytorch_step(*args, bias="no_bh")[0]),
        (PT_NO_BX, pytorch_step(*args, bias="no_bx")[0]),
    ]
    for order in ORDERS:
        got = ", ".join(PYTORCH_GATES[k] for k in np.argsort(order))
        out.append((PT_ORDER.format(got=got), pytorch_step(*args, order=order)[0]))
    return out


# --------------------------------------------------------------------------------------------
# backward variants (paper form)
# --------------------------------------------------------------------------------------------

PAPER_GRADS = ("dx", "dh_prev", "dWx", "dWh", "db")


def paper_step_backward(
    dh,
    x,
    h_prev,
    Wx,
    Wh,
    b,
    direct=True,
    reset_factor=True,
    gate_paths=True,
    direction="candidate",
    dsigmoid="ok",
    dtanh="ok",
    dWh_candidate="reset_state",
    db="sum",
    du_sign=1.0,
    dsigmoid_gates="ru",
):
    """The five gradients of one paper-form step, correct with the defaults, as a dict.

    direct: include dh * (1 - u) in dh_prev. reset_factor: the candidate path gives
    d(r * h_prev) * r (False: without r). gate_paths: include [da_r, da_u] [Wh_r, Wh_u]^T in
    dh_prev. direction: "candidate" (u weighs h_tilde) or "old" (PyTorch's direction used in the
    backward). dsigmoid: "ok" s(1 - s), "missing" 1, "tanh" 1 - s^2. dtanh: "ok" 1 - h_tilde^2,
    "missing" 1, "pre" 1 - a^2 with a the pre-activation, "unsquared" 1 - h_tilde; dsigmoid
    also "output" s alone, in the gates named by dsigmoid_gates ("ru", "r" or "u"; the other
    one right). du_sign: -1 flips the sign of du only. dWh_candidate: "reset_state"
    (r * h_prev)^T da_h or "h_prev" h_prev^T da_h. db: "sum" or "mean" over the batch.
    """
    H = h_prev.shape[1]
    Wx_r, Wx_u, Wx_h = blocks(Wx, H)
    Wh_r, Wh_u, Wh_h = blocks(Wh, H)
    b_r, b_u, b_h = blocks(b, H)
    r = sigmoid(x @ Wx_r + h_prev @ Wh_r + b_r)
    u = sigmoid(x @ Wx_u + h_prev @ Wh_u + b_u)
    s = r * h_prev
    a_h = x @ Wx_h + s @ Wh_h + b_h
    h_tilde = np.tanh(a_h)

    if direction == "candidate":
        d_direct, du, dh_tilde = dh * (1 - u), dh * (h_tilde - h_prev), dh * u
    else:
        d_direct, du, dh_tilde = dh * u, dh * (h_prev - h_tilde), dh * (1 - u)
    dh_prev = d_direct if direct else np.zeros_like(dh)
    du = du_sign * du
    tanh_factor = {
        "ok": 1 - h_tilde**2,
        "missing": 1.0,
        "pre": 1 - a_h**2,
        "unsquared": 1 - h_tilde,
    }[dtanh]
    da_h = dh_tilde * tanh_factor
    ds = da_h @ Wh_h.T
    dr = ds * h_prev
    dh_prev = dh_prev + (ds * r if reset_factor else ds)

    def dsig(g, name):
        kind = dsigmoid if name in dsigmoid_gates else "ok"
        return {"ok": g * (1 - g), "missing": 1.0, "tanh": 1 - g**2, "output": g}[kind]

    da_r, da_u = dr * dsig(r, "r"), du * dsig(u, "u")
    if gate_paths:
        dh_prev = dh_prev + da_r @ Wh_r.T + da_u @ Wh_u.T
    da = np.concatenate([da_r, da_u, da_h], axis=1)
    cand_in = s if dWh_candidate == "reset_state" else h_prev
    return {
        "dx": da @ Wx.T,
        "dh_prev": dh_prev,
        "dWx": x.T @ da,
        "dWh": np.concatenate([h_prev.T @ da_r, h_prev.T @ da_u, cand_in.T @ da_h], axis=1),
        "db": da.sum(axis=0) if db == "sum" else da.mean(axis=0),
    }


def paper_bptt(x, h0, Wx, Wh, b, dh, carry=True, only_last=False, **step_variant):
    """BPTT of the paper form on the correct states, keeping each step's weight gradients apart.

    Returns (dx, dh0, [dWx_t], [dWh_t], [db_t]) with index t-1 for step t. Without ``carry``
    nothing flows from step t+1 to step t; with ``only_last`` only dh[:, T-1] comes from above;
    ``step_variant`` is passed to :func:`paper_step_backward` (a mistake inside every step).
    """
    hs = paper_sequence(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = [None] * T, [None] * T, [None] * T
    d_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else hs[:, t - 1]
        up = dh[:, t] if (t == T - 1 or not only_last) else np.zeros_like(h0)
        g = paper_step_backward(
            up + (d_next if carry else 0.0), x[:, t], h_prev, Wx, Wh, b, **step_variant
        )
        dx[:, t] = g["dx"]
        d_next = g["dh_prev"]
        dWx[t], dWh[t], db[t] = g["dWx"], g["dWh"], g["db"]
    return dx, d_next, dWx, dWh, db


# --------------------------------------------------------------------------------------------
# declarations
# --------------------------------------------------------------------------------------------

STEP_ARGS = [
    Arg("x", "N, D"),
    Arg("h_prev", "N, H", state=True),
    Arg("Wx", "D, 3H"),
    Arg("Wh", "H, 3H"),
    Arg("b", "3H"),
]
STATE_SHAPE = "h is the new hidden state: one row per example, H columns, (N, H)."

PAPER_STEP = Function(
    "gru_paper_step_forward",
    STEP_ARGS,
    returns=("h", "cache"),
    reference=gru_paper_step_forward,
    title="paper step forward",
    hints=(
        "Check the four equations: r and u are sigmoids of their blocks, "
        "h_tilde = tanh(x @ Wx_h + (r * h_prev) @ Wh_h + b_h), h = (1 - u) * h_prev + u * h_tilde."
    ),
    shape_hints=STATE_SHAPE,
    mistakes=[Mistakes(paper_step_mistakes)],
)

IN_STEP = "Your sequence inherits a mistake of the step: {} Fix gru_paper_step_forward first."
STEP_IN_LOOP = [
    (PAPER_WRONG_TERM, {"weighs": "old"}),
    (PAPER_RESET_AFTER, {"reset": "after"}),
    (PAPER_NO_RESET, {"reset": "none"}),
    (PAPER_NO_BIAS, {"bias": "none"}),
    (PAPER_NO_CANDIDATE_BIAS, {"bias": "no_candidate"}),
    (PAPER_NO_KEEP, {"weighs": "no_keep"}),
]

PAPER_SEQUENCE = Function(
    "gru_paper_forward",
    [
        Arg("x", "N, T, D"),
        Arg("h0", "N, H", state=True),
        Arg("Wx", "D, 3H", scale=0.7),
        Arg("Wh", "H, 3H", scale=0.7),
        Arg("b", "3H"),
    ],  # fmt: skip
    returns=("h", "cache"),
    reference=gru_paper_forward,
    title="paper sequence forward",
    hints="Check that step t starts from the h of step t-1 (step 1 from h0), with the same "
    "weights.",
    shape_hints="h holds every hidden state h_1..h_T of every example: (N, T, H), batch first.",
    mistakes=[
        *sequence_mistakes(
            "gru_paper_forward", gru_paper_forward, gru_paper_step_forward, ["h0"], ["h"]
        ),
        *(
            Mistake(IN_STEP.format(msg), lambda *a, v=variant: paper_sequence(*a, **v))
            for msg, variant in STEP_IN_LOOP
        ),
    ],
)

PYTORCH_STEP = Function(
    "gru_pytorch_step_forward",
    [*STEP_ARGS[:4], Arg("bx", "3H"), Arg("bh", "3H")],
    returns=("h", "cache"),
    reference=gru_pytorch_step_forward,
    title="PyTorch-form step forward",
    hints=(
        "Check: r and z are sigmoids of x @ Wx + bx + h_prev @ Wh + bh (their blocks), "
        "n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n + bh_n)), h = (1 - z) * n + z * h_prev."
    ),
    shape_hints=STATE_SHAPE,
    mistakes=[Mistakes(pytorch_step_mistakes)],
)
