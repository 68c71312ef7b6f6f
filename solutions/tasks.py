"""Toy sequence tasks for the experiments, a random-search baseline and a character corpus.

Every generator is seeded: it takes ``seed``, an int or a ``np.random.Generator``. The same int
gives the same data. With a Generator the data continue its stream, so a training loop can pass
its own Generator and get a fresh batch at every step. Arrays are batch-first and numpy-only. The
inputs are float32 by default, ready for ``torch.from_numpy``. Class targets are int64.

Each task states the paper it comes from and the score of a predictor that ignores the input
(the constant or chance baseline). A model has learnt something only when it beats that score.

- adding problem, ``adding_problem``: x (n, T, 2), y (n, 1); constant-predictor MSE 1/6.
- temporal order, ``temporal_order``: x (n, T, 8), y (n,) in 0..3; chance accuracy 0.25.
- copy (memory) task, ``copy_task``: x (n, L, A+2), y (n, L); baseline ``copy_baseline_ce``.
- aⁿbⁿ and aⁿbⁿcⁿ, ``counting_batch`` / ``counting_task`` / ``counting_accuracy``: x (n, L, V),
  k-hot targets (n, L, V), mask (n, L).
- spike delays, ``spike_delays``: x (n, T, 1), y (n, 1); baseline ``spike_delay_baseline_mse``;
  ``spike_delay_hits`` (measured to the exact step).
- timed spike, ``timed_spike``: x (n, T, 1), y (n, T, 1), answer exactly d steps after a cue;
  ``timed_spike_hits`` (answered at exactly the right step).
- ``random_search``: the guessing baseline. ``load_corpus``, ``CharVocab``, ``text_batch`` and
  ``sample_text``: a character-level language model on the Book of Genesis.

Nothing here downloads anything. The corpus is a file in ``assets/corpus``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parents[1]
CORPUS_PATH = ROOT / "assets" / "corpus" / "genesis_kjv.txt"


# --------------------------------------------------------------------------------------------
# argument checks shared by the generators
# --------------------------------------------------------------------------------------------


def _rng(func: str, seed: int | np.random.Generator) -> np.random.Generator:
    """An int gives a new Generator; a Generator is used as it is (its stream continues)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(
            f"{func}: seed must be an int or a np.random.Generator, got {type(seed).__name__}; "
            "pass an int such as seed=0 to get the same data every time."
        )
    return np.random.default_rng(int(seed))


