"""The suite kit: what every hidden suite is written with.

A suite file (``autograder/suites/<assignment>/test_<exercise>.py``) declares its exercise, its
table of typical mistakes and its cases; the kit turns them into pytest tests whose ids a
student reads in the feedback ("step forward, N=1, D=3, H=4"), and whose failures say which
mistake the answer matches (its *fingerprint*: the student's output equals what the mistake
returns on the same inputs) or else the largest error and where.

The suites run in the grading process and reach student code only through the ``student``
fixture (see :mod:`autograder.hidden`): ``student(name)(*args)`` with plain data (float64 arrays,
numbers, lists/tuples/dicts of them); a returned cache is opaque and only handed back to the
student's own functions. The kit keeps to that: it never looks into a cache, copies every array
it passes (at any depth), and reports any exception with the function's name.

API (``from autograder.suites.kit import ...``)
-----------------------------------------------
Declarations (:mod:`.exercise`):

* ``Arg(name, shape, scale=1.0, state=False, fixed=None)``: an argument, its shape in symbols
  ``"N, T, D"``, ``"H, 4H"``, ``"3H"`` (sizes N, T, D, H or any others a Case gives);
  ``state=True`` marks an initial state (zeroed by ``Case(zero_states=True)``); ``fixed``: a
  given value (a number), not drawn.
* ``Case(seed, note="", N=.., T=.., D=.., H=.., zero_states=False, scale={arg: s},
  edit=[put(arg, index, value), ...], args=[...], label=None)``: one set of inputs, drawn from
  ``seed`` in argument order (upstream gradients last); its label is its sizes and note.
* ``Mistake(message, fn)``: ``fn`` takes the exercise's arguments (a backward's: the forward's
  arguments, then the upstream gradients) and returns what the mistake returns: one output, a
  tuple in output order, or ``{output: value}``; a value may be a predicate on the answer;
  None or an exception means "does not apply to these inputs".
* ``Mistakes(fn)``: a family whose number or messages depend on the inputs (one per time
  step, say): ``fn`` takes the same arguments and returns ``[(message, value), ...]``.
* ``Function(name, args, returns, reference, *, compare, numbers, mistakes, hints,
  shape_hints, advice, title, atol)``: a graded function. ``args`` is a list of Arg or a
  callable ``make(case) -> list``; ``returns`` names the outputs (``"cache"`` is opaque; one
  name means the function returns that value alone); ``numbers`` are outputs that must be
  numbers. Tests: ``.tests(cases)`` (every compared output against the reference),
  ``.unchanged_test(case)`` (no argument modified in place, at any depth),
  ``.builtin_test(case, forbidden_names, what_instead)``, ``.dtype_test(case)`` (float64 in,
  float64 out). Helpers for special tests:
  ``.draw(case)`` / ``.arguments(case)``, ``.run(student, args)`` -> {output: value},
  ``.check(student, args, label)``, ``.candidates(args)`` -> {output: [(message, value)]}.
* ``Backward(name, forward, reference, *, upstream=[Arg("dh", "N, H")], mistakes, hints,
  shape_hint, title, tol=1e-7)``: ``name(*upstream, cache)`` on the cache of the student's own
  forward returns ``("d" + arg for arg in forward's args)``. Tests: ``.tests(cases)`` (against
  the reference), ``.gradient_check_test(case)`` (against centred differences in float64 of the
  student's own forward: a backward right for a wrong forward earns it), ``.shapes_test(case)``,
  ``.unchanged_test(case)``.
* ``standard_cases(seed, sequence=False)``: a typical case, N=1, H=1, D >> H, D = H, zero
  states (and T=1 for a sequence), seeds from ``seed`` on.
* ``@named("readable name")``: a test special to one suite, ``def f(student)``.

Recurrent cells (:mod:`.recurrent`), from the reference step alone:
``sequence_mistakes(fname, reference, step, states, outputs)`` (only the last state, a state
not carried, the initial state included or not used, shifted, read backwards, time-major),
``step_advice(step_function)`` (a note when the student's own step is wrong),
``bptt_mistakes(step_backward, reference, arg_names, outputs, carry_messages)`` (a gradient not
carried back, only the last upstream gradient, weight gradients of one step or averaged, the
initial state's gradient wrong), with ``reference_step_backward``, ``bptt`` and ``run_steps``.

Modules (:mod:`.module`): ``Module(name, reference, data=recurrent_data(params, states),
init_args=lambda case: (...), outputs=("output", "h_n", "c_n"), mistakes, hints,
shape_hints, structure, input_names)``: an nn.Module class run by ``student.module_check``
against ``reference(*init_args)`` with the same state_dict, inputs and upstream gradients
(outputs, input and parameter gradients). Tests: ``.tests(cases)``, ``.parameters_test(case)``,
``.uniform_init_test(case)``, ``.builtin_test(case, forbidden, what)``. Case options it reads:
N, T, D, H, ``batch_first``, ``with_hx``.

Checks (:mod:`.checks`): ``call`` (exceptions reported with the function's name), ``unpack``,
``number``, ``case`` and ``appended`` (text added to failures), ``copies``, ``is_close``,
``diagnose``, ``expect_match`` (shape, then values, naming a matching mistake),
``expect_unchanged``, ``expect_gradients``, ``expect_gradient_check``, ``upstream_note``,
``inputs``; and :mod:`autograder.asserts`' ``expect_shape``, ``expect_close``,
``expect_rel_error``.

Fixtures (:mod:`.fixtures`): ``refuse_shortcuts(layer, needs, exercise)`` makes the autouse
fixture for an exercise that may not call PyTorch's recurrent layers: its tests call the student's
code with torch's recurrent kernels switched off (in both graders), and every test fails if the
code the exercise reaches (its answer cell and what it calls, across cells; never unrelated
cells) names a built-in layer or holds a way round the check; ``BUILTIN_RNN_NAMES`` for
``builtin_test``.

In-place changes (:mod:`autograder.inside.inplace`, shared with the worker and inlined in the
notebooks for their visible tests): ``copies`` is its ``snapshot`` and ``expect_unchanged`` its
check, so every grader says "f changed its argument grads in place: grads[2] is not what the
caller passed (...)" for an array or tensor changed at any depth of lists, tuples and dicts.

Example: a whole suite (``test_rnn_step_forward.py``, abridged)::

    import numpy as np

    from autograder.suites.kit import Arg, Case, Function, Mistake
    from solutions.rnn import rnn_step_forward as reference

    STEP = Function(
        "rnn_step_forward",
        [Arg("x", "N, D"), Arg("h_prev", "N, H", state=True), Arg("Wx", "D, H"),
         Arg("Wh", "H, H"), Arg("b", "H")],
        returns=("h", "cache"),
        reference=reference,
        title="step forward",
        hints="Check: h = tanh(x @ Wx + h_prev @ Wh + b).",
        shape_hints="h is the new hidden state, (N, H).",
        mistakes=[
            Mistake("You used the sigmoid; the vanilla RNN step uses tanh.",
                    lambda x, h, Wx, Wh, b: 1 / (1 + np.exp(-(x @ Wx + h @ Wh + b)))),
        ],
    )
    test_values = STEP.tests([Case(10, N=2, D=3, H=4), Case(14, N=1, D=3, H=4),
                              Case(16, "h_prev = 0", N=2, D=3, H=3, zero_states=True)])
    test_inputs_not_modified = STEP.unchanged_test(Case(18, N=2, D=3, H=4))

A student whose step uses the sigmoid reads, for the test "step forward, N=1, D=3, H=4"::

    h: largest error 1.0e+00 at index (0, 1): got 0.0364618, expected -0.99714 (4 of 4 entries
    off; tolerance 1e-08). You used the sigmoid; the vanilla RNN step uses tanh. [case: N=1,
    D=3, H=4]
"""

