"""The static check for ways around the "no built-in layer" rule (autograder/shortcuts.py).

Honest code (every sample, every solution region of the notebooks, typical scratch cells) has
no finding; each means of reaching PyTorch's fused kernels or switching the run-time check off
is found; and the two attacks a hostile-student review wrote (tests/fixtures/shortcuts/), which
earned full marks before the check existed, now score 0 on the LSTM exercise.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from autograder import shortcuts
from autograder.hidden import StudentNamespace, run_suite

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "shortcuts"


def _solution_cells(notebook: Path) -> list[str]:
    nb = json.loads(notebook.read_text())
    return [
        "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("solution")
    ]


HONEST = {
    **{
        f"sample {p.parent.name}/{p.name}": [p.read_text()]
        for p in ROOT.glob("course/samples/*/*.py")
    },
    **{f"solutions of {p.name}": _solution_cells(p) for p in ROOT.glob("course/source/*/*.ipynb")},
    "scratch cell": [
        "ref = torch.nn.LSTM(3, 4)\nref.eval()\nmodel.eval()\nops = [1, 2]\njit = 3\n"
        "compile_it = True\nw = getattr(ref, 'weight_ih_l0')\nprint(type(ref).__name__)\n"
        "library = {}\nsuper().__init__()\n"
    ],
}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_code_has_no_finding(name):
    assert HONEST[name], name  # the sources were found
    assert shortcuts.findings(HONEST[name]) == []


ESCAPES = {
    "torch._VF.lstm": "torch._VF",
    "torch._C._VariableFunctions.lstm": "torch._C",
    "from torch._C import _VariableFunctions as V": "import torch._C._VariableFunctions",
    "from torch import _VF": "import torch._VF",
    "with torch._C.DisableTorchFunction(): pass": "DisableTorchFunction",
    "torch.overrides._pop_mode()": "torch.overrides",
    "torch.ops.aten.lstm": "torch.ops",
    "torch.jit.script(f)": "torch.jit",
    "import torch.jit": "import torch.jit",
    "torch.compile(f)": "compile",
    "k = getattr(torch, 'ls' + 'tm')": "getattr() with a computed attribute name",
    "k = getattr(torch, '_VF')": "getattr(..., '_VF')",
    "eval('torch')": "eval()",
    "exec('x = 1')": "exec()",
    "vars(torch)['lstm']": "vars()",
    "globals()['torch']": "globals()",
    "torch.__dict__['lstm']": "the attribute __dict__",
    "object.__getattribute__(torch, 'x')": "the attribute __getattribute__",
    "().__class__.__bases__[0].__subclasses__()": "the attribute __bases__",
    "import sys\nsys.modules['torch']": "sys.modules",
    "import importlib\nimportlib.import_module('torch')": "importlib",
    "import ctypes": "ctypes",
    "import pickle\npickle.loads(b'')": "pickle",
    "from operator import attrgetter": "import operator.attrgetter",
    "import pydoc\npydoc.locate('torch.lstm')": "pydoc.locate",
    "s = 'torch._VF.lstm'": "the text",
    "s = 'aten::lstm'": "the text",
    "__builtins__['eval']": "__builtins__",
    # a hostile student's finds (session 4): the run-time check watches one thread, and an
    # alias of getattr hid the names it fetched
    "import threading\nthreading.Thread(target=f).start()": "threading",
    "from concurrent.futures import ThreadPoolExecutor": "import concurrent.futures",
    "import multiprocessing": "multiprocessing",
    "g = getattr\nk = g(torch, 'gru_cell')": "getattr passed on or renamed",
    "import functools\nfunctools.reduce(getattr, ['nn', 'GRUCell'], torch)": "getattr passed on",
    "_GC = torch.gru_cell": "torch.gru_cell (a built-in recurrent kernel)",
    "import torch as T\nk = T.lstm": "T.lstm (a built-in recurrent kernel)",
    "from torch import lstm_cell": "import torch.lstm_cell",
}


@pytest.mark.parametrize("code", sorted(ESCAPES))
def test_each_escape_is_found_and_named(code):
    found = shortcuts.findings(["x = 1", code])
    assert found, code
    assert any(ESCAPES[code] in f for f in found), found
    assert all(f.startswith("your cell 2, line ") for f in found), found


def test_a_helper_named_like_a_kernel_is_not_a_kernel():
    code = (
        "def gru_cell(x, h):\n    return x\n\n"
        "class C:\n    def lstm(self):\n        return self.lstm_cell\n\n"
        "y = gru_cell(1, 2)\nz = C().lstm()"
    )
    assert shortcuts.findings([code]) == []


def test_a_cell_that_does_not_parse_is_skipped_as_it_does_not_run():
    assert shortcuts.findings(["%matplotlib inline\nimport ctypes"]) == []


class _WithSources(StudentNamespace):
    """The fixture as the grading command provides it: the submitted cells are known."""

    def __init__(self, namespace: dict, sources: list[str]):
        super().__init__(namespace)
        self._sources = sources

    def sources(self) -> list[str]:
        return self._sources


@pytest.mark.parametrize("fixture", ["lstm_disable_mode.py", "lstm_torchscript.py"])
def test_attacks_that_used_the_builtin_kernel_score_zero(fixture):
    source = (FIXTURES / fixture).read_text()
    namespace: dict = {"__name__": "__main__"}
    exec(compile(source, fixture, "exec"), namespace)
    cls = namespace["LSTM"]
    # the attack does reach torch's kernel and get past the run-time check on its own
    ref = nn.LSTM(3, 4).double()
    mine = cls(3, 4).double()
    mine.load_state_dict(ref.state_dict())
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(mine(x)[0], ref(x)[0])
    outcome = run_suite("03_lstm", "LSTM", _WithSources(namespace, [source]))
    assert outcome.total > 0 and outcome.passed == [], outcome.passed
    for message in outcome.failed.values():
        assert "could get round the check" in message, message
    assert outcome.score(3) == 0


@pytest.mark.parametrize("notebook", sorted(ROOT.glob("course/release/*/*.ipynb")), ids=str)
def test_the_course_code_a_student_may_edit_has_no_finding(notebook):
    """A student who edits an experiment cell (a plot's size, a seed) makes it theirs, and it is
    then read by the check: the course's own code must not trip it."""
    nb = json.loads(notebook.read_text())
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] != "code" or c["metadata"].get("nbgrader", {}).get("grade"):
            continue  # test cells are locked and always taken from the release
        assert shortcuts.findings(["".join(c["source"])]) == [], (notebook.name, i)