def _int_at_least(func: str, name: str, value: Any, minimum: int, why: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{func}: {name} must be an int, got {value!r}.")
    if value < minimum:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{func}: {name} must be at least {minimum}{reason}, got {name}={value}.")
    return int(value)


def _n_examples(func: str, n: Any) -> int:
    return _int_at_least(func, "n", n, 1, "the number of examples")


# --------------------------------------------------------------------------------------------
# adding problem
# --------------------------------------------------------------------------------------------

ADDING_BASELINE_MSE = 1.0 / 6.0
"""MSE of always predicting 1.0, the mean of the target. It equals Var(u1 + u2) = 2 * (1/12)."""


def adding_problem(
    n: int, T: int, seed: int | np.random.Generator = 0, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem: add the two marked numbers of a long sequence.

    From Hochreiter & Schmidhuber (1997), "Long Short-Term Memory", experiment 4. The course uses
    the simpler variant that most later papers use:

    - channel 0 holds values drawn from U(0, 1), one per step;
    - channel 1 is a marker. It is 1 at exactly two steps and 0 elsewhere. One marked step lies in
      the first half (0 <= t < T // 2) and the other in the second half (T // 2 <= t < T);
    - the target is the sum of the two marked values. It is in [0, 2] and its mean is 1.

    The original paper draws values from [-1, 1], puts the first marker among the first ten
    steps and uses the target 0.5 + (x1 + x2) / 4. Those details differ from the variant here.

    Baseline: a predictor that ignores the input does best by always answering the mean, 1.0.
    Its mean squared error is the variance of the sum of two independent U(0, 1) values,
    2 * 1/12 = 1/6 (``ADDING_BASELINE_MSE``). To solve the task, a model must keep both marked
    values for up to T - 1 steps.

    Args:
        n: number of examples (>= 1).
        T: sequence length (>= 2, so that each half holds one marker).
        seed: int or np.random.Generator.
        dtype: floating dtype of x and y.

    Returns:
        x: (n, T, 2). x[..., 0] holds the values and x[..., 1] the markers.
        y: (n, 1), the sum of the two marked values (computed in ``dtype``).
    """
    func = "adding_problem"
    n = _n_examples(func, n)
    T = _int_at_least(func, "T", T, 2, "one marker in each half needs two steps")
    rng = _rng(func, seed)
    values = rng.random((n, T)).astype(dtype)
    rows = np.arange(n)
    first = rng.integers(0, T // 2, size=n)  # first half: 0 .. T//2 - 1
    second = rng.integers(T // 2, T, size=n)  # second half: T//2 .. T-1
    markers = np.zeros((n, T), dtype=dtype)
    markers[rows, first] = 1
    markers[rows, second] = 1
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second])[:, None]
    return x, y.astype(dtype)


# --------------------------------------------------------------------------------------------
# temporal order
# --------------------------------------------------------------------------------------------

TEMPORAL_ORDER_SYMBOLS = "abcdXYBE"
"""Input symbols in one-hot order: distractors a b c d, relevant X Y, start B, end E."""
TEMPORAL_ORDER_CLASSES = ("XX", "XY", "YX", "YY")
"""Class k is the pair of relevant symbols in order of appearance (the paper's Q, R, S, U)."""
TEMPORAL_ORDER_CHANCE = 0.25


def _temporal_order_windows(T: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Windows for t1 and t2. T = 100 gives [10, 20] and [50, 60], as in the paper."""
    lo1 = max(1, T // 10)
    hi1 = max(lo1, T // 5)
    lo2 = max(hi1 + 1, T // 2)
    hi2 = min(T - 2, max(lo2, (3 * T) // 5))
    return (lo1, hi1), (lo2, hi2)


def _temporal_order_symbols(func, n, T, seed):
    n = _n_examples(func, n)
    T = _int_at_least(func, "T", T, 4, "start, two relevant symbols and end")
    rng = _rng(func, seed)
    (lo1, hi1), (lo2, hi2) = _temporal_order_windows(T)
    sym = rng.integers(0, 4, size=(n, T))  # distractors a..d
    sym[:, 0] = 6  # B
    sym[:, -1] = 7  # E
    rows = np.arange(n)
    t1 = rng.integers(lo1, hi1 + 1, size=n)
    t2 = rng.integers(lo2, hi2 + 1, size=n)
    is_y1 = rng.integers(0, 2, size=n)
    is_y2 = rng.integers(0, 2, size=n)
    sym[rows, t1] = 4 + is_y1  # X = 4, Y = 5
    sym[rows, t2] = 4 + is_y2
    labels = (2 * is_y1 + is_y2).astype(np.int64)
    return sym, labels


def temporal_order(
    n: int, T: int, seed: int | np.random.Generator = 0, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Temporal order: tell the order of two relevant symbols hidden among distractors.

    From Hochreiter & Schmidhuber (1997), experiment 6a. A sequence starts with B and ends with E.
    Every other step holds a distractor from {a, b, c, d}, except two steps t1 < t2 that hold X
    or Y. The class is the ordered pair: XX -> 0, XY -> 1, YX -> 2, YY -> 3 (the paper calls the
    classes Q, R, S, U). As in the paper, t1 lies in [T/10, T/5] and t2 in [T/2, 3T/5], rounded
    down. T = 100 gives [10, 20] and [50, 60]. The paper also varies the length between 100 and
    110. Here all sequences have length T so that they form one batch.

    The four classes are equally likely, so chance accuracy is 0.25 (``TEMPORAL_ORDER_CHANCE``).
    To beat it, a model must keep the first relevant symbol until the second one arrives.

    Args:
        n: number of examples (>= 1).
        T: sequence length (>= 4).
        seed: int or np.random.Generator.
        dtype: floating dtype of x.

    Returns:
        x: (n, T, 8), one-hot over ``TEMPORAL_ORDER_SYMBOLS`` = "abcdXYBE".
        y: (n,), int64 class in 0..3 (``TEMPORAL_ORDER_CLASSES``).
    """
    sym, labels = _temporal_order_symbols("temporal_order", n, T, seed)
    return np.eye(8, dtype=dtype)[sym], labels


def temporal_order_strings(
    n: int, T: int, seed: int | np.random.Generator = 0
) -> tuple[list[str], np.ndarray]:
    """The sequences of ``temporal_order`` as strings such as "BacXdbYcaE", with their labels.

    With the same seed this gives the same examples as ``temporal_order``, so it is useful for
    printing a few of them.
    """
    sym, labels = _temporal_order_symbols("temporal_order_strings", n, T, seed)
    table = np.array(list(TEMPORAL_ORDER_SYMBOLS))
    return ["".join(row) for row in table[sym]], labels


def temporal_order_label(s: str) -> int:
    """The class of one temporal-order string: the order of its X and Y (XX 0, XY 1, YX 2, YY 3)."""
    if set(s) - set(TEMPORAL_ORDER_SYMBOLS):
        bad = sorted(set(s) - set(TEMPORAL_ORDER_SYMBOLS))
        raise ValueError(f"temporal_order_label: symbols {bad} are not in 'abcdXYBE'.")
    relevant = "".join(c for c in s if c in "XY")
    if len(relevant) != 2:
        raise ValueError(
            f"temporal_order_label: expected exactly two relevant symbols (X or Y), "
            f"found {len(relevant)} in {s!r}."
        )
    return TEMPORAL_ORDER_CLASSES.index(relevant)


# --------------------------------------------------------------------------------------------
# copy (memory) task
# --------------------------------------------------------------------------------------------


def copy_task(
    n: int,
    K: int,
    delay: int,
    alphabet_size: int = 8,
    seed: int | np.random.Generator = 0,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Copy memory task: read K symbols, wait, then write them out again.

    Hochreiter & Schmidhuber (1997) used tasks like this one. The layout here follows the
    "copying memory problem" of Arjovsky, Shah & Bengio (2016), with ``delay`` in the role of
    their T. Symbol 0 is the blank, 1..A are the data symbols (A = ``alphabet_size``) and A + 1 is
    the delimiter. An input sequence has length L = delay + 2K:

        input:  s_1 .. s_K, (delay - 1) blanks, delimiter, K blanks
        target: (delay + K) blanks,                        s_1 .. s_K

    The K symbols are drawn uniformly from 1..A. The target is a class index at every step.

    Baseline (memoryless): predict a blank for the first delay + K steps and a uniform guess over
    the A symbols for the last K steps. Its mean cross-entropy per step is K log(A) / (delay + 2K)
    (``copy_baseline_ce``). A model beats it only by remembering the symbols.

    Args:
        n: number of examples (>= 1).
        K: number of symbols to copy (>= 1).
        delay: the delimiter comes delay steps after the last data symbol (>= 1).
        alphabet_size: A, number of data symbols (>= 2).
        seed: int or np.random.Generator.
        dtype: floating dtype of x.

    Returns:
        x: (n, L, A + 2), one-hot inputs over blank, 1..A, delimiter.
        y: (n, L), int64 targets in 0..A.
    """
    func = "copy_task"
    n = _n_examples(func, n)
    K = _int_at_least(func, "K", K, 1, "the number of symbols to copy")
    delay = _int_at_least(func, "delay", delay, 1, "the delimiter needs one step")
    A = _int_at_least(func, "alphabet_size", alphabet_size, 2, "one symbol needs no memory")
    rng = _rng(func, seed)
    L = delay + 2 * K
    data = rng.integers(1, A + 1, size=(n, K))
    inputs = np.zeros((n, L), dtype=np.int64)
    inputs[:, :K] = data
    inputs[:, K + delay - 1] = A + 1
    y = np.zeros((n, L), dtype=np.int64)
    y[:, -K:] = data
    return np.eye(A + 2, dtype=dtype)[inputs], y


def copy_baseline_ce(K: int, delay: int, alphabet_size: int = 8) -> float:
    """Per-step cross-entropy (nats) without memory in ``copy_task``: K log A / (delay + 2K)."""
    K = _int_at_least("copy_baseline_ce", "K", K, 1)
    delay = _int_at_least("copy_baseline_ce", "delay", delay, 1)
    A = _int_at_least("copy_baseline_ce", "alphabet_size", alphabet_size, 2)
    return K * math.log(A) / (delay + 2 * K)


# --------------------------------------------------------------------------------------------
# counting: a^n b^n and a^n b^n c^n
# --------------------------------------------------------------------------------------------

COUNTING_ALPHABETS = {"anbn": "SabT", "anbncn": "SabcT"}
"""One-hot order of the symbols: start S, the letters, end T."""


def _counting_kind(func: str, kind: str) -> str:
    if kind not in COUNTING_ALPHABETS:
        raise ValueError(f"{func}: kind must be 'anbn' or 'anbncn', got {kind!r}.")
    return COUNTING_ALPHABETS[kind]


def anbn_string(n: int) -> str:
    """'S' + 'a' * n + 'b' * n + 'T', for n >= 1."""
    n = _int_at_least("anbn_string", "n", n, 1, "the course leaves out the empty string")
    return "S" + "a" * n + "b" * n + "T"


def anbncn_string(n: int) -> str:
    """'S' + 'a' * n + 'b' * n + 'c' * n + 'T', for n >= 1."""
    n = _int_at_least("anbncn_string", "n", n, 1, "the course leaves out the empty string")
    return "S" + "a" * n + "b" * n + "c" * n + "T"


def is_valid_anbn(s: str) -> bool:
    """True if s is exactly S a^n b^n T for some n >= 1 (start and end symbols included)."""
    if not isinstance(s, str):
        return False
    n = s.count("a")
    return n >= 1 and s == "S" + "a" * n + "b" * n + "T"


def is_valid_anbncn(s: str) -> bool:
    """True if s is exactly S a^n b^n c^n T for some n >= 1 (start and end symbols included)."""
    if not isinstance(s, str):
        return False
    n = s.count("a")
    return n >= 1 and s == "S" + "a" * n + "b" * n + "c" * n + "T"


def next_symbol_sets(s: str, kind: str = "anbn") -> list[set[str]]:
    """The symbols that may legally come next, after each symbol of a valid string but the last.

    Next-symbol prediction as in Gers & Schmidhuber (2001), "LSTM recurrent networks learn simple
    context-free and context-sensitive languages". The network reads S a^n b^n T (or with c^n)
    one symbol at a time. After each symbol it predicts the set of symbols that may come next.
    Since n >= 1, after S the only legal symbol is a. While reading a's, both a and b are legal,
    because n is not known yet. After the first b everything is determined: n - 1 more b's (then
    T for aⁿbⁿ, or the c's and then T for aⁿbⁿcⁿ). Such steps are determined (one legal symbol).
    Only there can a model show that it counts.

    Example: next_symbol_sets("SaabbT") == [{a}, {a, b}, {a, b}, {b}, {T}].

    Args:
        s: a valid string (see ``is_valid_anbn`` / ``is_valid_anbncn``).
        kind: "anbn" or "anbncn".

    Returns:
        A list of len(s) - 1 sets. Entry t is the set of legal symbols after reading s[t].
    """
    _counting_kind("next_symbol_sets", kind)
    valid = is_valid_anbn(s) if kind == "anbn" else is_valid_anbncn(s)
    if not valid:
        raise ValueError(f"next_symbol_sets: {s!r} is not a valid {kind} string (S ... T, n >= 1).")
    n = s.count("a")
    sets = [{"a"}] + [{"a", "b"}] * n  # after S, after each a
    after_b = "c" if kind == "anbncn" else "T"
    sets += [{"b"}] * (n - 1) + [{after_b}]
    if kind == "anbncn":
        sets += [{"c"}] * (n - 1) + [{"T"}]
    return [set(x) for x in sets]


def counting_batch(
    n_values: Iterable[int], kind: str = "anbn", dtype=np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One padded batch of next-symbol prediction examples, one per n in ``n_values``.

    The input of example i is its string without the final T, one-hot encoded over
    ``COUNTING_ALPHABETS[kind]`` ("SabT" or "SabcT"). The target is a k-hot vector of the legal
    next symbols at every step (``next_symbol_sets``). Shorter examples are padded with zeros up
    to the longest one. ``mask`` marks the real steps. A loss should use the masked steps only,
    for example a binary cross-entropy per symbol as in Gers & Schmidhuber (2001).

    Baseline: a predictor without memory cannot know when the b's end. Even the best such
    predictor gets the last b (or the last c) of every string wrong, except by chance.

    Args:
        n_values: the n of each example (each >= 1).
        kind: "anbn" or "anbncn".
        dtype: floating dtype of x and targets.

    Returns:
        x: (B, L, V) one-hot inputs, with L = the longest input length (k n + 1 for k letters).
        targets: (B, L, V) k-hot legal next symbols.
        mask: (B, L) bool, True at real (unpadded) steps.
    """
    alphabet = _counting_kind("counting_batch", kind)
    make = anbn_string if kind == "anbn" else anbncn_string
    strings = [make(n) for n in n_values]
    if not strings:
        raise ValueError("counting_batch: n_values is empty; give at least one n.")
    index = {c: i for i, c in enumerate(alphabet)}
    B, L, V = len(strings), max(len(s) for s in strings) - 1, len(alphabet)
    x = np.zeros((B, L, V), dtype=dtype)
    targets = np.zeros((B, L, V), dtype=dtype)
    mask = np.zeros((B, L), dtype=bool)
    for i, s in enumerate(strings):
        for t, (c, legal) in enumerate(zip(s[:-1], next_symbol_sets(s, kind), strict=True)):
            x[i, t, index[c]] = 1
            targets[i, t, [index[d] for d in legal]] = 1
            mask[i, t] = True
    return x, targets, mask


def counting_task(
    n: int,
    n_max: int,
    kind: str = "anbn",
    n_min: int = 1,
    seed: int | np.random.Generator = 0,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random batch for training: ``n`` strings with their n drawn uniformly from n_min..n_max.

    Returns ``counting_batch`` of the drawn values: x (n, L, V), targets (n, L, V), mask (n, L).
    """
    func = "counting_task"
    n = _n_examples(func, n)
    n_min = _int_at_least(func, "n_min", n_min, 1)
    n_max = _int_at_least(func, "n_max", n_max, n_min, "n_max must not be below n_min")
    rng = _rng(func, seed)
    return counting_batch(rng.integers(n_min, n_max + 1, size=n).tolist(), kind, dtype)


def _to_numpy(a: Any) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def counting_accuracy(
    predict_fn: Callable[[np.ndarray], Any], n_values: Iterable[int], kind: str = "anbn"
) -> dict[int, bool]:
    """For each n, whether a model gets every determined prediction on S a^n b^n (c^n) T right.

    ``predict_fn`` gets the one-hot input of one string, x of shape (1, L, V) (float32, as from
    ``counting_batch([n], kind)``). It returns scores for the next symbol of shape (1, L, V) or
    (L, V), as a numpy array or a torch tensor (logits, probabilities, anything where the largest
    value is the prediction). At every determined step (exactly one legal next symbol) the argmax
    must be that symbol. The steps while reading a's have two legal symbols and are not scored.
    The criterion is that of Gers & Schmidhuber (2001): a string counts as learnt only if all its
    determined predictions are right. Call this with n beyond the training range to see whether
    a model generalises.

    Returns:
        {n: True if all determined predictions for that n are right}.
    """
    alphabet = _counting_kind("counting_accuracy", kind)
    make = anbn_string if kind == "anbn" else anbncn_string
    result = {}
    for n in n_values:
        s = make(n)
        x, _, _ = counting_batch([n], kind)
        scores = _to_numpy(predict_fn(x))
        L, V = x.shape[1:]
        if scores.shape not in ((1, L, V), (L, V)):
            raise ValueError(
                f"counting_accuracy: predict_fn returned shape {scores.shape} for input shape "
                f"{x.shape}; expected (1, {L}, {V}) or ({L}, {V}), one score per symbol and step."
            )
        predicted = scores.reshape(L, V).argmax(axis=-1)
        ok = True
        for t, legal in enumerate(next_symbol_sets(s, kind)):
            if len(legal) == 1 and alphabet[predicted[t]] not in legal:
                ok = False
                break
        result[int(n)] = ok
    return result


# --------------------------------------------------------------------------------------------
# spike delays (timing; where peepholes should help)
# --------------------------------------------------------------------------------------------


def spike_delays(
    n: int,
    T: int,
    d_min: int,
    d_max: int,
    seed: int | np.random.Generator = 0,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Measure the delay between two spikes, a timing task for peephole LSTMs.

    A simplified, one-shot version of the "measuring spike delays" task in Gers, Schraudolph &
    Schmidhuber (2002), "Learning precise timing with LSTM recurrent networks". The single input
    channel is 0 except at two steps, where it is 1 (the spikes). The delay d between them is
    drawn uniformly from the integers d_min..d_max. The first spike falls uniformly at a step
    from 0 to T - 1 - d, so the second one always falls inside the sequence. At the last step
    the model must output the delay scaled to [0, 1]: (d - d_min) / (d_max - d_min).

    Baseline: the best constant prediction is 0.5. Its MSE is the variance of the scaled delay,
    (m + 1) / (12 (m - 1)) with m = d_max - d_min + 1 possible delays
    (``spike_delay_baseline_mse``). This tends to 1/12 for many delays.

    Args:
        n: number of examples (>= 1).
        T: sequence length (> d_max).
        d_min, d_max: shortest and longest delay in steps, 1 <= d_min < d_max <= T - 1.
        seed: int or np.random.Generator.
        dtype: floating dtype of x and y.

    Returns:
        x: (n, T, 1), two ones per row.
        y: (n, 1), the scaled delay.
    """
    func = "spike_delays"
    n = _n_examples(func, n)
    d_min = _int_at_least(func, "d_min", d_min, 1, "two spikes need distinct steps")
    d_max = _int_at_least(func, "d_max", d_max, d_min + 1, "the delay must vary")
    T = _int_at_least(func, "T", T, d_max + 1, "both spikes must fit: T > d_max")
    rng = _rng(func, seed)
    d = rng.integers(d_min, d_max + 1, size=n)
    start = rng.integers(0, T - d)  # 0 .. T - 1 - d, one bound per example
    x = np.zeros((n, T, 1), dtype=dtype)
    rows = np.arange(n)
    x[rows, start, 0] = 1
    x[rows, start + d, 0] = 1
    y = ((d - d_min) / (d_max - d_min))[:, None]
    return x, y.astype(dtype)


def timed_spike(
    n: int,
    T: int,
    delay: int,
    seed: int | np.random.Generator = 0,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Answer a cue exactly ``delay`` steps later: a spike-timing task for peephole LSTMs.

    A one-shot version of the timing tasks in Gers, Schraudolph & Schmidhuber (2002), where
    an LSTM has to produce a spike at a precise time. The single input channel is 0 except at
    one step s, where it is 1 (the cue). The target is 0 at every step except at s + delay,
    where it is 1: the network must count ``delay`` steps on its own and answer at exactly
    that step, not one step early or late. The cue falls uniformly at a step from 0 to
    T - 1 - delay, so the answer always falls inside the sequence.

    Baseline: answering 0 everywhere has the MSE 1/T per step (one target step of T is 1).
    ``timed_spike_hits`` says which sequences a model answers at exactly the right step.

    Args:
        n: number of examples (>= 1).
        T: sequence length (> delay).
        delay: steps from the cue to the answer (>= 1).
        seed: int or np.random.Generator.
        dtype: floating dtype of x and y.

    Returns:
        x: (n, T, 1), one 1 per row (the cue).
        y: (n, T, 1), one 1 per row, ``delay`` steps after the cue.
    """
    func = "timed_spike"
    n = _n_examples(func, n)
    delay = _int_at_least(func, "delay", delay, 1, "the answer must come after the cue")
    T = _int_at_least(func, "T", T, delay + 1, "the cue and the answer must fit: T > delay")
    rng = _rng(func, seed)
    start = rng.integers(0, T - delay, size=n)  # 0 .. T - 1 - delay
    x = np.zeros((n, T, 1), dtype=dtype)
    y = np.zeros((n, T, 1), dtype=dtype)
    rows = np.arange(n)
    x[rows, start, 0] = 1
    y[rows, start + delay, 0] = 1
    return x, y


def timed_spike_hits(output: Any, y: Any, threshold: float = 0.5) -> np.ndarray:
    """Which sequences of ``timed_spike`` a model answers at exactly the right step.

    A sequence counts as a hit when the output is above ``threshold`` at the target step and
    at or below it at every other step: a spike one step early or late, a second spike or no
    spike at all is a miss.

    Args:
        output: the model's output, (n, T) or (n, T, 1), numpy or torch.
        y: the targets of ``timed_spike``, same shape.
        threshold: where an output counts as a spike (0.5: half way between 0 and 1).

    Returns:
        hits: (n,) booleans.
    """
    out, y = _to_numpy(output), _to_numpy(y)
    if out.shape != y.shape or out.ndim not in (2, 3) or (out.ndim == 3 and out.shape[2] != 1):
        raise ValueError(
            f"timed_spike_hits: output has shape {out.shape} and y {y.shape}; expected both "
            "(n, T) or both (n, T, 1), the shape timed_spike returns."
        )
    out, y = out.reshape(out.shape[0], -1), y.reshape(y.shape[0], -1)
    return np.all((out > threshold) == (y > 0.5), axis=1)


def spike_delay_hits(output: Any, y: Any, d_min: int, d_max: int) -> np.ndarray:
    """Which sequences of ``spike_delays`` a model measures to the exact step.

    The scaled prediction is turned back into steps, d_min + output (d_max - d_min), and
    rounded; a hit is a rounded delay equal to the true one (an error below half a step).

    Args:
        output: the model's prediction of the scaled delay, (n, 1) or (n,), numpy or torch.
        y: the targets of ``spike_delays``, same shape.
        d_min, d_max: the delay range the data was made with.

    Returns:
        hits: (n,) booleans.
    """
    out, y = _to_numpy(output).reshape(-1), _to_numpy(y).reshape(-1)
    if out.shape != y.shape:
        raise ValueError(
            f"spike_delay_hits: output has {out.size} values and y {y.size}; expected one "
            "prediction per sequence."
        )
    span = d_max - d_min
    return np.abs((out - y) * span) < 0.5


def spike_delay_baseline_mse(d_min: int, d_max: int) -> float:
    """MSE of always answering 0.5 in ``spike_delays``: (m + 1) / (12 (m - 1)), m = #delays."""
    d_min = _int_at_least("spike_delay_baseline_mse", "d_min", d_min, 1)
    d_max = _int_at_least("spike_delay_baseline_mse", "d_max", d_max, d_min + 1)
    m = d_max - d_min + 1
    return (m + 1) / (12 * (m - 1))


# --------------------------------------------------------------------------------------------
# random-search baseline
# --------------------------------------------------------------------------------------------


def random_search(
    make_model: Callable[[], torch.nn.Module],
    evaluate: Callable[[torch.nn.Module], float],
    trials: int,
    seed: int = 0,
    scale: float = 1.0,
    target: float | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Guess weights at random and keep the best model: the baseline for "needs long memory".

    Hochreiter & Schmidhuber pointed out that random weight guessing solves some toy tasks used
    to show long-term memory faster than gradient training does. A task that guessing solves
    proves little. At each trial this function builds ``make_model()`` and sets every parameter
    to values drawn from U(-scale, scale). It then scores the model with ``evaluate(model)``,
    where lower is better (pass an MSE or an error rate, not an accuracy). ``evaluate`` runs under
    ``torch.no_grad()``.

    Args:
        make_model: returns a fresh model.
        evaluate: model -> score (float, lower is better), e.g. the MSE on a fixed test batch.
        trials: how many guesses (>= 1).
        seed: seeds the guesses (a torch.Generator of its own; the global RNG is not touched).
        scale: a in U(-a, a).
        target: if given, stop at the first score <= target.
        progress: show a tqdm progress bar, and print one summary line at the end.

    Returns:
        dict with ``best_score``, ``best_trial`` (0-based), ``scores`` (one per trial run),
        ``best_state`` (a state_dict copy of the best model) and ``solved`` (whether ``target``
        was reached; None without a target).
    """
    trials = _int_at_least("random_search", "trials", trials, 1)
    if not scale > 0:
        raise ValueError(f"random_search: scale must be positive, got {scale}.")
    gen = torch.Generator().manual_seed(int(seed))
    scores: list[float] = []
    best_score, best_trial, best_state = math.inf, -1, None
    for trial in tqdm(range(trials), disable=not progress, desc="random search"):
        model = make_model()
        with torch.no_grad():
            for p in model.parameters():
                guess = torch.rand(p.shape, generator=gen, dtype=torch.float64)
                p.copy_((2 * guess - 1) * scale)
            score = float(evaluate(model))
        scores.append(score)
        if score < best_score or best_state is None:
            best_score, best_trial = score, trial
            best_state = copy.deepcopy(model.state_dict())
        if target is not None and score <= target:
            break
    solved = None if target is None else best_score <= target
    if progress:
        print(
            f"random search: {len(scores)} trials, best score {best_score:.4g} (trial {best_trial})"
        )
    return {
        "best_score": best_score,
        "best_trial": best_trial,
        "scores": scores,
        "best_state": best_state,
        "solved": solved,
    }


# --------------------------------------------------------------------------------------------
# character corpus
# --------------------------------------------------------------------------------------------


def load_corpus(path: str | Path | None = None) -> str:
    """Read a text corpus. By default: the Book of Genesis (KJV), one verse per line.

    The default file is ``assets/corpus/genesis_kjv.txt``; ``assets/corpus/SOURCE.md`` says
    where it comes from. Nothing is downloaded.
    """
    p = CORPUS_PATH if path is None else Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"load_corpus: no file at {p}. The default corpus lives in assets/corpus/ of the "
            "course repository; pass path=... to use another text file."
        )
    return p.read_text(encoding="utf-8")


class CharVocab:
    """Characters of a text <-> integer ids 0..V-1, in sorted character order.

    >>> v = CharVocab("hello")
    >>> v.chars, v.encode("hole").tolist(), v.decode([3, 1])
    ('ehlo', [1, 3, 2, 0], 'oh')
    """

    def __init__(self, text: str):
        if not isinstance(text, str) or not text:
            raise ValueError("CharVocab: text must be a non-empty string.")
        self.chars = "".join(sorted(set(text)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters: {self.chars!r})"

    def encode(self, s: str) -> np.ndarray:
        """String -> int64 ids (len(s),). A character that is not in the text raises ValueError."""
        try:
            return np.array([self.index[c] for c in s], dtype=np.int64)
        except KeyError as e:
            c = e.args[0]
            raise ValueError(
                f"CharVocab.encode: character {c!r} (U+{ord(c):04X}) at position {s.index(c)} "
                f"is not in the vocabulary of {len(self)} characters {self.chars!r}."
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        """Ids (any iterable of ints or a 1-d array) -> string."""
        if isinstance(ids, np.ndarray | torch.Tensor):
            arr = _to_numpy(ids).reshape(-1)
        else:
            arr = np.array(list(ids), dtype=np.int64)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"CharVocab.decode: ids must be integers, got dtype {arr.dtype}.")
        bad = arr[(arr < 0) | (arr >= len(self))]
        if bad.size:
            raise ValueError(
                f"CharVocab.decode: id {bad[0]} is out of range; ids run from 0 to {len(self) - 1}."
            )
        return "".join(self.chars[i] for i in arr.tolist())

    def one_hot(self, ids: Any, dtype=np.float32) -> np.ndarray:
        """Ids of any shape (...) -> one-hot array (..., V)."""
        return np.eye(len(self), dtype=dtype)[_to_numpy(ids)]


def text_batch(
    ids: np.ndarray, n: int, T: int, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random windows of an encoded text for a character language model.

    Args:
        ids: the encoded text, (len,) ints (``CharVocab.encode(text)``).
        n: number of windows (>= 1).
        T: window length (>= 1, < len(ids)).
        seed: int or np.random.Generator.

    Returns:
        x: (n, T) int64 ids; y: (n, T) the next character after each one (x shifted by one).
    """
    func = "text_batch"
    n = _n_examples(func, n)
    ids = np.asarray(ids)
    T = _int_at_least(func, "T", T, 1)
    if ids.ndim != 1 or len(ids) <= T:
        raise ValueError(
            f"text_batch: ids must be 1-d and longer than T={T}, got shape {ids.shape}."
        )
    rng = _rng(func, seed)
    start = rng.integers(0, len(ids) - T, size=n)[:, None] + np.arange(T)
    return ids[start].astype(np.int64), ids[start + 1].astype(np.int64)


def sample_text(
    step_fn: Callable[[int, Any], tuple[Any, Any]],
    vocab: CharVocab,
    prime: str,
    length: int,
    temperature: float = 1.0,
    seed: int | np.random.Generator = 0,
) -> str:
    """Generate text one character at a time from any model with a step function.

    ``step_fn(char_id, state) -> (logits, new_state)`` reads one character id and returns
    unnormalised scores for the next character, of shape (V,) or anything with V elements, as numpy
    or torch. It also returns the model's state. The first call gets ``state=None``. The prime is
    fed in first. Then each next character is drawn from softmax(logits / temperature) and fed
    back. ``temperature=0`` takes the most likely character every time.

    Returns:
        ``prime`` followed by ``length`` generated characters.
    """
    func = "sample_text"
    if not isinstance(prime, str) or not prime:
        raise ValueError(
            f"{func}: prime must be a non-empty string; the model needs a first input."
        )
    length = _int_at_least(func, "length", length, 0)
    if not temperature >= 0:
        raise ValueError(f"{func}: temperature must be >= 0, got {temperature}.")
    rng = _rng(func, seed)
    V = len(vocab)
    state = None
    for i in vocab.encode(prime):
        logits, state = step_fn(int(i), state)
    out: list[int] = []
    for k in range(length):
        z = _to_numpy(logits).astype(np.float64).reshape(-1)
        if z.size != V:
            raise ValueError(f"{func}: step_fn returned {z.size} scores for a vocabulary of {V}.")
        if temperature == 0:
            nxt = int(z.argmax())
        else:
            p = np.exp((z - z.max()) / temperature)  # shifted so that nothing overflows
            nxt = int(rng.choice(V, p=p / p.sum()))
        out.append(nxt)
        if k < length - 1:
            logits, state = step_fn(nxt, state)
    return prime + vocab.decode(out)
