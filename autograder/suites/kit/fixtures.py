"""The fixture that refuses a library shortcut for an exercise, and the names such code uses.

An exercise such as "write the LSTM yourself" (or "the GRU step in PyTorch's form, with
numpy") is checked three ways, in both graders:

* at run time: every call of the student's function or module in the exercise's tests runs
  with PyTorch's fused recurrent kernels switched off (``inside.modules.forbid_builtin_rnns``),
  so ``torch.nn.GRUCell``, ``nn.LSTM``, ``torch.gru_cell``, ``torch._VF.lstm`` ... raise and
  every test fails with a message saying why;
* statically, the graded function or class may not name a built-in recurrent layer
  (:data:`BUILTIN_RNN_NAMES`, ``builtin_test``);
* statically, in the grading command (which has the submitted source), the code the exercise
  can reach (its answer cell and what it calls, across cells: ``shortcuts.reachable``) may hold
  none of the ways round the run-time check. Code in unrelated cells is not judged.
"""

from __future__ import annotations

import pytest

from autograder import shortcuts

# PyTorch's recurrent layer classes (the exercise's own name, e.g. a student's class called
# LSTM, is left out by the tests that use this set); the lower-case kernels (torch.lstm,
# torch.gru_cell...) are caught at run time instead, so that a helper of the student's called
# gru_cell is not mistaken for one.
BUILTIN_LAYERS = frozenset({"RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell", "RNNBase"})
# What reaches PyTorch's own recurrent layers, their kernels or round the run-time check, by name.
BUILTIN_RNN_NAMES = BUILTIN_LAYERS | {
    "_VF",
    "DisableTorchFunction",
    "DisableTorchFunctionSubclass",
    "_pop_mode",
    "_disable_current_modes",
}


def refuse_shortcuts(layer: str, needs: str, exercise: str):
    """An autouse fixture for the suite of ``exercise``: its tests call the student's code with
    PyTorch's recurrent kernels off, and every test fails if the code the exercise reaches holds
    a built-in layer or a means of getting round that check.

    ``needs`` tells the student what the exercise does need. Use it as
    ``_no_shortcuts = refuse_shortcuts("PyTorch's built-in GRU", "numpy is all ...", "f")``.
    """

    @pytest.fixture(autouse=True)
    def _no_way_around_the_check(student):
        kernels = BUILTIN_LAYERS - {exercise}
        found = shortcuts.reachable_findings(student.sources(), exercise, kernels)
        if found:
            raise AssertionError(
                f"your code uses what could get round the check that it does not call {layer} ("
                + "; ".join(found[:5])
                + f"). {needs}"
            )
        before = getattr(student, "builtin_forbidden", False)
        student.builtin_forbidden = True
        try:
            yield
        finally:
            student.builtin_forbidden = before

    return _no_way_around_the_check
