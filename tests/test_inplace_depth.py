"""Arguments changed in place at any depth: the same verdict and message in both graders.

The classes of fixture: an array inside a list (``g *= s`` over a list of gradients), inside a
tuple, inside a dict, two levels down, a list whose items are replaced or appended to, and a
PyTorch tensor changed through ``.data`` by a module. Each is run

* in process, as ``nbgrader autograde`` runs the suites (``StudentNamespace``), and
* through the grading command's path: a sandboxed worker (``grading.worker_factory``) behind the
  ``RemoteStudent`` proxy, whose call replies report what changed and the proxy mirrors it,

and the kit's check (autograder/inside/inplace.py, also inlined in the notebooks for their
visible tests) must fail in both with the same message naming the argument and the path. A
function that changes nothing passes in both. Then the real exercise: notebook 01's
``clip_by_global_norm`` written with ``g *= factor`` fails both its visible test (the release's
test cell, run in the student's namespace and through the proxy) and its hidden suite, with
the same messages either way.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.config import Limits
from autograder.gates import run_gate_here
from autograder.grading import worker_factory
from autograder.hidden import StudentNamespace, run_suite
from autograder.inside.inplace import changes, expect_unchanged, inplace_message, snapshot
from autograder.inside.modules import InputChanged, run_module_check
from autograder.proxy import RemoteStudent
from autograder.release import load_release
from autograder.suites.kit import call

SETUP = "import numpy as np\nimport torch\nfrom torch import nn\n"

# name -> (code of a student's function f, arguments as a function of nothing, the path that
# must be named, or None when nothing is changed)
STUDENTS = {
    "list item scaled": (
        "def f(grads, s):\n    for g in grads:\n        g *= s\n    return grads\n",
        lambda: ([np.ones(2), np.ones((2, 2))], 0.5),
        "grads[0]",
    ),
    "tuple item written": (
        "def f(pair, s):\n    pair[1][0, 0] = s\n    return 0.0\n",
        lambda: ((np.zeros(2), np.zeros((2, 2))), 3.0),
        "pair[1]",
    ),
    "dict value written": (
        "def f(d, s):\n    d['h'][...] = s\n    return 0.0\n",
        lambda: ({"h": np.zeros(3), "c": np.zeros(3)}, 1.0),
        "d['h']",
    ),
    "two levels down": (
        "def f(tree, s):\n    tree[1][0]['x'] += s\n    return 0.0\n",
        lambda: ([np.zeros(1), [{"x": np.zeros((2, 2))}]], 1.0),
        "tree[1][0]['x']",
    ),
    "list item replaced": (
        "def f(grads, s):\n    grads[1] = grads[1] * s\n    return grads\n",
        lambda: ([np.ones(2), np.ones(3)], 2.0),
        "grads[1]",
    ),
    "list appended to": (
        "def f(grads, s):\n    grads.append(np.zeros(1))\n    return grads\n",
        lambda: ([np.ones(2)], 2.0),
        "grads",
    ),
    "honest: new arrays": (
        "def f(grads, s):\n    return [g * s for g in grads]\n",
        lambda: ([np.ones(2), np.ones((2, 2))], 0.5),
        None,
    ),
}
ARG_NAMES = {
    "list item scaled": ["grads", "s"],
    "tuple item written": ["pair", "s"],
    "dict value written": ["d", "s"],
    "two levels down": ["tree", "s"],
    "list item replaced": ["grads", "s"],
    "list appended to": ["grads", "s"],
    "honest: new arrays": ["grads", "s"],
}


CLIP_IN_PLACE = """
def clip_by_global_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    if total > max_norm:
        for g in grads:
            g *= max_norm / total
    return grads, total
"""

MODULE_DATA = """
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(2, 2))

    def forward(self, input, hx):
        out = input @ self.w
        hx[0].data.zero_()  # changes the caller's h_0 behind autograd's back
        return out, (hx[0], hx[1])
"""


KEYS = sorted(STUDENTS)


def _name(key: str) -> str:
    return f"f_{KEYS.index(key)}"


def _code(key: str) -> str:
    """The student's function of case ``key``, named after the case (f_0, f_1, ...)."""
    return STUDENTS[key][0].replace("def f(", f"def {_name(key)}(", 1)


def _check(student, key: str) -> str:
    """The kit's in-place check of the case's function on its arguments; '' if it passes."""
    _, make, _ = STUDENTS[key]
    args = list(make())
    before = snapshot(args)
    call(student(_name(key)), "f", *args, copy=False)
    try:
        expect_unchanged("f", ARG_NAMES[key], before, args)
    except AssertionError as e:
        return str(e)
    return ""