from autograder.asserts import expect_close, expect_rel_error, expect_shape
from autograder.suites.kit.checks import (
    ATOL,
    RTOL,
    Candidate,
    appended,
    call,
    case,
    copies,
    diagnose,
    expect_gradient_check,
    expect_gradients,
    expect_match,
    expect_unchanged,
    inputs,
    is_close,
    number,
    unpack,
    upstream_note,
)
from autograder.suites.kit.exercise import (
    CACHE,
    Arg,
    Backward,
    Case,
    Function,
    Mistake,
    Mistakes,
    collect,
    named,
    put,
    readable,
    standard_cases,
)
from autograder.suites.kit.fixtures import BUILTIN_RNN_NAMES, refuse_shortcuts

__all__ = [
    "ATOL",
    "BUILTIN_RNN_NAMES",
    "CACHE",
    "RTOL",
    "Arg",
    "Backward",
    "Candidate",
    "Case",
    "Function",
    "Mistake",
    "Mistakes",
    "collect",
    "appended",
    "call",
    "case",
    "copies",
    "diagnose",
    "expect_close",
    "expect_gradient_check",
    "expect_gradients",
    "expect_match",
    "expect_rel_error",
    "expect_shape",
    "expect_unchanged",
    "inputs",
    "is_close",
    "number",
    "put",
    "readable",
    "refuse_shortcuts",
    "standard_cases",
    "named",
    "unpack",
    "upstream_note",
]
