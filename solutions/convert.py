"""Weights between PyTorch's recurrent modules and the numpy cells of this package.

PyTorch stores, for a cell with G gate blocks (RNN 1, GRU 3, LSTM 4):

    weight_ih (G*H, D), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,)

with the blocks stacked by rows in the order r, z, n (GRU) or i, f, g, o (LSTM). The sequence
modules (``nn.RNN/GRU/LSTM``) add the suffix ``_l0`` to each name; the cells (``nn.RNNCell`` ...)
do not. The numpy cells use row vectors, so ``Wx = weight_ih.T`` (D, G*H) and
``Wh = weight_hh.T`` (H, G*H) keep the same block order, now as column blocks. Where the two
biases always appear as a sum (RNN, LSTM) the numpy cell has one bias ``b = bias_ih + bias_hh``;
the PyTorch-form GRU needs both, because its reset gate multiplies ``bias_hh``'s n block.

Every function here works with the built-in modules and with the from-scratch modules of
:mod:`solutions.modules`, which use the same parameter names.
"""

from __future__ import annotations

import numpy as np

_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _suffix(module) -> str:
    names = dict(module.named_parameters())
    if "weight_ih_l0" in names:
        return "_l0"
    if "weight_ih" in names:
        return ""
    raise TypeError(
        f"{type(module).__name__} has no weight_ih / weight_ih_l0 parameter; expected an RNN, "
        "GRU or LSTM module (built-in or from solutions.modules), single layer."
    )


def torch_weights(module) -> dict[str, np.ndarray]:
    """The four weight arrays of a recurrent module as float64 numpy arrays (PyTorch layout)."""
    suffix = _suffix(module)
    params = dict(module.named_parameters())
    out = {}
    for name in _NAMES:
        p = params.get(name + suffix)
        if p is None:
            raise ValueError(
                f"{type(module).__name__} has no {name + suffix}; create it with bias=True."
            )
        out[name] = p.detach().cpu().double().numpy().copy()
    return out


def set_torch_weights(module, **arrays: np.ndarray) -> None:
    """Copy numpy arrays in PyTorch layout (weight_ih=..., bias_hh=...) into a module, in place."""
    import torch

    suffix = _suffix(module)
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in arrays.items():
            p = params[name + suffix]
            if tuple(p.shape) != value.shape:
                raise ValueError(
                    f"{name}: module expects shape {tuple(p.shape)}, got {value.shape}."
                )
            p.copy_(torch.as_tensor(value, dtype=p.dtype))


def numpy_params_from_torch(module, fuse_bias: bool = True) -> tuple[np.ndarray, ...]:
    """(Wx, Wh, b) from a module, or (Wx, Wh, bx, bh) when ``fuse_bias`` is False.

    Wx = weight_ih.T (D, G*H), Wh = weight_hh.T (H, G*H), b = bias_ih + bias_hh (G*H,).
    """
    w = torch_weights(module)
    Wx, Wh = w["weight_ih"].T.copy(), w["weight_hh"].T.copy()
    if fuse_bias:
        return Wx, Wh, w["bias_ih"] + w["bias_hh"]
    return Wx, Wh, w["bias_ih"], w["bias_hh"]


def numpy_params_to_torch(module, Wx, Wh, b, bh=None) -> None:
    """Load numpy weights into a module: weight_ih = Wx.T, weight_hh = Wh.T.

    With one bias ``b`` it goes into bias_ih and bias_hh is set to zero (their sum is what the
    cell uses); with ``bh`` given (PyTorch-form GRU) the two are copied as they are.
    """
    set_torch_weights(
        module,
        weight_ih=np.ascontiguousarray(Wx.T),
        weight_hh=np.ascontiguousarray(Wh.T),
        bias_ih=b,
        bias_hh=np.zeros_like(b) if bh is None else bh,
    )
