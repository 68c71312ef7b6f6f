"""solutions.modules: the from-scratch nn.Modules against torch.nn, numpy, gradcheck, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from autograder.inside.modules import FUSED_KERNELS
from solutions import modules as M
from solutions._checks import ShapeError
from solutions.convert import numpy_params_from_torch
from tests.util import SHAPES

torch.set_default_dtype(torch.float64)

ATOL = 1e-10

# (ours, built-in twin, number of states) for the sequence modules and the cells.
SEQ_TWINS = [
    pytest.param(M.RNN, nn.RNN, 1, id="RNN"),
    pytest.param(M.GRU, nn.GRU, 1, id="GRU"),
    pytest.param(M.LSTM, nn.LSTM, 2, id="LSTM"),
]
CELL_TWINS = [
    pytest.param(M.RNNCell, nn.RNNCell, 1, id="RNNCell"),
    pytest.param(M.GRUCell, nn.GRUCell, 1, id="GRUCell"),
    pytest.param(M.LSTMCell, nn.LSTMCell, 2, id="LSTMCell"),
]
ALL_SEQ = [M.RNN, M.GRU, M.PaperGRU, M.LSTM, M.PeepholeLSTM, M.CIFG]
ALL_CELLS = [M.RNNCell, M.GRUCell, M.PaperGRUCell, M.LSTMCell, M.PeepholeLSTMCell, M.CIFGCell]


def _states(out, n_states):
    """The final states of a forward as a tuple: (h_n,) or (h_n, c_n)."""
    return (out,) if n_states == 1 else tuple(out)


def _run(module, x, hx, douts):
    """Forward, then backward of sum(output * dout) over every output; returns the outputs."""
    out, final = module(x, hx)
    outs = (out, *_states(final, len(douts) - 1))
    sum((o * d).sum() for o, d in zip(outs, douts, strict=True)).backward()
    return outs


def _leaves(out) -> list[torch.Tensor]:
    """The tensors of a module's output, flattened: h, or (h, c), or (output, h_n) ..."""
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for item in out for t in _leaves(item)]


def _assert_same_grads(a: nn.Module, b: nn.Module):
    grads_b = {n: p.grad for n, p in b.named_parameters()}
    for name, p in a.named_parameters():
        torch.testing.assert_close(p.grad, grads_b[name], rtol=0, atol=ATOL, msg=f"d{name}")


def _twin_pair(ours_cls, builtin_cls, D, H, direction, **kw):
    """A built-in module and ours with the same weights, copied one way or the other."""
    if direction == "builtin->ours":
        builtin = builtin_cls(D, H, **kw)
        ours = ours_cls(D, H, **kw)
        ours.load_state_dict(builtin.state_dict())
    else:
        ours = ours_cls(D, H, **kw)
        builtin = builtin_cls(D, H, **kw)
        builtin.load_state_dict(ours.state_dict())
    return ours, builtin


@pytest.mark.parametrize("ours_cls,builtin_cls,n_states", SEQ_TWINS)
@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_hx", [False, True])
def test_sequence_module_equals_builtin(
    ours_cls, builtin_cls, n_states, N, T, D, H, batch_first, with_hx
):
    """Outputs, final states, and gradients of input, states and every parameter equal torch.nn."""
    torch.manual_seed(N + 10 * T + 100 * D + 1000 * H)
    for direction in ("builtin->ours", "ours->builtin"):
        ours, builtin = _twin_pair(ours_cls, builtin_cls, D, H, direction, batch_first=batch_first)
        assert list(ours.state_dict()) == list(builtin.state_dict())
        x = torch.randn((N, T, D) if batch_first else (T, N, D))
        hx = tuple(torch.randn(1, N, H) for _ in range(n_states)) if with_hx else None
        douts = [torch.randn((N, T, H) if batch_first else (T, N, H))]
        douts += [torch.randn(1, N, H) for _ in range(n_states)]

        grads = []
        for module in (ours, builtin):
            xs = x.clone().requires_grad_()
            hs = None if hx is None else tuple(h.clone().requires_grad_() for h in hx)
            outs = _run(module, xs, None if hs is None else (hs[0] if n_states == 1 else hs), douts)
            grads.append((outs, xs.grad, None if hs is None else [h.grad for h in hs]))
        (o1, dx1, dh1), (o2, dx2, dh2) = grads
        for a, b, what in zip(o1, o2, ("output", "h_n", "c_n"), strict=False):
            assert a.shape == b.shape, what
            torch.testing.assert_close(a, b, rtol=0, atol=ATOL, msg=what)
        torch.testing.assert_close(dx1, dx2, rtol=0, atol=ATOL)
        if with_hx:
            for a, b in zip(dh1, dh2, strict=True):
                torch.testing.assert_close(a, b, rtol=0, atol=ATOL)
        _assert_same_grads(ours, builtin)


