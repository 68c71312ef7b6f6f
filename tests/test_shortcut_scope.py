"""The library-shortcut rule: enforced on the code an exercise reaches, silent elsewhere.

Classes of fixture:

* a forbidden layer called directly by the answer (``torch.nn.GRUCell``, ``torch.nn.GRU``,
  torch's functional ``torch.gru_cell``) in notebook 02's ``gru_pytorch_step_forward``: every
  hidden test fails, with a message saying why, in process (``nbgrader autograde``) and through
  a sandboxed worker (the grading command), and the exercise scores 0;
* the shortcut hidden in a helper of another cell that the answer calls, or in a monkeypatch
  made at top level of another cell under another name: still caught;
* honest code that mentions ``sys.modules``, ``__file__``, ``importlib`` or ``torch._C`` in
  cells the exercise does not reach (a scratch cell, an experiment): no finding, full marks;
* the false-positive count of the static check over every honest answer we have (the samples,
  the solution cells of the instructor notebooks, the honest variants here) is 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder import shortcuts
from autograder.config import Limits
from autograder.grading import worker_factory
from autograder.hidden import StudentNamespace, run_suite
from autograder.proxy import RemoteStudent
from autograder.suites.kit.fixtures import BUILTIN_LAYERS
from solutions.gru import gru_pytorch_step_forward as reference_step
from tests.test_shortcuts import _solution_cells

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "gru_pytorch_step_forward"
SETUP = "import numpy as np\nimport torch\nfrom torch import nn\n"

# the answer, written honestly with numpy
HONEST = """
def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    gi, gh = x @ Wx + bx, h_prev @ Wh + bh
    r = 1 / (1 + np.exp(-(gi[:, :H] + gh[:, :H])))
    z = 1 / (1 + np.exp(-(gi[:, H:2 * H] + gh[:, H:2 * H])))
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h_prev, None
"""
# cells a student may well write elsewhere in the notebook, harmless for the exercise
UNRELATED = [
    "import sys\nprint('torch' in sys.modules, sorted(sys.modules)[:3])\n",
    "import os\nhere = os.path.dirname(__file__) if '__file__' in globals() else '.'\n",
    "import importlib\nnp2 = importlib.import_module('numpy')\n"
    "print(torch._C._get_tracing_state())\n",
    "h = eval('1 + 1')\nref = torch.nn.GRUCell(3, 4)\nprint(ref.weight_ih.shape)\n",
]
# ways to reach PyTorch's GRU from the answer: name -> cells (answer last)
CHEATS = {
    "torch.nn.GRUCell in the answer": [
        """
def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    cell = torch.nn.GRUCell(x.shape[1], h_prev.shape[1]).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(Wx.T)); cell.weight_hh.copy_(torch.tensor(Wh.T))
        cell.bias_ih.copy_(torch.tensor(bx)); cell.bias_hh.copy_(torch.tensor(bh))
        return cell(torch.tensor(x), torch.tensor(h_prev)).numpy(), None
"""
    ],
    "torch.nn.GRU over one step": [
        """
def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    gru = torch.nn.GRU(x.shape[1], h_prev.shape[1]).double()
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.tensor(Wx.T)); gru.weight_hh_l0.copy_(torch.tensor(Wh.T))
        gru.bias_ih_l0.copy_(torch.tensor(bx)); gru.bias_hh_l0.copy_(torch.tensor(bh))
        out, _ = gru(torch.tensor(x)[None], torch.tensor(h_prev)[None])
        return out[0].numpy(), None
"""
    ],
    "torch.gru_cell, the functional kernel": [
        """
def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    t = torch.tensor
    with torch.no_grad():
        h = torch.gru_cell(t(x), t(h_prev), t(Wx.T.copy()), t(Wh.T.copy()), t(bx), t(bh))
    return h.numpy(), None
"""
    ],
    "helper in another cell": [
        """
def _cell(x, h, Wx, Wh, bx, bh):
    c = nn.GRUCell(x.shape[1], h.shape[1]).double()
    with torch.no_grad():
        for p, v in zip(c.parameters(), (Wx.T, Wh.T, bx, bh)):
            p.copy_(torch.tensor(np.ascontiguousarray(v)))
        return c(torch.tensor(x), torch.tensor(h)).numpy()
""",
        """
def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    return _cell(x, h_prev, Wx, Wh, bx, bh), None
""",
    ],
    "monkeypatch under another name in another cell": [
        """
t = torch
_saved = torch._VF.gru_cell
t.sinc = lambda *a: _saved(*a)
""",
        """
def gru_pytorch_step_forward(x, h_prev, Wx, Wh, bx, bh):
    T = torch.tensor
    with torch.no_grad():
        h = torch.sinc(T(x), T(h_prev), T(Wx.T.copy()), T(Wh.T.copy()), T(bx), T(bh))
    return h.numpy(), None
