r"""Recurrent cells as ``torch.nn.Module``\ s, written from scratch on top of autograd.

Symbol key: N batch size, T (or L) time steps, D input size (``input_size``), H hidden size
(``hidden_size``).

Every class here computes its gates with plain tensor operations (``torch.addmm``,
``sigmoid``, ``tanh``, products) and lets autograd derive the backward pass; none of them
calls ``nn.RNN``/``nn.GRU``/``nn.LSTM``, their ``Cell`` versions or torch's fused recurrent
kernels. They are the torch counterpart of the numpy cells in :mod:`solutions.rnn`,
:mod:`solutions.gru`, :mod:`solutions.lstm`, :mod:`solutions.peephole` and :mod:`solutions.cifg`.

=====================  ==============================  ==============  ==================
cell / sequence        gate blocks (stacking order)    built-in twin   extra parameters
=====================  ==============================  ==============  ==================
RNNCell / RNN          h (one block, tanh)             nn.RNN(Cell)
GRUCell / GRU          r, z, n                         nn.GRU(Cell)
PaperGRUCell / ...GRU  r, u, n (n is the paper's h~)   none
LSTMCell / LSTM        i, f, g, o                      nn.LSTM(Cell)
PeepholeLSTM(Cell)     i, f, g, o                      none            peephole_i, _f, _o
CIFGCell / CIFG        f, g, o  (i = 1 - f)            none
=====================  ==============================  ==============  ==================

Parameters have PyTorch's names and shapes, so a ``state_dict`` loads both ways between a module
here and its built-in twin: a cell has ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H),
``bias_ih`` (G*H,) and ``bias_hh`` (G*H,), the G gate blocks stacked by rows in the order of the
table; a sequence module has the same tensors named with the suffix ``_l0`` (``weight_ih_l0``
...), including the peephole vectors (``peephole_i_l0``). Sequence modules are single-layer and
unidirectional. All parameters start as U(-1/sqrt(H), 1/sqrt(H)), as in PyTorch.

The docstrings write the equations in PyTorch's column-vector form (``W_{ii} x_t``); the numpy
cells use row vectors, ``x Wx`` with ``Wx = weight_ih.T`` (see :mod:`solutions.convert`).

:class:`LSTM` and :class:`PeepholeLSTM` are the exceptions to the shared machinery below: each
is one self-contained class (``__init__``, ``reset_parameters``, ``forward``, row-vector
docstring), because notebooks 03 and 04 embed them, without their decorator, as the solutions of
their ``nn.Module`` exercises. The class
decorator ``_sequence_api`` adds what every other module here gets from its base class (argument
checks, unbatched input, ``device``/``dtype``, ``gate_blocks``) without touching the arithmetic.
:func:`init_forget_bias` is embedded the same way, without its argument-checking decorator.

Speed. A sequence module computes the input half of every gate for all time steps in one matrix
product before the loop, then does one fused (N, G*H) ``addmm`` per step. Splitting the projected
input with ``unbind`` rather than indexing ``xw[t]`` matters: the backward of ``xw[t]`` writes a
full (T, N, G*H) zero tensor per step, which made the loop about 2.7 times slower.
``benchmarks/bench_cells.py`` measures ``LSTM`` against ``nn.LSTM``.

Helpers: :func:`init_forget_bias` (pitfall 4 of the course: the forget bias goes into one of the
two biases), :func:`from_builtin` and :func:`to_builtin` (convert to and from the built-ins).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from solutions._checks import ShapeError

__all__ = [
    "CIFG",
    "CIFGCell",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNCell",
    "PaperGRU",
    "PaperGRUCell",
    "PeepholeLSTM",
    "PeepholeLSTMCell",
    "from_builtin",
    "init_forget_bias",
    "to_builtin",
]


# --------------------------------------------------------------------------------------------
# Argument checks shared by every module here (``cls`` is the class name for the messages).
# --------------------------------------------------------------------------------------------


def _check_sizes(cls: str, input_size, hidden_size) -> None:
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{cls}: {name} must be a positive int, got {value!r}.")


def _check_tensor(
    cls: str, name: str, value, expected: tuple[int, ...], layout: str, dtype: torch.dtype
) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{cls}: {name} is a {type(value).__name__}, expected a torch.Tensor of shape "
            f"{layout}; convert it with torch.as_tensor({name})."
        )
    if value.dtype != dtype:
        raise TypeError(
            f"{cls}: {name} has dtype {value.dtype} but the parameters are {dtype}; "
            f"convert one of them ({name}.to({dtype}) or module.to({value.dtype}))."
        )
    if tuple(value.shape) != expected:
        raise ShapeError(
            f"{cls}: {name} has shape {tuple(value.shape)}, expected {layout} = {expected}."
        )
    return value


def _check_state_pair(cls, hx, shape, names, layout, dtype) -> tuple[Tensor, Tensor]:
    """hx = (h, c) of the LSTM family: a tuple of two tensors of the given shape."""
    if not isinstance(hx, tuple | list) or len(hx) != 2:
        raise TypeError(
            f"{cls}: hx must be a tuple ({names[0]}, {names[1]}) of two tensors of shape "
            f"{layout} = {shape}, or None; got {type(hx).__name__}."
        )
    return tuple(
        _check_tensor(cls, n, v, shape, layout, dtype) for n, v in zip(names, hx, strict=True)
    )


def _check_input(
    cls: str, input, input_size: int, dtype: torch.dtype, layouts: dict[int, str]
) -> Tensor:
    """Check type, dtype, number of dimensions and the input size D (last dimension)."""
    allowed = " or ".join(f"{nd}-d {layout}" for nd, layout in layouts.items())
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{cls}: input is a {type(input).__name__}, expected a torch.Tensor ({allowed})."
        )
    if input.dim() not in layouts:
        raise ShapeError(
            f"{cls}: input is {input.dim()}-d with shape {tuple(input.shape)}, expected {allowed}."
        )
    if input.shape[-1] != input_size:
        raise ShapeError(
            f"{cls}: input has shape {tuple(input.shape)}, expected "
            f"{layouts[input.dim()]} with D = input_size = {input_size}."
        )
    if 0 in input.shape:
        raise ShapeError(
            f"{cls}: input has shape {tuple(input.shape)} with an empty dimension; "
            "every size must be at least 1."
        )
    if input.dtype != dtype:
        raise TypeError(
            f"{cls}: input has dtype {input.dtype} but the parameters are {dtype}; "
            f"convert one of them (input.to({dtype}) or module.to({input.dtype}))."
        )
    return input


# --------------------------------------------------------------------------------------------
# Shared machinery: parameters, argument checks, the time loop.
# --------------------------------------------------------------------------------------------


class _Recurrent(nn.Module):
    """Parameters, initialisation and argument checks shared by every module here.

    A subclass says what it is with class attributes and supplies the arithmetic of one step:

    * ``gate_blocks``: names of the gate blocks stacked in the weights, in order.
    * ``vectors``: names of extra (H,) parameters (the peepholes).
    * ``n_states``: 1 (h) or 2 (h and c).
    * ``_project(x)``: the part of every gate that depends on the input only, ``(..., G*H)``.
    * ``_prepare()``: tensors the step needs, computed once per forward (a transposed weight).
    * ``_step(xw, state, *prepared)``: one time step, a tuple of states in, a tuple out.
    """

    gate_blocks: tuple[str, ...] = ()
    vectors: tuple[str, ...] = ()
    n_states: int = 1
    _suffix: str = ""

    def __init__(self, input_size: int, hidden_size: int, *, device=None, dtype=None) -> None:
        super().__init__()
        self._build(input_size, hidden_size, device, dtype)

    def _build(self, input_size: int, hidden_size: int, device, dtype) -> None:
        """Check the sizes, create the parameters of :meth:`_parameter_shapes`, initialise them.

        Separate from ``__init__`` so that a subclass whose layout depends on its arguments
        (``solutions.variants.VariantLSTM``) can set them up first.
        """
        _check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        for name, shape in self._parameter_shapes().items():
            param = nn.Parameter(torch.empty(shape, device=device, dtype=dtype))
            self.register_parameter(name + self._suffix, param)
        self.reset_parameters()

    def _parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name (without suffix) -> shape of every parameter: PyTorch's four, then the vectors."""
        G, D, H = len(self.gate_blocks), self.input_size, self.hidden_size
        shapes = {
            "weight_ih": (G * H, D),  # blocks stacked by rows, in the order of gate_blocks
            "weight_hh": (G * H, H),
            "bias_ih": (G * H,),
            "bias_hh": (G * H,),
        }
        shapes.update({name: (H,) for name in self.vectors})
        return shapes

    def reset_parameters(self) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def _p(self, name: str) -> Tensor:
        return getattr(self, name + self._suffix)

    # The defaults fit every cell whose two biases only appear as a sum (all but the GRU).
    def _project(self, x: Tensor) -> Tensor:
        return F.linear(x, self._p("weight_ih"), self._p("bias_ih") + self._p("bias_hh"))

    def _prepare(self) -> tuple[Tensor, ...]:
        return (self._p("weight_hh").t(),)

    def _step(self, xw: Tensor, state: tuple[Tensor, ...], *prepared: Tensor):
        raise NotImplementedError

    def _extra_states(self, h: Tensor) -> tuple[Tensor, ...]:
        """States carried between steps but not returned (the gate activations of an FGR LSTM)."""
        return ()

    # -- argument checks (the work is done by the module-level functions above) -------------

    def _dtype(self) -> torch.dtype:
        return self._p("weight_ih").dtype

    def _check_input(self, input, layouts: dict[int, str]) -> Tensor:
        return _check_input(type(self).__name__, input, self.input_size, self._dtype(), layouts)

    def _initial_states(self, hx, shape: tuple[int, ...], names: tuple[str, str], layout: str):
        """hx (a tensor, or a tuple (h, c) for the LSTM family, or None) -> a tuple of states."""
        if hx is None:
            like = self._p("weight_ih")
            return tuple(like.new_zeros(shape) for _ in range(self.n_states))
        cls, dtype = type(self).__name__, self._dtype()
        if self.n_states == 1:
            return (_check_tensor(cls, names[0], hx, shape, layout, dtype),)
        return _check_state_pair(cls, hx, shape, names, layout, dtype)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class _CellBase(_Recurrent):
    """One time step: ``forward(input, hx=None)`` like ``nn.RNNCell`` / ``nn.LSTMCell``."""

    def forward(self, input: Tensor, hx=None):
        x = self._check_input(input, {2: "(N, D)", 1: "(D,)"})
        batched = x.dim() == 2
        H = self.hidden_size
        shape = (x.shape[0], H) if batched else (H,)
        layout = "(N, H)" if batched else "(H,)"
        names = ("h_0", "c_0") if self.n_states == 2 else ("hx", "")
        state = self._initial_states(hx, shape, names, layout)
        if not batched:
            x, state = x.unsqueeze(0), tuple(s.unsqueeze(0) for s in state)
        state = state + self._extra_states(state[0])
        state = self._step(self._project(x), state, *self._prepare())[: self.n_states]
        if not batched:
            state = tuple(s.squeeze(0) for s in state)
        return state[0] if self.n_states == 1 else state