@pytest.mark.parametrize("ours_cls,builtin_cls,n_states", CELL_TWINS)
@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("with_hx", [False, True])
def test_cell_equals_builtin(ours_cls, builtin_cls, n_states, N, T, D, H, with_hx):
    """One step: next states and all gradients equal the built-in Cell, weights copied both ways."""
    torch.manual_seed(N + 10 * T + 100 * D + 1000 * H)
    for direction in ("builtin->ours", "ours->builtin"):
        ours, builtin = _twin_pair(ours_cls, builtin_cls, D, H, direction)
        assert list(ours.state_dict()) == list(builtin.state_dict())
        x = torch.randn(N, D)
        hx = tuple(torch.randn(N, H) for _ in range(n_states)) if with_hx else None
        douts = [torch.randn(N, H) for _ in range(n_states)]
        results = []
        for module in (ours, builtin):
            xs = x.clone().requires_grad_()
            hs = None if hx is None else tuple(h.clone().requires_grad_() for h in hx)
            out = _states(
                module(xs, None if hs is None else (hs[0] if n_states == 1 else hs)), n_states
            )
            sum((o * d).sum() for o, d in zip(out, douts, strict=True)).backward()
            results.append((out, xs.grad, None if hs is None else [h.grad for h in hs]))
        (o1, dx1, dh1), (o2, dx2, dh2) = results
        for a, b in zip(o1, o2, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=ATOL)
        torch.testing.assert_close(dx1, dx2, rtol=0, atol=ATOL)
        if with_hx:
            for a, b in zip(dh1, dh2, strict=True):
                torch.testing.assert_close(a, b, rtol=0, atol=ATOL)
        _assert_same_grads(ours, builtin)


@pytest.mark.parametrize("ours_cls,builtin_cls,n_states", SEQ_TWINS + CELL_TWINS)
def test_unbatched_input_equals_builtin(ours_cls, builtin_cls, n_states):
    """A 2-d sequence (T, D) / 1-d step (D,) gives what torch.nn gives, with the same shapes."""
    torch.manual_seed(0)
    ours, builtin = _twin_pair(ours_cls, builtin_cls, 3, 4, "builtin->ours")
    is_cell = ours_cls in (M.RNNCell, M.GRUCell, M.LSTMCell)
    x = torch.randn(3) if is_cell else torch.randn(5, 3)
    state_shape = (4,) if is_cell else (1, 4)
    hs = tuple(torch.randn(state_shape) for _ in range(n_states))
    hx = hs[0] if n_states == 1 else hs
    for args in ((x,), (x, hx)):
        a, b = ours(*args), builtin(*args)
        flat_a = _leaves(a)
        flat_b = _leaves(b)
        assert [t.shape for t in flat_a] == [t.shape for t in flat_b]
        for ta, tb in zip(flat_a, flat_b, strict=True):
            torch.testing.assert_close(ta, tb, rtol=0, atol=ATOL)


# --- modules without a built-in twin: gradcheck and the numpy reference ---------------------


