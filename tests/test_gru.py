"""solutions.gru: the PyTorch form against torch.nn.GRU / GRUCell (copied weights, float64), the
paper form against a torch transcription of its equations, both against centred differences and
hand-computed cases, and the two forms against each other (pitfalls 1 and 2 of the course)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions import gru, rnn
from solutions._checks import ShapeError
from solutions.convert import numpy_params_from_torch, numpy_params_to_torch
from tests.util import SHAPES, check_backward, randn

torch.set_default_dtype(torch.float64)

FORMS = {
    "paper": (gru.gru_paper_step_forward, gru.gru_paper_step_backward, ["b"]),
    "pytorch": (gru.gru_pytorch_step_forward, gru.gru_pytorch_step_backward, ["bx", "bh"]),
}
SEQ_FORMS = {
    "paper": (gru.gru_paper_forward, gru.gru_paper_backward),
    "pytorch": (gru.gru_pytorch_forward, gru.gru_pytorch_backward),
}


def _torch_gru(D, H, seed, cell=False):
    torch.manual_seed(seed)
    m = (torch.nn.GRUCell if cell else torch.nn.GRU)(D, H).double()
    return m, numpy_params_from_torch(m, fuse_bias=False)


def _sig(a):
    """The logistic function written out, independently of solutions._common.sigmoid."""
    return 1.0 / (1.0 + np.exp(-a))


def _torch_paper_gru(x, h0, Wx, Wh, b):
    """The paper-form equations transcribed in torch, x (N, T, D); autograd gives the gradients.

    r = sig(x Wx_r + h Wh_r + b_r), u = sig(x Wx_u + h Wh_u + b_u),
    h_tilde = tanh(x Wx_h + (r * h) Wh_h + b_h), h_new = (1 - u) * h + u * h_tilde.
    """
    H = h0.shape[1]
    r_, u_, h_ = slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H)
    h, hs = h0, []
    for t in range(x.shape[1]):
        xt = x[:, t]
        r = torch.sigmoid(xt @ Wx[:, r_] + h @ Wh[:, r_] + b[r_])
        u = torch.sigmoid(xt @ Wx[:, u_] + h @ Wh[:, u_] + b[u_])
        h_tilde = torch.tanh(xt @ Wx[:, h_] + (r * h) @ Wh[:, h_] + b[h_])
        h = (1 - u) * h + u * h_tilde
        hs.append(h)
    return torch.stack(hs, dim=1)


def _seed(N, T, D, H):
    return N * 1000 + T * 100 + D * 10 + H


# ---------------------------------------------------------------- PyTorch form against torch


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("zero_h0", [False, True])
def test_pytorch_form_sequence_matches_nn_gru(N, T, D, H, zero_h0):
    """gru_pytorch_forward / backward equal torch.nn.GRU's outputs and autograd gradients."""
    rng = np.random.default_rng(_seed(N, T, D, H))
    m, (Wx, Wh, bx, bh) = _torch_gru(D, H, seed=T)
    x = randn(rng, N, T, D)
    h0 = np.zeros((N, H)) if zero_h0 else randn(rng, N, H)

    h, cache = gru.gru_pytorch_forward(x, h0, Wx, Wh, bx, bh)

    xt = torch.tensor(x.transpose(1, 0, 2), requires_grad=True)  # (T, N, D): PyTorch's default
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, hn = m(xt, h0t)
    np.testing.assert_allclose(h, out.detach().numpy().transpose(1, 0, 2), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h[:, -1], hn[0].detach().numpy(), rtol=0, atol=1e-10)

    dh = randn(rng, N, T, H)
    dx, dh0, dWx, dWh, dbx, dbh = gru.gru_pytorch_backward(dh, cache)
    out.backward(torch.tensor(dh.transpose(1, 0, 2)))
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(1, 0, 2), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dh0, h0t.grad[0].numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dWx, m.weight_ih_l0.grad.numpy().T, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dWh, m.weight_hh_l0.grad.numpy().T, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dbx, m.bias_ih_l0.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dbh, m.bias_hh_l0.grad.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("zero_h0", [False, True])
def test_pytorch_form_step_matches_grucell(N, T, D, H, zero_h0):
    """gru_pytorch_step_forward / backward equal torch.nn.GRUCell, values and gradients."""
    rng = np.random.default_rng(_seed(N, T, D, H) + 1)
    m, (Wx, Wh, bx, bh) = _torch_gru(D, H, seed=2, cell=True)
    x = randn(rng, N, D)
    h_prev = np.zeros((N, H)) if zero_h0 else randn(rng, N, H)

    h, cache = gru.gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh)
    xt, ht = torch.tensor(x, requires_grad=True), torch.tensor(h_prev, requires_grad=True)
    ref = m(xt, ht)
    np.testing.assert_allclose(h, ref.detach().numpy(), rtol=0, atol=1e-10)

    dh = randn(rng, N, H)
    dx, dh_prev, dWx, dWh, dbx, dbh = gru.gru_pytorch_step_backward(dh, cache)
    ref.backward(torch.tensor(dh))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dh_prev, ht.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dWx, m.weight_ih.grad.numpy().T, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dWh, m.weight_hh.grad.numpy().T, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dbx, m.bias_ih.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dbh, m.bias_hh.grad.numpy(), rtol=0, atol=1e-10)


