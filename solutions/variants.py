r"""One configurable LSTM for the variants of Greff et al. (2017), "LSTM: A Search Space Odyssey".

Symbol key: N batch size, T time steps, D input size, H hidden size.

Greff et al.'s *vanilla* LSTM is the LSTM of :class:`solutions.modules.PeepholeLSTM`: input,
forget and output gates, tanh on the cell input and on the cell output, and diagonal peepholes
(c_{t-1} into i and f, c_t into o). Each of their eight variants changes one thing:

=========  ================================================================================
name       change from vanilla
=========  ================================================================================
vanilla    none
NIG        no input gate: i = 1
NFG        no forget gate: f = 1 (the cell state only accumulates)
NOG        no output gate: o = 1
NIAF       no input activation function: g is linear (no tanh on the cell input)
NOAF       no output activation function: h = o * c (no tanh on the cell output)
NP         no peepholes (this is ``torch.nn.LSTM``)
CIFG       coupled input and forget gate: i = 1 - f (Greff et al. write f = 1 - i)
FGR        full gate recurrence: i, f, o also receive the previous step's i, f, o
=========  ================================================================================

:class:`LSTMConfig` describes a cell with one switch per change, :meth:`LSTMConfig.variant`
builds the config of a named variant, :class:`VariantLSTM` runs it over a sequence with the
interface of ``torch.nn.LSTM``, and :func:`count_parameters` counts its weights. A removed gate
also removes its weights, so the parameter counts are those of the cells being compared.

Unlike the modules of :mod:`solutions.modules`, a ``VariantLSTM`` has one bias per gate block
(``bias_l0``), as in the paper: PyTorch's two biases only ever appear as a sum. Use
:func:`load_lstm_weights` to copy the weights of an ``nn.LSTM`` (or of a module of
:mod:`solutions.modules`) into a variant.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from solutions.modules import _gate_blocks, _SequenceBase

__all__ = [
    "VARIANTS",
    "LSTMConfig",
    "VariantLSTM",
    "count_parameters",
    "load_lstm_weights",
    "parameter_count",
]

VARIANTS: tuple[str, ...] = ("vanilla", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR")

# The one field each named variant changes from vanilla.
_CHANGES: dict[str, dict[str, bool]] = {
    "vanilla": {},
    "NIG": {"input_gate": False},
    "NFG": {"forget_gate": False},
    "NOG": {"output_gate": False},
    "NIAF": {"input_activation": False},
    "NOAF": {"output_activation": False},
    "NP": {"peepholes": False},
    "CIFG": {"coupled": True},
    "FGR": {"full_gate_recurrence": True},
}


@dataclass(frozen=True)
class LSTMConfig:
    """Which parts of the vanilla LSTM (Greff et al. 2017) a :class:`VariantLSTM` has.

    The defaults are the vanilla LSTM: every gate, both activations, peepholes, no coupling and
    no gate recurrence. ``LSTMConfig.variant("NIG")`` gives a named variant; the fields can also
    be combined freely (``LSTMConfig(peepholes=False, coupled=True)`` is a CIFG without
    peepholes, the cell of :class:`solutions.modules.CIFG`).
    """

    # False (NIG): no input gate; i = 1, every candidate is written in full.
    input_gate: bool = True
    # False (NFG): no forget gate; f = 1, the cell state is never erased.
    forget_gate: bool = True
    # False (NOG): no output gate; o = 1, the whole squashed cell is exposed.
    output_gate: bool = True
    # False (NIAF): the candidate g is linear, g = (pre-activation), instead of tanh of it.
    input_activation: bool = True
    # False (NOAF): h = o * c instead of h = o * tanh(c).
    output_activation: bool = True
    # False (NP): no peepholes; True: diagonal peepholes c_{t-1} -> i, f and c_t -> o, for each
    # gate that has weights of its own.
    peepholes: bool = True
    # True (CIFG): the input gate is i = 1 - f and has no weights. Greff et al. write f = 1 - i;
    # we keep f, as solutions.cifg and solutions.modules.CIFG do (pitfall 6).
    coupled: bool = False
    # True (FGR): the gates with weights of their own (i, f, o) also receive the previous step's
    # activations of those gates through a (KH, KH) matrix, K the number of such gates (3 for
    # FGR); the previous activations are zero at t = 1.
    full_gate_recurrence: bool = False

    def __post_init__(self) -> None:
        if self.coupled and not self.forget_gate:
            raise ValueError(
                "LSTMConfig: coupled=True derives the input gate from the forget gate "
                "(i = 1 - f), so it needs forget_gate=True."
            )
        if self.coupled and not self.input_gate:
            raise ValueError(
                "LSTMConfig: coupled=True replaces the input gate by 1 - f and input_gate=False "
                "removes it (i = 1); choose one of the two."
            )

    @classmethod
    def variant(cls, name: str) -> LSTMConfig:
        """The config of a named variant of Greff et al.: one of :data:`VARIANTS`.

        The name is matched without regard to case ("nig" is "NIG").
        """
        by_key = {v.lower(): v for v in VARIANTS}
        key = name.lower() if isinstance(name, str) else None
        if key not in by_key:
            raise ValueError(
                f"LSTMConfig.variant: unknown variant {name!r}; valid names are "
                f"{', '.join(VARIANTS)}."
            )
        return cls(**_CHANGES[by_key[key]])

    @property
    def gate_blocks(self) -> tuple[str, ...]:
        """The blocks with weights of their own, in PyTorch's order i, f, g, o."""
        has = {
            "i": self.input_gate and not self.coupled,
            "f": self.forget_gate,
            "g": True,
            "o": self.output_gate,
        }
        return tuple(k for k in "ifgo" if has[k])

    @property
    def sigmoid_gates(self) -> tuple[str, ...]:
        """The gates (among i, f, o) with weights of their own, in the order i, f, o."""
        return tuple(k for k in self.gate_blocks if k != "g")