def _gradcheck(module, x, hx):
    """torch.autograd.gradcheck with respect to the input, the states and every parameter."""
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in module.parameters()]
    n_states = len(hx)

    def f(x, *rest):
        states, ps = rest[:n_states], rest[n_states:]
        hx_arg = states[0] if n_states == 1 else tuple(states)
        out = torch.func.functional_call(module, dict(zip(names, ps, strict=True)), (x, hx_arg))
        return tuple(_leaves(out))

    inputs = (x.requires_grad_(), *(h.requires_grad_() for h in hx), *params)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize(
    "cls", [M.PaperGRU, M.PeepholeLSTM, M.CIFG, M.PaperGRUCell, M.PeepholeLSTMCell, M.CIFGCell]
)
@pytest.mark.parametrize("N,T,D,H", [(2, 3, 2, 3), (1, 1, 1, 1)])
def test_gradcheck(cls, N, T, D, H):
    """Autograd through the from-scratch arithmetic agrees with finite differences (float64)."""
    torch.manual_seed(1)
    module = cls(D, H)
    n_states = 1 if cls in (M.PaperGRU, M.PaperGRUCell) else 2
    cell = cls in (M.PaperGRUCell, M.PeepholeLSTMCell, M.CIFGCell)
    x = torch.randn(N, D) if cell else torch.randn(T, N, D)
    hx = tuple(torch.randn((N, H) if cell else (1, N, H)) for _ in range(n_states))
    _gradcheck(module, x, hx)


def _numpy_case(cls, N, T, D, H, seed):
    torch.manual_seed(seed)
    module = cls(D, H, batch_first=True)
    rng = np.random.default_rng(seed)
    x, h0, c0 = (
        rng.standard_normal((N, T, D)),
        rng.standard_normal((N, H)),
        rng.standard_normal((N, H)),
    )
    return module, x, h0, c0


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_paper_gru_equals_numpy(N, T, D, H):
    """PaperGRU = solutions.gru.gru_paper_forward with Wx = weight_ih.T, b = bias_ih + bias_hh."""
    gru = pytest.importorskip("solutions.gru")
    module, x, h0, _ = _numpy_case(M.PaperGRU, N, T, D, H, seed=N + T + D + H)
    Wx, Wh, b = numpy_params_from_torch(module)
    h_np, _ = gru.gru_paper_forward(x, h0, Wx, Wh, b)
    out, hn = module(torch.tensor(x), torch.tensor(h0[None]))
    np.testing.assert_allclose(out.detach().numpy(), h_np, rtol=0, atol=ATOL)
    np.testing.assert_allclose(hn[0].detach().numpy(), h_np[:, -1], rtol=0, atol=ATOL)
    cell = M.PaperGRUCell(D, H)
    cell.load_state_dict({k[: -len("_l0")]: v for k, v in module.state_dict().items()})
    h1, _ = gru.gru_paper_step_forward(x[:, 0], h0, Wx, Wh, b)
    np.testing.assert_allclose(
        cell(torch.tensor(x[:, 0]), torch.tensor(h0)).detach().numpy(), h1, atol=ATOL
    )


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_peephole_equals_numpy(N, T, D, H):
    """PeepholeLSTM = solutions.peephole.peephole_forward on copied weights and peepholes."""
    peephole = pytest.importorskip("solutions.peephole")
    module, x, h0, c0 = _numpy_case(M.PeepholeLSTM, N, T, D, H, seed=2 * N + T + D + H)
    Wx, Wh, b = numpy_params_from_torch(module)
    p = [getattr(module, f"peephole_{k}_l0").detach().numpy() for k in "ifo"]
    h_np, c_np, _ = peephole.peephole_forward(x, h0, c0, Wx, Wh, b, *p)
    out, (hn, cn) = module(torch.tensor(x), (torch.tensor(h0[None]), torch.tensor(c0[None])))
    np.testing.assert_allclose(out.detach().numpy(), h_np, rtol=0, atol=ATOL)
    np.testing.assert_allclose(hn[0].detach().numpy(), h_np[:, -1], rtol=0, atol=ATOL)
    np.testing.assert_allclose(cn[0].detach().numpy(), c_np[:, -1], rtol=0, atol=ATOL)
    cell = M.PeepholeLSTMCell(D, H)
    cell.load_state_dict({k[: -len("_l0")]: v for k, v in module.state_dict().items()})
    h1, c1, _ = peephole.peephole_step_forward(x[:, 0], h0, c0, Wx, Wh, b, *p)
    got = cell(torch.tensor(x[:, 0]), (torch.tensor(h0), torch.tensor(c0)))
    np.testing.assert_allclose(got[0].detach().numpy(), h1, rtol=0, atol=ATOL)
    np.testing.assert_allclose(got[1].detach().numpy(), c1, rtol=0, atol=ATOL)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_cifg_equals_numpy(N, T, D, H):
    """CIFG = solutions.cifg.cifg_forward on copied weights (blocks f, g, o)."""
    cifg = pytest.importorskip("solutions.cifg")
    module, x, h0, c0 = _numpy_case(M.CIFG, N, T, D, H, seed=3 * N + T + D + H)
    Wx, Wh, b = numpy_params_from_torch(module)
    h_np, c_np, _ = cifg.cifg_forward(x, h0, c0, Wx, Wh, b)
    out, (hn, cn) = module(torch.tensor(x), (torch.tensor(h0[None]), torch.tensor(c0[None])))
    np.testing.assert_allclose(out.detach().numpy(), h_np, rtol=0, atol=ATOL)
    np.testing.assert_allclose(hn[0].detach().numpy(), h_np[:, -1], rtol=0, atol=ATOL)
    np.testing.assert_allclose(cn[0].detach().numpy(), c_np[:, -1], rtol=0, atol=ATOL)
    cell = M.CIFGCell(D, H)
    cell.load_state_dict({k[: -len("_l0")]: v for k, v in module.state_dict().items()})
    h1, c1, _ = cifg.cifg_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    got = cell(torch.tensor(x[:, 0]), (torch.tensor(h0), torch.tensor(c0)))
    np.testing.assert_allclose(got[0].detach().numpy(), h1, rtol=0, atol=ATOL)
    np.testing.assert_allclose(got[1].detach().numpy(), c1, rtol=0, atol=ATOL)


