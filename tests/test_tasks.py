"""solutions.tasks: the toy tasks, their baselines, the random-search helper and the corpus."""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from solutions import tasks

ROOT = Path(__file__).resolve().parents[1]
SYMBOLS = "abcdXYBE"  # one-hot order of the temporal-order inputs, written out by hand


def _within_4_se(samples: np.ndarray, expected: float) -> None:
    mean = samples.mean()
    se = samples.std(ddof=1) / math.sqrt(len(samples))
    assert abs(mean - expected) < 4 * se, f"mean {mean:.5f}, expected {expected:.5f} (SE {se:.5f})"


# --------------------------------------------------------------------------------------------
# adding problem
# --------------------------------------------------------------------------------------------


def test_adding_constant_predictor_mse_is_one_sixth():
    assert tasks.ADDING_BASELINE_MSE == pytest.approx(2 / 12, rel=1e-15)
    _, y = tasks.adding_problem(200_000, 6, seed=1, dtype=np.float64)
    assert y.mean() == pytest.approx(1.0, abs=0.01)
    _within_4_se((y[:, 0] - 1.0) ** 2, 1 / 6)


@pytest.mark.parametrize("T", [2, 3, 7, 50])
def test_adding_two_markers_one_per_half_and_target_is_their_sum(T):
    x, y = tasks.adding_problem(500, T, seed=T)
    assert x.shape == (500, T, 2) and y.shape == (500, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert ((values >= 0) & (values < 1)).all()
    assert set(np.unique(markers)) <= {0.0, 1.0}
    half = T // 2
    assert (markers[:, :half].sum(axis=1) == 1).all()
    assert (markers[:, half:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1), rtol=1e-6)


def test_adding_markers_cover_every_position_of_each_half():
    x, _ = tasks.adding_problem(2000, 8, seed=0)
    counts = x[..., 1].sum(axis=0)  # how often each step is marked
    assert (counts > 0).all()
    assert counts[:4].sum() == counts[4:].sum() == 2000


def test_adding_tiny_case_by_hand():
    # T = 2: both steps are marked, so the target is the sum of the two values.
    x, y = tasks.adding_problem(3, 2, seed=5, dtype=np.float64)
    np.testing.assert_array_equal(x[..., 1], np.ones((3, 2)))
    np.testing.assert_allclose(y[:, 0], x[:, 0, 0] + x[:, 1, 0], rtol=1e-15)


# --------------------------------------------------------------------------------------------
# temporal order
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "s,label",
    [("BaXbcYdE", 1), ("BYabXcE", 2), ("BXXE", 0), ("BcYdaYbE", 3), ("BdXaaaaYE", 1)],
)
def test_temporal_order_label_by_hand(s, label):
    assert tasks.temporal_order_label(s) == label


@pytest.mark.parametrize("s", ["BaXbcdE", "BXYXE", "BaZbXYE"])
def test_temporal_order_label_rejects_bad_strings(s):
    with pytest.raises(ValueError, match="temporal_order_label"):
        tasks.temporal_order_label(s)


def test_temporal_order_structure_and_labels():
    strings, y = tasks.temporal_order_strings(400, 100, seed=3)
    x, y2 = tasks.temporal_order(400, 100, seed=3)
    np.testing.assert_array_equal(y, y2)
    assert x.shape == (400, 100, 8) and y.dtype == np.int64
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    by_hand = {"XX": 0, "XY": 1, "YX": 2, "YY": 3}
    for s, row, label in zip(strings, x, y, strict=True):
        assert "".join(SYMBOLS[i] for i in row.argmax(axis=-1)) == s
        assert s[0] == "B" and s[-1] == "E" and "B" not in s[1:] and "E" not in s[:-1]
        where = [t for t, c in enumerate(s) if c in "XY"]
        assert len(where) == 2
        assert 10 <= where[0] <= 20 and 50 <= where[1] <= 60  # the paper's windows at T = 100
        assert by_hand[s[where[0]] + s[where[1]]] == label


def test_temporal_order_classes_are_balanced():
    _, y = tasks.temporal_order(20_000, 12, seed=0)
    for k in range(4):
        _within_4_se((y == k).astype(float), 0.25)
    assert tasks.TEMPORAL_ORDER_CHANCE == 0.25


