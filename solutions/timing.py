"""Many small LSTMs, with and without peepholes, trained at once on timing tasks (notebook 04).

Symbol key: M models, N sequences per model, T time steps, D input size, H hidden size.

Comparing two cells honestly takes many runs: several seeds, several delays, both cells, each
with the same budget and the same starting weights. A step of a tiny LSTM costs little
arithmetic and much overhead per operation, so sixty of them trained one after another took
4.3-4.9 times as long as the same sixty trained together (50 Adam steps, H = 8, T = 24, batches
of 16, one core of a loaded machine, two runs). :class:`ManyLSTMs` keeps M independent
single-layer LSTMs with linear readouts in stacked numpy arrays (a leading model dimension) and
runs them as one batched model: one ``np.matmul`` per step serves all M, forward and backward
(written by hand, the backward of :mod:`solutions.peephole` with a model dimension in front),
and Adam updates all at once.

Every model m is a peephole LSTM with row vectors (``*`` element-wise):

    a = x_t Wx[m] + h_{t-1} Wh[m] + b[m]                     (N, 4H), blocks i, f, g, o
    i = sigmoid(a_i + q[m] p_i[m] * c_{t-1}),   f = sigmoid(a_f + q[m] p_f[m] * c_{t-1})
    g = tanh(a_g),   c_t = f * c_{t-1} + i * g
    o = sigmoid(a_o + q[m] p_o[m] * c_t),   h_t = o * tanh(c_t),   y_t = h_t w[m] + v[m]

q[m] is 1 for a peephole model and 0 for a plain LSTM: a plain model's peephole weights never
act and get no gradient, so they stay at their starting value 0.

Equal initialisation: the twin models of a seed (one plain, one with peepholes) start from the
same Wx, Wh, b and readout, drawn from U(-1/sqrt(H), 1/sqrt(H)) as in torch.nn.LSTM by a
generator of that seed, with the forget-gate bias set to ``forget_bias`` and p_i = p_f = p_o = 0.
At the start both twins compute the same function; only training can make them differ.
:func:`train_many` gives every model the same number of Adam steps on the same batches as its
twin and clips each model's gradient by its own global norm: the models never influence one
another, so training them together gives each the result it would get alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

from solutions.tasks import spike_delay_hits, spike_delays, timed_spike, timed_spike_hits

PARAMETERS = ("Wx", "Wh", "b", "p", "w", "v")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), never overflows


class ManyLSTMs:
    """M independent LSTMs (each with or without peepholes) with linear readouts, run together.

    Args:
        peephole: M booleans, whether model m has peephole connections.
        seeds: M ints, the seed of model m's initial weights (twins share a seed).
        input_size: D.
        hidden_size: H.
        forget_bias: the starting forget-gate bias b_f of every model.

    Attributes:
        params: dict of float64 arrays, M leading: Wx (M, D, 4H), Wh (M, H, 4H), b (M, 1, 4H)
            with the blocks i, f, g, o; p (M, 3, 1, H), the peephole weights p_i, p_f, p_o;
            w (M, H, 1) and v (M, 1, 1), the readout.
        q: (M, 1, 1), 1.0 for a peephole model, 0.0 for a plain one.
    """

    def __init__(
        self,
        peephole: Sequence[bool],
        seeds: Sequence[int],
        input_size: int = 1,
        hidden_size: int = 8,
        forget_bias: float = 1.0,
        peephole_init: str = "uniform",
    ) -> None:
        if peephole_init not in ("uniform", "zero"):
            raise ValueError(
                f"ManyLSTMs: peephole_init must be 'uniform' or 'zero', got {peephole_init!r}."
            )
        if len(peephole) != len(seeds) or len(seeds) == 0:
            raise ValueError(
                f"ManyLSTMs: peephole and seeds need one entry per model (got {len(peephole)} "
                f"and {len(seeds)})."
            )
        D, H = input_size, hidden_size
        bound = 1.0 / np.sqrt(H)
        shapes = {"Wx": (D, 4 * H), "Wh": (H, 4 * H), "b": (1, 4 * H), "w": (H, 1), "v": (1, 1)}
        drawn: dict[str, list[np.ndarray]] = {k: [] for k in shapes}
        for seed in seeds:
            rng = np.random.default_rng(int(seed))
            for k, shape in shapes.items():
                drawn[k].append(rng.uniform(-bound, bound, shape))
        self.params = {k: np.stack(v) for k, v in drawn.items()}
        self.q = np.array([1.0 if on else 0.0 for on in peephole]).reshape(-1, 1, 1)
        self.params["b"][:, :, H : 2 * H] = forget_bias
        self.params["p"] = np.zeros((len(seeds), 3, 1, H))
        if peephole_init == "uniform":  # from a stream of its own: the shared weights stay equal
            for m, seed in enumerate(seeds):
                rng = np.random.default_rng([int(seed), 1])
                self.params["p"][m] = rng.uniform(-bound, bound, (3, 1, H)) * self.q[m]
        self.hidden_size = H

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, dict]:
        """x (M, N, T, D) -> y (M, N, T) and a cache (``c_states``, ``o_states``: (M, N, T, H))."""
        P, H = self.params, self.hidden_size
        M, N, T, _ = x.shape
        p_i, p_f, p_o = (P["p"][:, k] * self.q for k in range(3))  # (M, 1, H) each
        xw = np.matmul(x, P["Wx"][:, None]) + P["b"][:, None]  # (M, N, T, 4H)
        h, c = np.zeros((M, N, H)), np.zeros((M, N, H))
        keep = {k: np.empty((T, M, N, H)) for k in ("h", "c", "i", "f", "g", "o", "tanh_c")}
        for t in range(T):
            a = xw[:, :, t] + h @ P["Wh"]  # (M, N, 4H)
            c_prev = c
            i = _sigmoid(a[..., :H] + p_i * c_prev)  # peeks at c_{t-1}
            f = _sigmoid(a[..., H : 2 * H] + p_f * c_prev)  # peeks at c_{t-1}
            g = np.tanh(a[..., 2 * H : 3 * H])
            c = f * c_prev + i * g
            o = _sigmoid(a[..., 3 * H :] + p_o * c)  # peeks at the new c_t
            tanh_c = np.tanh(c)
            h = o * tanh_c
            for k, val in (("h", h), ("c", c), ("i", i), ("f", f), ("g", g), ("o", o)):
                keep[k][t] = val
            keep["tanh_c"][t] = tanh_c
        hs = keep["h"].transpose(1, 2, 0, 3)  # (M, N, T, H)
        y = (hs @ P["w"][:, None])[..., 0] + P["v"][:, :, :1]  # (M, N, T)
        cache = {"x": x, "hs": hs, "peep": (p_i, p_f, p_o), **keep}
        cache["c_states"] = keep["c"].transpose(1, 2, 0, 3)
        cache["o_states"] = keep["o"].transpose(1, 2, 0, 3)
        return y, cache

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """x (M, N, T, D) -> y (M, N, T)."""
        return self.forward(x)[0]

    def backward(self, dy: np.ndarray, cache: dict) -> dict[str, np.ndarray]:
        """Gradients of sum(dy * y) with respect to every parameter (shapes of ``params``)."""
        P, H = self.params, self.hidden_size
        x, hs = cache["x"], cache["hs"]
        p_i, p_f, p_o = cache["peep"]
        M, N, T, _ = x.shape
        grads = {k: np.zeros_like(v) for k, v in P.items()}
        grads["w"] = np.swapaxes(hs.reshape(M, N * T, H), 1, 2) @ dy.reshape(M, N * T, 1)
        grads["v"] = dy.sum(axis=(1, 2)).reshape(M, 1, 1)
        dh_out = dy[..., None] * np.swapaxes(P["w"], 1, 2)[:, None]  # (M, N, T, H)
        da_all = np.empty((M, N, T, 4 * H))
        dp = np.zeros((3, M, 1, H))
        dh_next, dc_next = np.zeros((M, N, H)), np.zeros((M, N, H))
        zeros = np.zeros((M, N, H))
        for t in reversed(range(T)):
            i, f, g, o, tanh_c, c = (cache[k][t] for k in ("i", "f", "g", "o", "tanh_c", "c"))
            c_prev = cache["c"][t - 1] if t > 0 else zeros
            dh = dh_out[:, :, t] + dh_next
            da_o = dh * tanh_c * o * (1.0 - o)
            dc = dc_next + dh * o * (1.0 - tanh_c**2) + da_o * p_o  # c feeds h, o and c_{t+1}
            da_i = dc * g * i * (1.0 - i)
            da_f = dc * c_prev * f * (1.0 - f)
            da_g = dc * i * (1.0 - g**2)
            dc_next = dc * f + da_i * p_i + da_f * p_f  # c_{t-1} feeds c, i and f
            dp[0] += (da_i * c_prev).sum(1, keepdims=True)
            dp[1] += (da_f * c_prev).sum(1, keepdims=True)
            dp[2] += (da_o * c).sum(1, keepdims=True)
            da = np.concatenate([da_i, da_f, da_g, da_o], axis=-1)  # (M, N, 4H)
            da_all[:, :, t] = da
            dh_next = da @ np.swapaxes(P["Wh"], 1, 2)
        h_prev = np.concatenate([np.zeros((M, N, 1, H)), hs[:, :, :-1]], axis=2)  # (M, N, T, H)
        grads["Wx"] = np.swapaxes(x.reshape(M, N * T, -1), 1, 2) @ da_all.reshape(M, N * T, -1)
        grads["Wh"] = np.swapaxes(h_prev.reshape(M, N * T, H), 1, 2) @ da_all.reshape(M, N * T, -1)
        grads["b"] = da_all.sum(axis=(1, 2))[:, None]
        grads["p"] = np.swapaxes(dp, 0, 1) * self.q[:, None]  # plain models: no gradient
        return grads


def _clip_per_model(grads: dict[str, np.ndarray], max_norm: float) -> np.ndarray:
    """Rescale each model's gradient (slice m of every array) to a global norm <= max_norm."""
    M = next(iter(grads.values())).shape[0]
    norms = np.sqrt(sum((g.reshape(M, -1) ** 2).sum(1) for g in grads.values()))  # (M,)
    scale = np.minimum(1.0, max_norm / (norms + 1e-12))
    for k, g in grads.items():
        grads[k] = g * scale.reshape(-1, *([1] * (g.ndim - 1)))
    return norms