# ---------------------------------------------- paper form against a torch transcription


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("zero_h0", [False, True])
def test_paper_form_matches_torch_transcription(N, T, D, H, zero_h0):
    """gru_paper_forward / backward equal the paper equations written in torch, with autograd."""
    rng = np.random.default_rng(_seed(N, T, D, H) + 2)
    x = randn(rng, N, T, D)
    h0 = np.zeros((N, H)) if zero_h0 else randn(rng, N, H)
    Wx, Wh, b = randn(rng, D, 3 * H, scale=0.5), randn(rng, H, 3 * H, scale=0.5), randn(rng, 3 * H)

    h, cache = gru.gru_paper_forward(x, h0, Wx, Wh, b)

    tensors = [torch.tensor(a, requires_grad=True) for a in (x, h0, Wx, Wh, b)]
    out = _torch_paper_gru(*tensors)
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=0, atol=1e-10)

    dh = randn(rng, N, T, H)
    grads = gru.gru_paper_backward(dh, cache)
    out.backward(torch.tensor(dh))
    for name, g, t in zip(["dx", "dh0", "dWx", "dWh", "db"], grads, tensors, strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=0, atol=1e-10, err_msg=name)


# ------------------------------------------------------------------ centred differences


def _step_args(rng, form, N, D, H):
    biases = [randn(rng, 3 * H) for _ in FORMS[form][2]]
    return [randn(rng, N, D), randn(rng, N, H), randn(rng, D, 3 * H), randn(rng, H, 3 * H), *biases]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_step_backward_centred_differences(form, N, T, D, H):
    """Every gradient of one step, both forms, equals centred differences."""
    rng = np.random.default_rng(5)
    forward, backward, bias_names = FORMS[form]
    names = ["x", "h_prev", "Wx", "Wh", *bias_names]
    check_backward(forward, backward, _step_args(rng, form, N, D, H), names, rng)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_sequence_backward_centred_differences(form, N, T, D, H):
    """Every gradient of a whole sequence, both forms, equals centred differences."""
    rng = np.random.default_rng(6)
    forward, backward = SEQ_FORMS[form]
    bias_names = FORMS[form][2]
    args = [
        randn(rng, N, T, D),
        randn(rng, N, H),
        randn(rng, D, 3 * H, scale=0.5),
        randn(rng, H, 3 * H, scale=0.5),
        *[randn(rng, 3 * H) for _ in bias_names],
    ]
    check_backward(forward, backward, args, ["x", "h0", "Wx", "Wh", *bias_names], rng)


# ------------------------------------------------------------------ hand-computed cases

# D = H = 1, x = 1, h_prev = 0.5, ln 3 = log(3), so that sigmoid(ln 3) = 1 / (1 + 1/3) = 3/4 and
# sigmoid(-ln 3) = 1/4. Blocks (r, u or z, candidate):
#   Wx = [ln 3, 0, 0.2]    Wh = [0, -2 ln 3, 0.8]    bx = [0, 0, 0]    bh = [0, 0, 0.4]
LN3 = np.log(3.0)
TINY = {
    "x": np.array([[1.0]]),
    "h_prev": np.array([[0.5]]),
    "Wx": np.array([[LN3, 0.0, 0.2]]),
    "Wh": np.array([[0.0, -2.0 * LN3, 0.8]]),
    "bx": np.zeros(3),
    "bh": np.array([0.0, 0.0, 0.4]),
}