def test_temporal_order_shortest_sequence():
    strings, _ = tasks.temporal_order_strings(50, 4, seed=0)
    assert all(re.fullmatch("B[XY][XY]E", s) for s in strings)


# --------------------------------------------------------------------------------------------
# copy task
# --------------------------------------------------------------------------------------------


def test_copy_task_layout():
    K, delay, A = 3, 5, 4
    x, y = tasks.copy_task(200, K, delay, A, seed=2)
    L = delay + 2 * K
    assert x.shape == (200, L, A + 2) and y.shape == (200, L)
    sym = x.argmax(axis=-1)
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    data = sym[:, :K]
    assert ((data >= 1) & (data <= A)).all()
    assert (sym[:, K : K + delay - 1] == 0).all()  # blanks
    assert (sym[:, K + delay - 1] == A + 1).all()  # the delimiter
    assert (sym[:, K + delay :] == 0).all()
    assert (y[:, : delay + K] == 0).all()
    np.testing.assert_array_equal(y[:, -K:], data)


def test_copy_baseline_by_hand():
    # K = 10 symbols from A = 8 after T = 100 steps (Arjovsky et al.): 10 ln 8 / 120.
    assert tasks.copy_baseline_ce(10, 100, 8) == pytest.approx(10 * math.log(8) / 120, rel=1e-15)
    # Measured: the memoryless strategy's cross-entropy on generated data.
    K, delay, A = 4, 6, 5
    _, y = tasks.copy_task(100, K, delay, A, seed=0)
    probs = np.zeros((delay + 2 * K, A + 1))
    probs[: delay + K, 0] = 1.0
    probs[delay + K :, 1:] = 1.0 / A
    with np.errstate(divide="ignore"):
        ce = -np.log(probs[np.arange(delay + 2 * K), y]).mean()
    assert ce == pytest.approx(tasks.copy_baseline_ce(K, delay, A), rel=1e-12)


# --------------------------------------------------------------------------------------------
# counting: a^n b^n and a^n b^n c^n
# --------------------------------------------------------------------------------------------


def test_counting_strings_are_valid():
    assert tasks.anbn_string(3) == "SaaabbbT"
    assert tasks.anbncn_string(2) == "SaabbccT"
    for n in range(1, 40):
        assert tasks.is_valid_anbn(tasks.anbn_string(n))
        assert tasks.is_valid_anbncn(tasks.anbncn_string(n))
        assert not tasks.is_valid_anbn(tasks.anbncn_string(n))
        assert not tasks.is_valid_anbncn(tasks.anbn_string(n))


@pytest.mark.parametrize(
    "s", ["ST", "SaabT", "SabbT", "SbaT", "abT", "Sab", "SabT ", "SabaT", "SaTbT", "", "SabcT"]
)
def test_is_valid_anbn_rejects(s):
    assert not tasks.is_valid_anbn(s)


@pytest.mark.parametrize(
    "s", ["ST", "SabT", "SaabbcT", "SabbcT", "SacbT", "SabccT", "SabcTT", "SaabbccccT", "abc"]
)
def test_is_valid_anbncn_rejects(s):
    assert not tasks.is_valid_anbncn(s)


def test_checkers_accept_only_strings():
    assert not tasks.is_valid_anbn(["S", "a", "b", "T"])
    assert not tasks.is_valid_anbncn(None)


def test_next_symbol_sets_n2_by_hand():
    assert tasks.next_symbol_sets("SaabbT") == [{"a"}, {"a", "b"}, {"a", "b"}, {"b"}, {"T"}]
    assert tasks.next_symbol_sets("SaabbccT", "anbncn") == [
        {"a"},
        {"a", "b"},
        {"a", "b"},
        {"b"},
        {"c"},
        {"c"},
        {"T"},
    ]
    with pytest.raises(ValueError, match="not a valid anbn string"):
        tasks.next_symbol_sets("SaabT")
    with pytest.raises(ValueError, match="kind must be 'anbn' or 'anbncn'"):
        tasks.next_symbol_sets("SabT", "abc")


