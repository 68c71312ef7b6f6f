"""Hidden tests of cell_cost: parameters (two biases) and multiply-adds per step of five cells."""

from __future__ import annotations

import numpy as np

from autograder.suites.kit import call, named, readable
from solutions.choosing import cell_cost as reference

CELLS = ("rnn", "gru", "lstm", "peephole", "cifg")
SIZES = [(1, 1), (3, 5), (7, 2), (128, 128)]
G = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}


def _mistakes(cell: str, D: int, H: int) -> list[tuple[str, dict]]:
    """(message, what the mistake returns) for the typical mistakes at these sizes."""
    g, w = G[cell], G[cell] * H * (D + H)
    peep = 3 * H if cell == "peephole" else 0
    out = [
        ("params counts one bias vector; PyTorch's layout has two (bias_ih and bias_hh), G H each.",
         {"params": w + g * H + peep, "macs": w + peep}),
        ("params leaves out the biases; both bias vectors (2 G H entries) are parameters.",
         {"params": w + peep, "macs": w + peep}),
        ("macs counts the biases; a bias is added, not multiplied, so it costs no multiply-add.",
         {"params": w + 2 * g * H + peep, "macs": w + 2 * g * H + peep}),
        ("macs counts the biases; a bias is added, not multiplied, so it costs no multiply-add.",
         {"params": w + 2 * g * H + peep, "macs": w + g * H + peep}),
        ("the recurrent weights are missing: weight_hh is (G H, H), so each cell has "
         "G H (D + H) weights.",
         {"params": g * H * D + 2 * g * H + peep, "macs": g * H * D + peep}),
    ]  # fmt: skip
    if cell == "peephole":
        out += [
            ("the peepholes are diagonal: three vectors of H entries, not H x H matrices.",
             {"params": w + 2 * g * H + 3 * H * H, "macs": w + 3 * H * H}),
            ("the peephole LSTM has three peephole vectors p_i, p_f, p_o (H entries each) on top "
             "of the LSTM's parameters, each used once per step.",
             {"params": w + 2 * g * H, "macs": w}),
        ]  # fmt: skip
    if cell == "cifg":
        out.append(
            ("the CIFG has three gate blocks (f, g, o): its input gate i = 1 - f has no weights.",
             {"params": 4 * H * (D + H) + 8 * H, "macs": 4 * H * (D + H)})
        )  # fmt: skip
    if cell == "gru":
        out.append(
            ("the GRU has three gate blocks (r, z, n), not four.",
             {"params": 4 * H * (D + H) + 8 * H, "macs": 4 * H * (D + H)})
        )  # fmt: skip
    return out


def _check(student, cell: str, D: int, H: int) -> None:
    got = call(student("cell_cost"), "cell_cost", cell, D, H)
    want = reference(cell, D, H)
    where = f"cell_cost({cell!r}, {D}, {H})"
    if type(got) is not dict or set(got) != {"params", "macs"}:
        raise AssertionError(
            f"{where} must return a dict with the keys 'params' and 'macs', got {got!r}."
        )
    for key, value in got.items():
        whole = isinstance(value, int | np.integer) or (
            isinstance(value, float | np.floating) and float(value).is_integer()
        )
        if isinstance(value, bool | np.bool_) or not whole:
            raise AssertionError(f"{where}[{key!r}] must be an int, got {value!r}.")
    got = {k: int(v) for k, v in got.items()}
    if got == want:
        return
    named_ = next((m for m, v in _mistakes(cell, D, H) if v == got), "")
    raise AssertionError(
        f"{where} returned {got}, expected {want}. "
        + (named_ or f"A {cell} cell has G = {G[cell]} gate blocks: params = G H (D + H) + 2 G H"
           + (" + 3 H" if cell == "peephole" else "") + ", macs = G H (D + H)"
           + (" + 3 H" if cell == "peephole" else "") + ".")
    )  # fmt: skip


@readable([f"cell_cost, {c}" for c in CELLS], CELLS)
def test_every_cell(student, case_):
    for D, H in SIZES:
        _check(student, case_, D, H)


@named("cell_cost, D different from H (the input and recurrent weights)")
def test_d_and_h_apart(student):
    for cell in CELLS:
        _check(student, cell, 10, 3)
        _check(student, cell, 2, 9)


@readable(
    ["cell_cost, GRU = 3/4 of the LSTM", "cell_cost, CIFG = 3/4 of the LSTM"], ["gru", "cifg"]
)
def test_three_quarters_of_the_lstm(student, case_):
    cell = case_
    got = call(student("cell_cost"), "cell_cost", cell, 6, 5)
    lstm = call(student("cell_cost"), "cell_cost", "lstm", 6, 5)
    if type(got) is not dict or type(lstm) is not dict:
        raise AssertionError("cell_cost must return a dict {'params': ..., 'macs': ...}.")
    if 4 * got.get("macs", 0) != 3 * lstm.get("macs", 1):
        raise AssertionError(
            f"the {cell} must cost exactly 3/4 of the LSTM's multiply-adds (three gate blocks "
            f"against four); got {got.get('macs')} against {lstm.get('macs')}."
        )