def test_cell_and_sequence_agree():
    """Running a Cell step by step gives the sequence module's outputs (same weights)."""
    torch.manual_seed(2)
    for seq_cls, cell_cls in zip(ALL_SEQ, ALL_CELLS, strict=True):
        seq = seq_cls(3, 2)
        cell = cell_cls(3, 2)
        cell.load_state_dict({k[: -len("_l0")]: v for k, v in seq.state_dict().items()})
        x = torch.randn(4, 2, 3)
        out, _ = seq(x)
        state = None
        for t in range(4):
            state = cell(x[t], state)
            h = state if isinstance(state, torch.Tensor) else state[0]
            torch.testing.assert_close(h, out[t], rtol=0, atol=ATOL, msg=seq_cls.__name__)


# --- tiny cases by hand: the pitfalls -----------------------------------------------------


def _zero(module):
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
    return module


def test_tiny_gru_reset_placement_by_hand():
    """Zero weights, h0 = 0, bias_hh of block n = 2: PyTorch form scales it by r, the paper not.

    r = z = u = sigmoid(0) = 0.5. PyTorch: n = tanh(0.5 * 2) = tanh(1), h = (1 - 0.5) * n.
    Paper: h~ = tanh(W (r * 0) + 0 + 2) = tanh(2), h = (1 - 0.5) * 0 + 0.5 * h~.
    """
    for cls, expected in (
        (M.GRUCell, 0.5 * math.tanh(1.0)),
        (M.PaperGRUCell, 0.5 * math.tanh(2.0)),
    ):
        cell = _zero(cls(1, 1))
        with torch.no_grad():
            cell.bias_hh[2] = 2.0
        h = cell(torch.zeros(1, 1), torch.zeros(1, 1))
        assert h.item() == pytest.approx(expected, rel=1e-15), cls.__name__


def test_tiny_gru_interpolation_direction_by_hand():
    """Zero weights except the update-gate bias 10 (gate ~ 1), h0 = 1, candidate 0.

    PyTorch's z weighs the OLD state: h = 1 - sigmoid(10) * ... ~ 1; the paper's u weighs the
    candidate: h = (1 - u) * 1 + u * 0 = 1 - sigmoid(10) ~ 0.
    """
    s = 1 / (1 + math.exp(-10.0))
    for cls, expected in ((M.GRUCell, s), (M.PaperGRUCell, 1 - s)):
        cell = _zero(cls(1, 1))
        with torch.no_grad():
            cell.bias_ih[1] = 10.0
        h = cell(torch.zeros(1, 1), torch.ones(1, 1))
        assert h.item() == pytest.approx(expected, rel=1e-14), cls.__name__