def test_counting_batch_n1_n2_by_hand():
    x, targets, mask = tasks.counting_batch([1, 2])  # alphabet S a b T
    assert x.shape == targets.shape == (2, 5, 4) and mask.shape == (2, 5)
    S, a, b, T = np.eye(4)
    np.testing.assert_array_equal(x[0], [S, a, b, 0 * S, 0 * S])
    np.testing.assert_array_equal(x[1], [S, a, a, b, b])
    np.testing.assert_array_equal(targets[0], [a, a + b, T, 0 * S, 0 * S])
    np.testing.assert_array_equal(targets[1], [a, a + b, a + b, b, T])
    np.testing.assert_array_equal(mask, [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])


def test_counting_task_draws_n_in_range():
    x, targets, mask = tasks.counting_task(300, 5, "anbncn", n_min=2, seed=0)
    lengths = mask.sum(axis=1)  # 3n + 1 input symbols
    assert set(((lengths - 1) // 3).tolist()) == {2, 3, 4, 5}
    assert (((lengths - 1) % 3) == 0).all()
    assert x.shape == targets.shape == (300, 16, 5)


def _oracle(limit=None):
    """A hand-written counter for a^n b^n: exact up to n = limit (None: always exact)."""

    def predict(x):
        sym = x[0].argmax(axis=-1)  # 0 S, 1 a, 2 b, 3 T
        scores = np.zeros((len(sym), 4))
        n_a = n_b = 0
        for t, s in enumerate(sym):
            n_a += s == 1
            n_b += s == 2
            count = n_a if limit is None else min(n_a, limit)
            if s == 0 or s == 1:
                scores[t, 1] = 1  # a (and b, which is not scored here)
            elif n_b < count:
                scores[t, 2] = 1
            else:
                scores[t, 3] = 1
        return scores

    return predict


def test_counting_accuracy_perfect_and_limited_counters():
    assert tasks.counting_accuracy(_oracle(), range(1, 30)) == {n: True for n in range(1, 30)}
    limited = tasks.counting_accuracy(_oracle(limit=5), [1, 4, 5, 6, 10])
    assert limited == {1: True, 4: True, 5: True, 6: False, 10: False}
    as_torch = tasks.counting_accuracy(lambda x: torch.tensor(_oracle()(x))[None], [3])
    assert as_torch == {3: True}


def test_counting_accuracy_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"predict_fn returned shape \(3, 4\)"):
        tasks.counting_accuracy(lambda x: np.zeros((3, 4)), [2])


def test_counting_accuracy_anbncn():
    def always_c(x):
        scores = np.zeros(x.shape[1:])
        scores[:, 3] = 1  # c
        return scores

    # Right at the determined c steps, wrong at the first determined step (after S, a comes).
    assert tasks.counting_accuracy(always_c, [1, 2], "anbncn") == {1: False, 2: False}


# --------------------------------------------------------------------------------------------
# spike delays
# --------------------------------------------------------------------------------------------


def test_spike_delays_range_and_target():
    T, d_min, d_max = 30, 5, 12
    x, y = tasks.spike_delays(2000, T, d_min, d_max, seed=4)
    assert x.shape == (2000, T, 1) and y.shape == (2000, 1)
    assert (x.sum(axis=(1, 2)) == 2).all()
    first = x[..., 0].argmax(axis=1)
    last = T - 1 - x[:, ::-1, 0].argmax(axis=1)
    delay = last - first
    assert delay.min() == d_min and delay.max() == d_max
    assert set(delay.tolist()) == set(range(d_min, d_max + 1))
    np.testing.assert_allclose(y[:, 0], (delay - d_min) / (d_max - d_min), rtol=1e-6)
    assert first.min() == 0 and last.max() == T - 1


def test_spike_delay_baseline():
    assert tasks.spike_delay_baseline_mse(1, 2) == pytest.approx(1 / 4)  # {0, 1}
    assert tasks.spike_delay_baseline_mse(3, 5) == pytest.approx(1 / 6)  # {0, 1/2, 1}
    _, y = tasks.spike_delays(100_000, 40, 10, 30, seed=0, dtype=np.float64)
    _within_4_se((y[:, 0] - 0.5) ** 2, tasks.spike_delay_baseline_mse(10, 30))


def test_spike_delay_hits_rounds_to_the_nearest_step():
    # delays 4..8 (span 4): one step is 0.25 of the scaled target
    y = np.array([[0.0], [0.25], [1.0]])
    right = y + np.array([[0.12], [-0.12], [0.0]])  # within half a step
    wrong = y + np.array([[0.13], [0.0], [-0.13]])  # past half a step in the first and last
    assert tasks.spike_delay_hits(right, y, 4, 8).tolist() == [True, True, True]
    assert tasks.spike_delay_hits(wrong, y, 4, 8).tolist() == [False, True, False]
    assert tasks.spike_delay_hits(torch.tensor(right), y[:, 0], 4, 8).all()
    with pytest.raises(ValueError, match="one prediction per sequence"):
        tasks.spike_delay_hits(np.zeros(2), y, 4, 8)


# --------------------------------------------------------------------------------------------
# timed spike
# --------------------------------------------------------------------------------------------


def test_timed_spike_answer_comes_exactly_delay_steps_after_the_cue():
    T, d = 20, 7
    x, y = tasks.timed_spike(3000, T, d, seed=1)
    assert x.shape == y.shape == (3000, T, 1) and x.dtype == np.float32
    assert (x.sum(axis=(1, 2)) == 1).all() and (y.sum(axis=(1, 2)) == 1).all()
    cue, answer = x[..., 0].argmax(axis=1), y[..., 0].argmax(axis=1)
    assert (answer - cue == d).all()
    assert set(cue.tolist()) == set(range(T - d))  # every possible cue step occurs
    x2, y2 = tasks.timed_spike(3000, T, d, seed=1)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)


