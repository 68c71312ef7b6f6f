"""solutions.batched: every model of the stack trains exactly as the same VariantLSTM trained
alone with solutions.train.train (float64), the switches, unused weights, divergence, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions import batched as B
from solutions.tasks import adding_problem
from solutions.train import train
from solutions.variants import VARIANTS, VariantLSTM

torch.set_default_dtype(torch.float64)


def _adding(N, T):
    return lambda rng: adding_problem(N, T, seed=rng, dtype=np.float64)


def _max_diff(a: torch.nn.Module, b: torch.nn.Module) -> float:
    return max(
        (p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )


@pytest.mark.parametrize("clip_norm", [None, 0.5])
def test_each_model_trains_as_it_would_alone(clip_norm):
    """All nine variants, different seeds, learning rates and data streams, in one stack."""
    variants = list(VARIANTS) + ["vanilla", "CIFG"]
    M = len(variants)
    seeds = [m % 4 for m in range(M)]
    lrs = [(1e-2, 3e-2, 3e-3)[m % 3] for m in range(M)]
    data_seeds = [10 + m % 2 for m in range(M)]
    weights = B.init_weights(seeds, 2, 3, 1, dtype=torch.float64)
    steps = 15
    result = B.train_batched(
        variants, weights, lrs, data_seeds, _adding(5, 7), steps, clip_norm, progress=False
    )
    for m, name in enumerate(variants):
        alone = B.variant_model(weights, name, m)
        history = train(
            alone,
            _adding(5, 7),
            torch.nn.functional.mse_loss,
            steps,
            lr=lrs[m],
            clip_norm=clip_norm,
            seed=data_seeds[m],
            progress=False,
        )
        stacked = B.variant_model(result.weights, name, m)
        assert _max_diff(alone, stacked) < 1e-10, name
        np.testing.assert_allclose(result.loss[m], history["loss"], rtol=0, atol=1e-12)
    assert (result.diverged_at == -1).all()


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("N,T,D,H", [(1, 1, 1, 1), (3, 4, 2, 5), (2, 6, 4, 3)])
def test_forward_equals_variant_lstm(name, N, T, D, H):
    torch.manual_seed(0)
    weights = B.init_weights([3, 4], D, H, 2)
    for k in weights:  # larger than the default init, so every part matters
        weights[k] = weights[k] * 3
    x = torch.randn(2, N, T, D)
    y = B.forward(weights, B.variant_switches([name, name]), x)
    for m in range(2):
        model = B.variant_model(weights, name, m)
        torch.testing.assert_close(y[m], model(x[m]), rtol=0, atol=1e-12)
    # one batch shared by all models is the same as that batch given to each
    y_shared = B.forward(weights, B.variant_switches([name, name]), x[0])
    torch.testing.assert_close(y_shared[1], B.variant_model(weights, name, 1)(x[0]))


def test_same_seed_same_start_in_every_shared_part():
    """Equal initialisation: a CIFG and a vanilla model of one seed share f, g, o and p_f, p_o."""
    weights = B.init_weights([7, 7, 8], 2, 4, 1)
    for k, w in weights.items():
        assert torch.equal(w[0], w[1]), k
        assert not torch.equal(w[0], w[2]), k
    vanilla = B.variant_model(weights, "vanilla", 0).rnn
    cifg = B.variant_model(weights, "CIFG", 1).rnn
    H = 4
    torch.testing.assert_close(cifg.weight_ih_l0, vanilla.weight_ih_l0[H:])  # f, g, o rows
    torch.testing.assert_close(cifg.peephole_o_l0, vanilla.peephole_o_l0)
    bound = 1 / 2  # 1/sqrt(H)
    assert all(w.abs().max() <= bound for w in weights.values())


def test_forget_bias_goes_into_the_forget_block_only():
    plain = B.init_weights([1, 1, 1], 2, 4, 1)
    set_ = B.init_weights([1, 1, 1], 2, 4, 1, forget_bias=[0.0, 1.0, None])
    H = 4
    assert (set_["b"][0, 0, H : 2 * H] == 0).all() and (set_["b"][1, 0, H : 2 * H] == 1).all()
    torch.testing.assert_close(set_["b"][2], plain["b"][2])
    rest = torch.cat([torch.arange(H), torch.arange(2 * H, 4 * H)])
    torch.testing.assert_close(set_["b"][:, :, rest], plain["b"][:, :, rest])
    with pytest.raises(ValueError, match="3 seeds but 2 forget biases"):
        B.init_weights([1, 1, 1], 2, 4, 1, forget_bias=[0.0, 1.0])


def test_switched_cell_by_hand():
    f, i, g, c_prev = (torch.full((2, 1, 1), v) for v in (0.25, 0.5, -0.8, 2.0))
    on_off = torch.tensor([True, False]).reshape(2, 1, 1)
    c, s = B.switched_cell(f, i, g, c_prev, on_off, on_off)
    # model 0: c = 0.25 * 2 + 0.5 * (-0.8) = 0.1, s = tanh(0.1); model 1 (NFG, NOAF):
    # c = 2 + 0.5 * (-0.8) = 1.6 (f = 1, not 0), s = c
    torch.testing.assert_close(c.flatten(), torch.tensor([0.1, 1.6]))
    torch.testing.assert_close(s.flatten(), torch.tensor([np.tanh(0.1), 1.6]))


def test_unused_weights_get_no_gradient_and_do_not_move():
    names = ["NIG", "NFG", "NOG", "NP", "CIFG", "vanilla"]
    weights = B.init_weights(range(len(names)), 2, 3, 1)
    result = B.train_batched(
        names, weights, [3e-2] * 6, [0] * 6, _adding(4, 5), 5, None, progress=False
    )
    H = 3
    blocks = {"i": slice(0, H), "f": slice(H, 2 * H), "o": slice(3 * H, 4 * H)}
    unused = {"NIG": ("i",), "NFG": ("f",), "NOG": ("o",), "CIFG": ("i",)}
    for m, name in enumerate(names):
        for k in unused.get(name, ()):
            for w in ("Wx", "Wh", "b"):
                assert torch.equal(
                    result.weights[w][m][..., blocks[k]], weights[w][m][..., blocks[k]]
                )
        fgr_same = torch.equal(result.weights["Waa"][m], weights["Waa"][m])
        assert fgr_same, name  # none of these is FGR
    assert torch.equal(result.weights["peep"][3], weights["peep"][3])  # NP
    assert not torch.equal(result.weights["peep"][5], weights["peep"][5])  # vanilla uses them


def test_a_diverging_model_stops_and_leaves_the_others_alone():
    names = ["NOAF", "vanilla"]
    weights = B.init_weights([0, 0], 2, 3, 1)
    weights["W_out"][0] *= 1e200  # model 0's outputs overflow at once
    result = B.train_batched(
        names, weights, [1e-2, 1e-2], [0, 0], _adding(4, 5), 4, 1.0, progress=False
    )
    assert result.diverged_at.tolist() == [0, -1]
    assert np.isnan(result.loss[0]).all() and np.isfinite(result.loss[1]).all()
    alone = B.variant_model(weights, "vanilla", 1)
    train(
        alone,
        _adding(4, 5),
        torch.nn.functional.mse_loss,
        4,
        lr=1e-2,
        clip_norm=1.0,
        seed=0,
        progress=False,
    )
    assert _max_diff(alone, B.variant_model(result.weights, "vanilla", 1)) < 1e-10


def test_evaluate_is_the_test_mse_of_each_model():
    names = ["vanilla", "NP"]
    weights = B.init_weights([0, 1], 2, 3, 1)
    x, y = adding_problem(6, 5, seed=1, dtype=np.float64)
    mse = B.evaluate(names, weights, x, y)
    for m, name in enumerate(names):
        model = B.variant_model(weights, name, m)
        expected = torch.nn.functional.mse_loss(model(torch.as_tensor(x)), torch.as_tensor(y))
        assert mse[m] == pytest.approx(expected.item(), abs=1e-14)


def test_bad_arguments_are_explained():
    weights = B.init_weights([0, 1], 2, 3, 1)
    with pytest.raises(ValueError, match="the weights hold 2 models but lrs has 1"):
        B.train_batched(["NP", "NP"], weights, [1e-2], [0, 0], _adding(2, 3), 1)
    with pytest.raises(ValueError, match="unknown variant 'LSTM'"):
        B.variant_switches(["LSTM"])
    with pytest.raises(ValueError, match="steps must be a positive int"):
        B.train_batched(["NP", "NP"], weights, [1e-2] * 2, [0, 0], _adding(2, 3), 0)
    assert isinstance(B.variant_model(weights, "NP", 0).rnn, VariantLSTM)
