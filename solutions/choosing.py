r"""Choosing a gated cell (notebook 06): cost model, bits per character, sampling, count probe.

Symbol key: N batch size, T time steps, D input size, H hidden size, V vocabulary size (the
number of distinct characters or symbols), S independent seeds trained side by side.

Graded pieces of notebook 06 (each a reference solution the notebook embeds):

* :func:`cell_cost`: parameters and multiply-adds per time step of the RNN, GRU, LSTM, peephole
  LSTM and CIFG, as functions of D and H (PyTorch's layout: two bias vectors per cell).
* :func:`bits_per_char`: softmax cross-entropy over every step, averaged over batch *and* time,
  in bits (base-2 logarithm).
* :func:`temperature_softmax` and :func:`sample_next`: softmax(z / tau) and one seeded draw
  from it; tau = 0 means the argmax.
* :func:`count_probe`: a least-squares fit of the running count n_a - n_b on the LSTM's cell
  state c_t (not its hidden state h_t).

Tools for the experiments (given code in the notebook):

* :class:`GRU`: a self-contained from-scratch GRU in PyTorch's form, the twin of notebook 03's
  self-contained LSTM (``solutions.modules.LSTM``), so the notebook can time both without the
  reference package.
* :func:`time_forward_backward`: interleaved timing of forward + backward passes.
* :class:`SeedBatchedRNN`: S small RNNs, GRUs or LSTMs with their own weights, run as one batched
  model (one ``bmm`` per step for all seeds), so that five seeds train in the time of one.
* :func:`counting_reach`: the largest n up to which every determined next-symbol prediction on
  aⁿbⁿ is right, from a batch of scores.
* :func:`chunk_streams`: a text cut into B parallel streams for truncated backpropagation through
  time; :func:`unigram_entropy`: the bits per character of a model that ignores the context.

References: Chung et al. 2014 (GRU vs LSTM on music and speech); Jozefowicz, Zaremba & Sutskever
2015 (10,000 architectures, the forget bias of 1); Gers & Schmidhuber 2001 and Weiss, Goldberg &
Yahav 2018 (counting); Karpathy's char-rnn (character models and temperature).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from solutions.lstm import lstm_forward


def cell_cost(cell: str, D: int, H: int) -> dict[str, int]:
    r"""Parameters and multiply-adds per time step and example of one recurrent cell.

    Every cell stacks G gate blocks (RNN 1, GRU 3, LSTM 4, peephole LSTM 4, CIFG 3) in PyTorch's
    layout: ``weight_ih`` (G H, D), ``weight_hh`` (G H, H) and two biases ``bias_ih``,
    ``bias_hh`` (G H,) each. The peephole LSTM adds three diagonal vectors (H,).

        params = G H (D + H) + 2 G H  (+ 3 H for the peephole vectors)

    Multiply-adds (MACs) per step for one example: each weight entry multiplies exactly one
    input, state or cell value once per step, so the count is the number of weights (biases
    excluded; they are added, not multiplied):

        macs = G H (D + H)            (+ 3 H for the peepholes)

    The element-wise products of the gates (f c, i g, o tanh c ...) and the nonlinearities are
    not counted: they are O(H) against the O(H (D + H)) of the matrix products.

    Args:
        cell: "rnn", "gru", "lstm", "peephole" or "cifg".
        D: input size (>= 1). H: hidden size (>= 1).

    Returns:
        {"params": int, "macs": int}.

    Raises:
        ValueError: for any other cell name (the message lists the five), or D or H not a
            positive int.
    """
    blocks = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}  # G of each cell
    if cell not in blocks:
        raise ValueError(f"cell_cost: cell must be one of {tuple(blocks)}, got {cell!r}.")
    for name, value in (("D", D), ("H", H)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"cell_cost: {name} must be a positive int, got {value!r}.")
    G = blocks[cell]
    vectors = 3 * H if cell == "peephole" else 0  # the diagonal peepholes p_i, p_f, p_o
    weights = G * H * (D + H)  # weight_ih (GH, D) and weight_hh (GH, H)
    biases = 2 * G * H  # bias_ih and bias_hh
    return {"params": int(weights + biases + vectors), "macs": int(weights + vectors)}


def bits_per_char(logits: np.ndarray, targets: np.ndarray) -> float:
    r"""Softmax cross-entropy of next-character predictions, averaged over every step, in bits.

    For logits z (N, T, V) and target ids y (N, T):

        bpc = -(1 / (N T)) sum_{n, t} log2 softmax(z[n, t])[y[n, t]]

    the mean over the batch *and* over time (every character counts once), with the base-2
    logarithm: log2 p = ln p / ln 2. It equals ``F.cross_entropy(...) / math.log(2)``. The
    log-softmax is computed with the largest logit subtracted first, so large logits do not
    overflow.

    Args:
        logits: (N, T, V) unnormalised scores for the next character at every step.
        targets: (N, T) integer ids in 0..V-1, the character that actually came next.

    Returns:
        A float: bits per character.
    """
    z = np.asarray(logits, dtype=np.float64)  # (N, T, V)
    y = np.asarray(targets)  # (N, T)
    z = z - z.max(axis=-1, keepdims=True)  # shift: exp never overflows
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # (N, T, V) natural log-softmax
    picked = np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]  # (N, T)
    return float(-picked.mean() / np.log(2.0))


def temperature_softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    r"""The sampling distribution softmax(z / tau) over the last axis; tau = 0 gives the argmax.

    The temperature tau divides the logits *before* the softmax: tau < 1 sharpens the
    distribution, tau > 1 flattens it, tau = 1 leaves it as the model predicts. As tau -> 0 it
    tends to all the mass on the largest logit, which ``temperature == 0`` returns exactly (a
    one-hot row; the first index on a tie, as ``argmax`` does).

    Args:
        logits: (..., V) unnormalised scores.
        temperature: tau >= 0.

    Returns:
        (..., V) probabilities: non-negative, each row summing to 1.
    """
    z = np.asarray(logits, dtype=np.float64)  # (..., V)
    if temperature == 0:
        return np.eye(z.shape[-1])[z.argmax(axis=-1)]  # (..., V) one-hot
    z = z / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # shifted so that nothing overflows
    return e / e.sum(axis=-1, keepdims=True)


def sample_next(
    logits: np.ndarray, temperature: float, seed: int | np.random.Generator
) -> np.ndarray:
    r"""Draw one id per row from softmax(logits / tau), seeded; tau = 0 takes the argmax.

    Args:
        logits: (N, V) unnormalised scores, one row per sequence being generated.
        temperature: tau >= 0.
        seed: an int or a ``np.random.Generator``; ``np.random.default_rng(seed)`` accepts both
            (a Generator continues its own stream, so a generation loop gets fresh draws).

    Returns:
        (N,) int64 ids, entry n drawn with probabilities ``temperature_softmax(logits[n], tau)``.

    Temperature 0 is no special case: the draw is made as at any other temperature (so a
    Generator passed in always moves on), and the one-hot row of ``temperature_softmax`` makes
    it land on the argmax.
    """
    rng = np.random.default_rng(seed)
    p = temperature_softmax(logits, temperature)  # (N, V)
    u = rng.random(p.shape[0])  # (N,) one uniform number per row
    cdf = np.cumsum(p, axis=-1)  # (N, V)
    ids = (cdf < u[:, None]).sum(axis=-1)  # the first index whose cdf reaches u
    return np.minimum(ids, p.shape[-1] - 1).astype(np.int64)  # rounding: cdf[-1] may be < u


def count_probe(
    x: np.ndarray, mask: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, float, float]:
    r"""Read the count n_a - n_b off an LSTM's cell state with a least-squares linear probe.

    Runs the LSTM (row-vector convention, blocks i, f, g, o, zero initial states) over the
    one-hot aⁿbⁿ inputs x with ``lstm_forward``, takes the **cell states** c_t (not h_t) at
    every real step (``mask``), and fits

        n_a(t) - n_b(t)  ~  c_t w + w_0

    by least squares with an intercept w_0, where n_a(t) and n_b(t) count the a's and b's among
    the symbols read up to and including step t. Symbol order of the one-hot code: S, a, b, T
    (column 1 is a, column 2 is b).

    Args:
        x: (N, L, 4) one-hot inputs (``counting_batch``).
        mask: (N, L) bool, True at the real (unpadded) steps.
        Wx: (4, 4H), Wh: (H, 4H), b: (4H,) the LSTM's weights.

    Returns:
        w: (H,) float64 probe weights; w0: the intercept (float); r2: the coefficient of
        determination 1 - sum(residual^2) / sum((count - mean count)^2) over the masked steps
        (float). The computation is in float64 whatever the dtype of x (a float32 x is
        converted first), so w is float64.
    """
    x = np.asarray(x, dtype=np.float64)  # (N, L, 4), float64 whatever it came as
    N, H = x.shape[0], Wh.shape[0]
    zeros = np.zeros((N, H))
    _, c, _ = lstm_forward(x, zeros, zeros, Wx, Wh, b)  # c (N, L, H)
    count = np.cumsum(x[..., 1] - x[..., 2], axis=1)  # (N, L): n_a - n_b after step t
    C = c[mask]  # (M, H), the real steps only
    y = count[mask]  # (M,)
    A = np.hstack([C, np.ones((len(C), 1))])  # (M, H + 1): the last column is the intercept
    coef = np.linalg.lstsq(A, y, rcond=None)[0]  # (H + 1,)
    residual = y - A @ coef
    r2 = 1.0 - (residual @ residual) / ((y - y.mean()) @ (y - y.mean()))
    return coef[:H], float(coef[H]), float(r2)


# --------------------------------------------------------------------------------------------
# measured cost
# --------------------------------------------------------------------------------------------


class GRU(nn.Module):
    r"""A single-layer GRU in PyTorch's form, from scratch; equal to ``torch.nn.GRU``.

    Self-contained like notebook 03's LSTM (``solutions.modules.LSTM``), so that notebook 06 can
    embed both and time them. One step (row vectors, ``*`` element-wise, blocks r, z, n):

        [x_r | x_z | x_n] = x_t W_ih^T + b_ih          (N, 3H), all steps in one product
        [h_r | h_z | h_n] = h_{t-1} W_hh^T + b_hh      (N, 3H)
        r_t = sigmoid(x_r + h_r),  z_t = sigmoid(x_z + h_z)
        n_t = tanh(x_n + r_t * h_n)                    reset applied AFTER the product
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    Args:
        input_size: D. hidden_size: H. batch_first: (N, T, ·) instead of (T, N, ·).

    Parameters (U(-1/sqrt(H), 1/sqrt(H)), as in torch.nn.GRU): weight_ih_l0 (3H, D),
    weight_hh_l0 (3H, H), bias_ih_l0 (3H,), bias_hh_l0 (3H,).

    Inputs: input (T, N, D) or (N, T, D); hx (1, N, H) or None for zeros.
    Outputs: output (T, N, H) or (N, T, H); h_n (1, N, H).
    """

    def __init__(self, input_size: int, hidden_size: int, batch_first: bool = False) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.batch_first = input_size, hidden_size, batch_first
        G = 3 * hidden_size  # three blocks r, z, n
        self.weight_ih_l0 = nn.Parameter(torch.empty(G, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(G, hidden_size))
        self.bias_ih_l0 = nn.Parameter(torch.empty(G))
        self.bias_hh_l0 = nn.Parameter(torch.empty(G))
        bound = 1.0 / math.sqrt(hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None):
        x = input.transpose(0, 1) if self.batch_first else input  # (T, N, D)
        h = x.new_zeros(x.shape[1], self.hidden_size) if hx is None else hx[0]  # (N, H)
        xw = x @ self.weight_ih_l0.T + self.bias_ih_l0  # (T, N, 3H)
        w_hh = self.weight_hh_l0.T  # (H, 3H)
        outputs = []
        for xw_t in xw.unbind(0):  # (N, 3H) per step
            x_r, x_z, x_n = xw_t.chunk(3, dim=1)
            h_r, h_z, h_n = torch.addmm(self.bias_hh_l0, h, w_hh).chunk(3, dim=1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * h_n)
            h = n + z * (h - n)  # = (1 - z) * n + z * h
            outputs.append(h)
        output = torch.stack(outputs, dim=1 if self.batch_first else 0)
        return output, h.unsqueeze(0)


def time_forward_backward(
    models: dict[str, nn.Module],
    x: torch.Tensor,
    repeats: int = 5,
    warmup: int = 1,
) -> dict[str, float]:
    """The fastest of ``repeats`` forward + backward passes per model, interleaved.

    Each round runs every model once, starting at a different one, so that a busy moment of a
    shared machine hits every model alike (as ``benchmarks/bench_cells.py`` does). The backward
    pass is that of ``output.sum()``: it computes the gradient of every weight. The minimum over
    the rounds, not the median, is reported: other work on the machine only ever adds time, so
    with few rounds the fastest is the steadiest estimate of what the model itself costs.

    Args:
        models: name -> a recurrent module taking x and returning (output, state).
        x: the input, in the layout the modules expect.
        repeats: timed rounds (the fastest is reported). warmup: untimed rounds first.

    Returns:
        name -> seconds (the minimum over the rounds).
    """
    names = list(models)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(warmup + repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            model = models[name]
            model.zero_grad(set_to_none=True)
            t0 = time.perf_counter()
            model(x)[0].sum().backward()
            if r >= warmup:
                times[name].append(time.perf_counter() - t0)
    return {n: min(t) for n, t in times.items()}


def fit_fixed_plus_linear(work: Sequence[float], seconds: Sequence[float]) -> tuple[float, float]:
    """Fit seconds = a + b * work (a: the fixed cost, b: the cost per unit of work).

    Least squares on the *relative* residuals, (a + b w - s) / s, so that the small times, where
    the fixed part shows, weigh as much as the large ones (an ordinary fit would be decided by
    the largest sizes alone). Returns (a, b). The crossover work a / b is where both parts are
    equal: below it the fixed cost per operation dominates, above it the arithmetic does.
    """
    w = np.asarray(work, dtype=np.float64)
    s = np.asarray(seconds, dtype=np.float64)
    A = np.stack([np.ones_like(w), w], axis=1) / s[:, None]  # each row divided by its time
    a, slope = np.linalg.lstsq(A, np.ones_like(s), rcond=None)[0]
    return float(a), float(slope)


# --------------------------------------------------------------------------------------------
# counting: several seeds as one batched model
# --------------------------------------------------------------------------------------------


class SeedBatchedRNN(nn.Module):
    r"""S independent recurrent networks with a linear readout, run side by side as one model.

    Seed s has its own weights (row-vector convention, x W): ``W_x[s]`` (D, G H), ``W_h[s]``
    (H, G H), ``b[s]`` (G H,), readout ``W_y[s]`` (H, V), ``b_y[s]`` (V,). Every step does one
    batched product ``torch.baddbmm`` for all seeds. The losses of the seeds are summed, so
    each seed's gradient depends on its own loss only, and Adam (element-wise) keeps them
    independent; clip each seed's gradient with :meth:`clip_per_seed`.

    cell "rnn": h = tanh(a) (G = 1).
    cell "gru": PyTorch's form, blocks r, z, n, reset after the product; one bias per block
        (the two biases of PyTorch only differ for the n block, kept here as ``b_hn``).
    cell "lstm": blocks i, f, g, o; c = f c + i g, h = o tanh(c); ``forget_bias`` is added to
        the initial f block of b.

    Initial weights: U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, from a torch.Generator seeded
    with ``seed`` (seed s of the batch uses the stream after seeds 0..s-1).

    Input x (S, N, T, D) or (N, T, D) (the same data for every seed); output (S, N, T, V).
    """

    def __init__(
        self,
        cell: str,
        S: int,
        D: int,
        H: int,
        V: int,
        seed: int = 0,
        forget_bias: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in ("rnn", "gru", "lstm"):
            raise ValueError(f"SeedBatchedRNN: cell must be 'rnn', 'gru' or 'lstm', got {cell!r}.")
        self.cell, self.S, self.D, self.H, self.V = cell, S, D, H, V
        G = {"rnn": 1, "gru": 3, "lstm": 4}[cell]  # gate blocks h; r, z, n; i, f, g, o
        gen = torch.Generator().manual_seed(seed)
        bound = 1.0 / math.sqrt(H)

        def uniform(*shape):
            return nn.Parameter((2 * torch.rand(*shape, generator=gen) - 1) * bound)

        self.W_x, self.W_h, self.b = uniform(S, D, G * H), uniform(S, H, G * H), uniform(S, G * H)
        if cell == "gru":
            self.b_hn = uniform(S, H)
        if cell == "lstm":
            with torch.no_grad():
                self.b[:, H : 2 * H] += forget_bias
        self.W_y, self.b_y = uniform(S, H, V), uniform(S, V)

    def states(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Hidden states (S, N, T, H) and, for an LSTM, cell states (S, N, T, H) (else None)."""
        if x.dim() == 3:
            x = x.expand(self.S, *x.shape)  # the same data for every seed
        S, N, T, _ = x.shape
        H = self.H
        xw = torch.einsum("sntd,sdg->tsng", x, self.W_x) + self.b[None, :, None]  # (T, S, N, GH)
        h = x.new_zeros(S, N, H)
        c = x.new_zeros(S, N, H)
        hs, cs = [], []
        for xw_t in xw.unbind(0):  # (S, N, GH)
            if self.cell == "rnn":
                h = torch.baddbmm(xw_t, h, self.W_h).tanh()
            elif self.cell == "gru":
                hw = torch.bmm(h, self.W_h)  # (S, N, 3H)
                r = torch.sigmoid(xw_t[..., :H] + hw[..., :H])
                z = torch.sigmoid(xw_t[..., H : 2 * H] + hw[..., H : 2 * H])
                n = torch.tanh(xw_t[..., 2 * H :] + r * (hw[..., 2 * H :] + self.b_hn[:, None]))
                h = n + z * (h - n)
            else:
                a = torch.baddbmm(xw_t, h, self.W_h)  # (S, N, 4H)
                i, f, g, o = a.chunk(4, dim=-1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                cs.append(c)
            hs.append(h)
        return torch.stack(hs, dim=2), (torch.stack(cs, dim=2) if cs else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores for the next symbol, (S, N, T, V)."""
        h, _ = self.states(x)
        return torch.einsum("snth,shv->sntv", h, self.W_y) + self.b_y[:, None, None]

    def clip_per_seed(self, max_norm: float) -> torch.Tensor:
        """Scale each seed's gradient so that its global L2 norm is at most max_norm; (S,) norms."""
        grads = [p.grad for p in self.parameters() if p.grad is not None]
        norms = torch.sqrt(sum(g.pow(2).reshape(self.S, -1).sum(1) for g in grads))  # (S,)
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)  # (S,)
        for g in grads:
            g.mul_(scale.reshape(-1, *([1] * (g.dim() - 1))))
        return norms

    def lstm_weights(self, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Seed s's LSTM weights as float64 numpy arrays Wx (D, 4H), Wh (H, 4H), b (4H,)."""
        if self.cell != "lstm":
            raise ValueError("lstm_weights: this model is not an LSTM.")
        return tuple(p[s].detach().double().numpy().copy() for p in (self.W_x, self.W_h, self.b))

    def parameters_per_seed(self) -> int:
        """The number of parameters of one of the S networks (readout included)."""
        return sum(p[0].numel() for p in self.parameters())


def counting_reach(scores: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> int:
    """The largest n such that the strings for 1..n all have every determined prediction right.

    Args:
        scores: (B, L, V) next-symbol scores for ``counting_batch(range(1, B + 1))`` (example i
            is n = i + 1); numpy or torch.
        targets: (B, L, V) k-hot legal next symbols; mask: (B, L) real steps.

    A step is determined when exactly one symbol is legal; there the argmax must be it
    (Gers & Schmidhuber 2001's criterion, as in ``solutions.tasks.counting_accuracy``).

    Returns:
        n (0 if even n = 1 has a mistake).
    """
    scores = scores.detach().cpu().numpy() if isinstance(scores, torch.Tensor) else scores
    pred = scores.argmax(axis=-1)  # (B, L)
    hit = np.take_along_axis(targets, pred[..., None], axis=-1)[..., 0] > 0  # (B, L)
    determined = mask & (targets.sum(axis=-1) == 1)
    ok = np.all(hit | ~determined, axis=1)  # (B,)
    return int(np.argmin(ok)) if not ok.all() else len(ok)


# --------------------------------------------------------------------------------------------
# character-level language model
# --------------------------------------------------------------------------------------------


def unigram_entropy(ids: np.ndarray, V: int) -> float:
    """Bits per character of the best model that ignores the context: -sum p log2 p."""
    p = np.bincount(np.asarray(ids), minlength=V) / len(ids)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def chunk_streams(ids: np.ndarray, B: int, T: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut a text into B parallel streams and then into chunks of T steps, for truncated BPTT.

    Stream b is the b-th of B equal consecutive pieces of the text. Chunk k holds steps
    k T .. (k + 1) T - 1 of every stream, so chunk k + 1 continues chunk k exactly: a model that
    carries its state from one chunk to the next reads every stream without a break.

    Args:
        ids: (len,) encoded text. B: number of streams (the batch). T: steps per chunk.

    Returns:
        x, y: (K, B, T) int64 (K chunks); y is x shifted by one character.
    """
    ids = np.asarray(ids, dtype=np.int64)
    per_stream = (len(ids) - 1) // B
    K = per_stream // T
    if K < 1:
        raise ValueError(f"chunk_streams: {len(ids)} characters are too few for B={B}, T={T}.")
    starts = np.arange(B) * per_stream  # (B,)
    pos = starts[:, None] + np.arange(K * T)  # (B, K T)
    x = ids[pos].reshape(B, K, T).transpose(1, 0, 2)  # (K, B, T)
    y = ids[pos + 1].reshape(B, K, T).transpose(1, 0, 2)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