def train_many(
    model: ManyLSTMs,
    batch_fn: Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]],
    steps: int,
    lr: float = 1e-2,
    clip_norm: float = 1.0,
    progress: bool = True,
    desc: str = "training",
) -> dict:
    """Train every model of ``model`` with Adam for ``steps`` steps; the models stay independent.

    At each step ``x, y, weight = batch_fn(step)`` gives the inputs (M, N, T, D), the targets
    (M, N, T) and the loss weights (M, N, T). Model m's loss is the sum over t of
    weight * (y_hat - y)^2, averaged over its N sequences; the weights say which steps count.
    Each model's gradient is that of its own loss, clipped to the global norm ``clip_norm``;
    Adam (beta1 0.9, beta2 0.999, eps 1e-8) works element by element.

    Returns:
        history: ``loss`` (steps, M), each model's loss at every step; ``seconds``.
    """
    P = model.params
    m1 = {k: np.zeros_like(v) for k, v in P.items()}
    m2 = {k: np.zeros_like(v) for k, v in P.items()}
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    losses = np.empty((steps, model.q.shape[0]))
    start = time.perf_counter()
    bar = tqdm(range(steps), disable=not progress, desc=desc)
    for step in bar:
        x, y, weight = batch_fn(step)
        y_hat, cache = model.forward(x)
        err = y_hat - y
        N = x.shape[1]
        losses[step] = (weight * err**2).sum(2).mean(1)
        grads = model.backward(2.0 * weight * err / N, cache)
        _clip_per_model(grads, clip_norm)
        for k, g in grads.items():
            m1[k] = beta1 * m1[k] + (1 - beta1) * g
            m2[k] = beta2 * m2[k] + (1 - beta2) * g * g
            m_hat = m1[k] / (1 - beta1 ** (step + 1))
            v_hat = m2[k] / (1 - beta2 ** (step + 1))
            P[k] -= lr * m_hat / (np.sqrt(v_hat) + eps)
        if progress and (step + 1) % 50 == 0:
            bar.set_postfix(median_loss=f"{np.median(losses[step]):.3g}")
    bar.close()
    seconds = time.perf_counter() - start
    if progress:
        print(f"{desc}: {model.q.shape[0]} models, {steps} Adam steps in {seconds:.1f} s")
    return {"loss": losses, "seconds": seconds}


