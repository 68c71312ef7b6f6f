"""Shared test helpers: random inputs and a generic centred-difference check of a backward pass."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

from solutions.gradients import numerical_gradient, rel_error

# Debian's chromium, as the browser tests and the README's screenshots launch it
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def load_module(name: str, path: Path):
    """The module at ``path`` (a fixture's build.py), loaded once under ``name``; registered in
    sys.modules first because dataclasses look their module up."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def result_files(course: Path, assignment: str) -> dict[str, dict]:
    """Every result file the grading command wrote for ``assignment``, by student, without the
    field that depends on the run (its seconds)."""
    out = {}
    for p in sorted((course / "grading" / assignment / "results").glob("*.json")):
        data = json.loads(p.read_text())
        data.pop("seconds")
        out[p.stem] = data
    return out


# Shapes (N, T, D, H) that cover the edge cases: N=1, T=1, H=1, D != H, D == H.
SHAPES = [(1, 1, 1, 1), (2, 3, 4, 5), (3, 4, 5, 2), (1, 5, 3, 3), (4, 2, 1, 6), (2, 1, 6, 1)]


def randn(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return scale * rng.standard_normal(shape)


def check_backward(forward, backward, args, names, rng, tol=1e-7, eps=1e-6):
    """Compare ``backward`` with centred differences of ``forward`` for every argument.

    ``forward(*args)`` returns ``(*outputs, cache)``; ``backward(*d_outputs, cache)`` returns one
    gradient per argument of ``forward``, in order. Arguments that are ``None`` are skipped.
    Returns the largest relative error, after asserting each is below ``tol``.
    """
    args = list(args)
    out = forward(*args)
    outputs, cache = out[:-1], out[-1]
    douts = [rng.standard_normal(o.shape) for o in outputs]
    grads = backward(*douts, cache)
    assert len(grads) == len(args), (
        f"backward returned {len(grads)} gradients for {len(args)} arguments"
    )
    worst = 0.0
    for name, arg, grad in zip(names, args, grads, strict=True):
        if arg is None:
            continue
        assert grad.shape == arg.shape, f"d{name} has shape {grad.shape}, expected {arg.shape}"
        num = numerical_gradient(lambda: forward(*args)[:-1], arg, douts, eps=eps)
        err = rel_error(grad, num)
        assert err < tol, f"d{name}: relative error {err:.2e} against centred differences"
        worst = max(worst, err)
    return worst


def sample_namespace(release_notebook, sample_source: str, label: str) -> dict:
    """What a sample's answer cells see when the suites run in this process: the sample's own
    code (after ``import numpy as np``) and the release's given cells whose grade id ends in
    ``_probe``, the small modules through which a suite calls a student's torch code (notebook
    05's SwitchedCellProbe). The notebook's other given cells are not run."""
    import nbformat

    ns: dict = {"__name__": "submission"}
    exec(compile("import numpy as np\n" + sample_source, label, "exec"), ns)
    prelude = "import torch\nfrom torch import nn\nfrom collections.abc import Sequence\n"
    for cell in nbformat.read(release_notebook, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        given = meta.get("locked") and not meta.get("solution") and not meta.get("grade")
        if given and meta.get("grade_id", "").endswith("_probe"):
            exec(compile(prelude + cell.source, f"{label}: probe", "exec"), ns)
    return ns
