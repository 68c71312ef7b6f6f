r"""Train many small LSTM variants as one computation: stacked weights, one time loop (notebook 05).

Symbol key: M models, N batch size, T time steps, D input size, H hidden size, O output size.

The ablation of notebook 05 trains every variant of Greff et al. (2017)
(:data:`solutions.variants.VARIANTS`: vanilla, NIG, NFG, NOG, NIAF, NOAF, NP, CIFG, FGR)
with several seeds and learning rates. A Python loop over ~100 models of this size spends
nearly all its time in per-operation overhead (each matrix is 8 x 32). Here the M models become
one: every parameter gets a leading model
dimension, the products are batched (``torch.bmm``), and each model's variant is a set of
per-model switches, boolean tensors of shape (M, 1, 1) named after the fields of
:class:`solutions.variants.LSTMConfig`, that select what its cell computes:

========================  ====================================================================
switch (per model)        False means (the variant that turns it off)
========================  ====================================================================
``input_gate``            i = 1 (NIG)
``forget_gate``           f = 1: c = c_prev + i * g (NFG)
``output_gate``           o = 1 (NOG)
``input_activation``      g is linear, no tanh (NIAF)
``output_activation``     h = o * c, no tanh (NOAF)
``peepholes``             no peephole terms (NP)
``coupled`` (True)        i = 1 - f (CIFG)
``full_gate_recurrence``  (True) i, f, o also read the previous step's i, f, o (FGR)
========================  ====================================================================

Each model holds the weights of the largest cell (four blocks i, f, g, o, three peephole vectors,
the FGR matrix); what its variant does not use is multiplied by zero or left unselected by
``torch.where``, so it gets an exactly zero gradient and Adam never moves it. A model of the stack
therefore computes, and trains, exactly what :class:`solutions.variants.VariantLSTM` with its
config computes and trains alone (``tests/test_batched.py`` checks this to float64 rounding, and
``benchmarks/bench_batched.py`` measures the speed-up over the loop).

One step, for every model at once (row vectors, as in the numpy cells; ``*`` element-wise):

    a     = x_t Wx + h_{t-1} Wh + b  [+ a_{t-1} Waa on the i, f, o blocks, FGR]   (M, N, 4H)
    f     = sigmoid(a_f + p_f * c_{t-1})
    i     = 1 - f (CIFG), else 1 (NIG), else sigmoid(a_i + p_i * c_{t-1})
    g     = tanh(a_g) (NIAF: a_g)
    c, s  = switched_cell(f, i, g, c_{t-1}, forget_gate, output_activation)
    o     = sigmoid(a_o + p_o * c) (NOG: 1)
    h     = o * s

The readout is y = h_T W_out + b_out (M, N, O), as ``solutions.train.SequenceModel`` with
``readout="last"``. Training is Adam (``torch.optim.Adam``'s arithmetic) with a learning rate per
model and global-norm clipping per model (``clip_grad_norm_``'s), on fresh batches from one data
stream per data seed, as :func:`solutions.train.train` draws them.

Initialisation: :func:`init_weights` draws the full set of weights of a model from its seed alone
(PyTorch's U(-1/sqrt(H), 1/sqrt(H)) for everything, the readout included), so two variants with
the same seed start from the same numbers in every part they share: the comparison is like with
like (COURSE.md, pitfall 9).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from tqdm.auto import tqdm

from solutions.variants import _CHANGES, VARIANTS, VariantLSTM

# The parameters of one model, in the order init_weights draws them, with their shapes.
PARAMETER_NAMES = ("Wx", "Wh", "b", "peep", "Waa", "W_out", "b_out")


def switched_cell(f, i, g, c_prev, forget_gate, output_activation):
    """The cell-state update and the output squashing of M models, with two of Greff's switches.

    Per model m (``forget_gate[m]`` and ``output_activation[m]`` are True or False):

        c = f * c_prev + i * g    if forget_gate[m], else   c = c_prev + i * g   (NFG: f = 1)
        s = tanh(c)               if output_activation[m], else   s = c          (NOAF)

    The caller computes the output gate o from c (it may peek at c) and h = o * s. Without a
    forget gate the cell keeps everything (f = 1, the LSTM of 1997), it does not erase
    everything. The switches differ between models, so they are applied element-wise with
    ``torch.where``, never with a Python ``if``.

    Args:
        f: forget gate values, (M, N, H).
        i: input gate values, (M, N, H).
        g: candidate values, (M, N, H).
        c_prev: previous cell state, (M, N, H).
        forget_gate: bool tensor (M, 1, 1), True where the model has a forget gate.
        output_activation: bool tensor (M, 1, 1), True where h = o * tanh(c).

    Returns:
        c: the new cell state, (M, N, H).
        s: what the output gate multiplies, tanh(c) or c, (M, N, H).
    """
    c = torch.where(forget_gate, f * c_prev, c_prev) + i * g  # (M, N, H)
    s = torch.where(output_activation, torch.tanh(c), c)  # (M, N, H)
    return c, s


def variant_switches(names: Sequence[str]) -> dict[str, torch.Tensor]:
    """Variant names (one per model) -> {switch: bool tensor (M, 1, 1)}.

    The switches are the fields of :class:`solutions.variants.LSTMConfig` (``input_gate``,
    ``forget_gate``, ...). Each named variant flips one switch of the vanilla LSTM
    (``solutions.variants._CHANGES``), so vanilla's value of a switch is the opposite of the
    value its variant gives it.

    >>> variant_switches(["vanilla", "NFG"])["forget_gate"].flatten().tolist()
    [True, False]
    """
    names = list(names)
    unknown = [n for n in names if n not in _CHANGES]
    if unknown or not names:
        raise ValueError(
            f"variant_switches: unknown variant {unknown[0]!r}; valid names are "
            f"{', '.join(VARIANTS)}."
            if unknown
            else "variant_switches: give at least one variant name."
        )
    vanilla = {k: not v for change in _CHANGES.values() for k, v in change.items()}
    return {
        k: torch.tensor([_CHANGES[n].get(k, v) for n in names]).reshape(-1, 1, 1)
        for k, v in vanilla.items()
    }


def _peephole_mask(sw: dict[str, torch.Tensor], dtype) -> torch.Tensor:
    """(3, M, 1, 1): 1 where the model has a peephole into i, f, o (a gate with its own weights)."""
    own = (sw["input_gate"] & ~sw["coupled"], sw["forget_gate"], sw["output_gate"])
    return torch.stack([sw["peepholes"] & g for g in own]).to(dtype)


def init_weights(
    seeds: Sequence[int],
    input_size: int,
    hidden_size: int,
    output_size: int = 1,
    forget_bias: Sequence[float | None] | None = None,
    dtype: torch.dtype | None = None,
) -> dict[str, torch.Tensor]:
    """The stacked weights of M models, model m drawn from ``seeds[m]`` alone.

    Every entry is drawn from U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's rule for nn.LSTM and, with
    fan-in H, for the readout nn.Linear(H, O)), in the order of :data:`PARAMETER_NAMES`. Models
    with the same seed get the same numbers, whatever their variant.

    Args:
        seeds: one int per model.
        input_size, hidden_size, output_size: D, H, O.
        forget_bias: None, or one value per model (None keeps the random bias): the forget
            block of b is set to it (there is one bias per block here, as in the papers).
        dtype: of every tensor (default: torch's default dtype).

    Returns:
        {"Wx": (M, D, 4H), "Wh": (M, H, 4H), "b": (M, 1, 4H), "peep": (M, 3, H) rows p_i, p_f,
        p_o, "Waa": (M, 3H, 3H) rows and columns in blocks i, f, o, "W_out": (M, H, O),
        "b_out": (M, 1, O)}, blocks of width H in the order i, f, g, o.
    """
    D, H, O = input_size, hidden_size, output_size
    shapes = {
        "Wx": (D, 4 * H),
        "Wh": (H, 4 * H),
        "b": (1, 4 * H),
        "peep": (3, H),
        "Waa": (3 * H, 3 * H),
        "W_out": (H, O),
        "b_out": (1, O),
    }
    bound = 1.0 / math.sqrt(H)
    per_model = []
    for seed in seeds:
        gen = torch.Generator().manual_seed(int(seed))
        per_model.append(
            {
                k: torch.empty(s, dtype=torch.float64).uniform_(-bound, bound, generator=gen)
                for k, s in shapes.items()
            }
        )
    dtype = torch.get_default_dtype() if dtype is None else dtype
    weights = {k: torch.stack([p[k] for p in per_model]).to(dtype) for k in shapes}
    if forget_bias is not None:
        if len(forget_bias) != len(per_model):
            raise ValueError(
                f"init_weights: {len(per_model)} seeds but {len(forget_bias)} forget biases."
            )
        for m, value in enumerate(forget_bias):
            if value is not None:
                weights["b"][m, 0, H : 2 * H] = value
    return weights


def forward(weights: dict[str, torch.Tensor], sw: dict[str, torch.Tensor], x: torch.Tensor):
    """Run M models over their inputs; return the readout of the last hidden state.

    Args:
        weights: as from :func:`init_weights`.
        sw: switches as from :func:`variant_switches`.
        x: (M, N, T, D), one batch per model (or (N, T, D), the same batch for all).

    Returns:
        y: (M, N, O).
    """
    Wx, Wh, b = weights["Wx"], weights["Wh"], weights["b"]
    M, D, H = Wx.shape[0], Wx.shape[1], Wh.shape[1]
    if x.dim() == 3:
        x = x.expand(M, *x.shape)
    N, T = x.shape[1:3]
    # Gate-major copies of the weights, blocks reordered to i, f, o, g, so that every gate of
    # every model is one contiguous (M, N, H) slab (slicing the columns of an (M, N, 4H)
    # tensor gives strided views, which made each element-wise operation several times slower).
    cols = torch.cat([torch.arange(H) + k * H for k in (0, 1, 3, 2)])  # i, f, g, o -> i, f, o, g
    Wx_, Wh_, b_ = Wx[:, :, cols], Wh[:, :, cols], b[:, :, cols]  # (M, ·, 4H) each
    peep = weights["peep"].permute(1, 0, 2).unsqueeze(2)  # (3, M, 1, H): p_i, p_f, p_o
    p = peep * _peephole_mask(sw, Wx.dtype)  # zero where a model has no such peephole
    # the input half of every gate for every step at once, then time first: (T, 4, M, N, H)
    x_tn = x.transpose(1, 2).reshape(M, T * N, D)
    xw = torch.baddbmm(b_, x_tn, Wx_).reshape(M, T, N, 4, H).permute(1, 3, 0, 2, 4)
    fgr = torch.nonzero(sw["full_gate_recurrence"].flatten()).flatten()  # (K,) FGR models
    Waa = weights["Waa"][fgr]  # (K, 3H, 3H)
    acts = x.new_zeros(len(fgr), N, 3 * H)  # a_0 = 0: the previous i, f, o of the FGR models
    h = x.new_zeros(M, N, H)
    c = x.new_zeros(M, N, H)
    for xw_t in xw.contiguous().unbind(0):  # (4, M, N, H) per step
        # (4, M, N, H), gates i, f, o, g: one product per model, then gate-major by the addition
        a = xw_t + torch.bmm(h, Wh_).reshape(M, N, 4, H).permute(2, 0, 1, 3)
        a_ifo, a_g = a[:3], a[3]
        if len(fgr):  # FGR: W_aa a_{t-1} into i, f, o of those models only
            r = torch.bmm(acts, Waa).reshape(len(fgr), N, 3, H).permute(2, 0, 1, 3)
            a_ifo = a_ifo.index_add(1, fgr, r)
        i_own, f = torch.addcmul(a_ifo[:2], p[:2], c).sigmoid().unbind(0)  # peek at c_{t-1}
        i = torch.where(sw["coupled"], 1.0 - f, torch.where(sw["input_gate"], i_own, 1.0))
        g = torch.where(sw["input_activation"], torch.tanh(a_g), a_g)
        c, s = switched_cell(f, i, g, c, sw["forget_gate"], sw["output_activation"])
        o = torch.where(sw["output_gate"], torch.addcmul(a_ifo[2], p[2], c).sigmoid(), 1.0)
        h = o * s
        if len(fgr):  # (an FGR model has all three gates: no switch to apply here)
            acts = torch.stack([i, f, o], 2)[fgr].reshape(len(fgr), N, 3 * H)
    return torch.baddbmm(weights["b_out"], h, weights["W_out"])  # (M, N, O)


def mse_per_model(y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each model: y (M, N, O), target (M, N, O) or (N, O) -> (M,)."""
    return ((y - target) ** 2).mean(dim=(1, 2))


class BatchedResult(NamedTuple):
    """What :func:`train_batched` returns.

    Attributes:
        weights: the trained weights, as from :func:`init_weights` (detached).
        loss: (M, steps) training loss of every model at every step; NaN after a divergence.
        diverged_at: (M,) the step at which a model's loss became inf or NaN (it then stops
            training, as :func:`solutions.train.train` does), or -1.
        seconds: wall time of the training loop.
    """

    weights: dict[str, torch.Tensor]
    loss: np.ndarray
    diverged_at: np.ndarray
    seconds: float


def train_batched(
    variants: Sequence[str],
    weights: dict[str, torch.Tensor],
    lrs: Sequence[float],
    data_seeds: Sequence[int],
    batch_fn: Callable[[np.random.Generator], tuple],
    steps: int,
    clip_norm: float | None = None,
    progress: bool = True,
    desc: str = "training",
) -> BatchedResult:
    """Train M models of the given variants with Adam, as one computation.

    Model m is the variant ``variants[m]`` with the weights ``weights[...][m]``; it trains with
    learning rate ``lrs[m]`` on batches drawn by ``batch_fn(rng)`` from
    ``np.random.default_rng(data_seeds[m])``, a fresh batch at each step (models with the same
    data seed see the same batches). The loss is the mean squared error of the readout.
    This is what :func:`solutions.train.train` does for each model alone with
    ``seed=data_seeds[m]``, ``lr=lrs[m]``, ``loss_fn=mse_loss``, Adam, and the same
    ``clip_norm`` applied to each model's own gradient.

    Args:
        variants: M names from :data:`solutions.variants.VARIANTS`.
        weights: initial weights (from :func:`init_weights`); they are copied, not changed.
        lrs: M learning rates.
        data_seeds: M ints.
        batch_fn: rng -> (x (N, T, D), y (N, O)) numpy arrays or tensors.
        steps: number of Adam steps (>= 1).
        clip_norm: rescale each model's gradient to global L2 norm at most this (None: never).
        progress: show a tqdm bar with the median loss and print a summary line at the end.
        desc: label of the bar.

    Returns:
        a :class:`BatchedResult`.
    """
    M = weights["Wx"].shape[0]
    for name, seq in (("variants", variants), ("lrs", lrs), ("data_seeds", data_seeds)):
        if len(seq) != M:
            raise ValueError(
                f"train_batched: the weights hold {M} models but {name} has {len(seq)}."
            )
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"train_batched: steps must be a positive int, got {steps!r}.")
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"train_batched: clip_norm must be positive or None, got {clip_norm!r}.")
    sw = variant_switches(variants)
    params = {k: v.detach().clone().requires_grad_() for k, v in weights.items()}
    dtype = params["Wx"].dtype
    lr = torch.tensor([float(v) for v in lrs], dtype=dtype)
    streams = sorted(set(int(s) for s in data_seeds))
    rngs = [np.random.default_rng(s) for s in streams]
    which = torch.tensor([streams.index(int(s)) for s in data_seeds])
    exp_avg = {k: torch.zeros_like(v) for k, v in params.items()}
    exp_avg_sq = {k: torch.zeros_like(v) for k, v in params.items()}
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    alive = torch.ones(M, dtype=torch.bool)
    losses = np.full((M, steps), np.nan)
    diverged_at = np.full(M, -1)
    start = time.perf_counter()
    bar = tqdm(range(steps), disable=not progress, desc=desc)
    for step in bar:
        batches = [batch_fn(rng) for rng in rngs]
        x = torch.stack([torch.as_tensor(bx, dtype=dtype) for bx, _ in batches])[which]
        y = torch.stack([torch.as_tensor(by, dtype=dtype) for _, by in batches])[which]
        loss = mse_per_model(forward(params, sw, x), y)  # (M,)
        value = loss.detach()
        newly_dead = alive & ~torch.isfinite(value)
        diverged_at[newly_dead.numpy()] = step
        alive &= ~newly_dead
        losses[alive.numpy(), step] = value[alive].double().numpy()
        if not alive.any():
            break
        for p in params.values():
            p.grad = None
        torch.where(alive, loss, 0.0).sum().backward()  # each model's gradient of its own loss
        with torch.no_grad():
            # (Waa gets no gradient at all when no model of the stack is FGR)
            grads = {
                k: torch.zeros_like(p) if p.grad is None else p.grad for k, p in params.items()
            }
            sq = sum(g.pow(2).flatten(1).sum(1) for g in grads.values())  # (M,)
            norm = sq.sqrt()
            max_norm = clip_norm if clip_norm is not None else math.inf
            coef = (max_norm / (norm + 1e-6)).clamp(max=1.0)  # as clip_grad_norm_
            t = step + 1
            step_size = lr / (1 - beta1**t)  # (M,)
            bc2_sqrt = math.sqrt(1 - beta2**t)
            for k, p in params.items():
                shape = (M,) + (1,) * (p.dim() - 1)
                keep = alive.reshape(shape)  # a model that diverged stops training
                g = torch.where(keep, grads[k] * coef.reshape(shape), 0.0)
                exp_avg[k].lerp_(g, 1 - beta1)
                exp_avg_sq[k].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = (exp_avg_sq[k].sqrt() / bc2_sqrt).add_(eps)
                update = step_size.reshape(shape) * exp_avg[k] / denom
                p.sub_(torch.where(keep, update, 0.0))
        if progress and (step + 1) % 25 == 0:
            recent = np.nanmedian(losses[:, max(0, step - 24) : step + 1])
            bar.set_postfix(median_loss=f"{recent:.4g}")
    bar.close()
    seconds = time.perf_counter() - start
    if progress:
        last = np.nanmedian(losses[:, -25:])
        print(f"{desc}: {M} models, {steps} steps in {seconds:.1f} s, median loss {last:.4g}")
    weights_out = {k: v.detach() for k, v in params.items()}
    return BatchedResult(weights_out, losses, diverged_at, seconds)