class _SequenceBase(_Recurrent):
    """A whole sequence: ``forward(input, hx=None)`` like ``nn.RNN`` / ``nn.LSTM``."""

    _suffix = "_l0"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        batch_first: bool = False,
        *,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(input_size, hidden_size, device=device, dtype=dtype)
        self.batch_first = bool(batch_first)

    def forward(self, input: Tensor, hx=None):
        seq = "(N, T, D)" if self.batch_first else "(T, N, D)"
        x = self._check_input(input, {3: seq, 2: "(T, D)"})
        batched = x.dim() == 3
        if not batched:
            x = x.unsqueeze(1)  # (T, 1, D)
        elif self.batch_first:
            x = x.transpose(0, 1)  # (T, N, D)
        N, H = x.shape[1], self.hidden_size
        shape, layout = ((1, N, H), "(1, N, H)") if batched else ((1, H), "(1, H)")
        state = self._initial_states(hx, shape, ("h_0", "c_0"), layout)
        state = tuple(s.reshape(N, H) for s in state)  # (N, H) each
        state = state + self._extra_states(state[0])

        xw = self._project(x)  # (T, N, G*H): input half of every gate, all steps at once
        prepared = self._prepare()
        outputs = []
        for xw_t in xw.unbind(0):  # (N, G*H) per step
            state = self._step(xw_t, state, *prepared)
            outputs.append(state[0])

        if not batched:
            output = torch.stack(outputs, 0).squeeze(1)  # (T, H)
            finals = tuple(s for s in state[: self.n_states])  # (1, H): N = 1 is the row
        else:
            output = torch.stack(outputs, 1 if self.batch_first else 0)  # (N, T, H) / (T, N, H)
            finals = tuple(s.unsqueeze(0) for s in state[: self.n_states])  # (1, N, H)
        return (output, finals[0]) if self.n_states == 1 else (output, finals)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + ", batch_first=True" if self.batch_first else s


# --------------------------------------------------------------------------------------------
# The arithmetic of one step, one mixin per cell type (shared by the cell and sequence classes).
# --------------------------------------------------------------------------------------------


class _RNNStep:
    gate_blocks = ("h",)

    def _step(self, xw, state, w_hh_t):
        (h,) = state
        return (torch.addmm(xw, h, w_hh_t).tanh(),)