def test_tiny_hand_computed_case_paper_form():
    """Paper form by hand: r = 3/4, u = 1/4, h_tilde = tanh(0.9), h = 0.375 + tanh(0.9) / 4."""
    # r       = sigmoid(1 * ln3 + 0.5 * 0 + 0)          = sigmoid(ln 3)  = 0.75
    # u       = sigmoid(1 * 0 + 0.5 * (-2 ln3) + 0)     = sigmoid(-ln 3) = 0.25
    # h_tilde = tanh(1 * 0.2 + (0.75 * 0.5) * 0.8 + 0.4) = tanh(0.2 + 0.3 + 0.4) = tanh(0.9)
    # h       = (1 - 0.25) * 0.5 + 0.25 * tanh(0.9)     = 0.375 + 0.25 * tanh(0.9)
    t = TINY
    b = t["bx"] + t["bh"]
    h, cache = gru.gru_paper_step_forward(t["x"], t["h_prev"], t["Wx"], t["Wh"], b)
    np.testing.assert_allclose(cache["r"], [[0.75]], rtol=1e-14)
    np.testing.assert_allclose(cache["u"], [[0.25]], rtol=1e-14)
    np.testing.assert_allclose(cache["h_tilde"], [[np.tanh(0.9)]], rtol=1e-14)
    np.testing.assert_allclose(h, [[0.375 + 0.25 * np.tanh(0.9)]], rtol=1e-14)

    # One gradient by hand, dh = 1: the direct path gives dh_prev = 1 - u = 0.75, plus the
    # path through h_tilde, u * (1 - tanh(0.9)^2) * Wh_h * r = 0.25 * (1 - tanh(0.9)^2) * 0.6,
    # plus the path through u, (h_tilde - h_prev) * u (1 - u) * Wh_u
    #                         = (tanh(0.9) - 0.5) * 0.1875 * (-2 ln 3),
    # plus the path through r, which is zero because Wh_r = 0.
    _, dh_prev, _, _, _ = gru.gru_paper_step_backward(np.ones((1, 1)), cache)
    expected = (
        0.75 + 0.25 * (1 - np.tanh(0.9) ** 2) * 0.6 + (np.tanh(0.9) - 0.5) * 0.1875 * (-2.0 * LN3)
    )
    np.testing.assert_allclose(dh_prev, [[expected]], rtol=1e-13)


def test_tiny_hand_computed_case_pytorch_form():
    """PyTorch form by hand, same weights: r = 3/4, z = 1/4, n = tanh(0.8); also nn.GRUCell."""
    # r = sigmoid(1 * ln3 + 0 + 0.5 * 0 + 0)             = 0.75
    # z = sigmoid(1 * 0 + 0 + 0.5 * (-2 ln3) + 0)         = 0.25
    # n = tanh(1 * 0.2 + 0 + 0.75 * (0.5 * 0.8 + 0.4))    = tanh(0.2 + 0.6) = tanh(0.8)
    # h = (1 - 0.25) * tanh(0.8) + 0.25 * 0.5             = 0.75 * tanh(0.8) + 0.125
    # (the paper form gave 0.375 + 0.25 * tanh(0.9) on the same weights)
    t = TINY
    args = (t["x"], t["h_prev"], t["Wx"], t["Wh"], t["bx"], t["bh"])
    h, cache = gru.gru_pytorch_step_forward(*args)
    expected = 0.75 * np.tanh(0.8) + 0.125
    np.testing.assert_allclose(cache["r"], [[0.75]], rtol=1e-14)
    np.testing.assert_allclose(cache["z"], [[0.25]], rtol=1e-14)
    np.testing.assert_allclose(cache["n"], [[np.tanh(0.8)]], rtol=1e-14)
    np.testing.assert_allclose(h, [[expected]], rtol=1e-14)

    m = torch.nn.GRUCell(1, 1).double()
    numpy_params_to_torch(m, t["Wx"], t["Wh"], t["bx"], t["bh"])
    ref = m(torch.tensor(t["x"]), torch.tensor(t["h_prev"])).detach().numpy()
    np.testing.assert_allclose(ref, [[expected]], rtol=1e-14)