""",
    ],
}
# what the visible test of unpack_gru_weights needs is in the notebook; the suite only needs
# the graded function, so the honest submission is HONEST after the unrelated cells.
HONEST_CELLS = [*UNRELATED, HONEST]


class _WithSources(StudentNamespace):
    """In process, but with the submitted cells known (as the grading command has them)."""

    def __init__(self, cells: list[str]):
        ns: dict = {"__name__": "__main__"}
        exec(SETUP, ns)
        for c in cells:
            exec(c, ns)
        super().__init__(ns)
        self._sources = cells

    def sources(self) -> list[str]:
        return self._sources


def test_unrelated_cells_are_not_judged_but_every_cell_would_be():
    assert shortcuts.findings(HONEST_CELLS), "the unrelated cells do hold flagged words"
    assert shortcuts.reachable_findings(HONEST_CELLS, EXERCISE) == []


def test_honest_answer_beside_unrelated_cells_gets_full_marks():
    outcome = run_suite("02_gru", EXERCISE, _WithSources(HONEST_CELLS))
    assert outcome.total >= 5 and not outcome.failed, outcome.failed


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_every_way_to_the_builtin_gru_scores_zero_with_a_reason(cheat):
    cells = [*UNRELATED, *CHEATS[cheat]]
    ns_student = _WithSources(cells)
    x, h = np.ones((2, 3)), np.full((2, 4), 0.5)
    args = [x, h, *(np.full(s, 0.1) for s in [(3, 12), (4, 12), (12,), (12,)])]
    # the cheat computes the right numbers: only the rule can catch it
    np.testing.assert_allclose(ns_student("gru_pytorch_step_forward")(*args)[0],
                               reference_step(*args)[0], atol=1e-12)  # fmt: skip
    outcome = run_suite("02_gru", EXERCISE, ns_student)
    assert outcome.total >= 5 and not outcome.passed, outcome.passed
    for msg in outcome.failed.values():
        assert "built-in" in msg or "get round the check" in msg, msg
    # nbgrader autograde: no sources in the student's kernel, the run-time check alone
    in_kernel = run_suite("02_gru", EXERCISE, StudentNamespace(ns_student._ns))
    assert in_kernel.total >= 5 and not in_kernel.passed, in_kernel.passed


@pytest.fixture(scope="module")
def there():
    """The grading command's worker, with a cheat (helper in another cell) and the unrelated
    cells of an honest student, each exercise reached through the proxy."""
    factory = worker_factory(Limits(), None, ("numpy", "torch"), use_warm=False)

    def start(cells):
        proxy = RemoteStudent(factory, [("setup", SETUP, "given")] + [
            (f"cell {i}", c, "student") for i, c in enumerate(cells)], Limits())  # fmt: skip
        proxy.start()
        return proxy

    made = {"cheat": start([*UNRELATED, *CHEATS["helper in another cell"]]),
            "honest": start(HONEST_CELLS)}  # fmt: skip
    yield made
    for p in made.values():
        p.close()


def test_grading_command_agrees(there):
    honest = run_suite("02_gru", EXERCISE, there["honest"])
    assert not honest.failed, honest.failed
    cheat = run_suite("02_gru", EXERCISE, there["cheat"])
    assert cheat.total >= 5 and not cheat.passed, cheat.passed
    assert all("built-in" in m or "get round" in m for m in cheat.failed.values()), cheat.failed


RULED = {"02_gru": "gru_pytorch_step_forward", "03_lstm": "LSTM", "04_peephole": "PeepholeLSTM"}


def honest_sources() -> dict[str, tuple[str, list[str]]]:
    """Every honest answer we have, with the exercise the rule applies to: the samples, the
    solution cells, and the solutions beside the unrelated cells above."""
    out = {}
    for nb, exercise in RULED.items():
        for p in sorted((ROOT / "course" / "samples" / nb).glob("*.py")):
            out[f"sample {nb}/{p.stem}"] = (exercise, [p.read_text()])
        cells = _solution_cells(ROOT / "course" / "source" / nb / f"{nb}.ipynb")
        out[f"solutions of {nb}"] = (exercise, cells)
        out[f"solutions of {nb} and unrelated cells"] = (exercise, [*UNRELATED, *cells])
    return out


def test_no_false_positive_on_honest_code():
    found = {
        name: shortcuts.reachable_findings(cells, exercise, BUILTIN_LAYERS - {exercise})
        for name, (exercise, cells) in honest_sources().items()
    }
    assert len(found) >= 15
    assert {k: v for k, v in found.items() if v} == {}
