"""solutions.timing: the batched LSTMs equal the reference peephole cell model by model, their
hand-written backward equals centred differences, the twins start equal and train independently,
and the experiment of notebook 04 reproduces the numbers its prose quotes."""

from __future__ import annotations

import numpy as np
import pytest

from solutions import timing
from solutions.gradients import numerical_gradient
from solutions.peephole import peephole_forward


def _perturbed(model, seed=0, scale=0.3):
    """Move every parameter away from its initial value (the peepholes of plain models stay 0)."""
    rng = np.random.default_rng(seed)
    for p in model.params.values():
        p += scale * rng.standard_normal(p.shape)
    model.params["p"] *= model.q[:, None]
    return model


def test_each_model_is_the_reference_peephole_cell():
    model = _perturbed(
        timing.ManyLSTMs([False, True, True], [0, 0, 3], input_size=2, hidden_size=3)
    )
    x = np.random.default_rng(1).standard_normal((3, 4, 6, 2))
    y, cache = model.forward(x)
    for m in range(3):
        P = {k: v[m] for k, v in model.params.items()}
        p = [P["p"][k, 0] * model.q[m, 0, 0] for k in range(3)]
        h, c, _ = peephole_forward(x[m], np.zeros((4, 3)), np.zeros((4, 3)), P["Wx"], P["Wh"],
                                   P["b"][0], *p)  # fmt: skip
        np.testing.assert_allclose(y[m], (h @ P["w"])[..., 0] + P["v"][0, 0], atol=1e-12)
        np.testing.assert_allclose(cache["c_states"][m], c, atol=1e-12)


def test_backward_equals_centred_differences():
    model = _perturbed(timing.ManyLSTMs([False, True], [0, 1], input_size=2, hidden_size=3))
    rng = np.random.default_rng(2)
    x, dy = rng.standard_normal((2, 3, 5, 2)), rng.standard_normal((2, 3, 5))
    grads = model.backward(dy, model.forward(x)[1])
    for name, param in model.params.items():
        num = numerical_gradient(lambda: model(x), param, dy)
        scale = max(np.abs(num).max(), 1e-12)
        assert np.abs(grads[name] - num).max() / scale < 1e-7, name
    assert not grads["p"][0].any(), "a plain model's peepholes must get no gradient"


def test_twins_start_equal_and_plain_models_have_no_peepholes():
    model = timing.ManyLSTMs([False, True, False], [7, 7, 8], hidden_size=4, forget_bias=1.0)
    for name in ("Wx", "Wh", "b", "w", "v"):
        np.testing.assert_array_equal(model.params[name][0], model.params[name][1])
        assert not np.array_equal(model.params[name][0], model.params[name][2]), name
    assert not model.params["p"][[0, 2]].any() and model.params["p"][1].any()
    np.testing.assert_array_equal(model.params["b"][:, 0, 4:8], 1.0)  # the forget block
    bound = 1 / np.sqrt(4)
    assert all(np.abs(v).max() <= bound for k, v in model.params.items() if k != "b")


def test_models_trained_together_equal_models_trained_alone():
    """Per-model clipping and element-wise Adam: a model's run does not depend on the others."""

    def run(peephole, seeds):
        model = timing.ManyLSTMs(peephole, seeds, hidden_size=3)
        rng = np.random.default_rng(5)
        batches = [timing.timing_batch("generate", 3, 4, 8, rng) for _ in range(6)]

        def batch_fn(step):
            return tuple(np.stack([a] * len(seeds)) for a in batches[step])

        timing.train_many(model, batch_fn, 6, lr=0.05, clip_norm=0.1, progress=False)
        return model

    together = run([False, True, True], [0, 0, 4])
    alone = run([True], [0])
    for name, p in together.params.items():
        np.testing.assert_allclose(p[1], alone.params[name][0], atol=1e-13, err_msg=name)
    assert not np.allclose(together.params["Wx"][0], together.params["Wx"][1])


def test_train_many_lowers_the_loss_on_a_short_delay():
    model = timing.ManyLSTMs([False, True], [0, 0], hidden_size=6)
    rng = np.random.default_rng(0)

    def batch_fn(step):
        return tuple(np.stack([a, a]) for a in timing.timing_batch("generate", 3, 16, 12, rng))

    loss = timing.train_many(model, batch_fn, 300, lr=0.02, progress=False)["loss"]
    assert loss.shape == (300, 2)
    assert (loss[-20:].mean(0) < 0.3 * loss[:20].mean(0)).all()


def test_timing_batch_weights_and_hits():
    x, y, w = timing.timing_batch("measure", 4, 50, 12, np.random.default_rng(0))
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    second = 11 - x[:, ::-1, 0].argmax(axis=1)
    assert all((w[n, : second[n]] == 0).all() and (w[n, second[n] :] > 0).all() for n in range(50))
    assert timing.timing_hits("measure", 4, y, y).all()
    x, y, w = timing.timing_batch("generate", 4, 50, 12, np.random.default_rng(0))
    np.testing.assert_allclose(w, 1 / 12)
    assert timing.timing_hits("generate", 4, y, y).all()
    assert not timing.timing_hits("generate", 4, np.roll(y, 1, axis=1), y).any()
    with pytest.raises(ValueError, match="task must be one of"):
        timing.timing_batch("count", 4, 2, 12, 0)


def test_guessing_does_not_solve_the_timing_task():
    best = timing.guess_cells([("generate", 4)], trials=30, T=12, n_test=50)
    assert set(best) == {("generate", 4, cell) for cell in timing.CELLS}
    assert all(0.0 <= v < 0.5 for v in best.values())


def test_constant_baseline_is_the_share_of_the_most_common_delay():
    """measure: counted by hand from the spikes of the baselines' test sequences; generate: 0."""
    best = timing.constant_baseline([("measure", 4), ("generate", 4)], T=16, n_test=120)
    x, _ = timing.baseline_test_set("measure", 4, 120, 16)
    spikes = [np.flatnonzero(row[:, 0]) for row in x]
    delays = np.array([s[1] - s[0] for s in spikes])
    assert set(delays) <= {4, 5, 6}
    assert best["measure", 4] == pytest.approx(np.bincount(delays).max() / 120)
    assert best["generate", 4] == 0.0


def test_the_experiment_plan_of_notebook_04():
    """Every setting once, at least five seeds, both cells trained on every setting."""
    settings = [s for _, _, group in timing.EXPERIMENT for s in group]
    assert len(settings) == len(set(settings))
    assert {task for task, _ in settings} == set(timing.TIMING_TASKS)
    assert len(timing.SEEDS) >= 5
    assert all(T > d + timing.MEASURE_WIDTH for T, _, g in timing.EXPERIMENT for _, d in g)


def test_the_long_delay_numbers_of_notebook_04():
    """Section 7.2 quotes these solve rates (generate, d = 24, five seeds), with the T, steps
    and number of test sequences of notebook 04's plan."""
    T, steps = next((T, n) for T, n, group in timing.EXPERIMENT if ("generate", 24) in group)
    result = timing.compare_cells(
        [("generate", 24)], timing.SEEDS, T=T, steps=steps, n_test=timing.N_TEST, progress=False
    )
    rates = result["rates"]
    np.testing.assert_allclose(rates["generate", 24, "LSTM"], [1, 1, 0, 1, 1], atol=0.005)
    np.testing.assert_allclose(
        rates["generate", 24, "peephole LSTM"], [0.53, 0, 0, 0, 1], atol=0.005
    )
