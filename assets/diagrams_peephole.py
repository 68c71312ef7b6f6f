"""Draw the peephole diagrams of notebook 04 with matplotlib: assets/figures/peephole_*.png.

    python assets/diagrams_peephole.py                  # every figure
    python assets/diagrams_peephole.py peephole_cell    # only the figures named

The cell is notebook 03's LSTM drawing (assets/diagrams_lstm.py) with the three peephole lines
added in their own colour: c_{t-1} into the input and forget gates, the new c_t into the output
gate. Same palette and conventions as assets/diagrams.py; deterministic PNGs. After changing a
drawing, rerun this script and rebuild the notebooks.

Notation (the course's): row vectors; a = x_t Wx + h_{t-1} Wh + b split into blocks i, f, g, o;
i = sigma(a^i + p_i * c_{t-1}), f = sigma(a^f + p_f * c_{t-1}), o = sigma(a^o + p_o * c_t), with
p_i, p_f, p_o vectors of size H (diagonal peepholes).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diagrams import INK, MUTED, WEIGHT, _arrow, _canvas, _save  # noqa: E402  (path set above)
from diagrams_lstm import CELL_X, CELL_Y, _label, _line, draw_lstm_cell  # noqa: E402

PEEP = "#c2410c"  # the peephole lines, in every figure of notebook 04

PEEPHOLE_EQUATION = (
    r"$i_t = \sigma(a^i + p_i\odot c_{t-1})\quad f_t = \sigma(a^f + p_f\odot c_{t-1})\quad"
    r"c_t = f_t\odot c_{t-1} + i_t\odot g_t\quad o_t = \sigma(a^o + p_o\odot c_t)$"
)


def peephole_cell() -> Path:
    """The LSTM step of notebook 03 plus the three peephole lines, dashed, in their colour."""
    fig, ax = draw_lstm_cell("peephole LSTM cell (one time step)", PEEPHOLE_EQUATION)
    yc, yg = CELL_Y["c"], CELL_Y["gates"]
    xi, xf, xo = CELL_X["i"], CELL_X["f"], CELL_X["o"]
    half_w, half_h = 0.375, 0.25  # half the size of a gate box
    dash = {"color": PEEP, "lw": 1.8, "ls": "--"}

    # c_{t-1}: tapped before the forget gate's x, into the input and forget gates
    x_tap = 1.5
    ax.plot([x_tap], [yc], "o", color=PEEP, ms=6, zorder=4)
    ax.plot([x_tap, x_tap], [yc, yg], **dash, zorder=2)
    _arrow(ax, (x_tap, yg), (xi - half_w, yg), color=PEEP, ls="--", lw=1.8)
    y_f = 2.72  # to the forget gate: over the input gate, into the top of the f box
    ax.plot([x_tap, xf - 0.22], [y_f, y_f], **dash, zorder=2)
    _arrow(ax, (xf - 0.22, y_f), (xf - 0.22, yg + half_h), color=PEEP, ls="--", lw=1.8)
    _label(ax, (x_tap - 0.08, 3.35), r"$p_i, p_f$", size=11, color=PEEP, ha="right")
    _label(ax, (x_tap - 0.08, 3.0), r"$\odot\, c_{t-1}$", size=11, color=PEEP, ha="right")

    # c_t: tapped after the +, into the output gate
    x_tap_o = 5.72
    ax.plot([x_tap_o], [yc], "o", color=PEEP, ms=6, zorder=4)
    ax.plot([x_tap_o, x_tap_o], [yc, 2.72], **dash, zorder=2)
    ax.plot([x_tap_o, xo - 0.2], [2.72, 2.72], **dash, zorder=2)
    _arrow(ax, (xo - 0.2, 2.72), (xo - 0.2, yg + half_h), color=PEEP, ls="--", lw=1.8)
    _label(ax, (x_tap_o + 0.1, 3.55), r"$p_o\odot c_t$", size=11, color=PEEP, ha="left")
    _label(
        ax,
        (2.05, 0.12),
        "dashed: the peepholes, one weight per cell (diagonal)",
        size=9.5,
        color=PEEP,
        ha="left",
    )
    return _save(fig, "peephole_cell")


def peephole_weights() -> Path:
    """Diagonal peepholes (one weight per cell) against the full matrix of a literal reading."""
    from matplotlib.patches import Rectangle

    fig, ax = _canvas(10.2, 4.6, (0, 10.2), (0, 4.6))
    H, size, y0 = 5, 0.55, 0.95
    rng = np.random.default_rng(4)
    for x0, full in ((1.4, False), (6.4, True)):
        for r in range(H):
            for c in range(H):
                on = full or r == c
                ax.add_patch(
                    Rectangle(
                        (x0 + c * size, y0 + (H - 1 - r) * size),
                        size,
                        size,
                        facecolor=PEEP if on else "white",
                        alpha=0.35 + 0.6 * rng.random() if on else 1.0,
                        edgecolor=MUTED,
                        lw=0.8,
                        zorder=2,
                    )
                )
        mid = x0 + H * size / 2
        _label(ax, (x0 - 0.3, y0 + H * size / 2), "cell", 10, color=MUTED, ha="right")
        _label(ax, (mid, y0 + H * size + 0.2), "gate", 10, color=MUTED)
    _label(ax, (1.4 + H * size / 2, 4.3), r"diagonal: $p \odot c = c\,\mathrm{diag}(p)$", 12)
    _label(ax, (6.4 + H * size / 2, 4.3), r"full matrix: $c\,P$ with $P$ of shape $(H, H)$", 12)
    _label(
        ax,
        (1.4 + H * size / 2, 0.45),
        "cell k feeds only gate k: H weights per gate, 3H in all",
        10,
        color=INK,
    )
    _label(
        ax,
        (6.4 + H * size / 2, 0.45),
        r"every cell feeds every gate: $3H^2$ in all, a different model",
        10,
        color=INK,
    )
    _line(ax, [(5.1, 0.8), (5.1, 4.0)], color=MUTED, lw=0.8)
    _label(ax, (5.1, 0.15), "the peephole weights of one gate, H = 5", 9.5, color=WEIGHT)
    return _save(fig, "peephole_weights")


FIGURES: dict[str, Callable[[], Path]] = {
    "peephole_cell": peephole_cell,
    "peephole_weights": peephole_weights,
}


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