STUDENT_CELLS = [_code(k) for k in KEYS]


@pytest.fixture(scope="module")
def here() -> StudentNamespace:
    """nbgrader's way: the student's cells and the suites in one process."""
    ns: dict = {"__name__": "__main__"}
    for code in [SETUP, *STUDENT_CELLS, CLIP_IN_PLACE, MODULE_DATA]:
        exec(code, ns)
    return StudentNamespace(ns)


@pytest.fixture(scope="module")
def there():
    """The grading command's way: one sandboxed worker (bubblewrap where available) holding
    the same cells, reached through the proxy."""
    factory = worker_factory(Limits(), None, ("numpy", "torch"), use_warm=False)
    cells = [("setup", SETUP, "given")]
    cells += [(f"cell {i}", c, "student") for i, c in enumerate(STUDENT_CELLS)]
    cells += [("clip_by_global_norm", CLIP_IN_PLACE, "student"), ("M", MODULE_DATA, "student")]
    proxy = RemoteStudent(factory, cells, Limits())
    proxy.start()
    yield proxy
    proxy.close()


def test_changes_names_every_depth_and_kind():
    before = [np.zeros(2), (np.zeros(1), {"k": np.zeros((2, 2))}), np.array([np.nan])]
    after = snapshot(before)
    assert changes("a", before, after) == []  # a NaN equals itself here
    after[1][1]["k"][1, 0] = 2.0
    assert changes("a", before, after) == [("a[1][1]['k']", "the largest change is 2.0e+00 at "
                                            "index (1, 0)")]  # fmt: skip
    t = torch.zeros(3)
    t_before = snapshot([t])
    t.data[2] = 1.0  # through .data, which autograd does not see
    assert changes("hx", t_before, [t])[0][0] == "hx[0]"
    grown = snapshot(before) + [np.zeros(1)]
    assert changes("a", before, grown)[0] == ("a", "items were added, removed or replaced")
    cache = {"x": np.zeros(2)}  # one object (a student's cache) both times: not looked into
    old = [cache]
    cache["x"][0] = 1.0
    assert changes("c", old, [cache]) == []
    msg = inplace_message("f", "grads", "grads[2]", "the largest change is 1.0e+00 at index (0,)")
    assert "f changed its argument grads in place: grads[2]" in msg


@pytest.mark.parametrize("key", KEYS)
def test_both_graders_give_the_same_message(key, here, there):
    path = STUDENTS[key][2]
    in_process, in_sandbox = _check(here, key), _check(there, key)
    assert in_process == in_sandbox, (in_process, in_sandbox)
    if path is None:
        assert in_process == ""
    else:
        assert in_process.startswith(
            f"f changed its argument {path.split('[')[0]} in place: {path} "
        ), here


def test_clip_in_place_fails_visible_and_hidden_tests_alike(here, there):
    release = load_release("01_rnn")
    test_cell = release.tests["clip_by_global_norm"].source
    # nbgrader: the given cells and the answer in one namespace, then the test cell
    ns: dict = {"__name__": "__main__"}
    for _, given in release.given:
        exec(given, ns)
    exec(CLIP_IN_PLACE, ns)
    with pytest.raises(AssertionError) as visible_here:
        exec(test_cell, dict(ns))
    # the grading command: the same test cell here, the function in the sandbox
    passed, visible_there = run_gate_here(test_cell, release.given, there, "test_clip")
    assert not passed
    assert str(visible_here.value) in visible_there, (visible_here.value, visible_there)
    assert "changed its argument grads in place: grads[0]" in visible_there
    hidden_here = run_suite("01_rnn", "clip_by_global_norm", here)
    hidden_there = run_suite("01_rnn", "clip_by_global_norm", there)
    assert hidden_here.failed == hidden_there.failed
    assert any("grads[0]" in m for m in hidden_here.failed.values()), hidden_here.failed


def test_module_changing_a_tensor_through_data_fails_in_both(here, there):
    kwargs = {"inputs": [np.ones((1, 2, 2)), (np.ones((1, 2, 2)), np.ones((1, 2, 2)))]}
    with pytest.raises(InputChanged) as direct:
        run_module_check(here("M"), **kwargs)
    with pytest.raises(pytest.fail.Exception) as in_process:
        here.module_check("M", **kwargs)
    with pytest.raises(pytest.fail.Exception) as in_sandbox:
        there.module_check("M", **kwargs)
    assert str(in_process.value) == str(in_sandbox.value) == f"M: {direct.value}"
    assert "M.forward changed its argument hx in place: hx[0]" in str(direct.value)