class _GRUStep:
    gate_blocks = ("r", "z", "n")

    def _project(self, x):
        return F.linear(x, self._p("weight_ih"), self._p("bias_ih"))  # bias_hh stays apart

    def _prepare(self):
        return (self._p("weight_hh").t(), self._p("bias_hh"))

    def _step(self, xw, state, w_hh_t, b_hh):
        (h,) = state
        x_r, x_z, x_n = xw.chunk(3, 1)  # (N, H) each, input parts with bias_ih
        h_r, h_z, h_n = torch.addmm(b_hh, h, w_hh_t).chunk(3, 1)  # recurrent parts with bias_hh
        r = (x_r + h_r).sigmoid()
        z = (x_z + h_z).sigmoid()
        n = torch.tanh(x_n + r * h_n)  # reset AFTER the matrix product
        return (n + z * (h - n),)  # = (1 - z) * n + z * h


class _PaperGRUStep:
    gate_blocks = ("r", "u", "n")

    def _prepare(self):
        H = self.hidden_size
        w_ru, w_n = self._p("weight_hh").split([2 * H, H], 0)
        return (w_ru.t(), w_n.t())

    def _step(self, xw, state, w_ru_t, w_n_t):
        (h,) = state
        H = h.shape[1]
        x_ru, x_n = xw.split([2 * H, H], 1)  # input parts with both biases
        r, u = torch.addmm(x_ru, h, w_ru_t).sigmoid().chunk(2, 1)
        h_tilde = torch.addmm(x_n, r * h, w_n_t).tanh()  # reset BEFORE the matrix product
        return (h + u * (h_tilde - h),)  # = (1 - u) * h + u * h_tilde


class _LSTMStep:
    gate_blocks = ("i", "f", "g", "o")
    n_states = 2

    def _step(self, xw, state, w_hh_t):
        h, c = state
        i, f, g, o = torch.addmm(xw, h, w_hh_t).chunk(4, 1)  # (N, H) each
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return h, c


class _PeepholeStep:
    gate_blocks = ("i", "f", "g", "o")
    vectors = ("peephole_i", "peephole_f", "peephole_o")
    n_states = 2

    def _prepare(self):
        return (self._p("weight_hh").t(), *(self._p(n) for n in self.vectors))

    def _step(self, xw, state, w_hh_t, p_i, p_f, p_o):
        h, c_prev = state
        a_i, a_f, a_g, a_o = torch.addmm(xw, h, w_hh_t).chunk(4, 1)  # (N, H) each
        i = torch.addcmul(a_i, p_i, c_prev).sigmoid()  # peeks at c_{t-1}
        f = torch.addcmul(a_f, p_f, c_prev).sigmoid()  # peeks at c_{t-1}
        c = f * c_prev + i * a_g.tanh()
        o = torch.addcmul(a_o, p_o, c).sigmoid()  # peeks at the NEW c_t
        return o * c.tanh(), c


class _CIFGStep:
    gate_blocks = ("f", "g", "o")
    n_states = 2

    def _step(self, xw, state, w_hh_t):
        h, c = state
        f, g, o = torch.addmm(xw, h, w_hh_t).chunk(3, 1)  # (N, H) each
        f, g = f.sigmoid(), g.tanh()
        c = g + f * (c - g)  # = f * c + (1 - f) * g, the input gate is i = 1 - f
        h = o.sigmoid() * c.tanh()
        return h, c


# --------------------------------------------------------------------------------------------
# Docstring pieces shared by several classes.
# --------------------------------------------------------------------------------------------

_ARGS = r"""
    Args:
        input_size: the number of features D of the input x.
        hidden_size: the number of features H of the hidden state h."""

_SEQ_ARGS = (
    _ARGS
    + r"""
        batch_first: if ``True``, ``input`` and ``output`` are (N, T, ·) instead of (T, N, ·).
            The states ``h_0``/``h_n`` (and ``c_0``/``c_n``) are (1, N, H) either way.
            Default: ``False``.
        device, dtype: where and in which precision the parameters are created (keywords)."""
)

_CELL_ARGS = (
    _ARGS
    + r"""
        device, dtype: where and in which precision the parameters are created (keywords)."""
)

_INIT = r"""
    All weights and biases are initialised from :math:`\mathcal{U}(-k, k)` with
    :math:`k = 1/\sqrt{H}` (:meth:`reset_parameters`), as in PyTorch."""

_SEQ_H_IO = r"""
    Inputs: input, h_0
        - **input**: (T, N, D), or (N, T, D) with ``batch_first=True``, or (T, D) for one
          unbatched sequence.
        - **h_0**: (1, N, H), or (1, H) unbatched: the initial hidden state. Default: zeros.

    Outputs: output, h_n
        - **output**: (T, N, H), or (N, T, H) with ``batch_first=True``, or (T, H) unbatched:
          the hidden state :math:`h_t` at every step.
        - **h_n**: (1, N, H), or (1, H) unbatched: the last hidden state."""

_SEQ_HC_IO = r"""
    Inputs: input, (h_0, c_0)
        - **input**: (T, N, D), or (N, T, D) with ``batch_first=True``, or (T, D) for one
          unbatched sequence.
        - **h_0**, **c_0**: (1, N, H) each, or (1, H) unbatched: the initial hidden and cell
          states. If ``(h_0, c_0)`` is not given, both default to zeros.

    Outputs: output, (h_n, c_n)
        - **output**: (T, N, H), or (N, T, H) with ``batch_first=True``, or (T, H) unbatched:
          the hidden state :math:`h_t` at every step.
        - **h_n**, **c_n**: (1, N, H) each, or (1, H) unbatched: the last hidden and cell states."""

_CELL_H_IO = r"""
    Inputs: input, hx
        - **input**: (N, D), or (D,) unbatched.
        - **hx**: (N, H), or (H,) unbatched: the previous hidden state. Default: zeros.

    Outputs: h'
        - **h'**: (N, H), or (H,) unbatched: the next hidden state."""

_CELL_HC_IO = r"""
    Inputs: input, (h_0, c_0)
        - **input**: (N, D), or (D,) unbatched.
        - **h_0**, **c_0**: (N, H) each, or (H,) unbatched: the previous hidden and cell
          states. Default: zeros.

    Outputs: (h_1, c_1)
        - **h_1**, **c_1**: (N, H) each, or (H,) unbatched: the next hidden and cell states."""

_ERRORS = r"""
    Errors: a ``TypeError`` for a non-tensor argument or a dtype that differs from the
    parameters', a :class:`~solutions._checks.ShapeError` (a ``ValueError``) naming the argument
    and its expected shape for a wrong number of dimensions or a wrong size."""


def _attributes(blocks: str, G: int, suffix: str, extra: str = "") -> str:
    return rf"""
    Attributes:
        weight_ih{suffix}: ({G}H, D), the input-to-hidden weights, the gate blocks stacked by
            rows: {blocks}.
        weight_hh{suffix}: ({G}H, H), the hidden-to-hidden weights, same order.
        bias_ih{suffix}: ({G}H,), the input-to-hidden biases, same order.
        bias_hh{suffix}: ({G}H,), the hidden-to-hidden biases, same order.{extra}"""


