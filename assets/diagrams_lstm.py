"""Draw the LSTM diagrams of notebook 03 with matplotlib: assets/figures/lstm_*.png.

    python assets/diagrams_lstm.py              # every figure
    python assets/diagrams_lstm.py lstm_cell    # only the figures named

Same conventions as assets/diagrams.py, whose helpers and palette this script uses: forward
quantities dark blue, weights green, gradients red; deterministic PNGs (fixed size and dpi, no
metadata that changes). After changing a drawing, rerun this script and rebuild the notebooks.

Notation (the course's): row vectors; one step computes a = x_t Wx + h_{t-1} Wh + b, split into
blocks i, f, g, o; c_t = f * c_{t-1} + i * g and h_t = o * tanh(c_t).
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
    WEIGHT,
    FancyBboxPatch,
    _arrow,
    _box,
    _canvas,
    _node,
    _save,
)

CONVEYOR = "#0f766e"  # the cell-state line, in every LSTM figure
GATE_FACE = "#fef3c7"  # the sigmoid gates
CAND_FACE = "#e0f2fe"  # the candidate (tanh)


def _line(ax, points, color=INK, lw=1.6, z=2):
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, color=color, lw=lw, zorder=z, solid_capstyle="round")


def _label(ax, xy, text, size=13, color=INK, ha="center", va="center", z=6):
    ax.text(*xy, text, fontsize=size, color=color, ha=ha, va=va, zorder=z)


def _cell_frame(ax, x0, y0, w, h, title=None):
    ax.add_patch(
        FancyBboxPatch(
            (x0, y0),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.25",
            facecolor=CELL_FACE,
            edgecolor=FWD,
            lw=1.8,
            zorder=1,
        )
    )
    if title:
        ax.text(x0 + 0.15, y0 + h - 0.2, title, fontsize=10, color=FWD, va="center", zorder=2)


# Where lstm_cell draws things (diagrams_peephole.py adds its lines to the same drawing).
CELL_Y = {"c": 4.1, "bus": 1.05, "gates": 2.05}  # cell-state line, input bus, gate boxes
CELL_X = {"i": 2.6, "f": 3.8, "g": 5.0, "o": 6.3, "out": 7.55}  # the blocks i, f, g, o; output
LSTM_EQUATION = (
    r"$i_t,\ f_t,\ o_t = \sigma(a^i),\ \sigma(a^f),\ \sigma(a^o)\quad"
    r"g_t = \tanh(a^g)\quad c_t = f_t\odot c_{t-1} + i_t\odot g_t\quad"
    r"h_t = o_t\odot\tanh(c_t)$"
)


def draw_lstm_cell(title: str = "LSTM cell (one time step)", equation: str = LSTM_EQUATION):
    """Draw one LSTM step (without saving it); return (fig, ax)."""
    fig, ax = _canvas(10.2, 5.6, (0, 10.2), (0, 5.6))
    _cell_frame(ax, 1.2, 0.75, 7.5, 4.15, title)

    yc, yb, yg = CELL_Y["c"], CELL_Y["bus"], CELL_Y["gates"]
    xi, xf, xg, xo, xt = (CELL_X[k] for k in ("i", "f", "g", "o", "out"))

    # the cell-state line ("conveyor"): c_{t-1} -> x f_t -> + i_t g_t -> c_t
    _line(ax, [(0.75, yc), (xf - 0.24, yc)], color=CONVEYOR, lw=3)
    _line(ax, [(xf + 0.24, yc), (xg - 0.24, yc)], color=CONVEYOR, lw=3)
    _arrow(ax, (xg + 0.24, yc), (9.3, yc), color=CONVEYOR, lw=3)
    _node(ax, (xf, yc), 0.24, "×", edge=CONVEYOR)  # above the forget gate
    _node(ax, (xg, yc), 0.24, "+", edge=CONVEYOR)
    _label(ax, (0.45, yc), r"$c_{t-1}$", size=15)
    _label(ax, (9.7, yc), r"$c_t$", size=15)
    _label(ax, (4.4, yc + 0.3), "cell state: only × and +", size=9.5, color=CONVEYOR)

    # the input bus: h_{t-1} from the left, x_t from below, feeding all four blocks
    _line(ax, [(0.75, yb), (xo, yb)])
    _label(ax, (0.45, yb), r"$h_{t-1}$", size=15)
    _label(ax, (1.75, 0.28), r"$x_t$", size=15)
    _line(ax, [(1.75, 0.5), (1.75, yb)])
    ax.plot([1.75], [yb], "o", color=INK, ms=4, zorder=3)
    _label(
        ax,
        (2.05, 0.5),
        r"$a = x_t W_x + h_{t-1} W_h + b = [\,a^i \mid a^f \mid a^g \mid a^o\,]$   (N, 4H)",
        size=10,
        ha="left",
        color=WEIGHT,
    )
    boxes = [
        (xi, r"$\sigma$", GATE_FACE, r"$i_t$"),
        (xf, r"$\sigma$", GATE_FACE, r"$f_t$"),
        (xg, "tanh", CAND_FACE, r"$g_t$"),
        (xo, r"$\sigma$", GATE_FACE, r"$o_t$"),
    ]
    for x, text, face, name in boxes:
        _arrow(ax, (x, yb), (x, yg - 0.27))
        _box(ax, (x, yg), 0.75, 0.5, text, face=face, size=12)
        _label(ax, (x + 0.42, yg + 0.42), name, size=12, color=FWD, ha="left")

    # forget: f_t multiplies the old cell state (its line hops over the line of i_t)
    yig = 3.1
    _line(ax, [(xf, yg + 0.27), (xf, yig - 0.1)])
    _arrow(ax, (xf, yig + 0.1), (xf, yc - 0.26))
    # input: i_t * g_t is added to it
    _node(ax, (xg, yig), 0.22, "×")
    _line(ax, [(xi, yg + 0.27), (xi, yig), (xg - 0.22, yig)])
    _arrow(ax, (xg, yg + 0.27), (xg, yig - 0.24))
    _arrow(ax, (xg, yig + 0.23), (xg, yc - 0.26))

    # output: h_t = o_t * tanh(c_t)
    ytanh, yh = 3.1, 2.05
    _line(ax, [(xt, yc), (xt, ytanh + 0.25)], color=CONVEYOR, lw=1.6)
    ax.plot([xt], [yc], "o", color=CONVEYOR, ms=5, zorder=3)
    _box(ax, (xt, ytanh), 0.75, 0.45, "tanh", size=11)
    _node(ax, (xt, yh), 0.22, "×")
    _arrow(ax, (xt, ytanh - 0.23), (xt, yh - 0.24 + 0.48))
    _arrow(ax, (xo + 0.38, yg), (xt - 0.24, yh))
    _line(ax, [(xt + 0.22, yh), (8.2, yh), (8.2, yb)])
    _arrow(ax, (8.2, yb), (9.3, yb))
    ax.plot([8.2], [yb], "o", color=INK, ms=4, zorder=3)
    _arrow(ax, (8.2, yb), (8.2, 0.25))
    _label(ax, (9.7, yb), r"$h_t$", size=15)
    _label(ax, (8.35, 0.35), "to a readout", size=9, color=MUTED, ha="left")
    _label(ax, (9.35, yb + 0.3), "to step t+1", size=9, color=MUTED)
    _label(ax, (9.35, yc + 0.3), "to step t+1", size=9, color=MUTED)

    # the equations, in the course's notation
    _label(ax, (5.1, 5.3), equation, size=11)
    return fig, ax


def lstm_cell() -> Path:
    """One LSTM step: the cell-state line on top, the four gate blocks below, h_t leaving."""
    fig, _ = draw_lstm_cell()
    return _save(fig, "lstm_cell")


def lstm_chain() -> Path:
    """The LSTM unrolled: the cell-state line runs through every step, the gradient along it."""
    fig, ax = _canvas(10.6, 4.6, (0, 10.6), (0, 4.6))
    yc, yh = 3.2, 1.6  # cell-state line and hidden-state line
    xs = [1.9, 4.1, 6.3, 9.0]  # cells at t = 1, 2, 3 and T
    names = ["1", "2", "3", "T"]
    w, h = 1.5, 2.3

    _label(ax, (0.35, yc), r"$c_0$", size=15)
    _label(ax, (0.35, yh), r"$h_0$", size=15)
    for x, t in zip(xs, names, strict=True):
        _cell_frame(ax, x - w / 2, yh - 0.65, w, h)
        _node(ax, (x - 0.3, yc), 0.2, "×", edge=CONVEYOR)
        _node(ax, (x + 0.3, yc), 0.2, "+", edge=CONVEYOR)
        _label(ax, (x - 0.3, yc - 0.45), rf"$f_{{{t}}}$", size=11, color=FWD)
        _arrow(ax, (x - 0.3, yc - 0.32), (x - 0.3, yc - 0.22), lw=1.2)
        _label(ax, (x + 0.3, yc - 0.45), rf"$i_{{{t}}} g_{{{t}}}$", size=11, color=FWD)
        _arrow(ax, (x + 0.3, yc - 0.32), (x + 0.3, yc - 0.22), lw=1.2)
        _box(ax, (x, yh), 0.95, 0.5, "gates", size=10)
        _label(ax, (x, 0.35), rf"$x_{{{t}}}$", size=14)
        _arrow(ax, (x, 0.55), (x, yh - 0.27))

    # the hidden state: from each step's gates to the next step's gates
    stops = [(xs[0] + 0.48, xs[1] - 0.48, "1"), (xs[1] + 0.48, xs[2] - 0.48, "2")]
    stops += [(xs[2] + 0.48, 7.3, "3"), (7.9, xs[3] - 0.48, None), (xs[3] + 0.48, 10.35, "T")]
    for a, b, t in stops:
        _arrow(ax, (a, yh), (b, yh), lw=1.2)
        if t is not None:
            x_label = max((a + b) / 2, a - 0.48 + w / 2 + 0.22)  # clear of the cell's frame
            _label(ax, (x_label, yh + 0.22), rf"$h_{{{t}}}$", size=11, color=FWD)

    # the conveyor: one straight line from c_0 to c_T, interrupted only by x f_t and + i_t g_t
    segments = [(0.6, xs[0] - 0.5)]
    segments += [(xs[k] + 0.5, xs[k + 1] - 0.5) for k in range(2)]
    segments += [(xs[2] + 0.5, 7.35), (7.85, xs[3] - 0.5)]
    for a, b in segments:
        _line(ax, [(a, yc), (b, yc)], color=CONVEYOR, lw=3)
    for x in xs:
        _line(ax, [(x - 0.1, yc), (x + 0.1, yc)], color=CONVEYOR, lw=3)
    _arrow(ax, (xs[3] + 0.5, yc), (10.35, yc), color=CONVEYOR, lw=3)
    _label(ax, (7.6, yc), r"$\cdots$", size=16)
    _label(ax, (7.6, yh), r"$\cdots$", size=16)
    _arrow(ax, (0.6, yh), (xs[0] - 0.48, yh), lw=1.2)
    _label(ax, (10.35, yc + 0.3), r"$c_T$", size=14)

    # backward along the conveyor: multiplied by f_t at each step, nothing else
    yg = yc + 0.62
    factors = [r"$\cdot f_2$", r"$\cdot f_3$", r"$\cdot f_T \cdots f_4$"]
    for k in range(3):
        a, b = xs[k + 1] - 0.3, xs[k] - 0.3
        _arrow(ax, (a - 0.05, yg), (b + 0.05, yg), color=GRAD, ls="--", lw=1.5)
        _label(ax, ((a + b) / 2, yg + 0.22), factors[k], 11, GRAD)
    _arrow(ax, (xs[0] - 0.35, yg), (0.65, yg), color=GRAD, ls="--", lw=1.5)
    _label(ax, (1.05, yg + 0.22), r"$\cdot f_1$", size=11, color=GRAD)
    _label(
        ax,
        (5.3, 4.42),
        r"$\partial c_T/\partial c_0$ along the cell-state line $= f_T \odot \cdots \odot f_1$:"
        r"  with every $f_t = 1$ and $i_t = 0$, $c_T = c_0$ and the gradient is 1",
        size=10.5,
        color=GRAD,
    )
    return _save(fig, "lstm_chain")


FIGURES: dict[str, Callable[[], Path]] = {
    "lstm_cell": lstm_cell,
    "lstm_chain": lstm_chain,
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
