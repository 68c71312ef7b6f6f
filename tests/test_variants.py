"""solutions.variants: the LSTM variants of Greff et al. (2017) against nn.LSTM, the modules of
solutions.modules, explicit scalar formulas, gradcheck and hand-derived parameter counts."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from solutions import modules as M
from solutions.variants import (
    VARIANTS,
    LSTMConfig,
    VariantLSTM,
    count_parameters,
    load_lstm_weights,
    parameter_count,
)

torch.set_default_dtype(torch.float64)

ATOL = 1e-10
SHAPES = [(1, 1, 1, 1), (2, 3, 4, 5), (3, 4, 5, 2), (4, 2, 1, 6)]  # (N, T, D, H)


def _forward_backward(module, x, h0, c0, douts):
    """Outputs and the gradients of x, h0, c0 for the loss sum(output * dout) over all outputs."""
    x, h0, c0 = (t.clone().requires_grad_() for t in (x, h0, c0))
    out, (hn, cn) = module(x, (h0, c0))
    sum((o * d).sum() for o, d in zip((out, hn, cn), douts, strict=True)).backward()
    return (out, hn, cn), (x.grad, h0.grad, c0.grad)


def _compare(a, b, x, N, H, batch_first):
    """Run two LSTM-like modules on the same data; assert equal outputs and input gradients."""
    h0, c0 = torch.randn(1, N, H), torch.randn(1, N, H)
    douts = [
        torch.randn_like(x[..., :1].expand(*x.shape[:2], H)),
        torch.randn(1, N, H),
        torch.randn(1, N, H),
    ]
    outs_a, grads_a = _forward_backward(a, x, h0, c0, douts)
    outs_b, grads_b = _forward_backward(b, x, h0, c0, douts)
    for u, v, what in zip(
        outs_a + grads_a, outs_b + grads_b, ("out", "h_n", "c_n", "dx", "dh0", "dc0"), strict=True
    ):
        torch.testing.assert_close(u, v, rtol=0, atol=ATOL, msg=what)


@pytest.mark.parametrize("name", ["vanilla", "NP"])
@pytest.mark.parametrize("N,T,D,H", SHAPES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_vanilla_without_peepholes_and_np_equal_nn_lstm(name, N, T, D, H, batch_first):
    """vanilla with p = 0, and NP, equal nn.LSTM on copied weights (values and all gradients)."""
    torch.manual_seed(N + T + D + H)
    lstm = nn.LSTM(D, H, batch_first=batch_first)
    variant = load_lstm_weights(VariantLSTM(D, H, name, batch_first=batch_first), lstm)
    if name == "vanilla":
        for k in "ifo":
            assert torch.equal(getattr(variant, f"peephole_{k}_l0"), torch.zeros(H))
    else:
        assert not any("peephole" in n for n, _ in variant.named_parameters())
    x = torch.randn((N, T, D) if batch_first else (T, N, D))
    _compare(variant, lstm, x, N, H, batch_first)
    torch.testing.assert_close(variant.weight_ih_l0.grad, lstm.weight_ih_l0.grad, rtol=0, atol=ATOL)
    torch.testing.assert_close(variant.weight_hh_l0.grad, lstm.weight_hh_l0.grad, rtol=0, atol=ATOL)
    # d loss / d(bias_ih + bias_hh) is the gradient of either bias
    torch.testing.assert_close(variant.bias_l0.grad, lstm.bias_ih_l0.grad, rtol=0, atol=ATOL)
    torch.testing.assert_close(variant.bias_l0.grad, lstm.bias_hh_l0.grad, rtol=0, atol=ATOL)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_cifg_equals_modules_cifg(N, T, D, H):
    """CIFG (peepholes zero, or configured without) equals modules.CIFG on copied weights."""
    torch.manual_seed(N * T + D + H)
    cifg = M.CIFG(D, H)
    x = torch.randn(T, N, D)
    for variant in (
        VariantLSTM(D, H, "CIFG"),
        VariantLSTM(D, H, LSTMConfig(coupled=True, peepholes=False)),
    ):
        load_lstm_weights(variant, cifg)
        assert variant.gate_blocks == ("f", "g", "o")
        cifg.zero_grad()
        _compare(variant, cifg, x, N, H, False)
        torch.testing.assert_close(
            variant.weight_hh_l0.grad, cifg.weight_hh_l0.grad, rtol=0, atol=ATOL
        )
        torch.testing.assert_close(variant.bias_l0.grad, cifg.bias_ih_l0.grad, rtol=0, atol=ATOL)


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_vanilla_equals_modules_peephole_lstm(N, T, D, H):
    """vanilla (with nonzero peepholes) equals solutions.modules.PeepholeLSTM on copied weights."""
    torch.manual_seed(N + 2 * T + D + H)
    peephole = M.PeepholeLSTM(D, H)
    variant = load_lstm_weights(VariantLSTM(D, H), peephole)
    assert torch.equal(variant.peephole_o_l0, peephole.peephole_o_l0)
    _compare(variant, peephole, torch.randn(T, N, D), N, H, False)
    for k in "ifo":
        torch.testing.assert_close(
            getattr(variant, f"peephole_{k}_l0").grad,
            getattr(peephole, f"peephole_{k}_l0").grad,
            rtol=0,
            atol=ATOL,
        )


# --- explicit formulas on a scalar cell (D = H = 1), T = 3 ---------------------------------------


def _sig(z):
    return 1.0 / (1.0 + math.exp(-z))


W = {"i": 0.5, "f": -0.3, "g": 0.8, "o": 0.2}  # input weights
R = {"i": -0.4, "f": 0.6, "g": 0.3, "o": -0.7}  # recurrent weights
B = {"i": 0.1, "f": 0.9, "g": -0.2, "o": 0.05}  # biases
P = {"i": 0.3, "f": -0.5, "o": 0.7}  # peepholes
A = [
    [0.2, -0.1, 0.4],
    [0.3, 0.5, -0.6],
    [-0.2, 0.1, 0.25],
]  # FGR: row = target, col = source (i, f, o)
XS, H0, C0 = [1.0, -0.5, 2.0], 0.2, -0.4


def _by_hand(name):
    """The hidden states h_1..h_3 of a scalar cell, written out for each variant."""
    h, c = H0, C0
    i = f = o = 0.0  # previous gate activations for FGR: zero at t = 1
    hs = []
    for x in XS:

        def z(k, x=x, h=h):
            return W[k] * x + R[k] * h + B[k]

        if name == "vanilla":
            i, f = _sig(z("i") + P["i"] * c), _sig(z("f") + P["f"] * c)
            c = f * c + i * math.tanh(z("g"))
            h = _sig(z("o") + P["o"] * c) * math.tanh(c)
        elif name == "NIG":  # i = 1
            f = _sig(z("f") + P["f"] * c)
            c = f * c + math.tanh(z("g"))
            h = _sig(z("o") + P["o"] * c) * math.tanh(c)
        elif name == "NFG":  # f = 1
            i = _sig(z("i") + P["i"] * c)
            c = c + i * math.tanh(z("g"))
            h = _sig(z("o") + P["o"] * c) * math.tanh(c)
        elif name == "NOG":  # o = 1
            i, f = _sig(z("i") + P["i"] * c), _sig(z("f") + P["f"] * c)
            c = f * c + i * math.tanh(z("g"))
            h = math.tanh(c)
        elif name == "NIAF":  # g linear
            i, f = _sig(z("i") + P["i"] * c), _sig(z("f") + P["f"] * c)
            c = f * c + i * z("g")
            h = _sig(z("o") + P["o"] * c) * math.tanh(c)
        elif name == "NOAF":  # h = o * c
            i, f = _sig(z("i") + P["i"] * c), _sig(z("f") + P["f"] * c)
            c = f * c + i * math.tanh(z("g"))
            h = _sig(z("o") + P["o"] * c) * c
        elif name == "NP":  # no peepholes
            i, f = _sig(z("i")), _sig(z("f"))
            c = f * c + i * math.tanh(z("g"))
            h = _sig(z("o")) * math.tanh(c)
        elif name == "CIFG":  # i = 1 - f
            f = _sig(z("f") + P["f"] * c)
            c = f * c + (1 - f) * math.tanh(z("g"))
            h = _sig(z("o") + P["o"] * c) * math.tanh(c)
        elif name == "FGR":  # vanilla + A [i, f, o]_{t-1} into each gate
            prev = (i, f, o)
            rec = [sum(A[r][s] * prev[s] for s in range(3)) for r in range(3)]
            i = _sig(z("i") + P["i"] * c + rec[0])
            f = _sig(z("f") + P["f"] * c + rec[1])
            c = f * c + i * math.tanh(z("g"))
            o = _sig(z("o") + P["o"] * c + rec[2])
            h = o * math.tanh(c)
        hs.append(h)
    return hs, c


EXPECTED_BLOCKS = {
    "vanilla": "ifgo",
    "NIG": "fgo",
    "NFG": "igo",
    "NOG": "ifg",
    "NIAF": "ifgo",
    "NOAF": "ifgo",
    "NP": "ifgo",
    "CIFG": "fgo",
    "FGR": "ifgo",
}


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_matches_explicit_formulas(name):
    """Each variant, scalar weights set by hand, equals the equations written out in _by_hand."""
    v = VariantLSTM(1, 1, name)
    assert v.gate_blocks == tuple(EXPECTED_BLOCKS[name])
    with torch.no_grad():
        v.weight_ih_l0.copy_(torch.tensor([[W[k]] for k in v.gate_blocks]))
        v.weight_hh_l0.copy_(torch.tensor([[R[k]] for k in v.gate_blocks]))
        v.bias_l0.copy_(torch.tensor([B[k] for k in v.gate_blocks]))
        for k in "ifo":
            if hasattr(v, f"peephole_{k}_l0"):
                getattr(v, f"peephole_{k}_l0").fill_(P[k])
        if name == "FGR":
            v.weight_aa_l0.copy_(torch.tensor(A))
    out, (hn, cn) = v(
        torch.tensor(XS).reshape(3, 1, 1), (torch.full((1, 1, 1), H0), torch.full((1, 1, 1), C0))
    )
    hs, c = _by_hand(name)
    torch.testing.assert_close(out.flatten(), torch.tensor(hs), rtol=1e-14, atol=0)
    assert cn.item() == pytest.approx(c, rel=1e-14)
    assert hn.item() == pytest.approx(hs[-1], rel=1e-14)


def test_variants_differ_from_each_other():
    """On the same scalar weights no two variants give the same outputs (the test has teeth)."""
    results = {name: _by_hand(name)[0] for name in VARIANTS}
    for a in VARIANTS:
        for b in VARIANTS:
            if a < b:
                assert (
                    max(abs(u - v) for u, v in zip(results[a], results[b], strict=True)) > 1e-3
                ), (a, b)


# --- gradcheck, parameter counts ---------------------------------------------------------------


@pytest.mark.parametrize("name", VARIANTS)
def test_gradcheck_every_variant(name):
    """Autograd agrees with finite differences for x, h0, c0 and every parameter (float64)."""
    torch.manual_seed(5)
    module = VariantLSTM(2, 2, name)
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in module.parameters()]

    def f(x, h0, c0, *ps):
        out, (hn, cn) = torch.func.functional_call(
            module, dict(zip(names, ps, strict=True)), (x, (h0, c0))
        )
        return out, hn, cn

    inputs = (torch.randn(3, 2, 2), torch.randn(1, 2, 2), torch.randn(1, 2, 2))
    inputs = tuple(t.requires_grad_() for t in inputs) + tuple(params)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7, rtol=1e-6)


def _hand_count(name, D, H):
    """Parameter counts derived by hand; a gate block has D*H + H*H + H weights (one bias)."""
    block = D * H + H * H + H
    return {
        "vanilla": 4 * block + 3 * H,  # 4 blocks i, f, g, o + peepholes p_i, p_f, p_o
        "NIG": 3 * block + 2 * H,  # no i block, no p_i
        "NFG": 3 * block + 2 * H,  # no f block, no p_f
        "NOG": 3 * block + 2 * H,  # no o block, no p_o
        "NIAF": 4 * block + 3 * H,  # an activation has no weights
        "NOAF": 4 * block + 3 * H,
        "NP": 4 * block,  # no peepholes
        "CIFG": 3 * block + 2 * H,  # i = 1 - f: no i block, no p_i
        "FGR": 4 * block + 3 * H + 9 * H * H,  # + (3H, 3H) gate-to-gate matrix
    }[name]


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("D,H", [(1, 1), (3, 4), (7, 5), (128, 128)])
def test_parameter_counts_match_hand_derived_formulas(name, D, H):
    assert count_parameters(VariantLSTM(D, H, name)) == _hand_count(name, D, H)


def test_count_parameters_on_builtins_and_frozen_parameters():
    D, H = 3, 4
    assert count_parameters(nn.LSTM(D, H)) == 4 * (D * H + H * H + 2 * H)  # two biases per block
    assert count_parameters(M.CIFG(D, H)) == 3 * (D * H + H * H + 2 * H)
    assert count_parameters(nn.GRU(D, H)) == 3 * (D * H + H * H + 2 * H)
    v = VariantLSTM(D, H, "NP")
    v.bias_l0.requires_grad_(False)
    assert count_parameters(v) == 4 * (D * H + H * H)
    assert count_parameters(v, trainable_only=False) == 4 * (D * H + H * H + H)
    with pytest.raises(TypeError, match="expected an nn.Module"):
        count_parameters([1, 2])


# --- configuration, errors, helpers ------------------------------------------------------------


def test_unknown_variant_name_lists_the_valid_ones():
    msg = (
        r"unknown variant 'LSTM2'; valid names are "
        r"vanilla, NIG, NFG, NOG, NIAF, NOAF, NP, CIFG, FGR\."
    )
    with pytest.raises(ValueError, match=msg):
        LSTMConfig.variant("LSTM2")
    with pytest.raises(ValueError, match="unknown variant"):
        VariantLSTM(2, 3, "peephole")
    with pytest.raises(TypeError, match="config is a int, expected an LSTMConfig"):
        VariantLSTM(2, 3, 7)


def test_config_fields_and_names():
    assert LSTMConfig.variant("vanilla") == LSTMConfig()
    assert LSTMConfig.variant("nig") == LSTMConfig(input_gate=False)  # case does not matter
    assert LSTMConfig.variant("FGR").full_gate_recurrence
    assert len(set(LSTMConfig.variant(n) for n in VARIANTS)) == len(VARIANTS)
    with pytest.raises(ValueError, match="needs forget_gate=True"):
        LSTMConfig(coupled=True, forget_gate=False)
    with pytest.raises(ValueError, match="choose one of the two"):
        LSTMConfig(coupled=True, input_gate=False)
    assert "variant='CIFG'" in repr(VariantLSTM(2, 3, "CIFG"))


def test_unbatched_and_batch_first_agree_with_time_major():
    torch.manual_seed(6)
    v = VariantLSTM(3, 2, "FGR")
    x = torch.randn(5, 4, 3)
    out, (hn, cn) = v(x)
    v.batch_first = True
    out_bf, (hn_bf, cn_bf) = v(x.transpose(0, 1))
    torch.testing.assert_close(out_bf, out.transpose(0, 1), rtol=0, atol=ATOL)
    torch.testing.assert_close(hn_bf, hn, rtol=0, atol=ATOL)
    out_1, (hn_1, _) = v(x[:, 2])
    torch.testing.assert_close(out_1, out[:, 2], rtol=0, atol=ATOL)
    assert hn_1.shape == (1, 2)


@pytest.mark.parametrize(
    "name,block", [("vanilla", 1), ("NIG", 0), ("CIFG", 0), ("NOG", 1), ("FGR", 1)]
)
def test_init_forget_bias_on_variants(name, block):
    """The single bias of a variant gets the value in its forget block; the rest is unchanged."""
    v = VariantLSTM(3, 4, name)
    before = v.bias_l0.detach().clone()
    M.init_forget_bias(v, 1.0)
    forget = slice(4 * block, 4 * block + 4)
    assert torch.equal(v.bias_l0[forget], torch.ones(4))
    keep = torch.ones(before.shape[0], dtype=torch.bool)
    keep[forget] = False
    assert torch.equal(v.bias_l0.detach()[keep], before[keep])


def test_init_forget_bias_rejects_nfg():
    with pytest.raises(ValueError, match="has no forget gate"):
        M.init_forget_bias(VariantLSTM(3, 4, "NFG"))


def test_load_lstm_weights_explains_a_missing_block():
    with pytest.raises(ValueError, match="gate block\\(s\\) i that CIFG"):
        load_lstm_weights(VariantLSTM(2, 3), M.CIFG(2, 3))
    with pytest.raises(ValueError, match="input_size, hidden_size"):
        load_lstm_weights(VariantLSTM(2, 3), nn.LSTM(2, 4))


def test_load_lstm_weights_picks_blocks_by_name():
    """NIG (blocks f, g, o) takes rows H:4H of nn.LSTM; NOG (i, f, g) takes rows 0:3H."""
    lstm = nn.LSTM(2, 3)
    nig = load_lstm_weights(VariantLSTM(2, 3, "NIG"), lstm)
    nog = load_lstm_weights(VariantLSTM(2, 3, "NOG"), lstm)
    assert torch.equal(nig.weight_ih_l0, lstm.weight_ih_l0[3:])
    assert torch.equal(nog.weight_hh_l0, lstm.weight_hh_l0[:9])
    assert torch.equal(nig.bias_l0, (lstm.bias_ih_l0 + lstm.bias_hh_l0)[3:])


# --- parameter_count: the formula against the modules' own parameters ----------------------------


@pytest.mark.parametrize("D,H", [(1, 1), (3, 4), (7, 5), (128, 64)])
def test_parameter_count_two_biases_equals_the_modules(D, H):
    """PyTorch's count (bias_ih and bias_hh per block) is sum(p.numel()) of the modules."""
    modules = {
        "rnn": nn.RNN(D, H),
        "gru": nn.GRU(D, H),
        "lstm": nn.LSTM(D, H),
        "peephole": M.PeepholeLSTM(D, H),
        "cifg": M.CIFG(D, H),
    }
    for cell, module in modules.items():
        assert parameter_count(cell, D, H) == sum(p.numel() for p in module.parameters()), cell
        assert parameter_count(cell, D, H, biases=2) == count_parameters(module), cell