# ------------------------------------------------------- the two forms (pitfalls 1 and 2)


def test_paper_form_cannot_match_nn_gru():
    """Same weights: the forms differ; negating the update block fixes pitfall 1 (direction),
    but pitfall 2 (reset placement) remains until the reset gate is forced to r = 1."""
    N, D, H = 5, 3, 4
    rng = np.random.default_rng(11)
    m, (Wx, Wh, bx, bh) = _torch_gru(D, H, seed=3, cell=True)
    x, h_prev = randn(rng, N, D), randn(rng, N, H)
    ref = m(torch.tensor(x), torch.tensor(h_prev)).detach().numpy()
    h_pt, cache = gru.gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh)
    np.testing.assert_allclose(h_pt, ref, rtol=0, atol=1e-10)
    assert np.all(cache["r"] < 0.99), "the reset gate must be active for this test"

    def paper(Wx, Wh, b):
        return gru.gru_paper_step_forward(x, h_prev, Wx, Wh, b)[0]

    u_block = slice(H, 2 * H)
    flip = np.ones(3 * H)
    flip[u_block] = -1.0  # sigmoid(-a) = 1 - sigmoid(a): the paper's u becomes PyTorch's 1 - z

    # Fused bias, as-is: both pitfalls.
    assert np.abs(paper(Wx, Wh, bx + bh) - ref).max() > 1e-2
    # Update block negated: the direction agrees, the reset placement still does not.
    assert np.abs(paper(Wx * flip, Wh * flip, (bx + bh) * flip) - ref).max() > 1e-3
    # Also at h_prev = 0 the reset still scales bh_n in PyTorch and not in the paper form.
    zero = np.zeros((N, H))
    ref0 = m(torch.tensor(x), torch.tensor(zero)).detach().numpy()
    h0_paper = gru.gru_paper_step_forward(x, zero, Wx * flip, Wh * flip, (bx + bh) * flip)[0]
    assert np.abs(h0_paper - ref0).max() > 1e-3

    # Force r = 1 (reset bias +50): both candidates become tanh(x Wx_n + h Wh_n + bx_n + bh_n),
    # so the flipped paper form equals nn.GRUCell; without the flip it still does not (pitfall 1).
    bx_open = bx.copy()
    bx_open[:H] = 50.0
    numpy_params_to_torch(m, Wx, Wh, bx_open, bh)
    ref_open = m(torch.tensor(x), torch.tensor(h_prev)).detach().numpy()
    b_open = bx_open + bh
    np.testing.assert_allclose(paper(Wx * flip, Wh * flip, b_open * flip), ref_open, atol=1e-12)
    assert np.abs(paper(Wx, Wh, b_open) - ref_open).max() > 1e-2


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_update_gate_saturated_edges(sign):
    """Update bias -50 (u = z = 0): the paper form copies h_prev, the PyTorch form returns n.
    Update bias +50 (u = z = 1): the paper form returns h_tilde, the PyTorch form copies h_prev.
    Expected values come from the equations written out here with numpy."""
    N, D, H = 3, 2, 4
    rng = np.random.default_rng(12)
    x, h_prev = randn(rng, N, D), randn(rng, N, H)
    Wx, Wh = randn(rng, D, 3 * H, scale=0.5), randn(rng, H, 3 * H, scale=0.5)
    bx, bh = randn(rng, 3 * H), randn(rng, 3 * H)
    bx[H : 2 * H] = sign * 50.0
    b = bx + bh
    r_, h_ = slice(0, H), slice(2 * H, 3 * H)

    h_paper, cp = gru.gru_paper_step_forward(x, h_prev, Wx, Wh, b)
    h_pt, cz = gru.gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh)
    np.testing.assert_allclose(cp["u"], 0.0 if sign < 0 else 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(cz["z"], 0.0 if sign < 0 else 1.0, rtol=0, atol=1e-15)

    r_paper = _sig(x @ Wx[:, r_] + h_prev @ Wh[:, r_] + b[r_])
    h_tilde = np.tanh(x @ Wx[:, h_] + (r_paper * h_prev) @ Wh[:, h_] + b[h_])
    r_pt = _sig(x @ Wx[:, r_] + bx[r_] + h_prev @ Wh[:, r_] + bh[r_])
    n = np.tanh(x @ Wx[:, h_] + bx[h_] + r_pt * (h_prev @ Wh[:, h_] + bh[h_]))

    if sign < 0:
        np.testing.assert_allclose(h_paper, h_prev, rtol=0, atol=1e-12)
        np.testing.assert_allclose(h_pt, n, rtol=0, atol=1e-12)
    else:
        np.testing.assert_allclose(h_paper, h_tilde, rtol=0, atol=1e-12)
        np.testing.assert_allclose(h_pt, h_prev, rtol=0, atol=1e-12)
    assert np.abs(h_tilde - h_prev).min() > 1e-3 and np.abs(n - h_prev).min() > 1e-3


def test_saturated_update_gate_keeps_the_state_for_any_length():
    """u = 0 (paper) and z = 1 (PyTorch) copy h0 through all T steps, whatever the inputs."""
    N, T, D, H = 2, 30, 3, 4
    rng = np.random.default_rng(13)
    x, h0 = randn(rng, N, T, D, scale=3.0), randn(rng, N, H)
    Wx, Wh = randn(rng, D, 3 * H, scale=0.5), randn(rng, H, 3 * H, scale=0.5)
    b, bh = randn(rng, 3 * H), randn(rng, 3 * H)
    b_paper, bx_pt = b.copy(), b.copy()
    b_paper[H : 2 * H] = -50.0
    bx_pt[H : 2 * H] = 50.0
    h_paper, _ = gru.gru_paper_forward(x, h0, Wx, Wh, b_paper)
    h_pt, _ = gru.gru_pytorch_forward(x, h0, Wx, Wh, bx_pt, bh)
    np.testing.assert_allclose(h_paper, np.broadcast_to(h0[:, None], (N, T, H)), atol=1e-12)
    np.testing.assert_allclose(h_pt, np.broadcast_to(h0[:, None], (N, T, H)), atol=1e-12)


# ------------------------------------------------------------------ argument errors

# N = 2, D = 3, H = 4: x (2, 3), h_prev (2, 4), Wx (3, 12), Wh (4, 12), biases (12,).
OK = {"x": (2, 3), "h_prev": (2, 4), "Wx": (3, 12), "Wh": (4, 12), "b": (12,)}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "name,shape,match",
    [
        ("Wx", (3, 8), r"Wx has shape \(3, 8\), expected \(D, 3H\) = \(3, 12\)"),
        ("Wh", (4, 4), r"Wh has shape \(4, 4\), expected \(H, 3H\) = \(4, 12\)"),
        ("Wh", (3, 12), r"Wh has shape \(3, 12\), expected \(H, 3H\) = \(4, 12\)"),
        ("b", (4,), r"b[xh]? has shape \(4,\), expected \(3H\) = \(12,\)"),
        ("h_prev", (3, 4), r"h_prev has shape \(3, 4\), expected \(N, H\) = \(2, 4\)"),
        ("x", (3,), r"x is 1-d with shape \(3,\), expected 2-d \(N, D\)"),
    ],
)
def test_wrong_shapes_name_the_argument(form, name, shape, match):
    forward = FORMS[form][0]
    shapes = dict(OK, **{name: shape})
    arrays = [np.zeros(shapes[k]) for k in ("x", "h_prev", "Wx", "Wh")]
    biases = [np.zeros(shapes["b"] if k == "b" or k == "bx" else OK["b"]) for k in FORMS[form][2]]
    with pytest.raises(ShapeError, match=f"{forward.__name__}: {match}"):
        forward(*arrays, *biases)