def test_tiny_peephole_output_gate_sees_new_cell_by_hand():
    """Zero weights, p_o = 1, h0 = 0, c0 = 1: i = f = 0.5, g = 0, so c1 = 0.5; o = sigmoid(c1).

    h1 = sigmoid(0.5) * tanh(0.5) (with c0 in the output gate it would be sigmoid(1) * ...).
    """
    cell = _zero(M.PeepholeLSTMCell(1, 1))
    with torch.no_grad():
        cell.peephole_o.fill_(1.0)
    h, c = cell(torch.zeros(1, 1), (torch.zeros(1, 1), torch.ones(1, 1)))
    sig = 1 / (1 + math.exp(-0.5))
    assert c.item() == pytest.approx(0.5, rel=1e-15)
    assert h.item() == pytest.approx(sig * math.tanh(0.5), rel=1e-15)


def test_tiny_cifg_by_hand():
    """Zero weights, bias of block g = 1 (blocks f, g, o), c0 = 1: f = 0.5, i = 1 - f = 0.5.

    c1 = 0.5 * 1 + 0.5 * tanh(1), h1 = 0.5 * tanh(c1).
    """
    cell = _zero(M.CIFGCell(1, 1))
    with torch.no_grad():
        cell.bias_ih[1] = 1.0
    h, c = cell(torch.zeros(1, 1), (torch.zeros(1, 1), torch.ones(1, 1)))
    c1 = 0.5 + 0.5 * math.tanh(1.0)
    assert c.item() == pytest.approx(c1, rel=1e-15)
    assert h.item() == pytest.approx(0.5 * math.tanh(c1), rel=1e-15)


def test_tiny_lstm_conveyor_by_hand():
    """f ~ 1, i ~ 0 (biases +30, -30): the cell state c0 = 0.7 survives T = 50 steps unchanged."""
    lstm = _zero(M.LSTM(1, 1))
    with torch.no_grad():
        lstm.bias_ih_l0[:2] = torch.tensor([-30.0, 30.0])  # blocks i, f
    x = torch.randn(50, 1, 1)
    _, (_, cn) = lstm(x, (torch.zeros(1, 1, 1), torch.full((1, 1, 1), 0.7)))
    assert cn.item() == pytest.approx(0.7, rel=1e-9)


# --- forget bias -----------------------------------------------------------------------------

FORGET_CASES = [
    (lambda: nn.LSTM(3, 4), 1, ("_l0",)),
    (lambda: nn.LSTM(3, 4, num_layers=2), 1, ("_l0", "_l1")),
    (lambda: nn.LSTMCell(3, 4), 1, ("",)),
    (lambda: M.LSTM(3, 4), 1, ("_l0",)),
    (lambda: M.LSTMCell(3, 4), 1, ("",)),
    (lambda: M.PeepholeLSTM(3, 4), 1, ("_l0",)),
    (lambda: M.PeepholeLSTMCell(3, 4), 1, ("",)),
    (lambda: M.CIFG(3, 4), 0, ("_l0",)),  # blocks f, g, o: the forget block comes first
    (lambda: M.CIFGCell(3, 4), 0, ("",)),
]


@pytest.mark.parametrize("make,block,suffixes", FORGET_CASES)
@pytest.mark.parametrize("value", [1.0, 0.0, -2.5])
def test_init_forget_bias(make, block, suffixes, value):
    """bias_ih + bias_hh of the forget block == value, bias_ih holds it, bias_hh is 0, rest kept."""
    torch.manual_seed(3)
    module = make()
    before = {n: p.detach().clone() for n, p in module.named_parameters()}
    assert M.init_forget_bias(module, value) is module
    H, params = 4, dict(module.named_parameters())
    forget = slice(block * H, (block + 1) * H)
    for s in suffixes:
        b_ih, b_hh = params["bias_ih" + s].detach(), params["bias_hh" + s].detach()
        assert torch.equal(b_ih[forget] + b_hh[forget], torch.full((H,), value))
        assert torch.equal(b_ih[forget], torch.full((H,), value))
        assert torch.equal(b_hh[forget], torch.zeros(H))
        keep = torch.ones(b_ih.shape[0], dtype=torch.bool)
        keep[forget] = False
        assert torch.equal(b_ih[keep], before["bias_ih" + s][keep])
        assert torch.equal(b_hh[keep], before["bias_hh" + s][keep])
    for n, p in params.items():
        if not n.startswith("bias"):
            assert torch.equal(p.detach(), before[n]), n