# --------------------------------------------------------------------------------------------
# The modules.
# --------------------------------------------------------------------------------------------

_RNN_DOC = r"""Elman RNN with tanh, written from scratch; equal to ``torch.nn.{twin}``.

    .. math::

        h_t = \tanh(W_{{ih}} x_t + b_{{ih}} + W_{{hh}} h_{{t-1}} + b_{{hh}})

    where :math:`x_t` is the input at time t, :math:`h_t` the hidden state at time t and
    :math:`h_{{t-1}}` the hidden state of the previous step (:math:`h_0` at t = 1). The two
    biases only appear as a sum; PyTorch keeps both, and so do we, so that weights load both ways.
"""

_GRU_DOC = r"""GRU in PyTorch's form (reset after the product), from scratch; equals ``nn.{twin}``.

    .. math::

        \begin{{array}}{{ll}}
        r_t = \sigma(W_{{ir}} x_t + b_{{ir}} + W_{{hr}} h_{{t-1}} + b_{{hr}}) \\
        z_t = \sigma(W_{{iz}} x_t + b_{{iz}} + W_{{hz}} h_{{t-1}} + b_{{hz}}) \\
        n_t = \tanh(W_{{in}} x_t + b_{{in}} + r_t \odot (W_{{hn}} h_{{t-1}} + b_{{hn}})) \\
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{{t-1}}
        \end{{array}}

    where :math:`r_t` is the reset gate, :math:`z_t` the update gate, :math:`n_t` the candidate
    ("new") state, :math:`\sigma` the logistic sigmoid and :math:`\odot` the element-wise
    product.

    Where it departs from the paper (Cho et al. 2014; pitfall 2 of the course): the reset gate
    multiplies :math:`W_{{hn}} h_{{t-1}} + b_{{hn}}`, *after* the matrix product, whereas the
    paper resets :math:`h_{{t-1}}` before it (see :class:`PaperGRU{cell}`). That is why the two
    biases cannot be fused: :math:`b_{{hn}}` is scaled by :math:`r_t`, :math:`b_{{in}}` is not.
    As in the paper, :math:`z_t` weighs the *old* state (CS224n, Ng and colah let their update
    gate weigh the candidate instead: pitfall 1).
"""

_PAPER_GRU_DOC = r"""GRU in the lecture form of the course (reset before the product), from scratch.

    .. math::

        \begin{{array}}{{ll}}
        r_t = \sigma(W_{{ir}} x_t + b_{{ir}} + W_{{hr}} h_{{t-1}} + b_{{hr}}) \\
        u_t = \sigma(W_{{iu}} x_t + b_{{iu}} + W_{{hu}} h_{{t-1}} + b_{{hu}}) \\
        \tilde h_t = \tanh(W_{{in}} x_t + b_{{in}} + W_{{hn}} (r_t \odot h_{{t-1}}) + b_{{hn}}) \\
        h_t = (1 - u_t) \odot h_{{t-1}} + u_t \odot \tilde h_t
        \end{{array}}

    where :math:`r_t` is the reset gate, :math:`u_t` the update gate, :math:`\tilde h_t` the
    candidate state (block ``n`` of the weights), :math:`\sigma` the logistic sigmoid and
    :math:`\odot` the element-wise product. This is :func:`solutions.gru.gru_paper_forward`.

    Where it departs from :class:`GRU{cell}` / ``torch.nn.{twin}`` (pitfalls 1 and 2): the reset
    gate multiplies :math:`h_{{t-1}}` *before* the matrix product :math:`W_{{hn}}`, and the
    update gate weighs the *candidate* (CS224n's convention), so :math:`u_t` plays the part of
    PyTorch's :math:`1 - z_t`. No choice of weights makes it equal to ``torch.nn.{twin}``.
    The paper has one bias per gate; the parameters keep PyTorch's names and shapes, and the
    two biases enter only as a sum :math:`b_{{i\cdot}} + b_{{h\cdot}}` (also in block ``n``,
    where nothing multiplies :math:`b_{{hn}}`).
"""

_LSTM_DOC = r"""Long short-term memory, written from scratch; equal to ``torch.nn.{twin}``.

    .. math::

        \begin{{array}}{{ll}}
        i_t = \sigma(W_{{ii}} x_t + b_{{ii}} + W_{{hi}} h_{{t-1}} + b_{{hi}}) \\
        f_t = \sigma(W_{{if}} x_t + b_{{if}} + W_{{hf}} h_{{t-1}} + b_{{hf}}) \\
        g_t = \tanh(W_{{ig}} x_t + b_{{ig}} + W_{{hg}} h_{{t-1}} + b_{{hg}}) \\
        o_t = \sigma(W_{{io}} x_t + b_{{io}} + W_{{ho}} h_{{t-1}} + b_{{ho}}) \\
        c_t = f_t \odot c_{{t-1}} + i_t \odot g_t \\
        h_t = o_t \odot \tanh(c_t)
        \end{{array}}

    where :math:`c_t` is the cell state, :math:`h_t` the hidden state, :math:`i_t, f_t, o_t`
    the input, forget and output gates, :math:`g_t` the candidate (cell input),
    :math:`\sigma` the logistic sigmoid and :math:`\odot` the element-wise product.

    Where it departs from the papers: the original LSTM (Hochreiter & Schmidhuber 1997) has no
    forget gate (Gers et al. 2000 added it), and Greff et al.'s "vanilla" LSTM also has
    peepholes (see :class:`PeepholeLSTM{cell}`). The two biases only appear as a sum
    :math:`b_{{i\cdot}} + b_{{h\cdot}}`: to set a forget bias of 1, put it in one of them
    (:func:`init_forget_bias`; pitfall 4). Gate order i, f, g, o is PyTorch's; CS231n uses
    i, f, o, g (pitfall 3).
"""