def test_timed_spike_hits_counts_only_a_spike_at_the_right_step():
    _, y = tasks.timed_spike(4, 10, 3, seed=0, dtype=np.float64)
    exact = 0.9 * y[..., 0]
    early = np.roll(exact, -1, axis=1)
    double = exact + np.roll(exact, 2, axis=1)
    silent = 0.4 * y[..., 0]
    out = np.stack([exact[0], early[1], double[2], silent[3]])
    assert tasks.timed_spike_hits(out, y[..., 0]).tolist() == [True, False, False, False]
    assert tasks.timed_spike_hits(torch.tensor(y), y).all()  # (n, T, 1) and torch work too
    with pytest.raises(ValueError, match=r"expected both \(n, T\)"):
        tasks.timed_spike_hits(np.zeros((4, 9)), y[..., 0])


# --------------------------------------------------------------------------------------------
# seeds
# --------------------------------------------------------------------------------------------

GENERATORS = {
    "adding": lambda seed: tasks.adding_problem(8, 10, seed=seed),
    "temporal_order": lambda seed: tasks.temporal_order(8, 20, seed=seed),
    "copy": lambda seed: tasks.copy_task(8, 3, 4, seed=seed),
    "counting": lambda seed: tasks.counting_task(8, 20, seed=seed),
    "spikes": lambda seed: tasks.spike_delays(8, 20, 2, 9, seed=seed),
    "timed_spike": lambda seed: tasks.timed_spike(8, 20, 5, seed=seed),
    "text": lambda seed: tasks.text_batch(np.arange(100), 8, 10, seed=seed),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_equal_seeds_equal_data_different_seeds_different_data(name):
    gen = GENERATORS[name]
    a, b, c = gen(7), gen(7), gen(8)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert any(not np.array_equal(u, w) for u, w in zip(a, c, strict=True))
    rng = np.random.default_rng(7)
    first, second = gen(rng), gen(rng)  # a Generator's stream continues
    for u, v in zip(first, a, strict=True):
        np.testing.assert_array_equal(u, v)
    assert any(not np.array_equal(u, w) for u, w in zip(first, second, strict=True))


# --------------------------------------------------------------------------------------------
# bad inputs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: tasks.adding_problem(4, 1), ValueError, r"adding_problem: T must be at least 2"),
        (lambda: tasks.adding_problem(0, 10), ValueError, r"adding_problem: n must be at least 1"),
        (lambda: tasks.adding_problem(-3, 10), ValueError, r"n must be at least 1 .*n=-3"),
        (lambda: tasks.adding_problem(2.5, 10), TypeError, r"n must be an int, got 2.5"),
        (lambda: tasks.adding_problem(2, 10, seed="a"), TypeError, r"seed must be an int"),
        (lambda: tasks.adding_problem(2, 10, seed=None), TypeError, r"seed must be an int"),
        (lambda: tasks.temporal_order(2, 3), ValueError, r"temporal_order: T must be at least 4"),
        (lambda: tasks.copy_task(2, 0, 5), ValueError, r"copy_task: K must be at least 1"),
        (lambda: tasks.copy_task(2, 3, 0), ValueError, r"delay must be at least 1"),
        (lambda: tasks.copy_task(2, 3, 3, 1), ValueError, r"alphabet_size must be at least 2"),
        (lambda: tasks.spike_delays(2, 10, 3, 10), ValueError, r"T must be at least 11"),
        (lambda: tasks.spike_delays(2, 10, 4, 4), ValueError, r"d_max must be at least 5"),
        (lambda: tasks.spike_delays(2, 10, 0, 4), ValueError, r"d_min must be at least 1"),
        (lambda: tasks.timed_spike(2, 5, 5), ValueError, r"timed_spike: T must be at least 6"),
        (lambda: tasks.timed_spike(2, 5, 0), ValueError, r"delay must be at least 1"),
        (lambda: tasks.anbn_string(0), ValueError, r"anbn_string: n must be at least 1"),
        (lambda: tasks.counting_batch([]), ValueError, r"n_values is empty"),
        (lambda: tasks.counting_task(4, 2, n_min=3), ValueError, r"n_max must be at least 3"),
        (lambda: tasks.counting_task(4, 5, kind="xyz"), ValueError, r"kind must be"),
        (lambda: tasks.text_batch(np.arange(5), 2, 5), ValueError, r"longer than T=5"),
    ],
)
def test_bad_inputs_say_what_is_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------------------------
# random search
# --------------------------------------------------------------------------------------------