def test_init_forget_bias_changes_the_forget_gate_only():
    """After init_forget_bias(value=20) with zero weights, f ~ 1 and i, o stay at 0.5."""
    lstm = _zero(M.LSTMCell(2, 3))
    M.init_forget_bias(lstm, 20.0)
    captured = {}

    def hook(_, args, out):
        captured["c"] = out[1]

    lstm.register_forward_hook(hook)
    h, c = lstm(torch.zeros(1, 2), (torch.zeros(1, 3), torch.ones(1, 3)))
    # c = f * 1 + i * tanh(0) = f; h = o * tanh(c) = 0.5 * tanh(f)
    f = 1 / (1 + math.exp(-20.0))
    torch.testing.assert_close(c, torch.full((1, 3), f), rtol=1e-15, atol=0)
    torch.testing.assert_close(h, torch.full((1, 3), 0.5 * math.tanh(f)), rtol=1e-15, atol=0)


@pytest.mark.parametrize("module", [nn.GRU(2, 3), M.GRU(2, 3), M.RNNCell(2, 3), M.PaperGRU(2, 3)])
def test_init_forget_bias_rejects_cells_without_forget_gate(module):
    with pytest.raises(ValueError, match="has no forget gate"):
        M.init_forget_bias(module)


def test_init_forget_bias_rejects_other_modules():
    with pytest.raises(TypeError, match="Linear is not a recurrent module"):
        M.init_forget_bias(nn.Linear(2, 3))
    with pytest.raises(ValueError, match="has no bias"):
        M.init_forget_bias(nn.LSTM(2, 3, bias=False))


# --- converters, parameters, initialisation ---------------------------------------------------


