"""solutions.choosing: cost model, bits per character, temperature sampling, count probe, tools."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from solutions import choosing, modules, tasks

# --------------------------------------------------------------------------------------------
# cost model
# --------------------------------------------------------------------------------------------

MODULE_OF = {
    "rnn": modules.RNNCell,
    "gru": modules.GRUCell,
    "lstm": modules.LSTMCell,
    "peephole": modules.PeepholeLSTMCell,
    "cifg": modules.CIFGCell,
}


@pytest.mark.parametrize("cell", list(MODULE_OF))
@pytest.mark.parametrize(("D", "H"), [(1, 1), (3, 5), (7, 2), (64, 128)])
def test_cell_cost_params_equal_the_modules_parameter_count(cell, D, H):
    module = MODULE_OF[cell](D, H)
    assert choosing.cell_cost(cell, D, H)["params"] == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("D", "H"), [(3, 5), (16, 32)])
def test_cell_cost_params_equal_pytorch_builtins(D, H):
    for cell, builtin in (("rnn", nn.RNNCell), ("gru", nn.GRUCell), ("lstm", nn.LSTMCell)):
        count = sum(p.numel() for p in builtin(D, H).parameters())
        assert choosing.cell_cost(cell, D, H)["params"] == count


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm", "cifg"])
@pytest.mark.parametrize(("D", "H"), [(3, 5), (10, 4)])
def test_cell_cost_macs_equal_the_counted_matrix_multiplies(cell, D, H):
    """FlopCounterMode counts 2 flops per multiply-add of every matrix product of one step."""
    N = 7
    module = MODULE_OF[cell](D, H)
    x, h = torch.randn(N, D), torch.randn(N, H)
    hx = (h, torch.randn(N, H)) if cell in ("lstm", "cifg") else h
    with FlopCounterMode(display=False) as counter:
        module(x, hx)
    assert counter.get_total_flops() == 2 * N * choosing.cell_cost(cell, D, H)["macs"]


def test_cell_cost_peephole_adds_three_diagonal_multiplies_by_hand():
    # D = 2, H = 3: 4 blocks * 3 * (2 + 3) = 60 matrix multiplies, plus p_i c, p_f c, p_o c.
    assert choosing.cell_cost("peephole", 2, 3) == {"params": 60 + 24 + 9, "macs": 60 + 9}
    assert choosing.cell_cost("lstm", 2, 3) == {"params": 84, "macs": 60}


def test_cell_cost_gru_is_three_quarters_of_the_lstm():
    for D, H in [(1, 1), (5, 9), (128, 128)]:
        gru, lstm = choosing.cell_cost("gru", D, H), choosing.cell_cost("lstm", D, H)
        assert 4 * gru["params"] == 3 * lstm["params"]
        assert 4 * gru["macs"] == 3 * lstm["macs"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("lstmm", 2, 3), "cell must be one of"),
        (("lstm", 0, 3), "D must be"),
        (("gru", 2, 1.5), "H"),
    ],
)
def test_cell_cost_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        choosing.cell_cost(*args)


# --------------------------------------------------------------------------------------------
# bits per character
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("N", "T", "V"), [(1, 1, 2), (3, 5, 7), (2, 9, 60)])
def test_bits_per_char_equals_torch_cross_entropy_over_log_2(N, T, V):
    rng = np.random.default_rng(N * T * V)
    logits = 3 * rng.standard_normal((N, T, V))
    targets = rng.integers(0, V, (N, T))
    ref = F.cross_entropy(
        torch.from_numpy(logits).reshape(-1, V), torch.from_numpy(targets).reshape(-1)
    ).item() / math.log(2)
    assert choosing.bits_per_char(logits, targets) == pytest.approx(ref, rel=1e-12)


def test_bits_per_char_by_hand():
    # Uniform over 4 symbols: 2 bits whatever the target. Two steps, one certain (0 bits) and
    # one uniform over 8 (3 bits): the mean over the steps is 1.5 bits.
    assert choosing.bits_per_char(np.zeros((2, 3, 4)), np.zeros((2, 3), int)) == pytest.approx(2)
    logits = np.zeros((1, 2, 8))
    logits[0, 0, 5] = 1e4  # all the mass on id 5
    assert choosing.bits_per_char(logits, np.array([[5, 1]])) == pytest.approx(1.5)


def test_bits_per_char_does_not_overflow():
    logits = np.array([[[1000.0, 0.0], [0.0, 1000.0]]])
    assert choosing.bits_per_char(logits, np.array([[1, 1]])) == pytest.approx(
        1000 / 2 / math.log(2)
    )


# --------------------------------------------------------------------------------------------
# temperature sampling
# --------------------------------------------------------------------------------------------


def test_temperature_softmax_by_hand():
    z = np.log(np.array([1.0, 2.0, 5.0]))  # softmax(z) = [1, 2, 5] / 8
    np.testing.assert_allclose(choosing.temperature_softmax(z, 1.0), [1 / 8, 2 / 8, 5 / 8])
    np.testing.assert_allclose(choosing.temperature_softmax(z, 0.5), np.array([1, 4, 25]) / 30)
    np.testing.assert_allclose(
        choosing.temperature_softmax(z, 2.0), np.sqrt([1, 2, 5]) / (1 + 2**0.5 + 5**0.5)
    )
    np.testing.assert_array_equal(choosing.temperature_softmax(z, 0), [0, 0, 1])


def test_temperature_softmax_equals_torch_on_batches_and_survives_small_temperatures():
    rng = np.random.default_rng(0)
    z = 5 * rng.standard_normal((4, 3, 11))
    for tau in (0.01, 0.7, 1.0, 3.0):
        ref = torch.softmax(torch.from_numpy(z) / tau, dim=-1).numpy()
        np.testing.assert_allclose(
            choosing.temperature_softmax(z, tau), ref, rtol=1e-12, atol=1e-300
        )
    zero = choosing.temperature_softmax(z, 0)
    np.testing.assert_array_equal(zero.argmax(-1), z.argmax(-1))
    np.testing.assert_array_equal(zero.sum(-1), 1)


def test_sample_next_is_seeded_and_argmax_at_temperature_zero():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((50, 6))
    np.testing.assert_array_equal(choosing.sample_next(z, 0, seed=3), z.argmax(-1))
    a, b = choosing.sample_next(z, 1.0, seed=7), choosing.sample_next(z, 1.0, seed=7)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (50,) and a.dtype == np.int64
    assert not np.array_equal(a, choosing.sample_next(z, 1.0, seed=8))
    gen = np.random.default_rng(5)  # a Generator continues its stream: two different draws
    assert not np.array_equal(choosing.sample_next(z, 1.0, gen), choosing.sample_next(z, 1.0, gen))


def test_sample_next_draws_at_temperature_zero_too():
    """The documented rule: temperature 0 is no special case, a Generator passed in moves on."""
    z = np.random.default_rng(2).standard_normal((4, 5))
    gen, fresh = np.random.default_rng(9), np.random.default_rng(9)
    np.testing.assert_array_equal(choosing.sample_next(z, 0, gen), z.argmax(-1))
    assert gen.bit_generator.state != fresh.bit_generator.state
    fresh.random(4)  # one uniform number per row, as at any other temperature
    assert gen.bit_generator.state == fresh.bit_generator.state


@pytest.mark.parametrize("tau", [0.5, 1.0, 1.5])
def test_sample_next_frequencies_follow_softmax_of_logits_over_temperature(tau):
    z = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    n = 40_000
    ids = choosing.sample_next(np.tile(z, (n, 1)), tau, seed=0)
    p = np.exp(z / tau) / np.exp(z / tau).sum()
    freq = np.bincount(ids, minlength=4) / n
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(freq - p) < 5 * se), (freq, p)


# --------------------------------------------------------------------------------------------
# count probe
# --------------------------------------------------------------------------------------------


def _counter_lstm():
    """An LSTM (H = 2) whose unit 0 counts by hand: c0 += 1 on a, -= 1 on b, forgets nothing.

    Unit 0: f = i = 1 (bias +30), g = tanh(+-30) = +-1 on a / b and 0 on S. Unit 1 does
    something else (a noisy function of the input).
    """
    H, D = 2, 4
    Wx = np.zeros((D, 4 * H))
    Wh = np.zeros((H, 4 * H))
    b = np.zeros(4 * H)
    b[0], b[H], b[3 * H] = 30.0, 30.0, 30.0  # i, f, o of unit 0 open
    Wx[1, 2 * H] = 30.0  # a -> g = +1
    Wx[2, 2 * H] = -30.0  # b -> g = -1
    rng = np.random.default_rng(0)
    Wx[:, 1::H] = rng.standard_normal((D, 4))  # unit 1's blocks: random
    return Wx, Wh, b


def test_count_probe_reads_a_hand_made_counter_exactly():
    x, _, mask = tasks.counting_batch([1, 3, 6])
    Wx, Wh, b = _counter_lstm()
    w, w0, r2 = choosing.count_probe(x.astype(np.float64), mask, Wx, Wh, b)
    assert r2 == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(w, [1.0, 0.0], atol=1e-6)
    assert w0 == pytest.approx(0.0, abs=1e-6)


def test_count_probe_works_in_float64_when_x_is_float32():
    x, _, mask = tasks.counting_batch([2, 5], dtype=np.float32)
    Wx, Wh, b = _counter_lstm()
    w, w0, r2 = choosing.count_probe(x, mask, Wx, Wh, b)
    assert x.dtype == np.float32 and w.dtype == np.float64  # x itself is left as it was
    want = choosing.count_probe(x.astype(np.float64), mask, Wx, Wh, b)
    np.testing.assert_array_equal(w, want[0])
    assert (w0, r2) == want[1:]


def test_count_probe_equals_an_independent_least_squares_fit_on_torch_cell_states():
    rng = np.random.default_rng(3)
    H = 5
    Wx, Wh, b = (
        rng.standard_normal((4, 4 * H)),
        0.5 * rng.standard_normal((H, 4 * H)),
        rng.standard_normal(4 * H),
    )
    x, _, mask = tasks.counting_batch([2, 5, 4, 9])
    # cell states from torch.nn.LSTMCell with the same weights, one step at a time
    cell = nn.LSTMCell(4, H).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(Wx.T))
        cell.weight_hh.copy_(torch.from_numpy(Wh.T))
        cell.bias_ih.copy_(torch.from_numpy(b))
        cell.bias_hh.zero_()
    xt = torch.from_numpy(x).double()
    state, cs = None, []
    with torch.no_grad():
        for t in range(x.shape[1]):
            state = cell(xt[:, t], state)
            cs.append(state[1].numpy())
    c = np.stack(cs, axis=1)  # (N, L, H)
    counts = []
    for row, m in zip(x.argmax(-1), mask, strict=True):
        n_a = n_b = 0
        for sym, real in zip(row, m, strict=True):
            n_a += sym == 1
            n_b += sym == 2
            if real:
                counts.append(n_a - n_b)
    y = np.array(counts, dtype=float)
    A = np.hstack([c[mask], np.ones((mask.sum(), 1))])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    pred = A @ coef
    r2 = 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    w, w0, got_r2 = choosing.count_probe(x.astype(np.float64), mask, Wx, Wh, b)
    np.testing.assert_allclose(w, coef[:H], rtol=1e-8, atol=1e-8)
    assert w0 == pytest.approx(coef[H], abs=1e-8)
    assert got_r2 == pytest.approx(r2, abs=1e-10)


# --------------------------------------------------------------------------------------------
# tools of the experiments
# --------------------------------------------------------------------------------------------


def test_scratch_gru_equals_torch_gru_values_and_gradients():
    torch.manual_seed(0)
    for batch_first in (False, True):
        ref = nn.GRU(3, 4, batch_first=batch_first).double()
        mine = choosing.GRU(3, 4, batch_first=batch_first).double()
        mine.load_state_dict(ref.state_dict())
        x = torch.randn((2, 6, 3) if batch_first else (6, 2, 3), dtype=torch.float64)
        h0 = torch.randn(1, 2, 4, dtype=torch.float64)
        out_r, hn_r = ref(x, h0)
        out_m, hn_m = mine(x, h0)
        torch.testing.assert_close(out_m, out_r, rtol=0, atol=1e-12)
        torch.testing.assert_close(hn_m, hn_r, rtol=0, atol=1e-12)
        (out_r.sum() + hn_r.sum()).backward()
        (out_m.sum() + hn_m.sum()).backward()
        for (name, p_r), p_m in zip(ref.named_parameters(), mine.parameters(), strict=True):
            torch.testing.assert_close(p_m.grad, p_r.grad, rtol=0, atol=1e-10, msg=name)


def test_time_forward_backward_reports_every_model():
    models = {"gru": choosing.GRU(3, 4), "lstm": modules.LSTM(3, 4)}
    times = choosing.time_forward_backward(models, torch.randn(5, 2, 3), repeats=3)
    assert set(times) == {"gru", "lstm"} and all(t > 0 for t in times.values())
    assert all(p.grad is not None for m in models.values() for p in m.parameters())


def test_fit_fixed_plus_linear_recovers_a_line_and_weighs_relative_errors():
    a, slope = choosing.fit_fixed_plus_linear([1, 2, 4, 8], [3 + 0.5 * w for w in [1, 2, 4, 8]])
    assert a == pytest.approx(3) and slope == pytest.approx(0.5)
    # 10 % noise on a large time moves the fit no more than 10 % noise on a small one
    work = np.array([1.0, 10, 100, 1000])
    exact = 2 + 0.1 * work
    a_big, _ = choosing.fit_fixed_plus_linear(work, exact * [1, 1, 1, 1.1])
    a_small, _ = choosing.fit_fixed_plus_linear(work, exact * [1.1, 1, 1, 1])
    assert abs(a_big - 2) < 0.5 and abs(a_small - 2) < 0.5


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_seed_batched_rnn_equals_torch_modules_seed_by_seed(cell):
    S, D, H, V = 3, 4, 5, 4
    model = choosing.SeedBatchedRNN(cell, S, D, H, V, seed=2).double()
    x = torch.randn(2, 7, D, dtype=torch.float64)
    out = model(x)
    assert out.shape == (S, 2, 7, V)
    for s in range(S):
        G = {"rnn": 1, "gru": 3, "lstm": 4}[cell]
        ref = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell](D, H, batch_first=True).double()
        with torch.no_grad():
            ref.weight_ih_l0.copy_(model.W_x[s].T)
            ref.weight_hh_l0.copy_(model.W_h[s].T)
            ref.bias_ih_l0.copy_(model.b[s])
            ref.bias_hh_l0.zero_()
            if cell == "gru":
                ref.bias_hh_l0[2 * H :] = model.b_hn[s]
        assert ref.weight_ih_l0.shape == (G * H, D)
        h = ref(x)[0]
        expected = h @ model.W_y[s] + model.b_y[s]
        torch.testing.assert_close(out[s], expected, rtol=0, atol=1e-12)


def test_seed_batched_rnn_seeds_train_independently_and_clip_per_seed():
    model = choosing.SeedBatchedRNN("lstm", 2, 4, 3, 4, seed=0)
    x = torch.randn(2, 5, 4)
    out = model(x)
    (out[0].sum() * 100).backward()  # only seed 0's loss
    assert all(p.grad[1].abs().max() == 0 for p in model.parameters())
    norms = model.clip_per_seed(1.0)
    assert norms[0] > 1 and norms[1] == 0
    after = torch.sqrt(sum(p.grad[0].pow(2).sum() for p in model.parameters()))
    assert after == pytest.approx(1.0, rel=1e-4)


def test_seed_batched_lstm_cell_states_and_weights_match_count_probes_lstm():
    model = choosing.SeedBatchedRNN("lstm", 2, 4, 3, 4, seed=1, forget_bias=1.0).double()
    x, _, mask = tasks.counting_batch([2, 4])
    _, c = model.states(torch.from_numpy(x).double())
    from solutions.lstm import lstm_forward

    Wx, Wh, b = model.lstm_weights(1)
    assert np.all(b[3:6] > 0)  # the forget bias of 1 on U(-1/sqrt(3), 1/sqrt(3))
    _, c_np, _ = lstm_forward(x.astype(np.float64), np.zeros((2, 3)), np.zeros((2, 3)), Wx, Wh, b)
    np.testing.assert_allclose(c[1].detach().numpy(), c_np, atol=1e-12)
    assert model.parameters_per_seed() == 4 * 12 + 3 * 12 + 12 + 3 * 4 + 4


def test_counting_reach_agrees_with_tasks_counting_accuracy():
    """A predictor that counts correctly up to n = 7 and then miscounts."""
    n_values = list(range(1, 13))
    x, targets, mask = tasks.counting_batch(n_values)

    def predictor(xb):
        # the right answer (first legal symbol) wherever n <= 7, else always 'b'
        n = int(xb[0, :, 1].sum())
        _, tg, _ = tasks.counting_batch([n])
        scores = tg[0] * np.arange(4, 0, -1)  # the first legal symbol scores highest
        if n > 7:
            scores = np.tile([0.0, 0.0, 1.0, 0.0], (tg.shape[1], 1))
        return scores

    scores = np.zeros_like(targets)
    for i in range(len(n_values)):
        s = predictor(x[i : i + 1])
        scores[i, : s.shape[0]] = s
    ok = tasks.counting_accuracy(predictor, n_values)
    expected = next((n - 1 for n in n_values if not ok[n]), len(n_values))
    assert choosing.counting_reach(scores, targets, mask) == expected == 7
    assert choosing.counting_reach(targets, targets, mask) == 12


def test_chunk_streams_continue_from_chunk_to_chunk():
    ids = np.arange(103)
    x, y = choosing.chunk_streams(ids, B=4, T=5)
    assert x.shape == y.shape == (5, 4, 5)  # 102 // 4 = 25 per stream, 5 chunks of 5
    stream = torch.cat(list(x[:, 1]), dim=0)  # stream 1, chunks joined
    np.testing.assert_array_equal(stream.numpy(), np.arange(25, 50))
    np.testing.assert_array_equal(y.numpy(), x.numpy() + 1)
    with pytest.raises(ValueError, match="too few"):
        choosing.chunk_streams(np.arange(10), B=4, T=5)


def test_unigram_entropy_by_hand():
    assert choosing.unigram_entropy(np.array([0, 1, 2, 3]), 4) == pytest.approx(2.0)
    assert choosing.unigram_entropy(np.array([0, 0, 0, 1]), 3) == pytest.approx(
        -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    )


def test_packed_corpus_is_fresh_and_unpacks_to_the_corpus():
    from solutions import corpus_data

    assert corpus_data.unpack_corpus(corpus_data.GENESIS_PACKED) == tasks.load_corpus(), (
        "solutions/corpus_data.py is stale: run python -m solutions.corpus_data"
    )