@pytest.mark.parametrize("D,H", [(1, 1), (3, 4), (7, 5)])
def test_parameter_count_one_bias_equals_the_papers_cells(D, H):
    """The papers' count: one bias per block (VariantLSTM, and the two-bias modules without
    bias_hh); peepholes are diagonal, H numbers each."""
    one_bias = {
        "lstm": VariantLSTM(D, H, "NP"),
        "peephole": VariantLSTM(D, H, "vanilla"),
        "cifg": VariantLSTM(D, H, LSTMConfig(peepholes=False, coupled=True)),
    }
    for cell, module in one_bias.items():
        assert parameter_count(cell, D, H, biases=1) == count_parameters(module), cell
    for cell, module in (("rnn", M.RNN(D, H)), ("gru", M.PaperGRU(D, H))):
        without_bias_hh = sum(p.numel() for n, p in module.named_parameters() if "bias_hh" not in n)
        assert parameter_count(cell, D, H, biases=1) == without_bias_hh, cell


def test_parameter_count_by_hand_and_errors():
    # D = 2, H = 3, LSTM: 4 * (6 + 9 + 3) = 72 with one bias, 84 with two; peepholes + 9
    assert parameter_count("lstm", 2, 3, biases=1) == 72
    assert parameter_count("lstm", 2, 3) == 84
    assert parameter_count("peephole", 2, 3) == 93
    assert parameter_count("cifg", 2, 3, biases=1) == 54  # three quarters of the LSTM
    with pytest.raises(ValueError, match="unknown cell 'LSTM'; valid names are rnn, gru"):
        parameter_count("LSTM", 2, 3)
    with pytest.raises(ValueError, match="biases must be 2"):
        parameter_count("lstm", 2, 3, biases=0)