def test_pytorch_form_names_the_second_bias():
    ok = [np.zeros(OK[k]) for k in ("x", "h_prev", "Wx", "Wh", "b")]
    with pytest.raises(
        ShapeError, match=r"bh has shape \(8,\), expected \(3H\) = \(12,\).*r, z, n"
    ):
        gru.gru_pytorch_step_forward(*ok, np.zeros(8))


def test_hint_names_the_gate_blocks_of_each_form():
    x, h = np.zeros((2, 3)), np.zeros((2, 4))
    with pytest.raises(ShapeError, match=r"blocks r, u, h_tilde"):
        gru.gru_paper_step_forward(x, h, np.zeros((3, 8)), np.zeros((4, 12)), np.zeros(12))
    with pytest.raises(ShapeError, match=r"weight_ih.T stacks the three blocks r, z, n"):
        gru.gru_pytorch_step_forward(
            x, h, np.zeros((3, 8)), np.zeros((4, 12)), np.zeros(12), np.zeros(12)
        )


@pytest.mark.parametrize("form", FORMS)
def test_wrong_dtype_and_type_are_explained(form):
    forward, _, bias_names = FORMS[form]
    seq_forward = SEQ_FORMS[form][0]
    ok = [np.zeros(OK[k]) for k in ("x", "h_prev", "Wx", "Wh")] + [np.zeros(12) for _ in bias_names]
    bad = list(ok)
    bad[2] = np.zeros((3, 12), dtype=np.int64)
    with pytest.raises(TypeError, match=r"Wx has dtype int64, expected a floating-point array"):
        forward(*bad)
    bad[2] = [[0.0] * 12] * 3
    with pytest.raises(TypeError, match=r"Wx is a list, expected a numpy array"):
        forward(*bad)
    with pytest.raises(ShapeError, match=r"x has shape \(2, 0, 3\) with an empty dimension"):
        seq_forward(np.zeros((2, 0, 3)), *ok[1:])
    with pytest.raises(ShapeError, match=r"x is 2-d with shape \(2, 3\), expected 3-d \(N, T, D\)"):
        seq_forward(*ok)


