"""Draw the diagrams of notebook 05 (coupled gates, LSTM variants): assets/figures/*.png.

    python assets/diagrams_variants.py              # every figure
    python assets/diagrams_variants.py cifg_cell    # only the figures named

Same conventions as assets/diagrams.py and assets/diagrams_lstm.py, whose helpers and palette
this script uses: forward quantities dark blue, weights green, the cell-state line teal;
deterministic PNGs. After changing a drawing, rerun this script and rebuild the notebooks.

Notation (the course's): row vectors; the CIFG computes a = x_t Wx + h_{t-1} Wh + b with blocks
f, g, o, c_t = f_t * c_{t-1} + (1 - f_t) * g_t and h_t = o_t * tanh(c_t).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diagrams import FWD, INK, MUTED, WEIGHT, _arrow, _box, _canvas, _node, _save  # noqa: E402
from diagrams_lstm import CAND_FACE, CONVEYOR, GATE_FACE, _cell_frame, _label, _line  # noqa: E402

SWITCH = "#b91c1c"  # the switches of the variants


def cifg_cell() -> Path:
    """One CIFG step: one gate f_t; the cell keeps f_t of the old state and takes 1 - f_t of g_t."""
    fig, ax = _canvas(10.2, 5.6, (0, 10.2), (0, 5.6))
    _cell_frame(ax, 1.2, 0.75, 7.5, 4.15, "CIFG cell (one time step): i = 1 − f")

    yc, yb, yg = 4.1, 1.05, 2.05  # heights: cell-state line, input bus, gate boxes
    xf, xm, xg, xo, xt = 3.0, 4.0, 5.0, 6.3, 7.55  # columns: f, 1 - f, g, o, output

    _line(ax, [(0.75, yc), (xf - 0.24, yc)], color=CONVEYOR, lw=3)
    _line(ax, [(xf + 0.24, yc), (xg - 0.24, yc)], color=CONVEYOR, lw=3)
    _arrow(ax, (xg + 0.24, yc), (9.3, yc), color=CONVEYOR, lw=3)
    _node(ax, (xf, yc), 0.24, "×", edge=CONVEYOR)
    _node(ax, (xg, yc), 0.24, "+", edge=CONVEYOR)
    _label(ax, (0.45, yc), r"$c_{t-1}$", size=15)
    _label(ax, (9.7, yc), r"$c_t$", size=15)
    _label(ax, (4.0, yc + 0.3), "keep a fraction f, write the rest", size=9.5, color=CONVEYOR)

    _line(ax, [(0.75, yb), (xo, yb)])
    _label(ax, (0.45, yb), r"$h_{t-1}$", size=15)
    _label(ax, (1.75, 0.28), r"$x_t$", size=15)
    _line(ax, [(1.75, 0.5), (1.75, yb)])
    ax.plot([1.75], [yb], "o", color=INK, ms=4, zorder=3)
    _label(
        ax,
        (2.05, 0.5),
        r"$a = x_t W_x + h_{t-1} W_h + b = [\,a^f \mid a^g \mid a^o\,]$   (N, 3H): no $i$ block",
        size=10,
        ha="left",
        color=WEIGHT,
    )
    for x, text, face, name in [
        (xf, r"$\sigma$", GATE_FACE, r"$f_t$"),
        (xg, "tanh", CAND_FACE, r"$g_t$"),
        (xo, r"$\sigma$", GATE_FACE, r"$o_t$"),
    ]:
        _arrow(ax, (x, yb), (x, yg - 0.27))
        _box(ax, (x, yg), 0.75, 0.5, text, face=face, size=12)
        _label(ax, (x + 0.42, yg + 0.42), name, size=12, color=FWD, ha="left")

    # f_t: up to the × on the cell line, and across to the "1 −" box
    ym = 2.95
    _arrow(ax, (xf, yg + 0.27), (xf, yc - 0.26))
    _line(ax, [(xf, ym), (xm - 0.33, ym)])
    ax.plot([xf], [ym], "o", color=INK, ms=4, zorder=3)
    _box(ax, (xm, ym), 0.62, 0.4, "1 −", face=GATE_FACE, size=11)
    _label(ax, (xm, ym - 0.38), r"$i_t = 1 - f_t$", size=10, color=FWD)
    yig = 3.45
    _node(ax, (xg, yig), 0.2, "×")
    _line(ax, [(xm, ym + 0.2), (xm, yig), (xg - 0.2, yig)])
    _arrow(ax, (xg, yg + 0.27), (xg, yig - 0.22))
    _arrow(ax, (xg, yig + 0.21), (xg, yc - 0.26))

    ytanh, yh = 3.1, 2.05
    _line(ax, [(xt, yc), (xt, ytanh + 0.25)], color=CONVEYOR, lw=1.6)
    ax.plot([xt], [yc], "o", color=CONVEYOR, ms=5, zorder=3)
    _box(ax, (xt, ytanh), 0.75, 0.45, "tanh", size=11)
    _node(ax, (xt, yh), 0.22, "×")
    _arrow(ax, (xt, ytanh - 0.23), (xt, yh - 0.24 + 0.48))
    _arrow(ax, (xo + 0.38, yg), (xt - 0.24, yh))
    _line(ax, [(xt + 0.22, yh), (8.2, yh), (8.2, yb)])
    _arrow(ax, (8.2, yb), (9.3, yb))
    _label(ax, (9.7, yb), r"$h_t$", size=15)

    eq = (
        r"$f_t = \sigma(a^f),\ g_t = \tanh(a^g),\ o_t = \sigma(a^o)\qquad"
        r"c_t = f_t\odot c_{t-1} + (1 - f_t)\odot g_t\qquad h_t = o_t\odot\tanh(c_t)$"
    )
    _label(ax, (5.1, 5.3), eq, size=11)
    return _save(fig, "cifg_cell")


def variant_switches() -> Path:
    """The vanilla LSTM of Greff et al. (peepholes) with the place where each variant acts."""
    fig, ax = _canvas(11.4, 6.2, (0, 11.4), (0, 6.2))
    _cell_frame(ax, 1.2, 0.75, 7.5, 4.6, "vanilla LSTM of Greff et al. (with peepholes)")

    yc, yb, yg = 4.3, 1.05, 2.15
    xi, xf, xg, xo, xt = 2.6, 3.8, 5.0, 6.3, 7.55

    _line(ax, [(0.75, yc), (xf - 0.24, yc)], color=CONVEYOR, lw=3)
    _line(ax, [(xf + 0.24, yc), (xg - 0.24, yc)], color=CONVEYOR, lw=3)
    _arrow(ax, (xg + 0.24, yc), (9.0, yc), color=CONVEYOR, lw=3)
    _node(ax, (xf, yc), 0.24, "×", edge=CONVEYOR)
    _node(ax, (xg, yc), 0.24, "+", edge=CONVEYOR)
    _label(ax, (0.45, yc), r"$c_{t-1}$", size=14)
    _label(ax, (9.35, yc), r"$c_t$", size=14)
    _line(ax, [(0.75, yb), (xo, yb)])
    _label(ax, (0.45, yb), r"$h_{t-1}$", size=14)
    _label(ax, (1.75, 0.3), r"$x_t$", size=14)
    _line(ax, [(1.75, 0.5), (1.75, yb)])
    for x, text, face, name in [
        (xi, r"$\sigma$", GATE_FACE, r"$i_t$"),
        (xf, r"$\sigma$", GATE_FACE, r"$f_t$"),
        (xg, "tanh", CAND_FACE, r"$g_t$"),
        (xo, r"$\sigma$", GATE_FACE, r"$o_t$"),
    ]:
        _arrow(ax, (x, yb), (x, yg - 0.27))
        _box(ax, (x, yg), 0.75, 0.5, text, face=face, size=12)
        _label(ax, (x + 0.42, yg + 0.42), name, size=12, color=FWD, ha="left")
    yig = 3.25
    _line(ax, [(xf, yg + 0.27), (xf, yig - 0.1)])
    _arrow(ax, (xf, yig + 0.1), (xf, yc - 0.26))
    _node(ax, (xg, yig), 0.22, "×")
    _line(ax, [(xi, yg + 0.27), (xi, yig), (xg - 0.22, yig)])
    _arrow(ax, (xg, yg + 0.27), (xg, yig - 0.24))
    _arrow(ax, (xg, yig + 0.23), (xg, yc - 0.26))
    # peepholes (dashed): c_{t-1} into i and f, c_t into o
    _arrow(ax, (1.45, yc), (xi - 0.2, yg + 0.27), ls="--", color=MUTED, lw=1.2)
    _arrow(ax, (1.45, yc), (xf - 0.3, yg + 0.2), ls="--", color=MUTED, lw=1.2, rad=0.15)
    _arrow(ax, (xt, yc), (xo + 0.3, yg + 0.27), ls="--", color=MUTED, lw=1.2)
    ax.plot([1.45], [yc], "o", color=CONVEYOR, ms=4, zorder=3)
    # output
    ytanh, yh = 3.25, 2.15
    _line(ax, [(xt, yc), (xt, ytanh + 0.25)], color=CONVEYOR, lw=1.6)
    ax.plot([xt], [yc], "o", color=CONVEYOR, ms=5, zorder=3)
    _box(ax, (xt, ytanh), 0.75, 0.45, "tanh", size=11)
    _node(ax, (xt, yh), 0.22, "×")
    _arrow(ax, (xt, ytanh - 0.23), (xt, yh - 0.24 + 0.48))
    _arrow(ax, (xo + 0.38, yg), (xt - 0.24, yh))
    _line(ax, [(xt + 0.22, yh), (8.2, yh), (8.2, yb)])
    _arrow(ax, (8.2, yb), (9.0, yb))
    _label(ax, (9.35, yb), r"$h_t$", size=14)

    # where each variant acts (red labels)
    tags = [
        ((xi, 1.6), "NIG: $i=1$"),
        ((xf + 0.05, 1.6), "NFG: $f=1$"),
        ((xg + 0.1, 1.6), "NIAF: no tanh"),
        ((xo + 0.15, 1.6), "NOG: $o=1$"),
        ((xt + 0.55, ytanh + 0.5), "NOAF: no tanh"),
        ((2.4, 5.0), "NP: no dashed peepholes"),
        ((2.5, 3.65), "CIFG: $i = 1 - f$"),
        ((6.1, 5.0), r"FGR: $i,f,o$ also read $i,f,o$ of step $t-1$"),
    ]
    for (x, y), text in tags:
        ax.text(
            x,
            y,
            text,
            fontsize=9,
            color=SWITCH,
            ha="center",
            va="center",
            zorder=7,
            bbox={"facecolor": "white", "edgecolor": SWITCH, "lw": 0.6, "pad": 1.5},
        )
    _label(ax, (10.2, 3.2), "each variant\nchanges one\nthing (red)", size=10, color=SWITCH)
    return _save(fig, "variant_switches")


FIGURES: dict[str, Callable[[], Path]] = {
    "cifg_cell": cifg_cell,
    "variant_switches": variant_switches,
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