# --------------------------------------------------------------------------------------------
# The comparison of notebook 04: plain against peephole LSTM on two timing tasks.
# --------------------------------------------------------------------------------------------

TIMING_TASKS = ("generate", "measure")
"""``generate``: answer exactly d steps after a cue (``tasks.timed_spike``, an answer at every
step). ``measure``: tell the delay between two spikes to the step, the delays being d, d + 1 and
d + 2 (``tasks.spike_delays``; answered from the second spike on, scored at the last step)."""

MEASURE_WIDTH = 2
"""``measure`` draws its delays from d .. d + MEASURE_WIDTH: three delays, chance 1/3."""

CELLS = ("LSTM", "peephole LSTM")

EXPERIMENT = (
    (24, 600, (("generate", 4), ("generate", 8), ("generate", 16))),
    (24, 800, (("measure", 2), ("measure", 4), ("measure", 8))),
    (40, 800, (("generate", 24),)),
)
"""Notebook 04's comparison: (T, Adam steps, settings) for each group of (task, delay) settings
trained together. ``generate`` at the short delays has flattened by 600 steps; ``measure`` and
the long delay still improve up to 800."""

SEEDS = (0, 1, 2, 3, 4)
"""The seeds of notebook 04's comparison: every setting is trained once per seed and cell."""