@pytest.mark.parametrize("form", FORMS)
def test_backward_checks_dh_against_the_cache(form):
    forward, backward, bias_names = FORMS[form]
    ok = [np.zeros(OK[k]) for k in ("x", "h_prev", "Wx", "Wh")] + [np.zeros(12) for _ in bias_names]
    _, cache = forward(*ok)
    with pytest.raises(ShapeError, match=r"dh has shape \(2, 5\), expected \(N, H\) = \(2, 4\)"):
        backward(np.zeros((2, 5)), cache)
    seq_forward, seq_backward = SEQ_FORMS[form]
    _, seq_cache = seq_forward(np.zeros((2, 3, 3)), *ok[1:])
    with pytest.raises(ShapeError, match=r"dh has shape \(2, 2, 4\), expected \(N, T, H\)"):
        seq_backward(np.zeros((2, 2, 4)), seq_cache)


def test_backward_rejects_a_foreign_cache():
    x, h = np.zeros((1, 1, 2)), np.zeros((1, 1))
    Wx, Wh, b = np.zeros((2, 3)), np.zeros((1, 3)), np.zeros(3)
    _, paper_cache = gru.gru_paper_forward(x, h, Wx, Wh, b)
    _, pt_cache = gru.gru_pytorch_forward(x, h, Wx, Wh, b, b)
    _, rnn_cache = rnn.rnn_forward(x, h, np.zeros((2, 1)), np.zeros((1, 1)), np.zeros(1))
    dh = np.zeros((1, 1, 1))

    with pytest.raises(TypeError, match="cache must be the dict returned by gru_paper_forward"):
        gru.gru_paper_backward(dh, cache=("not", "a", "cache"))
    with pytest.raises(TypeError, match="cache must be the dict returned by gru_paper_forward"):
        gru.gru_paper_backward(dh, pt_cache)
    with pytest.raises(TypeError, match="cache must be the dict returned by gru_pytorch_forward"):
        gru.gru_pytorch_backward(dh, paper_cache)
    with pytest.raises(TypeError, match="cache must be the dict returned by gru_pytorch_forward"):
        gru.gru_pytorch_backward(dh, rnn_cache)
    with pytest.raises(TypeError, match="returned by gru_paper_step_forward"):
        gru.gru_paper_step_backward(dh[:, 0], pt_cache["steps"][0])
    with pytest.raises(TypeError, match="returned by gru_pytorch_step_forward"):
        gru.gru_pytorch_step_backward(dh[:, 0], paper_cache)


