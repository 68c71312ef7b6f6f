"""Draw the diagram of notebook 06 with matplotlib: assets/figures/tbptt.png.

    python assets/diagrams_choosing.py           # every figure (there is one)

Same conventions as assets/diagrams.py, whose helpers and palette this script uses: forward
quantities dark blue, gradients red; deterministic PNGs. After changing the drawing, rerun this
script and rebuild the notebooks.

Truncated backpropagation through time: a stream of characters cut into chunks of T steps; the
state goes on from chunk to chunk (forward, detached), the gradient stops at each chunk's start.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diagrams import (  # noqa: E402  (assets/ is not a package; the path is set just above)
    CELL_FACE,
    FWD,
    GRAD,
    INK,
    MUTED,
    FancyBboxPatch,
    _arrow,
    _box,
    _canvas,
    _save,
)

TEXT = "And God said, Let there be light"
T = 4  # steps per chunk in the drawing
CHUNKS = 3


def tbptt() -> Path:
    """Three chunks of four steps: state carried forward, gradient cut at each boundary."""
    step, gap = 1.25, 0.9
    width = CHUNKS * T * step + (CHUNKS - 1) * gap + 1.6
    fig, ax = _canvas(11.5, 11.5 * 4.55 / (width + 1.0), (-1.0, width), (-1.55, 3.0))
    x = 0.0
    centers = []
    for k in range(CHUNKS):
        left = x - 0.55
        ax.add_patch(
            FancyBboxPatch(
                (left, -0.75),
                T * step - 0.15,
                2.85,
                boxstyle="round,pad=0.02,rounding_size=0.2",
                facecolor=CELL_FACE,
                edgecolor=MUTED,
                lw=1.0,
                zorder=1,
            )
        )
        ax.text(left + (T * step - 0.15) / 2, 2.35, f"chunk {k + 1}: backpropagate here only",
                ha="center", fontsize=10, color=MUTED)  # fmt: skip
        row = []
        for t in range(T):
            c = TEXT[k * T + t]
            _box(ax, (x, 0.95), 0.8, 0.6, "h", face="white", edge=FWD, size=11, color=FWD)
            ax.text(x, -0.35, "␣" if c == " " else c, ha="center", fontsize=12, color=INK)
            _arrow(ax, (x, -0.1), (x, 0.63), color=INK, lw=1.2)
            if t:
                _arrow(ax, (x - step + 0.42, 1.05), (x - 0.42, 1.05), color=FWD, lw=1.6)
                _arrow(ax, (x - 0.42, 0.8), (x - step + 0.42, 0.8), color=GRAD, lw=1.4)
            row.append(x)
            x += step
        centers.append(row)
        x += gap
    for k in range(1, CHUNKS):
        a, b = centers[k - 1][-1], centers[k][0]
        _arrow(ax, (a + 0.42, 1.05), (b - 0.42, 1.05), color=FWD, lw=1.6)
        mid = (a + b) / 2
        ax.text(mid, 1.5, "state carried\n(detached)", ha="center", fontsize=9, color=FWD)
        ax.plot([mid - 0.12, mid + 0.12], [0.62, 0.98], color=GRAD, lw=2.2)
        ax.plot([mid - 0.12, mid + 0.12], [0.98, 0.62], color=GRAD, lw=2.2)
        ax.text(mid, 0.25, "gradient\nstops", ha="center", va="top", fontsize=9, color=GRAD)
    ax.text(-0.9, -1.3, "forward: the state flows through the whole text, chunk after chunk",
            fontsize=10, color=FWD)  # fmt: skip
    ax.text(width * 0.55, -1.3, "backward: only within a chunk (T steps)", fontsize=10,
            color=GRAD)  # fmt: skip
    return _save(fig, "tbptt")


FIGURES: dict[str, Callable[[], Path]] = {"tbptt": tbptt}


def main(names: list[str] | None = None) -> list[Path]:
    """Write the named figures (all by default) to assets/figures/; return their paths."""
    names = names or list(FIGURES)
    unknown = sorted(set(names) - set(FIGURES))
    if unknown:
        raise SystemExit(f"unknown figure(s) {unknown}; choose from {sorted(FIGURES)}")
    written = [FIGURES[n]() for n in names]
    for path in written:
        print("wrote", path.relative_to(Path(__file__).resolve().parent.parent))
    return written


if __name__ == "__main__":
    main(sys.argv[1:])