_PEEPHOLE_DOC = r"""LSTM with peephole connections (Gers & Schmidhuber 2000), written from scratch.

    .. math::

        \begin{{array}}{{ll}}
        i_t = \sigma(W_{{ii}} x_t + b_{{ii}} + W_{{hi}} h_{{t-1}} + b_{{hi}}
              + p_i \odot c_{{t-1}}) \\
        f_t = \sigma(W_{{if}} x_t + b_{{if}} + W_{{hf}} h_{{t-1}} + b_{{hf}}
              + p_f \odot c_{{t-1}}) \\
        g_t = \tanh(W_{{ig}} x_t + b_{{ig}} + W_{{hg}} h_{{t-1}} + b_{{hg}}) \\
        c_t = f_t \odot c_{{t-1}} + i_t \odot g_t \\
        o_t = \sigma(W_{{io}} x_t + b_{{io}} + W_{{ho}} h_{{t-1}} + b_{{ho}} + p_o \odot c_t) \\
        h_t = o_t \odot \tanh(c_t)
        \end{{array}}

    with the symbols of :class:`LSTM{cell}`, plus the peephole weights :math:`p_i, p_f, p_o`,
    vectors of size H. The input and forget gates see the previous cell state
    :math:`c_{{t-1}}`, the output gate sees the *new* one :math:`c_t` (pitfall 5). The peepholes
    are diagonal: cell k feeds only its own gates, :math:`p \odot c = \mathrm{{diag}}(p)\, c`;
    diagrams that draw a full matrix describe a different, larger model. With
    :math:`p_i = p_f = p_o = 0` this is :class:`LSTM{cell}`. This is
    :func:`solutions.peephole.peephole_forward`. PyTorch has no peephole LSTM.
"""

_CIFG_DOC = r"""LSTM with coupled input and forget gates (CIFG), written from scratch.

    .. math::

        \begin{{array}}{{ll}}
        f_t = \sigma(W_{{if}} x_t + b_{{if}} + W_{{hf}} h_{{t-1}} + b_{{hf}}) \\
        g_t = \tanh(W_{{ig}} x_t + b_{{ig}} + W_{{hg}} h_{{t-1}} + b_{{hg}}) \\
        o_t = \sigma(W_{{io}} x_t + b_{{io}} + W_{{ho}} h_{{t-1}} + b_{{ho}}) \\
        c_t = f_t \odot c_{{t-1}} + (1 - f_t) \odot g_t \\
        h_t = o_t \odot \tanh(c_t)
        \end{{array}}

    with the symbols of :class:`LSTM{cell}`: one gate :math:`f_t` decides both what to keep
    and what to write, the input gate being :math:`i_t = 1 - f_t`. Three gate blocks instead of
    four, so a quarter fewer weights. This is :func:`solutions.cifg.cifg_forward`.

    Where it departs from the paper (Greff et al. 2017; pitfall 6): Greff et al. learn the
    input gate and set :math:`f_t = 1 - i_t`, and keep the peepholes. Both give the same family
    of cells, but the sign of the gate's bias flips between them; keeping :math:`f_t` lets
    :func:`init_forget_bias` mean "remember by default" as for the LSTM.
"""


def _doc(template: str, twin: str, cell: str, attrs: str, io: str, args: str) -> str:
    """Assemble a class docstring: equations, arguments, initialisation, shapes, parameters."""
    parts = (template.format(twin=twin, cell=cell).rstrip(), args, _INIT, io, attrs, _ERRORS)
    return "\n".join(parts) + "\n"


_PEEP_ATTRS_CELL = r"""
        peephole_i, peephole_f, peephole_o: (H,) each, the diagonal peephole weights."""


class RNNCell(_RNNStep, _CellBase):
    __doc__ = _doc(
        _RNN_DOC, "RNNCell", "Cell", _attributes("(one block)", 1, ""), _CELL_H_IO, _CELL_ARGS
    )


class RNN(_RNNStep, _SequenceBase):
    __doc__ = _doc(_RNN_DOC, "RNN", "", _attributes("(one block)", 1, "_l0"), _SEQ_H_IO, _SEQ_ARGS)


class GRUCell(_GRUStep, _CellBase):
    __doc__ = _doc(
        _GRU_DOC,
        "GRUCell",
        "Cell",
        _attributes(r"W_ir|W_iz|W_in (blocks r, z, n)", 3, ""),
        _CELL_H_IO,
        _CELL_ARGS,
    )


class GRU(_GRUStep, _SequenceBase):
    __doc__ = _doc(
        _GRU_DOC,
        "GRU",
        "",
        _attributes(r"W_ir|W_iz|W_in (blocks r, z, n)", 3, "_l0"),
        _SEQ_H_IO,
        _SEQ_ARGS,
    )


class PaperGRUCell(_PaperGRUStep, _CellBase):
    __doc__ = _doc(
        _PAPER_GRU_DOC,
        "GRUCell",
        "Cell",
        _attributes(r"W_ir|W_iu|W_in (blocks r, u, n = h~)", 3, ""),
        _CELL_H_IO,
        _CELL_ARGS,
    )


class PaperGRU(_PaperGRUStep, _SequenceBase):
    __doc__ = _doc(
        _PAPER_GRU_DOC,
        "GRU",
        "",
        _attributes(r"W_ir|W_iu|W_in (blocks r, u, n = h~)", 3, "_l0"),
        _SEQ_H_IO,
        _SEQ_ARGS,
    )


class LSTMCell(_LSTMStep, _CellBase):
    __doc__ = _doc(
        _LSTM_DOC,
        "LSTMCell",
        "Cell",
        _attributes(r"W_ii|W_if|W_ig|W_io (blocks i, f, g, o)", 4, ""),
        _CELL_HC_IO,
        _CELL_ARGS,
    )


def _sequence_api(cls):
    """Class decorator: give a self-contained LSTM module the API of the other modules here.

    The classes it decorates (:class:`LSTM`, :class:`PeepholeLSTM`) are also the solutions of
    exercises in notebooks 03 and 04, which embed them without their decorators (as they embed
    the numpy cells without ``check_shapes``). Such a class handles a batch of sequences,
    ``(T, N, D)`` or ``(N, T, D)``.
    This wrapper adds, around it and without touching its arithmetic:

    * argument checks with messages that name the argument and its expected shape (a
      ``TypeError`` or a :class:`~solutions._checks.ShapeError`), as for every module here;
    * one unbatched sequence ``(T, D)`` with states ``(1, H)``, as ``torch.nn.LSTM`` accepts;
    * the keywords ``device`` and ``dtype`` of the constructor;
    * ``gate_blocks`` (read by :func:`init_forget_bias` and :mod:`solutions.variants`) and
      ``extra_repr``.
    """
    init, forward = cls.__init__, cls.forward
    name = cls.__name__

    @functools.wraps(init)
    def __init__(self, input_size, hidden_size, batch_first=False, *, device=None, dtype=None):
        _check_sizes(name, input_size, hidden_size)
        init(self, input_size, hidden_size, bool(batch_first))
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    @functools.wraps(forward)
    def checked_forward(self, input, hx=None):
        dtype = self.weight_ih_l0.dtype
        seq = "(N, T, D)" if self.batch_first else "(T, N, D)"
        x = _check_input(name, input, self.input_size, dtype, {3: seq, 2: "(T, D)"})
        H = self.hidden_size
        if x.dim() == 3:
            N = x.shape[0] if self.batch_first else x.shape[1]
            if hx is not None:
                hx = _check_state_pair(name, hx, (1, N, H), ("h_0", "c_0"), "(1, N, H)", dtype)
            return forward(self, x, hx)
        # one unbatched sequence (T, D): run it as a batch of one and drop that dimension
        if hx is not None:
            hx = _check_state_pair(name, hx, (1, H), ("h_0", "c_0"), "(1, H)", dtype)
            hx = tuple(s.unsqueeze(1) for s in hx)  # (1, 1, H)
        batch_dim = 0 if self.batch_first else 1
        output, (h_n, c_n) = forward(self, x.unsqueeze(batch_dim), hx)
        return output.squeeze(batch_dim), (h_n.squeeze(1), c_n.squeeze(1))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s + ", batch_first=True" if self.batch_first else s

    cls.__init__, cls.forward, cls.extra_repr = __init__, checked_forward, extra_repr
    cls.gate_blocks = ("i", "f", "g", "o")
    return cls