def evaluate(variants: Sequence[str], weights: dict[str, torch.Tensor], x, y) -> np.ndarray:
    """Test MSE of every model on one test set x (N, T, D), y (N, O): an array (M,)."""
    dtype = weights["Wx"].dtype
    with torch.no_grad():
        out = forward(weights, variant_switches(variants), torch.as_tensor(x, dtype=dtype))
        return mse_per_model(out, torch.as_tensor(y, dtype=dtype)).double().numpy()


def variant_model(weights: dict[str, torch.Tensor], variant: str, m: int):
    """Model ``m`` of a stack as a standalone ``SequenceModel(VariantLSTM(...))`` (a copy).

    The VariantLSTM gets the blocks and peepholes its variant has (``weight_ih_l0`` = the
    columns of Wx of those blocks, transposed; ``weight_aa_l0`` = Waa transposed), the readout
    ``head`` gets W_out transposed and b_out. Used to check that the stack trains each model as
    it would train alone.
    """
    from solutions.train import SequenceModel  # only this function needs the trainer's model

    D, H, O = weights["Wx"].shape[1], weights["Wh"].shape[1], weights["W_out"].shape[2]
    dtype = weights["Wx"].dtype
    rnn = VariantLSTM(D, H, variant, batch_first=True, dtype=dtype)
    model = SequenceModel(rnn, H, O).to(dtype)
    cols = torch.cat([torch.arange(H) + "ifgo".index(k) * H for k in rnn.gate_blocks])
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(weights["Wx"][m][:, cols].T)
        rnn.weight_hh_l0.copy_(weights["Wh"][m][:, cols].T)
        rnn.bias_l0.copy_(weights["b"][m][0, cols])
        for name in rnn.vectors:  # peephole_i, _f, _o of the gates present
            getattr(rnn, name + "_l0").copy_(weights["peep"][m]["ifo".index(name[-1])])
        if rnn.config.full_gate_recurrence:
            rnn.weight_aa_l0.copy_(weights["Waa"][m].T)
        model.head.weight.copy_(weights["W_out"][m].T)
        model.head.bias.copy_(weights["b_out"][m][0])
    return model
