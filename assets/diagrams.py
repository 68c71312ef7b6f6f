"""Draw the course's diagrams with matplotlib and write them to assets/figures/*.png.

    python assets/diagrams.py            # every figure
    python assets/diagrams.py rnn_cell   # only the figures named

The notebooks embed the PNGs as attachments (``![...](attachment:NAME.png)`` in a markdown cell,
see course/build.py), so rerun this script and rebuild the notebooks after changing a drawing.

Output is deterministic: a fixed size and dpi, no timestamps and no "Software" entry in the PNG
metadata, so an unchanged drawing gives a byte-identical file.

Notation (the course's): row vectors, h_t = tanh(x_t Wx + h_{t-1} Wh + b) with x_t (N, D),
h_t (N, H), Wx (D, H), Wh (H, H), b (H,). Jacobians J_t = dh_t/dh_{t-1} = diag(1 - h_t^2) Wh^T.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures"
DPI = 110

# One palette for every figure: forward quantities dark blue, weights green, gradients red.
INK = "#1f2937"
FWD = "#1d4ed8"
WEIGHT = "#047857"
GRAD = "#b91c1c"
CELL_FACE = "#eef2ff"
NODE_FACE = "#ffffff"
MUTED = "#6b7280"

plt.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 11,
        "mathtext.fontset": "dejavusans",
    }
)


# --------------------------------------------------------------------------------------------
# small drawing helpers
# --------------------------------------------------------------------------------------------


def _canvas(width: float, height: float, xlim: tuple, ylim: tuple):
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _arrow(ax, start, end, color=INK, lw=1.6, style="-|>", ls="-", rad=0.0, shrink=0.0, z=2):
    arrow = FancyArrowPatch(
        start,
        end,
        arrowstyle=style,
        mutation_scale=14,
        color=color,
        lw=lw,
        linestyle=ls,
        connectionstyle=f"arc3,rad={rad}",
        shrinkA=shrink,
        shrinkB=shrink,
        zorder=z,
    )
    ax.add_patch(arrow)
    return arrow


def _box(ax, center, w, h, text, face=NODE_FACE, edge=INK, size=12, color=INK, lw=1.4, z=3):
    x, y = center
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=face,
            edgecolor=edge,
            lw=lw,
            zorder=z,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=size, color=color, zorder=z + 1)


def _node(ax, center, r, text, edge=INK, size=13, z=3):
    ax.add_patch(Circle(center, r, facecolor=NODE_FACE, edgecolor=edge, lw=1.4, zorder=z))
    ax.text(*center, text, ha="center", va="center", fontsize=size, color=edge, zorder=z + 1)


def _save(fig, name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    fig.savefig(path, dpi=DPI, metadata={"Software": None}, facecolor="white")
    plt.close(fig)
    return path


# --------------------------------------------------------------------------------------------
# the figures
# --------------------------------------------------------------------------------------------


def rnn_cell() -> Path:
    """One step of the tanh RNN: the two matrix products, the bias, tanh, and h_t leaving twice."""
    fig, ax = _canvas(7.4, 4.3, (0, 7.4), (0, 4.3))
    # the cell
    ax.add_patch(
        FancyBboxPatch(
            (1.55, 0.95),
            4.1,
            2.45,
            boxstyle="round,pad=0.02,rounding_size=0.25",
            facecolor=CELL_FACE,
            edgecolor=FWD,
            lw=1.8,
            zorder=1,
        )
    )
    ax.text(1.7, 3.22, "RNN cell (one time step)", fontsize=10, color=FWD, va="center")

    # inputs
    ax.text(0.75, 2.2, r"$h_{t-1}$", fontsize=15, ha="center", va="center", color=INK)
    ax.text(0.75, 1.85, "(N, H)", fontsize=9, ha="center", va="center", color=MUTED)
    ax.text(2.55, 0.3, r"$x_t$", fontsize=15, ha="center", va="center", color=INK)
    ax.text(3.05, 0.3, "(N, D)", fontsize=9, ha="left", va="center", color=MUTED)

    # the two products
    _box(ax, (2.55, 2.2), 0.95, 0.5, r"$\cdot\,W_h$", edge=WEIGHT, color=WEIGHT, size=13)
    _box(ax, (2.55, 1.35), 0.95, 0.5, r"$\cdot\,W_x$", edge=WEIGHT, color=WEIGHT, size=13)
    _arrow(ax, (1.1, 2.2), (2.07, 2.2))
    _arrow(ax, (2.55, 0.5), (2.55, 1.1))

    # sum with the bias, then tanh
    _node(ax, (3.75, 2.2), 0.24, "+")
    _arrow(ax, (3.03, 2.2), (3.51, 2.2))
    _arrow(ax, (3.03, 1.35), (3.58, 2.03), rad=0.25)
    ax.text(3.75, 2.88, r"$b$", fontsize=14, ha="center", va="center", color=WEIGHT)
    _arrow(ax, (3.75, 2.72), (3.75, 2.44), color=WEIGHT)
    _box(ax, (4.85, 2.2), 0.85, 0.5, "tanh", size=12)
    _arrow(ax, (3.99, 2.2), (4.42, 2.2))
    ax.text(4.2, 1.95, r"$a_t$", fontsize=11, ha="center", va="center", color=MUTED)

    # output: to the next step and up to a readout
    _arrow(ax, (5.28, 2.2), (6.6, 2.2))
    ax.text(6.95, 2.2, r"$h_t$", fontsize=15, ha="center", va="center", color=INK)
    ax.text(6.95, 1.85, "(N, H)", fontsize=9, ha="center", va="center", color=MUTED)
    ax.plot([5.95, 5.95], [2.2, 3.6], color=INK, lw=1.6, zorder=2)
    _arrow(ax, (5.95, 3.6), (5.95, 4.05))
    ax.text(6.1, 3.9, "to a readout", fontsize=9, color=MUTED, va="center")
    ax.text(6.6, 2.48, "to step t+1", fontsize=9, color=MUTED, ha="center")

    ax.text(
        3.7,
        0.62,
        r"$h_t=\tanh(x_t W_x + h_{t-1} W_h + b)$",
        fontsize=11,
        ha="left",
        va="center",
        color=INK,
    )
    return _save(fig, "rnn_cell")


def rnn_unrolled() -> Path:
    """The RNN unrolled over time: one set of weights, the forward chain, the backward path."""
    fig, ax = _canvas(9.6, 3.9, (-0.3, 9.3), (0.5, 4.4))
    ys = 2.2  # height of the state chain
    xs = [1.6, 3.5, 5.4, 8.0]  # cells at t = 1, 2, 3 and T
    labels = ["1", "2", "3", "T"]
    w, h = 1.05, 0.8

    ax.text(0.0, ys, r"$h_0$", fontsize=15, ha="center", va="center")
    for i, (x, t) in enumerate(zip(xs, labels, strict=True)):
        _box(ax, (x, ys), w, h, "tanh", face=CELL_FACE, edge=FWD, size=11)
        ax.text(
            x,
            ys - 0.28,
            r"$W_x, W_h, b$",
            fontsize=8.5,
            ha="center",
            va="center",
            color=WEIGHT,
            zorder=5,
        )
        # input from below, hidden state up to a loss
        ax.text(x, 0.95, rf"$x_{{{t}}}$", fontsize=14, ha="center", va="center")
        _arrow(ax, (x, 1.17), (x, ys - h / 2 - 0.02))
        ax.text(x, 3.85, rf"$L_{{{t}}}$", fontsize=13, ha="center", va="center", color=MUTED)
        _arrow(ax, (x, ys + h / 2 + 0.02), (x, 3.62), color=MUTED, lw=1.2)
        # forward arrow into this cell from the previous state
        start = 0.28 if i == 0 else xs[i - 1] + w / 2
        if t == "T":
            ax.text(6.7, ys, r"$\cdots$", fontsize=18, ha="center", va="center")
            _arrow(ax, (xs[2] + w / 2, ys), (6.35, ys))
            start = 7.05
        _arrow(ax, (start, ys), (x - w / 2, ys))
        name = "0" if i == 0 else labels[i - 1]
        if t != "T":
            ax.text(
                (start + x - w / 2) / 2,
                ys + 0.2,
                rf"$h_{{{name}}}$",
                fontsize=11,
                ha="center",
                va="bottom",
                color=FWD,
            )

    # backward path, in the gaps between the cells just below the forward arrows: the gradient
    # reaching h_t is multiplied by J_t on its way to h_{t-1}; each loss L_t adds its own part.
    yb = ys - 0.3
    gaps = [(xs[0] - w / 2, 0.28, "1"), (xs[1] - w / 2, xs[0] + w / 2, "2")]
    gaps += [(xs[2] - w / 2, xs[1] + w / 2, "3"), (xs[3] - w / 2, 7.05, "T")]
    for right, left, t in gaps:
        _arrow(ax, (right - 0.04, yb), (left + 0.04, yb), color=GRAD, ls="--", lw=1.5)
        ax.text(
            (right + left) / 2,
            yb - 0.1,
            rf"$\cdot J_{{{t}}}$",
            fontsize=11,
            ha="center",
            va="top",
            color=GRAD,
        )
    _arrow(ax, (6.35, yb), (xs[2] + w / 2 + 0.04, yb), color=GRAD, ls="--", lw=1.5)
    for x, t in zip(xs, labels, strict=True):
        _arrow(ax, (x + 0.22, 3.62), (x + 0.22, ys + h / 2 + 0.02), color=GRAD, ls="--", lw=1.2)
        ax.text(
            x + 0.3,
            3.15,
            rf"$\frac{{\partial L_{{{t}}}}}{{\partial h_{{{t}}}}}$",
            fontsize=13,
            ha="left",
            va="center",
            color=GRAD,
        )
    ax.text(
        4.5,
        0.6,
        r"backward: $\frac{\partial L}{\partial h_{t-1}}$ += "
        r"$\frac{\partial L}{\partial h_t}\, J_t$,   "
        r"$J_t = \mathrm{diag}(1-h_t^2)\, W_h^{\top}$",
        fontsize=11,
        ha="center",
        va="center",
        color=GRAD,
    )
    ax.text(
        4.5,
        4.25,
        r"the same $W_x, W_h, b$ at every step: $\partial L/\partial W_h$ is a sum over t",
        fontsize=11,
        ha="center",
        va="center",
        color=WEIGHT,
    )
    return _save(fig, "rnn_unrolled")


def clipping() -> Path:
    """Global-norm clipping keeps the direction of g; clipping each entry to [-c, c] turns it."""
    fig, ax = _canvas(5.6, 4.3, (-1.6, 4.0), (-1.4, 2.9))
    c = 1.0
    g = (3.2, 1.1)
    norm = (g[0] ** 2 + g[1] ** 2) ** 0.5
    by_norm = (g[0] * c / norm, g[1] * c / norm)
    by_value = (max(-c, min(c, g[0])), max(-c, min(c, g[1])))

    ax.add_patch(Circle((0, 0), c, facecolor="#dbeafe", edgecolor=FWD, lw=1.3, alpha=0.8, zorder=1))
    ax.add_patch(
        Rectangle(
            (-c, -c), 2 * c, 2 * c, facecolor="none", edgecolor=WEIGHT, lw=1.4, ls="--", zorder=1
        )
    )
    ax.plot([-1.5, 3.8], [0, 0], color="#d1d5db", lw=0.8, zorder=0)
    ax.plot([0, 0], [-1.3, 2.4], color="#d1d5db", lw=0.8, zorder=0)
    _arrow(ax, (0, 0), g, color=INK, lw=2.0)
    _arrow(ax, (0, 0), by_norm, color=FWD, lw=2.4, z=4)
    _arrow(ax, (0, 0), by_value, color=GRAD, lw=2.0, z=3)
    ax.plot([by_norm[0], g[0]], [by_norm[1], g[1]], color=MUTED, lw=0.8, ls=":", zorder=1)

    ax.text(g[0] + 0.05, g[1] + 0.12, r"$g$", fontsize=15, color=INK)
    cos = (g[0] * by_value[0] + g[1] * by_value[1]) / (norm * (2 * c**2) ** 0.5)
    ax.text(
        by_value[0] + 0.08,
        by_value[1] + 0.05,
        f"value-clipped (cos {cos:.2f})",
        fontsize=10,
        color=GRAD,
    )
    ax.text(1.05, 0.08, "norm-clipped (cos 1)", fontsize=10, color=FWD, va="bottom")
    ax.text(-1.0, -1.25, r"$\|g\| \leq c$", fontsize=10, color=FWD, va="center")
    ax.text(-0.2, -1.25, r"every $|g_i| \leq c$", fontsize=10, color=WEIGHT, va="center")
    ax.text(
        -1.5,
        2.65,
        "Global-norm clipping shrinks g along its own line;\n"
        "value clipping cuts the large entry and turns g.",
        fontsize=10,
        color=INK,
        va="center",
    )
    return _save(fig, "clipping")


FIGURES: dict[str, Callable[[], Path]] = {
    "rnn_cell": rnn_cell,
    "rnn_unrolled": rnn_unrolled,
    "clipping": clipping,
}


def main(names: list[str] | None = None) -> list[Path]:
    """Write the named figures (all by default) to assets/figures/; return their paths."""
    names = names or list(FIGURES)
    unknown = sorted(set(names) - set(FIGURES))
    if unknown:
        raise SystemExit(f"unknown figure(s) {unknown}; choose from {sorted(FIGURES)}")
    written = [FIGURES[n]() for n in names]
    for path in written:
        print("wrote", path.relative_to(OUT.parent.parent), f"({path.stat().st_size} bytes)")
    return written


if __name__ == "__main__":
    main(sys.argv[1:])