N_TEST = 300
"""Fresh test sequences per trained model in notebook 04's comparison."""

GUESS_TRIALS = 100
"""Random models per cell and setting in notebook 04's random-search baseline."""


def _check_task(func: str, task: str) -> None:
    if task not in TIMING_TASKS:
        raise ValueError(f"{func}: task must be one of {TIMING_TASKS}, got {task!r}.")


def timing_batch(task: str, delay: int, n: int, T: int, seed) -> tuple[np.ndarray, ...]:
    """One batch of a timing task: x (n, T, 1), targets y (n, T) and loss weights (n, T).

    ``generate`` (``timed_spike``): the target is 1 exactly ``delay`` steps after the cue and
    0 elsewhere; every step counts (weights 1/T). ``measure`` (``spike_delays`` with delays
    ``delay`` .. ``delay + MEASURE_WIDTH``): the target is the scaled delay; the steps from the
    second spike to the end count, equally (weights summing to 1), so the answer must be given
    as soon as the second spike arrives and held. Both tasks score the answer at the last step
    only through :func:`timing_hits`.
    """
    _check_task("timing_batch", task)
    if task == "generate":
        x, y = timed_spike(n, T, delay, seed=seed, dtype=np.float64)
        return x, y[..., 0], np.full((n, T), 1.0 / T)
    x, y = spike_delays(n, T, delay, delay + MEASURE_WIDTH, seed=seed, dtype=np.float64)
    second = T - 1 - np.argmax(x[:, ::-1, 0], axis=1)  # the step of the second spike
    weight = (np.arange(T)[None] >= second[:, None]).astype(np.float64)
    return x, np.repeat(y, T, axis=1), weight / weight.sum(axis=1, keepdims=True)