@_sequence_api  # argument checks and conveniences; the notebook embeds the class without it
class LSTM(nn.Module):
    r"""A single-layer LSTM written from scratch, a drop-in replacement for ``torch.nn.LSTM``.

    It has ``torch.nn.LSTM``'s parameters, names, shapes and initialisation, so a state_dict
    loads both ways between the two, and with the same weights it gives the same outputs and,
    through autograd, the same gradients. It never calls PyTorch's recurrent layers.

    One step, with row vectors as in the numpy cells (``*`` is the element-wise product):

        a_t = x_t W_ih^T + h_{t-1} W_hh^T + b_ih + b_hh     (N, 4H), blocks i, f, g, o
        i_t = sigmoid(a_t[:, 0H:1H])                         input gate
        f_t = sigmoid(a_t[:, 1H:2H])                         forget gate
        g_t = tanh(a_t[:, 2H:3H])                            candidate
        o_t = sigmoid(a_t[:, 3H:4H])                         output gate
        c_t = f_t * c_{t-1} + i_t * g_t                      cell state
        h_t = o_t * tanh(c_t)                                hidden state

    for t = 1..T, from h_0 and c_0 (zeros unless given). W_ih = ``weight_ih_l0`` is the
    numpy cells' Wx transposed, W_hh = ``weight_hh_l0`` is Wh transposed, and the two biases
    only ever appear as their sum b = b_ih + b_hh.

    Args:
        input_size: D, the number of input features.
        hidden_size: H, the number of hidden units (and cell units).
        batch_first: if True, input and output are (N, T, ·) instead of (T, N, ·). The states
            are (1, N, H) either way. Default False, as in torch.nn.LSTM.

    Parameters (all drawn from U(-1/sqrt(H), 1/sqrt(H)), as in torch.nn.LSTM):
        weight_ih_l0: (4H, D), the input weights of the blocks i, f, g, o stacked by rows.
        weight_hh_l0: (4H, H), the recurrent weights, same order.
        bias_ih_l0: (4H,), bias_hh_l0: (4H,), the two biases, same order.

    Inputs: input, hx
        input: (T, N, D), or (N, T, D) with batch_first=True.
        hx: a tuple (h_0, c_0) of two (1, N, H) tensors, or None for zeros. The leading 1 is
            the layer dimension of torch.nn.LSTM (one layer here).

    Outputs: output, (h_n, c_n)
        output: (T, N, H), or (N, T, H) with batch_first=True: h_t for every t.
        h_n, c_n: (1, N, H) each, the hidden and cell states after the last step.
    """

    def __init__(self, input_size: int, hidden_size: int, batch_first: bool = False) -> None:
        """Store the sizes, create the four parameters and initialise them.

        Call ``super().__init__()`` first. Wrap each tensor in ``nn.Parameter`` and assign it
        to an attribute named as above, in the order weight_ih_l0, weight_hh_l0, bias_ih_l0,
        bias_hh_l0 (the order of torch.nn.LSTM's state_dict); then call reset_parameters.
        """
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.batch_first = batch_first
        G = 4 * hidden_size  # four gate blocks of H rows each
        self.weight_ih_l0 = nn.Parameter(torch.empty(G, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(G, hidden_size))
        self.bias_ih_l0 = nn.Parameter(torch.empty(G))
        self.bias_hh_l0 = nn.Parameter(torch.empty(G))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), in place (torch.nn.LSTM's rule)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():  # changing parameters in place is not part of any computation
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def forward(self, input: torch.Tensor, hx: tuple[torch.Tensor, torch.Tensor] | None = None):
        """Run the LSTM over a batch of sequences; return (output, (h_n, c_n)).

        Shapes as in the class docstring. Work time-major, x of shape (T, N, D), and transpose
        at the start and the end when batch_first is set. Collect h_t in a list and stack it
        once at the end: writing into a preallocated tensor would break autograd.
        """
        x = input.transpose(0, 1) if self.batch_first else input  # (T, N, D)
        N, H = x.shape[1], self.hidden_size
        if hx is None:
            h, c = x.new_zeros(N, H), x.new_zeros(N, H)
        else:
            h, c = hx[0][0], hx[1][0]  # (N, H) each: drop the layer dimension
        # The input part of every gate, for all T steps in one product, both biases added.
        xw = x @ self.weight_ih_l0.T + (self.bias_ih_l0 + self.bias_hh_l0)  # (T, N, 4H)
        w_hh = self.weight_hh_l0.T  # (H, 4H)
        outputs = []
        for xw_t in xw.unbind(0):  # (N, 4H) per step
            a = torch.addmm(xw_t, h, w_hh)  # xw_t + h @ w_hh, (N, 4H)
            i, f, g, o = a.chunk(4, dim=1)  # (N, H) each, PyTorch's block order
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (N, H)
            h = torch.sigmoid(o) * torch.tanh(c)  # (N, H)
            outputs.append(h)
        output = torch.stack(outputs, dim=1 if self.batch_first else 0)  # (N, T, H) or (T, N, H)
        return output, (h.unsqueeze(0), c.unsqueeze(0))  # states (1, N, H)


class PeepholeLSTMCell(_PeepholeStep, _CellBase):
    __doc__ = _doc(
        _PEEPHOLE_DOC,
        "LSTMCell",
        "Cell",
        _attributes(r"W_ii|W_if|W_ig|W_io (blocks i, f, g, o)", 4, "", _PEEP_ATTRS_CELL),
        _CELL_HC_IO,
        _CELL_ARGS,
    )


@_sequence_api  # argument checks and conveniences; notebook 04 embeds the class without it
class PeepholeLSTM(nn.Module):
    r"""A single-layer peephole LSTM (Gers & Schmidhuber 2000) written from scratch.

    The LSTM of notebook 03 (:class:`LSTM`) whose gates also look at the cell state, one weight
    per cell (diagonal peepholes). One step, with row vectors as in the numpy cells (``*`` is the
    element-wise product, p_i, p_f, p_o vectors of size H):

        a_t = x_t W_ih^T + h_{t-1} W_hh^T + b_ih + b_hh     (N, 4H), blocks i, f, g, o
        i_t = sigmoid(a_t[:, 0H:1H] + p_i * c_{t-1})          input gate, sees c_{t-1}
        f_t = sigmoid(a_t[:, 1H:2H] + p_f * c_{t-1})          forget gate, sees c_{t-1}
        g_t = tanh(a_t[:, 2H:3H])                            candidate
        c_t = f_t * c_{t-1} + i_t * g_t                      cell state
        o_t = sigmoid(a_t[:, 3H:4H] + p_o * c_t)              output gate, sees the NEW c_t
        h_t = o_t * tanh(c_t)                                hidden state

    for t = 1..T, from h_0 and c_0 (zeros unless given). The input and forget gates are
    computed before the update, so they see c_{t-1}; the output gate comes after it and sees c_t
    (pitfall 5 of the course). ``p * c`` is c times the diagonal matrix diag(p): cell k feeds
    only its own gates; a full (H, H) matrix would be a different, larger model. With
    p_i = p_f = p_o = 0 this is exactly notebook 03's LSTM, hence ``torch.nn.LSTM`` (PyTorch has
    no peephole LSTM). It computes what the numpy ``peephole_forward`` computes with
    Wx = ``weight_ih_l0.T``, Wh = ``weight_hh_l0.T`` and b = ``bias_ih_l0 + bias_hh_l0``.

    Args:
        input_size: D, the number of input features.
        hidden_size: H, the number of hidden units (and cell units).
        batch_first: if True, input and output are (N, T, ·) instead of (T, N, ·). The states
            are (1, N, H) either way. Default False, as in torch.nn.LSTM.

    Parameters (all drawn from U(-1/sqrt(H), 1/sqrt(H)), as in torch.nn.LSTM):
        weight_ih_l0: (4H, D), the input weights of the blocks i, f, g, o stacked by rows.
        weight_hh_l0: (4H, H), the recurrent weights, same order.
        bias_ih_l0: (4H,), bias_hh_l0: (4H,), the two biases, same order.
        peephole_i_l0, peephole_f_l0, peephole_o_l0: (H,) each, p_i, p_f and p_o.

    Inputs: input, hx
        input: (T, N, D), or (N, T, D) with batch_first=True.
        hx: a tuple (h_0, c_0) of two (1, N, H) tensors, or None for zeros. The leading 1 is
            torch.nn.LSTM's layer dimension; with one layer only its single slice is used,
            h_0[0] and c_0[0], (N, H) each.

    Outputs: output, (h_n, c_n)
        output: (T, N, H), or (N, T, H) with batch_first=True: h_t for every t.
        h_n, c_n: (1, N, H) each, the hidden and cell states after the last step.
    """

    def __init__(self, input_size: int, hidden_size: int, batch_first: bool = False) -> None:
        """Store the sizes, create the seven parameters and initialise them.

        The four of torch.nn.LSTM first, in its order (weight_ih_l0, weight_hh_l0, bias_ih_l0,
        bias_hh_l0), then the three peephole vectors peephole_i_l0, peephole_f_l0,
        peephole_o_l0, each an nn.Parameter; then call reset_parameters.
        """
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.batch_first = batch_first
        G = 4 * hidden_size  # four gate blocks of H rows each
        self.weight_ih_l0 = nn.Parameter(torch.empty(G, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(G, hidden_size))
        self.bias_ih_l0 = nn.Parameter(torch.empty(G))
        self.bias_hh_l0 = nn.Parameter(torch.empty(G))
        self.peephole_i_l0 = nn.Parameter(torch.empty(hidden_size))  # one weight per cell
        self.peephole_f_l0 = nn.Parameter(torch.empty(hidden_size))
        self.peephole_o_l0 = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), in place, peepholes included."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def forward(self, input: torch.Tensor, hx: tuple[torch.Tensor, torch.Tensor] | None = None):
        """Run the peephole LSTM over a batch of sequences; return (output, (h_n, c_n)).

        Shapes as in the class docstring. Time-major inside, x of shape (T, N, D).
        """
        x = input.transpose(0, 1) if self.batch_first else input  # (T, N, D)
        N, H = x.shape[1], self.hidden_size
        if hx is None:
            h, c = x.new_zeros(N, H), x.new_zeros(N, H)
        else:
            h, c = hx[0][0], hx[1][0]  # (N, H) each: drop the layer dimension
        xw = x @ self.weight_ih_l0.T + (self.bias_ih_l0 + self.bias_hh_l0)  # (T, N, 4H)
        w_hh = self.weight_hh_l0.T  # (H, 4H)
        p_i, p_f, p_o = self.peephole_i_l0, self.peephole_f_l0, self.peephole_o_l0  # (H,) each
        outputs = []
        for xw_t in xw.unbind(0):  # (N, 4H) per step
            a_i, a_f, a_g, a_o = torch.addmm(xw_t, h, w_hh).chunk(4, dim=1)  # (N, H) each
            i = torch.sigmoid(a_i + p_i * c)  # c is still c_{t-1} here
            f = torch.sigmoid(a_f + p_f * c)
            c = f * c + i * torch.tanh(a_g)  # now c_t
            o = torch.sigmoid(a_o + p_o * c)  # the output gate sees the new c_t
            h = o * torch.tanh(c)
            outputs.append(h)
        output = torch.stack(outputs, dim=1 if self.batch_first else 0)  # (N, T, H) or (T, N, H)
        return output, (h.unsqueeze(0), c.unsqueeze(0))  # states (1, N, H)


class CIFGCell(_CIFGStep, _CellBase):
    __doc__ = _doc(
        _CIFG_DOC,
        "LSTMCell",
        "Cell",
        _attributes(r"W_if|W_ig|W_io (blocks f, g, o; no i block)", 3, ""),
        _CELL_HC_IO,
        _CELL_ARGS,
    )


class CIFG(_CIFGStep, _SequenceBase):
    __doc__ = _doc(
        _CIFG_DOC,
        "LSTM",
        "",
        _attributes(r"W_if|W_ig|W_io (blocks f, g, o; no i block)", 3, "_l0"),
        _SEQ_HC_IO,
        _SEQ_ARGS,
    )


# --------------------------------------------------------------------------------------------
# Helpers: forget-gate bias, conversion to and from the built-ins.
# --------------------------------------------------------------------------------------------


def _gate_blocks(module: nn.Module) -> tuple[str, ...]:
    if isinstance(module, nn.LSTM | nn.LSTMCell):
        return ("i", "f", "g", "o")
    if isinstance(module, nn.GRU | nn.GRUCell):
        return ("r", "z", "n")
    if isinstance(module, nn.RNN | nn.RNNCell):
        return ("h",)
    blocks = getattr(module, "gate_blocks", None)
    if blocks is None:
        raise TypeError(
            f"init_forget_bias: {type(module).__name__} is not a recurrent module; expected "
            "nn.LSTM, nn.LSTMCell or an LSTM-family module of solutions (LSTM, PeepholeLSTM, "
            "CIFG, their Cell versions, or solutions.variants.VariantLSTM)."
        )
    return tuple(blocks)


def _requires_forget_gate(fn):
    """Decorator of :func:`init_forget_bias`: reject a module without a forget gate or biases.

    Notebook 03 embeds ``init_forget_bias`` without it (its exercise is the function itself);
    here a GRU, an RNN, a module that is not recurrent or an LSTM built with ``bias=False``
    gets a clear error instead of a silently wrong change.
    """

    @functools.wraps(fn)
    def checked(lstm: nn.Module, value: float = 1.0) -> nn.Module:
        blocks = _gate_blocks(lstm)
        name = type(lstm).__name__
        if "f" not in blocks:
            raise ValueError(
                f"init_forget_bias: {name} has no forget gate (its gate blocks are "
                f"{', '.join(blocks)}); expected an LSTM-family module."
            )
        if not any(n.startswith("bias") for n, _ in lstm.named_parameters()):
            raise ValueError(f"init_forget_bias: {name} has no bias; create it with bias=True.")
        return fn(lstm, value)

    return checked


@_requires_forget_gate  # argument checks; notebook 03 embeds the function without them
def init_forget_bias(lstm: nn.Module, value: float = 1.0) -> nn.Module:
    """Set the forget-gate bias of an LSTM to ``value``, in place, and return the module.

    The forget gate sees the sum bias_ih + bias_hh of its block (rows H..2H-1 of each bias,
    PyTorch's order being i, f, g, o). So ``value`` goes into the forget block of bias_ih and
    the forget block of bias_hh is set to zero; the gate's bias is then exactly ``value``.
    Putting ``value`` into both would give 2 * value, a common mistake. Every other entry is
    kept.

    Works on torch.nn.LSTM (every layer and direction: bias_ih_l0, bias_ih_l1, ...),
    torch.nn.LSTMCell (bias_ih, bias_hh) and the from-scratch LSTM, which use the same names.

    Args:
        lstm: the module to change.
        value: the forget bias. Default 1.0 (Gers et al. 2000; Jozefowicz et al. 2015).

    Returns:
        The same module, for chaining: ``lstm = init_forget_bias(torch.nn.LSTM(2, 8))``.
    """
    H = lstm.hidden_size
    # torch.nn.LSTM, LSTMCell and the from-scratch LSTM stack i, f, g, o. Other modules of the
    # course name their order in gate_blocks (a CIFG has only f, g, o; notebook 05).
    k = getattr(lstm, "gate_blocks", "ifgo").index("f")  # position of the forget block
    forget = slice(k * H, (k + 1) * H)  # its rows in every bias
    with torch.no_grad():  # a change of parameters, not part of any computation to differentiate
        for name, p in lstm.named_parameters():
            if name.startswith("bias_hh"):
                p[forget] = 0.0
            elif name.startswith("bias"):  # bias_ih..., or the one bias of a VariantLSTM
                p[forget] = value
    return lstm


# (built-in class, class of this module) pairs; the sequence ones carry batch_first.
_TWINS: tuple[tuple[type[nn.Module], type[nn.Module]], ...] = (
    (nn.RNN, RNN),
    (nn.GRU, GRU),
    (nn.LSTM, LSTM),
    (nn.RNNCell, RNNCell),
    (nn.GRUCell, GRUCell),
    (nn.LSTMCell, LSTMCell),
)

_SEQUENCE_TWINS = (nn.RNN, nn.GRU, nn.LSTM)  # these take batch_first


def _factory(module: nn.Module) -> dict:
    p = next(module.parameters())
    return {"device": p.device, "dtype": p.dtype}


def from_builtin(builtin: nn.Module) -> nn.Module:
    """A module of this file with the same weights as a built-in one (copied, not shared).

    ``nn.RNN`` -> :class:`RNN`, ``nn.GRU`` -> :class:`GRU`, ``nn.LSTM`` -> :class:`LSTM`, and the
    Cell versions likewise; ``batch_first``, dtype and device are kept. The built-in must be
    single-layer, unidirectional, with biases, tanh (RNN) and without projections (LSTM).
    """
    name = type(builtin).__name__
    for twin, ours in _TWINS:  # noqa: B007 (the pair found is used after the loop)
        if isinstance(builtin, twin):
            break
    else:
        raise TypeError(
            f"from_builtin: {name} is not one of nn.RNN, nn.GRU, nn.LSTM, nn.RNNCell, nn.GRUCell, "
            "nn.LSTMCell."
        )
    problems = []
    if not builtin.bias:
        problems.append("bias=False (recreate it with bias=True)")
    if getattr(builtin, "nonlinearity", "tanh") != "tanh":
        problems.append(f"nonlinearity={builtin.nonlinearity!r} (only 'tanh' is implemented)")
    if getattr(builtin, "num_layers", 1) != 1:
        problems.append(f"num_layers={builtin.num_layers} (only 1 is implemented)")
    if getattr(builtin, "bidirectional", False):
        problems.append("bidirectional=True (only unidirectional is implemented)")
    if getattr(builtin, "proj_size", 0):
        problems.append(f"proj_size={builtin.proj_size} (projections are not implemented)")
    if problems:
        raise ValueError(f"from_builtin: cannot convert this {name}: " + "; ".join(problems) + ".")
    kwargs = _factory(builtin)
    if twin in _SEQUENCE_TWINS:
        kwargs["batch_first"] = builtin.batch_first
    module = ours(builtin.input_size, builtin.hidden_size, **kwargs)
    module.load_state_dict(builtin.state_dict())
    return module


def to_builtin(module: nn.Module) -> nn.Module:
    """The built-in twin of a module of this file, with the same weights (copied, not shared).

    :class:`RNN` -> ``nn.RNN`` (tanh), :class:`GRU` -> ``nn.GRU``, :class:`LSTM` -> ``nn.LSTM``,
    and the Cell versions likewise; ``batch_first``, dtype and device are kept. The lecture-form
    GRU, the peephole LSTM and CIFG have no built-in twin and raise a ``TypeError``.
    """
    for twin, ours in _TWINS:  # noqa: B007 (the pair found is used after the loop)
        if type(module) is ours:
            break
    else:
        raise TypeError(
            f"to_builtin: {type(module).__name__} has no built-in twin; only RNN, GRU, LSTM and "
            "their Cell versions (from solutions.modules) have one. PaperGRU, PeepholeLSTM and "
            "CIFG compute something torch.nn does not."
        )
    kwargs = _factory(module)
    if twin in _SEQUENCE_TWINS:
        kwargs["batch_first"] = module.batch_first
    builtin = twin(module.input_size, module.hidden_size, **kwargs)
    builtin.load_state_dict(module.state_dict())
    return builtin