class VariantLSTM(_SequenceBase):
    r"""An LSTM with the parts chosen by an :class:`LSTMConfig` (Greff et al. 2017).

    The vanilla cell (all switches on), for t = 1..T:

    .. math::

        \begin{array}{ll}
        i_t = \sigma(W_{ii} x_t + W_{hi} h_{t-1} + p_i \odot c_{t-1} + b_i) \\
        f_t = \sigma(W_{if} x_t + W_{hf} h_{t-1} + p_f \odot c_{t-1} + b_f) \\
        g_t = \tanh(W_{ig} x_t + W_{hg} h_{t-1} + b_g) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
        o_t = \sigma(W_{io} x_t + W_{ho} h_{t-1} + p_o \odot c_t + b_o) \\
        h_t = o_t \odot \tanh(c_t)
        \end{array}

    where :math:`x_t` is the input, :math:`h_t` the hidden state, :math:`c_t` the cell state,
    :math:`i_t, f_t, o_t` the input, forget and output gates, :math:`g_t` the candidate (Greff
    et al.'s block input :math:`z_t`), :math:`p_i, p_f, p_o` the diagonal peephole weights
    (vectors of size H), :math:`\sigma` the logistic sigmoid and :math:`\odot` the element-wise
    product. The switches change it as follows:

    * ``input_gate=False`` (NIG): :math:`i_t = 1`; ``forget_gate=False`` (NFG): :math:`f_t = 1`;
      ``output_gate=False`` (NOG): :math:`o_t = 1`. The gate's weights and peephole go too.
    * ``input_activation=False`` (NIAF): :math:`g_t = W_{ig} x_t + W_{hg} h_{t-1} + b_g`.
    * ``output_activation=False`` (NOAF): :math:`h_t = o_t \odot c_t`.
    * ``peepholes=False`` (NP): no :math:`p` terms; this is ``torch.nn.LSTM``.
    * ``coupled=True`` (CIFG): :math:`i_t = 1 - f_t`, no input-gate weights. Greff et al. couple
      the other way, :math:`f_t = 1 - i_t`; the two are the same family of cells, but the bias
      sign flips (pitfall 6). With ``peepholes=False`` this is :class:`solutions.modules.CIFG`.
    * ``full_gate_recurrence=True`` (FGR): with :math:`a_t` the concatenated activations of the
      K gates that have weights (:math:`[i_t; f_t; o_t]` for FGR, K = 3) and :math:`a_0 = 0`,
      every such gate's pre-activation gets the extra term :math:`W_{aa} a_{t-1}` (its block of
      rows), :math:`W_{aa}` of shape (K·H, K·H).

    Args:
        input_size: the number of features D of the input x.
        hidden_size: the number of features H of the hidden state h.
        config: an :class:`LSTMConfig`, or the name of a variant (``"NIG"``). Default: vanilla.
        batch_first: if ``True``, ``input`` and ``output`` are (N, T, ·) instead of (T, N, ·).
            Default: ``False``.
        device, dtype: where and in which precision the parameters are created (keywords).

    All parameters are initialised from :math:`\mathcal{U}(-k, k)` with :math:`k = 1/\sqrt{H}`.

    Inputs: input, (h_0, c_0)
        - **input**: (T, N, D), or (N, T, D) with ``batch_first=True``, or (T, D) unbatched.
        - **h_0**, **c_0**: (1, N, H) each, or (1, H) unbatched. Default: zeros.

    Outputs: output, (h_n, c_n)
        - **output**: (T, N, H), or (N, T, H) with ``batch_first=True``, or (T, H) unbatched.
        - **h_n**, **c_n**: (1, N, H) each, or (1, H) unbatched.

    Attributes (G gate blocks with weights, see ``config.gate_blocks``; K sigmoid gates):
        weight_ih_l0: (G·H, D), the input weights of the blocks present, stacked by rows in the
            order i, f, g, o (vanilla: W_ii|W_if|W_ig|W_io, like ``nn.LSTM``; CIFG: f, g, o).
        weight_hh_l0: (G·H, H), the recurrent weights, same order.
        bias_l0: (G·H,), one bias per block, same order.
        peephole_i_l0, peephole_f_l0, peephole_o_l0: (H,) each, for each gate present, when
            ``config.peepholes``.
        weight_aa_l0: (K·H, K·H), the gate-to-gate weights of FGR; row and column blocks in
            the order i, f, o of the gates present.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        config: LSTMConfig | str | None = None,
        batch_first: bool = False,
        *,
        device=None,
        dtype=None,
    ) -> None:
        if config is None:
            config = LSTMConfig()
        elif isinstance(config, str):
            config = LSTMConfig.variant(config)
        elif not isinstance(config, LSTMConfig):
            raise TypeError(
                f"VariantLSTM: config is a {type(config).__name__}, expected an LSTMConfig or a "
                f"variant name ({', '.join(VARIANTS)})."
            )
        nn.Module.__init__(self)
        self.config = config
        self.gate_blocks = config.gate_blocks
        self.gates = config.sigmoid_gates
        self.vectors = tuple(f"peephole_{k}" for k in self.gates) if config.peepholes else ()
        self.n_states = 2
        self.batch_first = bool(batch_first)
        self._build(input_size, hidden_size, device, dtype)

    def _parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        G, K = len(self.gate_blocks), len(self.gates)
        D, H = self.input_size, self.hidden_size
        shapes = {"weight_ih": (G * H, D), "weight_hh": (G * H, H), "bias": (G * H,)}
        shapes.update({name: (H,) for name in self.vectors})
        if self.config.full_gate_recurrence:
            shapes["weight_aa"] = (K * H, K * H)
        return shapes

    def _project(self, x: Tensor) -> Tensor:
        return F.linear(x, self._p("weight_ih"), self._p("bias"))

    def _prepare(self):
        peep = {k: self._p(f"peephole_{k}") for k in self.gates} if self.config.peepholes else {}
        w_aa_t = self._p("weight_aa").t() if self.config.full_gate_recurrence else None
        return self._p("weight_hh").t(), peep, w_aa_t

    def _extra_states(self, h: Tensor) -> tuple[Tensor, ...]:
        if self.config.full_gate_recurrence:  # a_0 = 0: the previous gate activations (N, K*H)
            return (h.new_zeros(h.shape[0], len(self.gates) * self.hidden_size),)
        return ()

    def _step(self, xw, state, w_hh_t, peep, w_aa_t):
        cfg = self.config
        h, c_prev = state[0], state[1]
        blocks = torch.addmm(xw, h, w_hh_t).chunk(len(self.gate_blocks), 1)  # (N, H) each
        pre = dict(zip(self.gate_blocks, blocks, strict=True))
        if w_aa_t is not None:  # FGR: W_aa a_{t-1} into every gate with weights
            recurrent = torch.mm(state[2], w_aa_t).chunk(len(self.gates), 1)
            for k, r in zip(self.gates, recurrent, strict=True):
                pre[k] = pre[k] + r

        def gate(k: str, cell: Tensor) -> Tensor | None:
            """sigma(pre-activation + peephole * cell), or None for a gate fixed at 1."""
            if k not in pre:
                return None
            a = torch.addcmul(pre[k], peep[k], cell) if k in peep else pre[k]
            return a.sigmoid()

        f = gate("f", c_prev)
        i = 1 - f if cfg.coupled else gate("i", c_prev)
        g = pre["g"].tanh() if cfg.input_activation else pre["g"]
        c = (c_prev if f is None else f * c_prev) + (g if i is None else i * g)
        o = gate("o", c)  # peeks at the new cell state
        s = c.tanh() if cfg.output_activation else c
        h = s if o is None else o * s
        if w_aa_t is None:
            return h, c
        acts = {"i": i, "f": f, "o": o}
        return h, c, torch.cat([acts[k] for k in self.gates], 1)  # a_t (N, K*H)

    def extra_repr(self) -> str:
        changed = {
            f.name: getattr(self.config, f.name)
            for f in dataclasses.fields(self.config)
            if getattr(self.config, f.name) != f.default
        }
        name = next((v for v, ch in _CHANGES.items() if ch == changed), None)
        desc = f"variant={name!r}" if name else f"config={self.config}"
        return super().extra_repr() + ", " + desc


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """The number of scalar parameters of a module (only those with requires_grad by default).

    For a :class:`VariantLSTM` with G gate blocks, P peephole vectors and K gates in the gate
    recurrence this is G(DH + H² + H) + PH (+ K²H² with FGR): vanilla 4(DH + H² + H) + 3H.
    A built-in ``nn.LSTM`` has two biases per block, 4(DH + H² + 2H).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"count_parameters: expected an nn.Module, got {type(module).__name__}.")
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def parameter_count(cell: str, input_size: int, hidden_size: int, biases: int = 2) -> int:
    """The number of trainable scalars of a single-layer cell, from its sizes alone.

    A cell with G gate blocks (RNN 1; GRU 3: r, z, n; LSTM and peephole LSTM 4: i, f, g, o;
    CIFG 3: f, g, o) has, per block, input weights (D, H), recurrent weights (H, H) and
    ``biases`` bias vectors (H,); the peephole LSTM adds three diagonal peephole vectors (H,):

        count = G * (D*H + H*H + biases*H)  (+ 3*H for "peephole")

    ``biases=2`` counts as PyTorch does: ``bias_ih`` and ``bias_hh`` for every block, as in
    torch.nn.RNN/GRU/LSTM and the course's from-scratch modules. ``biases=1`` counts as
    the papers do, one bias per block: for every cell here but PyTorch's GRU the two biases
    only ever act as their sum (the paper-form GRU, whose reset gate acts before the product,
    needs one; PyTorch's GRU keeps b_hn inside r * (...), where it is not redundant).

    Args:
        cell: "rnn", "gru", "lstm", "peephole" or "cifg".
        input_size: D.
        hidden_size: H.
        biases: 2 (PyTorch) or 1 (papers).

    Returns:
        the count, an int.
    """
    blocks = {"rnn": 1, "gru": 3, "lstm": 4, "peephole": 4, "cifg": 3}  # G of each cell
    if cell not in blocks:
        raise ValueError(
            f"parameter_count: unknown cell {cell!r}; valid names are {', '.join(blocks)}."
        )
    if biases not in (1, 2):
        raise ValueError(
            f"parameter_count: biases must be 2 (PyTorch's bias_ih and bias_hh) or 1 (the "
            f"papers' single bias), got {biases!r}."
        )
    D, H = input_size, hidden_size
    G = blocks[cell]
    peepholes = 3 * H if cell == "peephole" else 0  # diagonal: one weight per unit and gate
    return G * (D * H + H * H + biases * H) + peepholes