def timing_hits(task: str, delay: int, y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n,) booleans: a spike at exactly the right step (generate), the delay read to the step at
    the last step (measure). y_hat and y are (n, T)."""
    _check_task("timing_hits", task)
    if task == "generate":
        return timed_spike_hits(y_hat, y)
    return spike_delay_hits(y_hat[:, -1], y[:, -1], delay, delay + MEASURE_WIDTH)


def compare_cells(
    settings: Sequence[tuple[str, int]],
    seeds: Sequence[int],
    T: int = 24,
    hidden_size: int = 8,
    steps: int = 800,
    batch: int = 16,
    lr: float = 2e-2,
    clip_norm: float = 1.0,
    forget_bias: float = 1.0,
    n_test: int = 500,
    progress: bool = True,
) -> dict:
    """Train a plain and a peephole LSTM for every (task, delay) of ``settings`` and every seed.

    The twins of one (task, delay, seed) share their starting weights (the peephole weights
    aside) and see the same batches; every model gets ``steps`` Adam steps of ``batch``
    sequences. All models train together as one :class:`ManyLSTMs`. Afterwards each is scored on
    ``n_test`` fresh sequences of its task (the same ones for both twins).

    Returns:
        dict with ``rates``: {(task, delay, cell): (len(seeds),) hit rates, one per seed};
        ``runs``: the (task, delay, seed, cell) of each model in order; ``model``; ``loss``
        (steps, M); ``test``: {(task, delay, seed): (x, y)} and ``outputs`` (M, n_test, T), each
        model's output on its test sequences; ``seconds``.
    """
    for task, _ in settings:
        _check_task("compare_cells", task)
    groups = [(task, int(d), int(s)) for task, d in settings for s in seeds]
    runs = [(*g, cell) for g in groups for cell in CELLS]
    model = ManyLSTMs(
        [cell == CELLS[1] for *_, cell in runs],
        [s for _, _, s, _ in runs],
        hidden_size=hidden_size,
        forget_bias=forget_bias,
    )
    streams = {g: np.random.default_rng([TIMING_TASKS.index(g[0]), g[1], g[2]]) for g in groups}

    def batch_fn(step):
        made = [timing_batch(*g[:2], batch, T, streams[g]) for g in groups]
        return tuple(
            np.stack([a for a in arrays for _ in CELLS]) for arrays in zip(*made, strict=True)
        )

    history = train_many(
        model, batch_fn, steps, lr=lr, clip_norm=clip_norm, progress=progress, desc="both cells"
    )
    test = {
        g: timing_batch(
            *g[:2], n_test, T, np.random.default_rng([99, TIMING_TASKS.index(g[0]), g[1], g[2]])
        )[:2]
        for g in groups
    }
    x_test = np.stack([test[run[:3]][0] for run in runs])
    y_hat = model(x_test)
    rates: dict[tuple, list[float]] = {}
    for k, (task, d, s, cell) in enumerate(runs):
        hits = timing_hits(task, d, y_hat[k], test[task, d, s][1])
        rates.setdefault((task, d, cell), []).append(float(hits.mean()))
    return {
        "rates": {k: np.array(v) for k, v in rates.items()},
        "runs": runs,
        "model": model,
        "loss": history["loss"],
        "test": test,
        "outputs": y_hat,
        "seconds": history["seconds"],
    }


def baseline_test_set(task: str, delay: int, n_test: int, T: int) -> tuple[np.ndarray, ...]:
    """The test sequences of the baselines (:func:`guess_cells`, :func:`constant_baseline`):
    x (n_test, T, 1) and targets y (n_test, T), the same for every call with these arguments."""
    _check_task("baseline_test_set", task)
    rng = np.random.default_rng([77, TIMING_TASKS.index(task), delay])
    return timing_batch(task, delay, n_test, T, rng)[:2]


def constant_baseline(
    settings: Sequence[tuple[str, int]], T: int = 24, n_test: int = 200
) -> dict[tuple[str, int], float]:
    """The majority-class baseline: the best hit rate of a model whose output never changes.

    For every (task, delay), each constant output in {0, 1} and every target value of the
    task is scored on the baselines' test sequences (:func:`baseline_test_set`); the best one
    wins. On ``measure`` that is the share of the most common delay among the test sequences
    (answer it every time); on ``generate`` a constant never spikes exactly once, so it is 0.

    Returns:
        {(task, delay): the best hit rate of a constant output}.
    """
    best = {}
    for task, d in settings:
        x, y = baseline_test_set(task, d, n_test, T)
        values = np.union1d(np.unique(y), [0.0, 1.0])
        best[task, d] = max(
            float(timing_hits(task, d, np.full_like(y, v), y).mean()) for v in values
        )
    return best


def guess_cells(
    settings: Sequence[tuple[str, int]],
    trials: int = 100,
    T: int = 24,
    hidden_size: int = 8,
    scale: float = 1.0,
    n_test: int = 200,
    seed: int = 0,
) -> dict:
    """The random-search baseline: the best hit rate of ``trials`` guessed models per cell.

    For every (task, delay) and both cells, ``trials`` models get every weight (peepholes
    included) drawn from U(-scale, scale); each is scored on the same ``n_test`` sequences
    (:func:`baseline_test_set`).

    Returns:
        {(task, delay, cell): the best hit rate among the guesses}.
    """
    best = {}
    chunk = 25  # models per forward pass, to bound the memory of the cache
    for task, d in settings:
        _check_task("guess_cells", task)
        x, y = baseline_test_set(task, d, n_test, T)
        for c, cell in enumerate(CELLS):
            rng = np.random.default_rng([seed, TIMING_TASKS.index(task), d, c])
            rates = []
            for start in range(0, trials, chunk):
                M = min(chunk, trials - start)
                model = ManyLSTMs([c == 1] * M, range(M), hidden_size=hidden_size)
                for p in model.params.values():
                    p[...] = rng.uniform(-scale, scale, p.shape)
                model.params["p"] *= model.q[:, None]  # a plain LSTM has no peepholes
                y_hat = model(np.broadcast_to(x, (M, *x.shape)))
                rates += [timing_hits(task, d, y_hat[m], y).mean() for m in range(M)]
            best[task, d, cell] = float(max(rates))
    return best