# ------------------------------------------------------------------ unpack_gru_weights


@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("cell", [True, False], ids=["GRUCell", "GRU"])
def test_unpack_gru_weights_loads_torch_modules(N, T, D, H, cell):
    """unpack_gru_weights on a module's arrays equals convert's numpy_params_from_torch, and the
    PyTorch-form step with these weights reproduces the module."""
    m, expected = _torch_gru(D, H, seed=_seed(N, T, D, H), cell=cell)
    suffix = "" if cell else "_l0"
    arrays = [
        getattr(m, name + suffix).detach().numpy().copy()
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    got = gru.unpack_gru_weights(*arrays)
    for name, g, e in zip(["Wx", "Wh", "bx", "bh"], got, expected, strict=True):
        np.testing.assert_array_equal(g, e, err_msg=name)

    rng = np.random.default_rng(_seed(N, T, D, H) + 3)
    x, h_prev = randn(rng, N, D), randn(rng, N, H)
    h, _ = gru.gru_pytorch_step_forward(x, h_prev, *got)
    with torch.no_grad():
        if cell:
            ref = m(torch.tensor(x), torch.tensor(h_prev)).numpy()
        else:
            ref = m(torch.tensor(x[None]), torch.tensor(h_prev[None]))[0][0].numpy()
    np.testing.assert_allclose(h, ref, rtol=0, atol=1e-10)


def test_unpack_gru_weights_by_hand():
    """Row k*H + j of weight_ih (gate k, unit j) becomes column k*H + j of Wx; biases copied."""
    D, H = 2, 2
    # entry (row, col) of weight_ih is 10 * row + col, so every number says where it came from
    weight_ih = np.array([[10.0 * i + j for j in range(D)] for i in range(3 * H)])
    weight_hh = -weight_ih[:, [1, 0]]  # (3H, H) with H = D = 2
    bias_ih, bias_hh = np.arange(6.0), 100 + np.arange(6.0)
    Wx, Wh, bx, bh = gru.unpack_gru_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    # column 3 of Wx is gate z (block 1), unit 1: row 3 of weight_ih, that is (30, 31)
    np.testing.assert_array_equal(Wx[:, 3], [30.0, 31.0])
    np.testing.assert_array_equal(Wx, [[0, 10, 20, 30, 40, 50], [1, 11, 21, 31, 41, 51]])
    np.testing.assert_array_equal(Wh[:, 4], [-41.0, -40.0])
    np.testing.assert_array_equal(bx, bias_ih)
    np.testing.assert_array_equal(bh, bias_hh)


def test_unpack_gru_weights_returns_new_arrays():
    arrays = [np.ones((6, 3)), np.ones((6, 2)), np.ones(6), np.ones(6)]
    out = gru.unpack_gru_weights(*arrays)
    for a in out:
        a[...] = 7.0
    for a in arrays:
        np.testing.assert_array_equal(a, 1.0)
    for a, b in zip(out[:2], arrays[:2], strict=True):
        assert a.flags["C_CONTIGUOUS"] or a.flags["F_CONTIGUOUS"]
        assert not np.shares_memory(a, b)


@pytest.mark.parametrize(
    "shapes,match",
    [
        ([(12, 3), (9, 3), (12,), (12,)], r"weight_ih has shape \(12, 3\), expected \(3H, D\)"),
        ([(12, 3), (12, 4), (12,), (9,)], r"bias_hh has shape \(9,\), expected \(3H\) = \(12,\)"),
        ([(12, 3), (12, 4), (4,), (12,)], r"bias_ih has shape \(4,\).*blocks r, z, n"),
        ([(3, 12), (12, 4), (12,), (12,)], r"weight_ih has shape \(3, 12\)"),
    ],
)
def test_unpack_gru_weights_names_a_wrong_shape(shapes, match):
    with pytest.raises(ShapeError, match=f"unpack_gru_weights: {match}"):
        gru.unpack_gru_weights(*(np.zeros(s) for s in shapes))
