"""Draw the diagrams of notebook 02 (GRU) with matplotlib and write assets/figures/gru_*.png.

    python assets/diagrams_gru.py              # every figure of notebook 02
    python assets/diagrams_gru.py gru_cell     # only the figures named

Same palette, helpers and deterministic output as assets/diagrams.py (no timestamps in the PNG,
fixed size and dpi), so an unchanged drawing gives a byte-identical file. Rebuild the notebooks
after changing a drawing: they embed the PNGs as attachments.

Notation (the course's, row vectors): lecture form
    r = sigmoid(x Wx_r + h_prev Wh_r + b_r),  u = sigmoid(x Wx_u + h_prev Wh_u + b_u),
    h_tilde = tanh(x Wx_h + (r * h_prev) Wh_h + b_h),  h = (1 - u) * h_prev + u * h_tilde;
PyTorch form n = tanh(x Wx_n + bx_n + r * (h_prev Wh_n + bh_n)), h = (1 - z) * n + z * h_prev.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import diagrams as base  # noqa: E402  (assets/diagrams.py: palette and drawing helpers)
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402

INK, FWD, WEIGHT, GRAD = base.INK, base.FWD, base.WEIGHT, base.GRAD
CELL_FACE, MUTED = base.CELL_FACE, base.MUTED
GATE = "#7c3aed"  # gates (sigmoid outputs) in violet
BLOCK_COLORS = {"r": "#fde68a", "z": "#bfdbfe", "n": "#bbf7d0"}  # fused blocks r, z, n
arrow, box, node, save = base._arrow, base._box, base._node, base._save


def _line(ax, points, color=INK, lw=1.6, z=2):
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, color=color, lw=lw, zorder=z, solid_capstyle="round")


def _cell_frame(ax, x, y, w, h, title, edge=FWD):
    ax.add_patch(
        FancyBboxPatch(
            (x, y),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.25",
            facecolor=CELL_FACE,
            edgecolor=edge,
            lw=1.8,
            zorder=0,
        )
    )
    ax.text(x + 0.15, y + h - 0.22, title, fontsize=10, color=edge, va="center")


# --------------------------------------------------------------------------------------------
# one step of the lecture-form GRU
# --------------------------------------------------------------------------------------------


def gru_cell() -> Path:
    """The lecture-form GRU step: two gates, the candidate, and the copy path along the top."""
    fig, ax = base._canvas(10.4, 6.0, (0, 10.4), (0, 6.0))
    _cell_frame(ax, 0.85, 0.35, 8.75, 5.0, "GRU cell, lecture form (one time step)")

    ys, yc, yg, yb = 4.45, 3.15, 1.75, 0.75  # state line, candidate row, gate row, input bus

    # the copy path: h_{t-1} straight to h_t, scaled only by (1 - u)
    ax.add_patch(
        Rectangle((0.95, ys - 0.17), 8.55, 0.34, facecolor="#fee2e2", edgecolor="none", zorder=0)
    )
    ax.text(0.35, ys, r"$h_{t-1}$", fontsize=15, ha="center", va="center")
    ax.text(10.05, ys, r"$h_t$", fontsize=15, ha="center", va="center")
    arrow(ax, (0.7, ys), (7.38, ys))
    node(ax, (7.6, ys), 0.22, "×", size=13)
    arrow(ax, (7.82, ys), (8.58, ys))
    node(ax, (8.8, ys), 0.22, "+", size=13)
    arrow(ax, (9.02, ys), (9.75, ys))
    ax.text(
        5.3,
        ys + 0.45,
        r"copy path: with $u_t \approx 0$, $h_t \approx h_{t-1}$ and "
        r"$\partial h_t / \partial h_{t-1} \approx I$",
        fontsize=10.5,
        ha="center",
        va="center",
        color=GRAD,
    )

    # input bus [h_{t-1}, x_t] feeding the gates and the candidate's input part
    _line(ax, [(1.35, ys), (1.35, yb), (7.1, yb)])
    ax.text(1.75, 0.08, r"$x_t$", fontsize=15, ha="center", va="center")
    _line(ax, [(1.75, 0.25), (1.75, yb)])
    ax.text(3.9, yb - 0.22, r"$[h_{t-1},\ x_t]$", fontsize=9, ha="center", va="center", color=MUTED)

    # gates
    box(ax, (2.55, yg), 0.75, 0.5, r"$\sigma$", edge=GATE, color=GATE, size=13)
    box(ax, (7.1, yg), 0.75, 0.5, r"$\sigma$", edge=GATE, color=GATE, size=13)
    arrow(ax, (2.55, yb), (2.55, yg - 0.27))
    arrow(ax, (7.1, yb), (7.1, yg - 0.27))
    ax.text(2.05, yg, r"$r_t$", fontsize=13, ha="center", va="center", color=GATE)
    ax.text(7.6, yg, r"$u_t$", fontsize=13, ha="center", va="center", color=GATE)
    ax.text(2.55, yg - 0.5, "reset", fontsize=8.5, ha="center", va="center", color=GATE)
    ax.text(7.1, yg - 0.5, "update", fontsize=8.5, ha="center", va="center", color=GATE)

    # candidate row: r * h_{t-1}, times Wh_h, plus the input part, tanh
    node(ax, (3.3, yc), 0.22, "×", size=13)
    arrow(ax, (3.3, ys), (3.3, yc + 0.23))
    _line(ax, [(2.55, yg + 0.26), (2.55, yc)], color=GATE)
    arrow(ax, (2.55, yc), (3.07, yc), color=GATE)
    box(ax, (4.45, yc), 0.95, 0.5, r"$\cdot\,W_{h}^{\tilde h}$", edge=WEIGHT, color=WEIGHT, size=12)
    arrow(ax, (3.52, yc), (3.96, yc))
    node(ax, (5.7, yc), 0.22, "+", size=13)
    arrow(ax, (4.93, yc), (5.47, yc))
    box(ax, (5.7, yg), 1.35, 0.5, r"$x_t W_x^{\tilde h} + b^{\tilde h}$", edge=WEIGHT, size=10)
    _line(ax, [(5.7, yb), (5.7, yg - 0.26)])
    arrow(ax, (5.7, yg + 0.26), (5.7, yc - 0.23))
    box(ax, (6.65, yc), 0.75, 0.5, "tanh", size=11)
    arrow(ax, (5.92, yc), (6.27, yc))
    ax.text(8.15, yc + 0.3, r"$\tilde h_t$", fontsize=13, ha="center", va="center", color=FWD)

    # update gate: (1 - u) on the copy path, u on the candidate
    _line(ax, [(7.1, yg + 0.26), (7.1, 2.4), (8.8, 2.4)], color=GATE)
    node(ax, (8.8, yc), 0.22, "×", size=13)
    arrow(ax, (8.8, 2.4), (8.8, yc - 0.23), color=GATE)
    arrow(ax, (7.03, yc), (8.57, yc))
    arrow(ax, (8.8, yc + 0.23), (8.8, ys - 0.23))
    # 1 - u up to the copy path, with a white gap where it crosses h_tilde's arrow
    box(ax, (7.6, 3.78), 0.62, 0.34, r"$1-u_t$", edge=GATE, color=GATE, size=9, lw=1.0)
    _line(ax, [(7.6, 2.4), (7.6, yc - 0.08)], color=GATE)
    _line(ax, [(7.6, yc + 0.08), (7.6, 3.6)], color=GATE)
    arrow(ax, (7.6, 3.96), (7.6, ys - 0.23), color=GATE)

    ax.text(
        5.2,
        5.72,
        r"$h_t = (1-u_t)\odot h_{t-1} + u_t \odot \tilde h_t,\qquad "
        r"\tilde h_t = \tanh(x_t W_x^{\tilde h} + (r_t \odot h_{t-1}) W_h^{\tilde h} "
        r"+ b^{\tilde h})$",
        fontsize=11.5,
        ha="center",
        va="center",
    )
    return save(fig, "gru_cell")


# --------------------------------------------------------------------------------------------
# the two conventions side by side
# --------------------------------------------------------------------------------------------


def _candidate_panel(ax, x0, title, subtitle, reset_first):
    """One candidate path: reset then matrix product (paper) or the reverse (PyTorch)."""
    _cell_frame(ax, x0, 0.3, 5.2, 4.0, title)
    ax.text(x0 + 0.15, 3.72, subtitle, fontsize=8.5, color=MUTED, va="center")
    y = 2.75
    ax.text(x0 + 0.4, y, r"$h_{t-1}$", fontsize=13, ha="center", va="center")
    if reset_first:
        node(ax, (x0 + 1.4, y), 0.22, "×", size=13)
        ax.text(x0 + 1.4, y - 0.55, r"$r_t$", fontsize=12, ha="center", va="center", color=GATE)
        arrow(ax, (x0 + 1.4, y - 0.38), (x0 + 1.4, y - 0.23), color=GATE)
        arrow(ax, (x0 + 0.8, y), (x0 + 1.17, y))
        box(ax, (x0 + 2.6, y), 1.0, 0.5, r"$\cdot\,W_h^{\tilde h}$", edge=WEIGHT, color=WEIGHT)
        arrow(ax, (x0 + 1.63, y), (x0 + 2.08, y))
        last = x0 + 3.12
        formula = (
            r"$\tilde h_t=\tanh(x_tW_x^{\tilde h}+(r_t\odot h_{t-1})W_h^{\tilde h}+b^{\tilde h})$"
        )
        mix = r"$h_t=(1-u_t)\odot h_{t-1}+u_t\odot\tilde h_t$"
        weighs = "u weighs the candidate"
        note = r"$r_t$ is needed before the product: two products in a row per step"
    else:
        box(ax, (x0 + 1.75, y), 1.4, 0.5, r"$\cdot\,W_h^{n}+b_h^{n}$", edge=WEIGHT, color=WEIGHT)
        arrow(ax, (x0 + 0.72, y), (x0 + 1.03, y))
        node(ax, (x0 + 2.85, y), 0.22, "×", size=13)
        ax.text(x0 + 2.85, y - 0.55, r"$r_t$", fontsize=12, ha="center", va="center", color=GATE)
        arrow(ax, (x0 + 2.85, y - 0.38), (x0 + 2.85, y - 0.23), color=GATE)
        arrow(ax, (x0 + 2.47, y), (x0 + 2.62, y))
        last = x0 + 3.08
        formula = r"$n_t=\tanh(x_tW_x^{n}+b_x^{n}+r_t\odot(h_{t-1}W_h^{n}+b_h^{n}))$"
        mix = r"$h_t=(1-z_t)\odot n_t+z_t\odot h_{t-1}$"
        weighs = "z weighs the old state"
        note = r"one product $h_{t-1} W_h$ for r, z and n at once, before r is known"
    node(ax, (x0 + 3.75, y), 0.22, "+", size=13)
    arrow(ax, (last, y), (x0 + 3.52, y))
    ax.text(x0 + 3.75, y + 0.62, "input part", fontsize=8.5, ha="center", va="center", color=MUTED)
    arrow(ax, (x0 + 3.75, y + 0.48), (x0 + 3.75, y + 0.23))
    box(ax, (x0 + 4.6, y), 0.75, 0.5, "tanh", size=11)
    arrow(ax, (x0 + 3.98, y), (x0 + 4.21, y))
    ax.text(x0 + 2.6, 1.95, note, fontsize=8.5, ha="center", va="center", color=WEIGHT)
    ax.text(x0 + 2.6, 1.45, formula, fontsize=10, ha="center", va="center")
    ax.text(x0 + 2.6, 0.95, mix, fontsize=10, ha="center", va="center")
    ax.text(x0 + 2.6, 0.55, weighs, fontsize=9.5, ha="center", va="center", color=GATE)


def gru_forms() -> Path:
    """Lecture form against PyTorch form: where the reset acts and what the update gate weighs."""
    fig, ax = base._canvas(11.0, 4.5, (0, 11.0), (0, 4.5))
    _candidate_panel(
        ax, 0.2, "lecture form: reset BEFORE the product", "CS224n, Ng, colah", reset_first=True
    )
    _candidate_panel(
        ax,
        5.6,
        "PyTorch form: reset AFTER the product",
        "torch.nn.GRU, cuDNN, Keras' default (reset_after=True)",
        reset_first=False,
    )
    return save(fig, "gru_forms")


# --------------------------------------------------------------------------------------------
# PyTorch's fused weights -> the course's arrays
# --------------------------------------------------------------------------------------------


def _blocks(ax, x, y, w, h, names, vertical, label, size=10):
    """A matrix drawn as len(names) coloured blocks, stacked by rows (vertical) or columns."""
    k = len(names)
    for i, name in enumerate(names):
        if vertical:  # first block on top
            bx, by, bw, bh = x, y + h - (i + 1) * h / k, w, h / k
        else:
            bx, by, bw, bh = x + i * w / k, y, w / k, h
        ax.add_patch(
            Rectangle((bx, by), bw, bh, facecolor=BLOCK_COLORS[name], edgecolor=INK, lw=1.0)
        )
        ax.text(bx + bw / 2, by + bh / 2, name, fontsize=size, ha="center", va="center")
    ax.text(x + w / 2, y + h + 0.22, label, fontsize=10, ha="center", va="center")


def gru_weights() -> Path:
    """weight_ih (3H, D), gate blocks by rows, becomes Wx = weight_ih.T (D, 3H), blocks by
    columns in the same order r, z, n; the two biases stay apart."""
    fig, ax = base._canvas(10.6, 5.1, (0, 10.6), (0, 5.1))
    ax.text(2.65, 4.8, "PyTorch (column vectors)", fontsize=11, ha="center", color=MUTED)
    ax.text(7.65, 4.8, "this course (row vectors)", fontsize=11, ha="center", color=MUTED)

    _blocks(ax, 1.2, 1.6, 0.9, 2.55, "rzn", True, "weight_ih (3H, D)")
    _blocks(ax, 2.75, 1.6, 1.4, 2.55, "rzn", True, "weight_hh (3H, H)")
    _blocks(ax, 5.9, 3.1, 3.5, 0.55, "rzn", False, "Wx = weight_ih.T  (D, 3H)")
    _blocks(ax, 5.9, 1.7, 3.5, 0.85, "rzn", False, "Wh = weight_hh.T  (H, 3H)")
    for y in (3.4, 2.12):
        arrow(ax, (4.4, y), (5.75, y), color=FWD)
        ax.text(5.07, y + 0.2, "transpose", fontsize=9, ha="center", color=FWD)

    for x0, w, labels, side in (
        (1.2, 2.95, ("bias_ih", "bias_hh"), "left"),
        (5.9, 3.5, ("bx = bias_ih", "bh = bias_hh"), "right"),
    ):
        for y, label in zip((0.6, 0.15), labels, strict=True):
            _blocks(ax, x0, y, w, 0.3, "rzn", False, "", size=8)
            tx = x0 - 0.1 if side == "left" else x0 + w + 0.1
            ha = "right" if side == "left" else "left"
            ax.text(tx, y + 0.15, label, fontsize=9, ha=ha, va="center")
    ax.text(2.65, 1.12, "(3H,) each", fontsize=9, ha="center", color=MUTED)
    arrow(ax, (4.4, 0.52), (5.75, 0.52), color=FWD)
    ax.text(5.07, 0.72, "copy, apart", fontsize=9, ha="center", color=FWD)
    ax.text(
        7.65,
        1.12,
        "two biases: the reset gate scales the n block of bh only",
        fontsize=9,
        ha="center",
        color=GRAD,
    )
    return save(fig, "gru_weights")


FIGURES: dict[str, Callable[[], Path]] = {
    "gru_cell": gru_cell,
    "gru_forms": gru_forms,
    "gru_weights": gru_weights,
}


def main(names: list[str] | None = None) -> list[Path]:
    """Write the named figures (all by default) to assets/figures/; return their paths."""
    names = names or list(FIGURES)
    unknown = sorted(set(names) - set(FIGURES))
    if unknown:
        raise SystemExit(f"unknown figure(s) {unknown}; choose from {sorted(FIGURES)}")
    written = [FIGURES[n]() for n in names]
    for path in written:
        print("wrote", path.relative_to(base.OUT.parent.parent), f"({path.stat().st_size} bytes)")
    return written


if __name__ == "__main__":
    main(sys.argv[1:])
