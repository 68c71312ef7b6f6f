"""Running a student's ``nn.Module`` on plain data with torch's fused recurrent kernels off.

Also a student's function applied to a ``torch.nn`` module. The same computation runs in the
sandboxed worker and in nbgrader's in-process grading (autograder/hidden.py).
"""

from __future__ import annotations

import contextlib

from .inplace import changes, inplace_message, snapshot

# torch's fused recurrent kernels: an exercise that says "implement the cell" may not reach them
FUSED_KERNELS = (
    "lstm",
    "gru",
    "rnn_tanh",
    "rnn_relu",
    "lstm_cell",
    "gru_cell",
    "rnn_tanh_cell",
    "rnn_relu_cell",
)


class BuiltinUsed(AssertionError):
    """Raised when a student's module calls one of torch's own recurrent layers or kernels."""


class InputChanged(AssertionError):
    """Raised when a student's module changes a tensor it was given in place (``x.data``...)."""


ARGUMENT_NAMES = ("input", "hx")  # what a recurrent module's forward calls its arguments


@contextlib.contextmanager
def forbid_builtin_rnns():
    """Make torch's fused recurrent kernels raise BuiltinUsed while the block runs.

    ``torch.nn.RNN/GRU/LSTM`` and their Cell versions all end in one of these kernels, so a
    module that delegates to them is caught whatever way it reaches them: the kernels are
    replaced in ``torch`` and ``torch._VF``, and a torch-function mode refuses them by name, which
    also catches a reference saved before the block (``f = torch._VF.lstm``) and
    ``torch.ops.aten.lstm``. (The grading process also looks for these names in the source.)
    """
    import torch
    from torch.overrides import TorchFunctionMode

    def forbidden(*args, **kwargs):
        raise BuiltinUsed(
            "your code calls one of PyTorch's built-in recurrent layers (torch.nn.LSTM, GRU, RNN, "
            "a Cell version or their kernels); this exercise asks you to write the gate equations "
            "yourself."
        )

    class NoBuiltinRNNs(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = str(getattr(func, "__name__", "")).split(".")[0]
            if name in FUSED_KERNELS:
                forbidden()
            return func(*args, **(kwargs or {}))

    saved = []
    for owner in (torch._VF, torch):
        for name in FUSED_KERNELS:
            saved.append((owner, name, getattr(owner, name, None)))
            setattr(owner, name, forbidden)
    try:
        with NoBuiltinRNNs():
            yield
    finally:
        for owner, name, value in saved:
            if value is None:
                delattr(owner, name)
            else:
                setattr(owner, name, value)


def _to_torch(x, requires_grad):
    import numpy as np
    import torch

    if isinstance(x, np.ndarray):
        return torch.tensor(x, requires_grad=requires_grad and x.dtype.kind == "f")
    if isinstance(x, (tuple, list)):
        return type(x)(_to_torch(v, requires_grad) for v in x)
    return x


def _flatten(x) -> list:
    import torch

    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for v in x for t in _flatten(v)]
    raise TypeError(f"a module returned a {type(x).__name__}; expected tensors or tuples of them")


def run_module_check(
    cls, init_args=(), state_dict=None, inputs=(), grad_outputs=None, forbid_builtin=True
) -> dict:
    """Build ``cls(*init_args)`` in float64, load ``state_dict``, run it on ``inputs`` and, with
    ``grad_outputs``, backpropagate them. Everything in and out is numpy arrays.

    Returns ``{"outputs": [...], "input_grads": [...], "param_grads": {name: ...},
    "state_dict": {name: ...}}``: outputs flattened in order (e.g. output, h_n, c_n), the
    gradients of every floating input (None where it got none) and of every parameter.
    This is the same computation the sandboxed worker performs for the grading command.
    """
    import torch

    guard = forbid_builtin_rnns() if forbid_builtin else contextlib.nullcontext()
    with guard:
        module = cls(*init_args).double()
        if state_dict is not None:
            module.load_state_dict({k: torch.tensor(v) for k, v in state_dict.items()})
        xs = _to_torch(list(inputs), requires_grad=grad_outputs is not None)
        before = snapshot(xs)
        outs = _flatten(module(*xs))
        if grad_outputs is not None:
            if len(grad_outputs) != len(outs):
                raise ValueError(f"{len(outs)} outputs but {len(grad_outputs)} grad_outputs")
            pairs = [
                (o, torch.tensor(g))
                for o, g in zip(outs, grad_outputs, strict=True)
                if g is not None
            ]
            torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
    for i, (old, new) in enumerate(zip(before, xs, strict=True)):
        name = ARGUMENT_NAMES[i] if i < len(ARGUMENT_NAMES) else f"argument {i + 1}"
        found = changes(name, old, new)
        if found:
            raise InputChanged(inplace_message(f"{cls.__name__}.forward", name, *found[0]))
    leaves = _flatten_inputs(xs)
    return {
        "outputs": [o.detach().numpy().copy() for o in outs],
        "input_grads": [None if t.grad is None else t.grad.numpy().copy() for t in leaves],
        "param_grads": {
            n: None if p.grad is None else p.grad.numpy().copy()
            for n, p in module.named_parameters()
        },
        "state_dict": {k: v.detach().numpy().copy() for k, v in module.state_dict().items()},
    }


def _flatten_inputs(xs) -> list:
    import torch

    if isinstance(xs, torch.Tensor):
        return [xs] if xs.is_floating_point() else []
    if isinstance(xs, (tuple, list)):
        return [t for v in xs for t in _flatten_inputs(v)]
    return []


def run_module_function(fn, module_name: str, init_args=(), state_dict=None, args=()) -> dict:
    """Build ``torch.nn.<module_name>(*init_args)`` in float64, load ``state_dict``, call
    ``fn(module, *args)`` and return the module's state_dict afterwards (numpy arrays)."""
    import torch

    module = getattr(torch.nn, module_name)(*init_args).double()
    if state_dict is not None:
        module.load_state_dict({k: torch.tensor(v) for k, v in state_dict.items()})
    fn(module, *args)
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}