def _linear():
    return torch.nn.Linear(1, 1)


def _distance_to_half(model):
    # the best guess puts weight and bias near 0.5
    with torch.no_grad():
        return float((model.weight - 0.5).abs().sum() + (model.bias - 0.5).abs().sum())


def test_random_search_keeps_the_best_and_is_seeded():
    r1 = tasks.random_search(_linear, _distance_to_half, trials=50, seed=3, scale=2.0)
    r2 = tasks.random_search(_linear, _distance_to_half, trials=50, seed=3, scale=2.0)
    r3 = tasks.random_search(_linear, _distance_to_half, trials=50, seed=4, scale=2.0)
    assert r1["scores"] == r2["scores"] and r1["scores"] != r3["scores"]
    assert len(r1["scores"]) == 50 and r1["solved"] is None
    assert r1["best_score"] == min(r1["scores"]) == r1["scores"][r1["best_trial"]]
    best = _linear()
    best.load_state_dict(r1["best_state"])
    assert _distance_to_half(best) == pytest.approx(r1["best_score"], rel=1e-6)
    assert r1["best_score"] < 0.5  # 50 guesses of two numbers in [-2, 2] get near (0.5, 0.5)


def test_random_search_weights_lie_in_range_and_target_stops_early():
    seen = []

    def record(model):
        seen.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
        return 1.0

    tasks.random_search(lambda: torch.nn.Linear(10, 10), record, trials=20, scale=0.3)
    w = torch.cat(seen)
    assert w.abs().max() <= 0.3 and w.abs().max() > 0.29 and abs(float(w.mean())) < 0.02
    r = tasks.random_search(_linear, _distance_to_half, trials=10_000, seed=0, target=0.2)
    assert r["solved"] is True and r["best_score"] <= 0.2 and len(r["scores"]) < 10_000


# --------------------------------------------------------------------------------------------
# corpus, vocabulary, sampling
# --------------------------------------------------------------------------------------------