@pytest.mark.parametrize("ours_cls,builtin_cls,n_states", SEQ_TWINS + CELL_TWINS)
def test_from_builtin_and_to_builtin(ours_cls, builtin_cls, n_states):
    """Converters give the right class, copy (not share) the weights, keep batch_first."""
    is_seq = ours_cls in (M.RNN, M.GRU, M.LSTM)
    kw = {"batch_first": True} if is_seq else {}
    builtin = builtin_cls(3, 5, **kw)
    ours = M.from_builtin(builtin)
    assert type(ours) is ours_cls
    if is_seq:
        assert ours.batch_first
    for (n1, p1), (n2, p2) in zip(ours.named_parameters(), builtin.named_parameters(), strict=True):
        assert n1 == n2 and torch.equal(p1, p2) and p1.data_ptr() != p2.data_ptr()
    back = M.to_builtin(ours)
    assert type(back) is builtin_cls
    assert back.state_dict().keys() == builtin.state_dict().keys()
    for k, v in back.state_dict().items():
        assert torch.equal(v, builtin.state_dict()[k])
    if is_seq:
        assert back.batch_first
    x = torch.randn(2, 4, 3) if is_seq else torch.randn(2, 3)
    for a, b in zip(
        _leaves(ours(x)),
        _leaves(back(x)),
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


def test_converters_keep_dtype():
    ours = M.from_builtin(nn.LSTM(2, 3, dtype=torch.float32))
    assert ours.weight_ih_l0.dtype == torch.float32
    assert M.to_builtin(M.GRUCell(2, 3, dtype=torch.float32)).weight_ih.dtype == torch.float32


@pytest.mark.parametrize(
    "builtin,match",
    [
        (nn.RNN(2, 3, nonlinearity="relu"), "nonlinearity='relu'"),
        (nn.LSTM(2, 3, num_layers=2), "num_layers=2"),
        (nn.GRU(2, 3, bidirectional=True), "bidirectional=True"),
        (nn.LSTM(2, 3, proj_size=2), "proj_size=2"),
        (nn.LSTM(2, 3, bias=False), "bias=False"),
    ],
)
def test_from_builtin_rejects_what_is_not_implemented(builtin, match):
    with pytest.raises(ValueError, match=match):
        M.from_builtin(builtin)


def test_converters_reject_modules_without_twin():
    with pytest.raises(TypeError, match="nn.Linear|Linear is not one of"):
        M.from_builtin(nn.Linear(2, 3))
    for cls in (M.PaperGRU, M.PeepholeLSTM, M.CIFG, M.CIFGCell):
        with pytest.raises(TypeError, match=f"{cls.__name__} has no built-in twin"):
            M.to_builtin(cls(2, 3))


@pytest.mark.parametrize("cls", ALL_SEQ + ALL_CELLS)
def test_parameter_names_shapes_and_initialisation(cls):
    """PyTorch's names (suffix _l0 on sequence modules) and shapes; U(-1/sqrt(H), 1/sqrt(H))."""
    D, H = 5, 16
    torch.manual_seed(4)
    module = cls(D, H)
    suffix = "_l0" if cls in ALL_SEQ else ""
    G = {"RNN": 1, "GRU": 3, "Pap": 3, "LST": 4, "Pee": 4, "CIF": 3}[cls.__name__[:3]]
    expected = {
        "weight_ih": (G * H, D),
        "weight_hh": (G * H, H),
        "bias_ih": (G * H,),
        "bias_hh": (G * H,),
    }
    if cls.__name__.startswith("Peephole"):
        expected.update({f"peephole_{k}": (H,) for k in "ifo"})
    got = {n: tuple(p.shape) for n, p in module.named_parameters()}
    assert got == {n + suffix: s for n, s in expected.items()}
    bound = 1 / math.sqrt(H)
    for name, p in module.named_parameters():
        assert p.abs().max() <= bound, name
        assert p.std() > bound / 4, f"{name} looks constant"  # U(-k, k) has std k / sqrt(3)
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(7.0)
    module.reset_parameters()
    assert all(p.abs().max() <= bound for p in module.parameters())


def test_no_builtin_recurrent_function_is_called(monkeypatch):
    """The modules never touch torch's fused recurrent kernels (they would fail here)."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a fused recurrent kernel was called")

    for name in FUSED_KERNELS:
        monkeypatch.setattr(torch._VF, name, forbidden, raising=False)
        monkeypatch.setattr(torch, name, forbidden, raising=False)
    for cls in ALL_SEQ:
        cls(2, 3)(torch.randn(4, 2, 2))
    for cls in ALL_CELLS:
        cls(2, 3)(torch.randn(2, 2))
    with pytest.raises(AssertionError, match="fused recurrent kernel"):
        nn.LSTM(2, 3)(torch.randn(4, 2, 2))  # the check itself works


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module,args,error,match",
    [
        (
            M.LSTM(3, 4),
            (torch.zeros(5, 2, 2),),
            ShapeError,
            r"input has shape \(5, 2, 2\), expected \(T, N, D\) with D = input_size = 3",
        ),
        (
            M.LSTM(3, 4, batch_first=True),
            (torch.zeros(2, 5, 2),),
            ShapeError,
            r"expected \(N, T, D\) with D = input_size = 3",
        ),
        (
            M.GRU(3, 4),
            (torch.zeros(2, 3, 4, 3),),
            ShapeError,
            r"input is 4-d .* expected 3-d \(T, N, D\) or 2-d \(T, D\)",
        ),
        (
            M.GRU(3, 4),
            (torch.zeros(5, 2, 3), torch.zeros(2, 4)),
            ShapeError,
            r"h_0 has shape \(2, 4\), expected \(1, N, H\) = \(1, 2, 4\)",
        ),
        (
            M.LSTM(3, 4),
            (torch.zeros(5, 2, 3), torch.zeros(1, 2, 4)),
            TypeError,
            r"hx must be a tuple \(h_0, c_0\)",
        ),
        (
            M.LSTM(3, 4),
            (torch.zeros(5, 2, 3), (torch.zeros(1, 2, 4), torch.zeros(1, 3, 4))),
            ShapeError,
            r"c_0 has shape \(1, 3, 4\), expected \(1, N, H\) = \(1, 2, 4\)",
        ),
        (
            M.LSTM(3, 4),
            (torch.zeros(5, 3), (torch.zeros(1, 1, 4), torch.zeros(1, 1, 4))),
            ShapeError,
            r"h_0 has shape \(1, 1, 4\), expected \(1, H\) = \(1, 4\)",
        ),
        (
            M.LSTMCell(3, 4),
            (torch.zeros(2, 3), (torch.zeros(2, 5), torch.zeros(2, 4))),
            ShapeError,
            r"h_0 has shape \(2, 5\), expected \(N, H\) = \(2, 4\)",
        ),
        (
            M.RNNCell(3, 4),
            (torch.zeros(2, 2, 3),),
            ShapeError,
            r"input is 3-d .* expected 2-d \(N, D\) or 1-d \(D,\)",
        ),
        (
            M.GRUCell(3, 4),
            (torch.zeros(2, 3), torch.zeros(3, 4)),
            ShapeError,
            r"GRUCell: hx has shape \(3, 4\), expected \(N, H\) = \(2, 4\)",
        ),
        (
            M.RNNCell(3, 4),
            (torch.zeros(3), torch.zeros(1, 4)),
            ShapeError,
            r"hx has shape \(1, 4\), expected \(H,\) = \(4,\)",
        ),
        (M.RNN(3, 4), ([[0.0] * 3],), TypeError, r"input is a list, expected a torch.Tensor"),
        (
            M.RNN(3, 4),
            (torch.zeros(5, 2, 3, dtype=torch.float32),),
            TypeError,
            r"input has dtype torch.float32 but the parameters are torch.float64",
        ),
        (M.RNN(3, 4), (torch.zeros(0, 2, 3),), ShapeError, r"empty dimension"),
        (
            M.CIFG(3, 4),
            (torch.zeros(5, 2, 3), (torch.zeros(1, 2, 4), "c")),
            TypeError,
            r"c_0 is a str, expected a torch.Tensor",
        ),
    ],
)
def test_errors_name_the_argument_and_the_expected_shape(module, args, error, match):
    with pytest.raises(error, match=match):
        module(*args)


def test_shape_error_is_a_value_error_and_sizes_are_checked():
    assert issubclass(ShapeError, ValueError)
    with pytest.raises(ValueError, match="hidden_size must be a positive int, got 0"):
        M.LSTM(3, 0)
    with pytest.raises(ValueError, match="input_size must be a positive int, got 2.5"):
        M.GRUCell(2.5, 3)


# --- the self-contained LSTM that notebook 03 embeds -------------------------------------------


def test_lstm_keywords_repr_and_gate_blocks():
    """The decorator gives LSTM the API of the other modules: device/dtype, repr, gate_blocks."""
    lstm = M.LSTM(2, 3, batch_first=True, dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in lstm.parameters())
    assert repr(lstm) == "LSTM(2, 3, batch_first=True)"
    assert repr(M.LSTM(2, 3)) == "LSTM(2, 3)"
    assert M.LSTM.gate_blocks == ("i", "f", "g", "o")


def test_lstm_unbatched_input_ignores_batch_first_like_torch():
    """One sequence (T, D) with states (1, H) is never batch-first, as in torch.nn.LSTM."""
    torch.manual_seed(5)
    ours, builtin = _twin_pair(M.LSTM, nn.LSTM, 3, 4, "builtin->ours", batch_first=True)
    x, h0, c0 = torch.randn(6, 3), torch.randn(1, 4), torch.randn(1, 4)
    for a, b in zip(_leaves(ours(x, (h0, c0))), _leaves(builtin(x, (h0, c0))), strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


def test_lstm_arithmetic_is_the_undecorated_class():
    """The decorator adds checks around the notebook's forward; it does not compute anything."""
    torch.manual_seed(6)
    lstm = M.LSTM(3, 2)
    x = torch.randn(4, 2, 3)
    inner = M.LSTM.forward.__wrapped__(lstm, x)  # the forward notebook 03 embeds
    for a, b in zip(_leaves(inner), _leaves(lstm(x)), strict=True):
        assert torch.equal(a, b)
