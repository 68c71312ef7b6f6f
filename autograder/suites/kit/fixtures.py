"""The fixture that refuses a library shortcut for an exercise, and the names such code uses.

An exercise such as "write the LSTM yourself" is checked at run time (the worker switches off
PyTorch's fused recurrent kernels while the student's module runs) and statically: the student's
source must hold none of the ways round that check (:mod:`autograder.shortcuts`), and the graded
function or class may not name a built-in recurrent layer (:data:`BUILTIN_RNN_NAMES`).
"""

from __future__ import annotations

import pytest

from autograder import shortcuts
from autograder.worker import FUSED_KERNELS

# What reaches PyTorch's own recurrent layers and their kernels, by name (the exercise's own
# name, e.g. a student's class called LSTM, is left out by the test that uses this set).
BUILTIN_RNN_NAMES = frozenset(
    {"RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell", "RNNBase", "_VF", *FUSED_KERNELS}
    | {"DisableTorchFunction", "DisableTorchFunctionSubclass", "_pop_mode"}
    | {"_disable_current_modes"}
)


def refuse_shortcuts(layer: str, needs: str):
    """An autouse fixture for a suite module: every test of the exercise fails if the submitted
    code holds a means of getting round the check that ``layer`` is not called.

    ``needs`` tells the student what the exercise does need. Use it as
    ``_no_shortcuts = refuse_shortcuts("PyTorch's built-in GRU", "numpy is all ...")``.
    """

    @pytest.fixture(autouse=True)
    def _no_way_around_the_check(student):
        found = shortcuts.findings(student.sources())
        if found:
            raise AssertionError(
                f"your code uses what could get round the check that it does not call {layer} ("
                + "; ".join(found[:5])
                + f"). {needs}"
            )

    return _no_way_around_the_check