def test_corpus_matches_source_md():
    source = (ROOT / "assets" / "corpus" / "SOURCE.md").read_text()
    sha = re.search(r"SHA-256: `([0-9a-f]{64})`", source).group(1)
    size = int(re.search(r"size: (\d+) bytes", source).group(1))
    raw = (ROOT / "assets" / "corpus" / "genesis_kjv.txt").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == sha
    assert len(raw) == size
    text = tasks.load_corpus()
    assert text.encode("utf-8") == raw
    assert text.startswith("In the beginning God created the heaven and the earth.\n")
    assert text.endswith("and he was put in a coffin in Egypt.\n")
    assert text.count("\n") == 1533  # verses of Genesis
    assert not re.search(r"Ge\d+:\d+", text)  # the references were stripped


def test_load_corpus_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="load_corpus: no file at"):
        tasks.load_corpus(tmp_path / "nope.txt")
    p = tmp_path / "t.txt"
    p.write_text("abc\n", encoding="utf-8")
    assert tasks.load_corpus(p) == "abc\n"


def test_vocab_round_trip_on_the_corpus():
    text = tasks.load_corpus()
    vocab = tasks.CharVocab(text)
    assert len(vocab) == 60
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert ids.min() == 0 and ids.max() == 59
    assert vocab.decode(ids) == text
    assert vocab.decode(torch.from_numpy(ids[:20])) == text[:20]


def test_vocab_by_hand_and_errors():
    v = tasks.CharVocab("hello")
    assert v.chars == "ehlo" and len(v) == 4
    assert v.encode("hole").tolist() == [1, 3, 2, 0]
    assert v.decode([3, 1]) == "oh" and v.decode([]) == ""
    np.testing.assert_array_equal(v.one_hot([2]), [[0, 0, 1, 0]])
    with pytest.raises(ValueError, match=r"character 'x' \(U\+0078\) at position 2 is not in"):
        v.encode("hex")
    with pytest.raises(ValueError, match="id 4 is out of range; ids run from 0 to 3"):
        v.decode([0, 4])
    with pytest.raises(ValueError, match="non-empty string"):
        tasks.CharVocab("")


def test_text_batch_targets_are_the_next_characters():
    ids = np.arange(50) * 3
    x, y = tasks.text_batch(ids, 16, 7, seed=0)
    assert x.shape == y.shape == (16, 7)
    np.testing.assert_array_equal(y, x + 3)
    np.testing.assert_array_equal(np.diff(x, axis=1), 3)


def _cycle_step(vocab_size):
    """A 'model' that always favours the character after the one it just read."""

    def step(i, state):
        logits = np.full(vocab_size, -2.0)
        logits[(i + 1) % vocab_size] = 2.0
        return logits, (0 if state is None else state + 1)

    return step


def test_sample_text():
    v = tasks.CharVocab("abcd")
    step = _cycle_step(4)
    assert tasks.sample_text(step, v, "ab", 5, temperature=0) == "abcdabc"
    s1 = tasks.sample_text(step, v, "a", 200, temperature=1.0, seed=1)
    s2 = tasks.sample_text(step, v, "a", 200, temperature=1.0, seed=1)
    s3 = tasks.sample_text(step, v, "a", 200, temperature=1.0, seed=2)
    assert s1 == s2 != s3 and len(s1) == 201
    follows = sum(v.index[b] == (v.index[a] + 1) % 4 for a, b in zip(s1, s1[1:], strict=False))
    # p(next) = e^2 / (e^2 + 3 e^-2) = 0.948; this is about 190 out of 200
    assert 170 < follows < 200
    assert tasks.sample_text(step, v, "d", 0) == "d"


def test_sample_text_errors():
    v = tasks.CharVocab("abcd")
    with pytest.raises(ValueError, match=r"character 'z'"):
        tasks.sample_text(_cycle_step(4), v, "az", 3)
    with pytest.raises(ValueError, match="returned 5 scores for a vocabulary of 4"):
        tasks.sample_text(_cycle_step(5), v, "a", 3)
    with pytest.raises(ValueError, match="prime must be a non-empty string"):
        tasks.sample_text(_cycle_step(4), v, "", 3)
