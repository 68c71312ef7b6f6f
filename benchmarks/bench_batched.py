"""Time the batched trainer (solutions.batched) against a Python loop over the same models.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_batched.py [--steps 20] [--repeats 3] [--out FILE]

The workload is notebook 05's ablation: the nine LSTM variants of Greff et al. x 3 seeds x 3
learning rates, plus 12 forget-bias runs (93 networks), hidden size 8, the adding problem at
T = 50 with batches of 16, Adam with global-norm clipping at 1, float32, one thread. Each round
trains all 93 networks for ``--steps`` steps twice, in an order that alternates between rounds:

* **batched**: ``solutions.batched.train_batched``, every network in one stacked computation;
* **loop**: for each network, ``solutions.batched.variant_model`` (the same weights as a
  standalone ``SequenceModel(VariantLSTM)``) trained by ``solutions.train.train``.

Both start from the same weights and see the same batches, so they must end equal: the script
checks every network's final weights and loss history (float32 tolerance) before it reports a
time. It prints the median over the rounds and the ratio loop / batched, and writes the results
to ``benchmarks/batched_results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from solutions import batched as B  # noqa: E402
from solutions.tasks import adding_problem  # noqa: E402
from solutions.train import train  # noqa: E402
from solutions.variants import VARIANTS  # noqa: E402


def workload():
    """The 93 runs of notebook 05: (variant, seed, lr, forget bias)."""
    runs = [(v, s, lr, None) for v in VARIANTS for lr in (1e-2, 3e-2, 1e-1) for s in (0, 1, 2)]
    runs += [(v, s, 3e-2, b) for v in ("vanilla", "NP") for b in (0.0, 1.0) for s in (0, 1, 2)]
    return runs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=20, help="Adam steps per round (default 20)")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds (default 3)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "batched_results.json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    runs = workload()
    names = [r[0] for r in runs]
    seeds = [r[1] for r in runs]
    lrs = [r[2] for r in runs]
    weights = B.init_weights(seeds, 2, 8, 1, forget_bias=[r[3] for r in runs], dtype=torch.float32)

    def batch_fn(rng):
        return adding_problem(16, 50, seed=rng)

    def run_batched():
        t0 = time.perf_counter()
        res = B.train_batched(names, weights, lrs, seeds, batch_fn, args.steps, 1.0, progress=False)
        return time.perf_counter() - t0, res

    def run_loop():
        t0 = time.perf_counter()
        models, losses = [], []
        for m, name in enumerate(names):
            model = B.variant_model(weights, name, m)
            hist = train(
                model, batch_fn, torch.nn.functional.mse_loss, args.steps, lr=lrs[m],
                clip_norm=1.0, seed=seeds[m], progress=False,
            )  # fmt: skip
            models.append(model)
            losses.append(hist["loss"])
        return time.perf_counter() - t0, (models, np.array(losses))

    times = {"batched": [], "loop": []}
    worst = {"weights": 0.0, "loss": 0.0}
    load_before = os.getloadavg()
    for r in range(args.repeats):
        order = ("batched", "loop") if r % 2 == 0 else ("loop", "batched")
        out = {}
        for kind in order:
            secs, out[kind] = run_batched() if kind == "batched" else run_loop()
            times[kind].append(secs)
            print(f"round {r + 1}: {kind:8s} {secs:7.2f} s", flush=True)
        res, (models, losses) = out["batched"], out["loop"]
        for m, name in enumerate(names):
            stacked = B.variant_model(res.weights, name, m)
            diff = max(
                (a - b).abs().max().item()
                for a, b in zip(models[m].parameters(), stacked.parameters(), strict=True)
            )
            worst["weights"] = max(worst["weights"], diff)
        worst["loss"] = max(worst["loss"], float(np.abs(losses - res.loss).max()))
    if worst["weights"] > 1e-3 or worst["loss"] > 1e-4:
        print(f"RESULTS DIFFER: {worst}; no time reported.")
        return 1
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["loop"] / med["batched"]
    M = len(runs)
    print(
        f"{M} networks x {args.steps} steps: batched {med['batched']:.2f} s, loop "
        f"{med['loop']:.2f} s (medians of {args.repeats}); loop / batched = {ratio:.1f}x; "
        f"largest difference: weights {worst['weights']:.1e}, loss {worst['loss']:.1e}"
    )
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "threads": 1,
        "networks": M,
        "steps": args.steps,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "seconds": times,
        "median_seconds": med,
        "ratio_loop_over_batched": ratio,
        "largest_difference": worst,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