def load_lstm_weights(variant: VariantLSTM, source: nn.Module) -> VariantLSTM:
    """Copy the weights of an LSTM-family module into a :class:`VariantLSTM`, in place.

    ``source`` is an ``nn.LSTM``/``nn.LSTMCell`` or a module of :mod:`solutions.modules`
    (LSTM, PeepholeLSTM, CIFG or a Cell version). Each gate block of the variant takes the rows
    of the source's block of the same name, and its bias is ``bias_ih + bias_hh`` of that block.
    Each peephole of the variant takes the source's (``peephole_i`` ...) or zero if the source
    has none. The FGR matrix, which no source has, is left as it is. Raises a ``ValueError``
    when the variant has a block that the source lacks (a vanilla variant from a CIFG).

    Returns:
        ``variant``, for chaining.
    """
    if not isinstance(variant, VariantLSTM):
        raise TypeError(f"load_lstm_weights: variant is a {type(variant).__name__}.")
    src_blocks = _gate_blocks(source)
    params = dict(source.named_parameters())
    suffix = "_l0" if "weight_ih_l0" in params else ""
    if f"bias_ih{suffix}" not in params or getattr(source, "num_layers", 1) != 1:
        raise ValueError(
            f"load_lstm_weights: {type(source).__name__} must be single-layer with biases."
        )
    if (source.input_size, source.hidden_size) != (variant.input_size, variant.hidden_size):
        raise ValueError(
            f"load_lstm_weights: source has (input_size, hidden_size) = "
            f"{(source.input_size, source.hidden_size)}, the variant "
            f"{(variant.input_size, variant.hidden_size)}."
        )
    missing = [k for k in variant.gate_blocks if k not in src_blocks]
    if missing:
        raise ValueError(
            f"load_lstm_weights: the variant has gate block(s) {', '.join(missing)} that "
            f"{type(source).__name__} (blocks {', '.join(src_blocks)}) does not have."
        )
    H = variant.hidden_size
    rows = torch.cat([torch.arange(H) + src_blocks.index(k) * H for k in variant.gate_blocks])

    def src(name: str) -> Tensor:
        return params[name + suffix].detach()

    with torch.no_grad():
        variant.weight_ih_l0.copy_(src("weight_ih")[rows])
        variant.weight_hh_l0.copy_(src("weight_hh")[rows])
        variant.bias_l0.copy_((src("bias_ih") + src("bias_hh"))[rows])
        for name in variant.vectors:
            p = getattr(variant, name + "_l0")
            if name + suffix in params:
                p.copy_(src(name))
            else:
                p.zero_()
    return variant
