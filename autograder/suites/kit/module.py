"""A graded ``nn.Module`` class, checked against a reference module with the same weights.

The student's class runs through ``student.module_check`` (float64, PyTorch's built-in recurrent
kernels switched off, plain arrays in and out; see :mod:`autograder.hidden`); the expected
outputs and gradients come from the reference module (``torch.nn.LSTM``, or a class of
``solutions`` for a cell PyTorch does not have) run on the same state_dict, inputs and upstream
gradients. Wrong outputs are named by the mistake table as for a :class:`Function`; a right
output with a wrong gradient gets a message about keeping the computation in autograd.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograder.hidden import run_module_check
from autograder.suites.kit.checks import call, case, expect_close, expect_match
from autograder.suites.kit.exercise import Arg, Case, _per_output, collect, readable

GRAD_HINT = (
    "The outputs are right but this gradient is not: keep every computation in torch on the "
    "module's own parameters and the given tensors (no .detach(), .data, .numpy() or in-place "
    "writes into tensors autograd needs)."
)


def recurrent_data(params: Sequence[Arg], states: Sequence[str] = ("h_0",), scale: float = 0.5):
    """``data(case)`` for a torch recurrent layer: a random state_dict (``params`` in order,
    values times ``scale``), the input x ((T, N, D), or (N, T, D) with ``batch_first``), the
    initial states (each (1, N, H); a tuple when there are several, as LSTM's (h_0, c_0);
    left out with ``with_hx=False``), and upstream gradients for output and each final state.

    Case options read: N, T, D, H, ``batch_first`` (default False), ``with_hx`` (True).
    """

    def data(c: Case):
        o = c.sizes
        N, T, D, H = o["N"], o["T"], o["D"], o["H"]
        first = bool(o.get("batch_first", False))
        rng = np.random.default_rng(c.seed)
        sd = {p.name: scale * rng.standard_normal(p.shape(o)) for p in params}
        inputs: list[Any] = [rng.standard_normal((N, T, D) if first else (T, N, D))]
        if o.get("with_hx", True):
            hx = tuple(rng.standard_normal((1, N, H)) for _ in states)
            inputs.append(hx if len(hx) > 1 else hx[0])
        grads = [rng.standard_normal((N, T, H) if first else (T, N, H))]
        grads += [rng.standard_normal((1, N, H)) for _ in states]
        return sd, inputs, grads

    return data


class Module:
    """A graded nn.Module class ``name``, built as ``name(*init_args(case))``.

    reference: ``reference(*init_args)`` builds the module to compare with (same state_dict).
    data: ``data(case) -> (state_dict, inputs, grad_outputs)`` (see :func:`recurrent_data`).
    outputs: the names of forward's outputs, flattened in order ("output", "h_n", "c_n").
    mistakes: :class:`Mistake` / :class:`Mistakes` whose ``fn(state_dict, inputs, options)``
        (options: the case's sizes and flags) returns wrong outputs as for a Function.
    structure: what forward must return, said when the outputs cannot even be compared.
    """

    def __init__(self, name: str, reference: Callable, *, data: Callable,
                 init_args: Callable[[Case], tuple], outputs: Sequence[str],
                 mistakes: Sequence = (), hints: dict[str, str] | str = "",
                 shape_hints: dict[str, str] | str = "", structure: str = "",
                 title: str | None = None, input_names: Sequence[str] = ("input",)):  # fmt: skip
        self.name, self.reference, self.data, self.init_args = name, reference, data, init_args
        self.outputs, self.mistakes, self.structure = tuple(outputs), mistakes, structure
        self.hints = _per_output(hints, self.outputs)
        self.shape_hints = _per_output(shape_hints, self.outputs)
        self.title = title or name
        self.input_names = tuple(input_names)

    def run(self, student, init_args, sd=None, inputs=(), grads=None) -> dict:
        """``student.module_check`` with a failure that names the class and, when forward's
        results cannot be used, what it must return."""

        def run():
            return student.module_check(
                self.name, init_args=init_args, state_dict=sd, inputs=inputs, grad_outputs=grads
            )

        try:
            return call(run, self.name)
        except AssertionError as e:
            if self.structure and ("grad_outputs" in str(e) or "expected tensors" in str(e)):
                raise AssertionError(f"{e} {self.structure}") from None
            raise

    def compare_outputs(self, got: dict, ref: dict, sd, inputs, options) -> None:
        if len(got["outputs"]) != len(self.outputs):
            raise AssertionError(
                f"forward returned {len(got['outputs'])} tensors in all; {self.structure}".rstrip()
            )
        cands = collect(self.mistakes, self.outputs, sd, inputs, options)
        for k, name in enumerate(self.outputs):
            expect_match(
                name, got["outputs"][k], ref["outputs"][k], cands.get(name, ()),
                self.hints[name], self.shape_hints[name],
            )  # fmt: skip

    def check(self, student, c: Case) -> None:
        """Outputs, input gradients and parameter gradients against the reference."""
        sd, inputs, grads = self.data(c)
        init_args = self.init_args(c)
        with case(c.label):
            ref = run_module_check(
                self.reference, init_args, sd, inputs, grads, forbid_builtin=False
            )
            try:
                got = self.run(student, init_args, sd, inputs, grads)
            except AssertionError as error:
                # Perhaps the forward pass worked and only the backward failed (outputs of the
                # wrong shape, say): then the outputs alone tell what is wrong.
                try:
                    alone = student.module_check(
                        self.name, init_args=init_args, state_dict=sd, inputs=inputs
                    )
                except BaseException:
                    raise error from None
                self.compare_outputs(alone, ref, sd, inputs, c.sizes)
                raise
            self.compare_outputs(got, ref, sd, inputs, c.sizes)
            leaves = self.leaf_names(len(ref["input_grads"]))
            for name, g, e in zip(leaves, got["input_grads"], ref["input_grads"], strict=True):
                if g is None:
                    raise AssertionError(
                        f"no gradient reached {name}: your forward must compute with the "
                        "tensors it is given (no copies through numpy, no .detach())."
                    )
                expect_close("d" + name, g, e, atol=1e-8, hint=GRAD_HINT)
            for name, e in ref["param_grads"].items():
                g = got["param_grads"].get(name)
                if g is None:
                    raise AssertionError(
                        f"no gradient reached the parameter {name}: use it (through autograd) "
                        "in forward."
                    )
                expect_close("d" + name, g, e, atol=1e-8, hint=GRAD_HINT)

    def leaf_names(self, n: int) -> tuple[str, ...]:
        names = tuple(self.input_names)
        return names[:n] if len(names) >= n else names + tuple(f"input {i}" for i in range(n))

    # -- tests
    def tests(self, cases: Sequence[Case]):
        """One test per case: outputs and every gradient against the reference module."""

        @readable([f"{self.title}, {c.label}" for c in cases], cases)
        def test_module(student, case_):
            self.check(student, case_)

        return test_module

    def parameters_test(self, c: Case):
        """The parameters have the reference's names, shapes and order (state_dicts load both
        ways)."""

        @readable([f"{self.title}, parameter names, shapes and order"], [c])
        def test_parameters(student, case_):
            init_args = self.init_args(case_)
            _sd, inputs, _grads = self.data(case_)
            with case(case_.label):
                got = self.run(student, init_args, inputs=inputs)
                module = self.reference(*init_args)
                want = [(n, tuple(p.shape)) for n, p in module.state_dict().items()]
                have = [(n, tuple(np.shape(v))) for n, v in got["state_dict"].items()]
                if have != want:
                    raise AssertionError(
                        f"{self.name}{init_args}.state_dict() has {have}; the reference has "
                        f"{want}. Create the nn.Parameters with these names and shapes, in this "
                        "order, so that state_dicts load both ways."
                    )

        return test_parameters

    def uniform_init_test(self, c: Case):
        """Every parameter drawn from U(-1/sqrt(H), 1/sqrt(H)), PyTorch's rule for recurrent
        layers (H from the case)."""
        H = c.sizes["H"]
        bound = 1 / np.sqrt(H)

        @readable([f"{self.title}, initialisation"], [c])
        def test_initialisation(student, case_):
            init_args = self.init_args(case_)
            _sd, inputs, _grads = self.data(case_)
            names = list(self.reference(*init_args).state_dict())
            with case(case_.label):
                got = self.run(student, init_args, inputs=inputs)
                for name in names:
                    if name not in got["state_dict"]:
                        raise AssertionError(f"the module has no parameter {name}.")
                    v = np.asarray(got["state_dict"][name])
                    if not (np.all(np.abs(v) <= bound + 1e-12) and v.std() > bound / 4):
                        raise AssertionError(
                            f"{name} ranges over [{v.min():.3g}, {v.max():.3g}] with standard "
                            f"deviation {v.std():.3g}; reset_parameters must draw every "
                            f"parameter from U(-1/sqrt(H), 1/sqrt(H)) = U(-{bound:g}, {bound:g}), "
                            f"standard deviation {bound / np.sqrt(3):.3g}."
                        )

        return test_initialisation

    def builtin_test(self, c: Case, forbidden: set[str] | frozenset[str], what: str):
        """The case must pass, and the class's code may not name ``forbidden`` (the class's own
        name is allowed)."""

        @readable([f"{self.title}, written by hand"], [c])
        def test_written_by_hand(student, case_):
            self.check(student, case_)
            used = student.names_used(self.name) & (set(forbidden) - {self.name})
            if used:
                raise AssertionError(f"{self.name} uses {', '.join(sorted(used))}: {what}")

        return test_written_by_hand
