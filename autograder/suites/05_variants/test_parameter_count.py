"""Hidden tests of parameter_count(cell, D, H, biases): G (DH + H^2 + biases H) (+ 3H for the
peephole LSTM), against solutions.variants and against sum(p.numel()) of the course's modules
(two biases: torch.nn and solutions.modules; one bias: VariantLSTM and the modules without
bias_hh), naming the typical counting mistakes."""

from __future__ import annotations

import torch

from autograder.suites.kit import Case, Function, Mistake, call, case, named
from solutions import modules
from solutions.variants import LSTMConfig, VariantLSTM, parameter_count

BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}
CELLS = tuple(BLOCKS)


def _arguments(c):
    """(cell, D, H, biases) of a case: its sizes cell (an index into CELLS), D, H, biases; an
    LSTM with PyTorch's two biases unless the case says otherwise."""
    return [CELLS[c.sizes.get("cell", 2)], c.sizes["D"], c.sizes["H"], c.sizes.get("biases", 2)]


def _count(cell, D, H, biases, blocks=None, bias_factor=None, peep=None, per_cell_bias=False):
    """The count, or a typical wrong one (more blocks, other bias factor, other peepholes)."""
    G = BLOCKS[cell] if blocks is None else blocks
    nb = biases if bias_factor is None else bias_factor(biases)
    p = (3 * H if cell == "peephole" else 0) if peep is None else peep(cell, H)
    if per_cell_bias:
        return G * (D * H + H * H) + nb * H + p
    return G * (D * H + H * H + nb * H) + p


def _when(condition, fn):
    """A mistake that applies only to some cells: None (does not apply) otherwise."""
    return lambda cell, D, H, biases: fn(cell, D, H, biases) if condition(cell, biases) else None


COUNT = Function(
    "parameter_count",
    _arguments,
    returns=("count",),
    reference=parameter_count,
    numbers=("count",),
    title="count",
    hints="Check: G gate blocks (rnn 1, gru 3, lstm 4, peephole 4, cifg 3), each with "
    "D*H + H*H + biases*H numbers; the peephole LSTM adds 3*H (diagonal peepholes).",
    mistakes=[
        Mistake(
            "You counted two biases per block when biases=1 (the papers' count): the argument "
            "biases says how many bias vectors each block has.",
            _when(lambda c, b: b == 1, lambda c, D, H, b: _count(c, D, H, 2)),
        ),
        Mistake(
            "You counted one bias per block when biases=2: PyTorch stores bias_ih AND bias_hh "
            "for every block (a missing bias).",
            _when(lambda c, b: b == 2, lambda c, D, H, b: _count(c, D, H, 1)),
        ),
        Mistake(
            "The biases are missing: each block has biases * H bias entries.",
            lambda c, D, H, b: _count(c, D, H, 0),
        ),
        Mistake(
            "The biases are double-counted: each block has biases * H bias entries, not "
            "2 * biases * H.",
            lambda c, D, H, b: _count(c, D, H, 2 * b),
        ),
        Mistake(
            "The biases were counted once for the whole cell; every gate block has its own "
            "(biases * H per block).",
            lambda c, D, H, b: _count(c, D, H, b, per_cell_bias=True),
        ),
        Mistake(
            "The peepholes were counted as full (H, H) matrices; they are diagonal (pitfall 5): "
            "three vectors of H numbers, 3 * H in all.",
            _when(
                lambda c, b: c == "peephole",
                lambda c, D, H, b: _count(c, D, H, b, peep=lambda c, H: 3 * H * H),
            ),
        ),
        Mistake(
            "The peepholes are missing: a peephole LSTM adds three diagonal vectors p_i, p_f, "
            "p_o, 3 * H numbers.",
            _when(
                lambda c, b: c == "peephole",
                lambda c, D, H, b: _count(c, D, H, b, peep=lambda c, H: 0),
            ),
        ),
        Mistake(
            "The CIFG was counted with four blocks, as if i and f were both kept as free gates: "
            "it has three (f, g, o), since i = 1 - f has no weights.",
            _when(lambda c, b: c == "cifg", lambda c, D, H, b: _count(c, D, H, b, blocks=4)),
        ),
        Mistake(
            "The GRU has three blocks (r, z, n), not four.",
            _when(lambda c, b: c == "gru", lambda c, D, H, b: _count(c, D, H, b, blocks=4)),
        ),
        Mistake(
            "D and H are swapped in one of the products (or the input weights are (H, H)): the "
            "input weights of a block are (D, H), the recurrent ones (H, H).",
            lambda c, D, H, b: (
                BLOCKS[c] * (H * H + H * H + b * H) + (3 * H if c == "peephole" else 0)
            ),
        ),
    ],
)


def _case(seed, cell, biases, D, H):
    label = f"{cell}, D={D}, H={H}, biases={biases}"
    return Case(seed, D=D, H=H, biases=biases, cell=CELLS.index(cell), label=label)


# PyTorch's count, then the papers', every cell once in each, with sizes that keep the typical
# mistakes apart (D != H, H = 1, D = 1)
test_pytorch = COUNT.tests(
    [
        _case(60, "rnn", 2, 3, 5),
        _case(61, "gru", 2, 2, 9),
        _case(62, "lstm", 2, 1, 1),
        _case(63, "peephole", 2, 4, 3),
        _case(64, "cifg", 2, 7, 2),
    ]
)
test_papers = COUNT.tests(
    [
        _case(70, "rnn", 1, 10, 1),
        _case(71, "gru", 1, 3, 5),
        _case(72, "lstm", 1, 4, 3),
        _case(73, "peephole", 1, 1, 1),
        _case(74, "cifg", 1, 2, 6),
    ]
)


def _numel(module, skip: str = "") -> int:
    return sum(p.numel() for n, p in module.named_parameters() if not (skip and skip in n))


@named("count, equal to sum(p.numel()) of the course's modules")
def test_against_modules(student):
    """Independent of the formula: the modules' own parameters, both conventions."""
    D, H = 6, 7
    two = {
        "rnn": torch.nn.RNN(D, H),
        "gru": torch.nn.GRU(D, H),
        "lstm": torch.nn.LSTM(D, H),
        "peephole": modules.PeepholeLSTM(D, H),
        "cifg": modules.CIFG(D, H),
    }
    one = {
        "rnn": _numel(modules.RNN(D, H), skip="bias_hh"),
        "gru": _numel(modules.PaperGRU(D, H), skip="bias_hh"),
        "lstm": _numel(VariantLSTM(D, H, "NP")),
        "peephole": _numel(VariantLSTM(D, H, "vanilla")),
        "cifg": _numel(VariantLSTM(D, H, LSTMConfig(peepholes=False, coupled=True))),
    }
    fn = student("parameter_count")
    for cell in BLOCKS:
        for biases, want in ((2, _numel(two[cell])), (1, one[cell])):
            label = f"{cell}, D={D}, H={H}, biases={biases}"
            with case(label):
                got = call(fn, "parameter_count", cell, D, H, biases)
                if got != want:
                    raise AssertionError(
                        f"parameter_count({cell!r}, {D}, {H}, biases={biases}) = {got!r}; the "
                        f"module has {want} parameters (sum of p.numel())."
                    )
