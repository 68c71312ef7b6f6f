# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 01 · Vanilla RNNs and vanishing gradients
#
# **Learning objectives.** After this notebook you can
# 1. write the forward pass of a tanh RNN for one step and for a whole sequence;
# 2. derive and implement backpropagation through time (BPTT) by hand;
# 3. measure how the gradient ‖∂h_T/∂h_{T−k}‖ shrinks or grows with k, and say when it must vanish;
# 4. clip gradients by their global norm, and explain why clipping each entry changes the direction.
#
# **Notation** (used in every notebook of the course): N batch size, T time steps, D input size,
# H hidden size. Vectors are rows, so a batch of inputs at step t is a matrix x_t of shape (N, D).

# %%
#| nbgrader: given id=setup
import os

import matplotlib.pyplot as plt
import numpy as np
import torch

# Under nbgrader (validate / autograde) the long experiments are skipped.
FULL_RUN = "NBGRADER_EXECUTION" not in os.environ
torch.set_default_dtype(torch.float64)
np.set_printoptions(precision=4, suppress=True)

# %%
#| nbgrader: given id=test_helpers
#| inline: autograder.feedback
#| inline: solutions.gradients.rel_error
#| inline: solutions.gradients.numerical_gradient

# %% [markdown]
# ## 1. The RNN step
#
# A recurrent network reads a sequence one element at a time and keeps a hidden state h_t that
# summarises what it has read so far. The same weights are used at every step:
#
# $$h_t = \tanh(x_t W_x + h_{t-1} W_h + b)\qquad x_t\in\mathbb{R}^{N\times D},\ h_t\in\mathbb{R}^{N\times H},\ W_x\in\mathbb{R}^{D\times H},\ W_h\in\mathbb{R}^{H\times H},\ b\in\mathbb{R}^{H}$$
#
# (Row-vector convention. Papers write column vectors, h_t = tanh(W_hh h_{t−1} + W_xh x_t + b),
# which is the same map with W_hh = W_hᵀ.)
#
# Implement `rnn_step_forward`. Return the new state and a `cache` holding whatever your backward
# pass will need (any Python object you like).

# %%
#| nbgrader: answer id=rnn_step_forward
#| solution: solutions.rnn.rnn_step_forward

# %%
#| nbgrader: tests id=rnn_step_forward points=2
"""rnn_step_forward matches torch.nn.RNNCell on a small random case."""
_rng = np.random.default_rng(0)
_x, _h_prev = _rng.standard_normal((2, 3)), _rng.standard_normal((2, 4))
_Wx, _Wh, _b = _rng.standard_normal((3, 4)), _rng.standard_normal((4, 4)), _rng.standard_normal(4)
_cell = torch.nn.RNNCell(3, 4)
with torch.no_grad():  # PyTorch stores the transposed weights and two biases
    _cell.weight_ih.copy_(torch.tensor(_Wx.T))
    _cell.weight_hh.copy_(torch.tensor(_Wh.T))
    _cell.bias_ih.copy_(torch.tensor(_b))
    _cell.bias_hh.zero_()
_h, _ = rnn_step_forward(_x, _h_prev, _Wx, _Wh, _b)
expect_shape("h", _h, (2, 4), "h must have one row per example and H columns.")
expect_close(
    "h", _h, _cell(torch.tensor(_x), torch.tensor(_h_prev)).detach().numpy(), atol=1e-10,
    hint="Check: x @ Wx + h_prev @ Wh + b, then tanh of the whole sum.",
)
print("rnn_step_forward passes the visible tests.")

# %% [markdown]
# ## 2. A whole sequence
#
# Run the step over t = 1..T starting from h_0, and collect every hidden state.

# %%
#| nbgrader: answer id=rnn_forward
#| solution: solutions.rnn.rnn_forward

# %%
#| nbgrader: tests id=rnn_forward points=2
"""rnn_forward matches torch.nn.RNN (batch_first) on a small random case."""
_rng = np.random.default_rng(1)
_x, _h0 = _rng.standard_normal((2, 5, 3)), _rng.standard_normal((2, 4))
_Wx, _Wh, _b = _rng.standard_normal((3, 4)), 0.5 * _rng.standard_normal((4, 4)), _rng.standard_normal(4)
_rnn = torch.nn.RNN(3, 4, batch_first=True)
with torch.no_grad():
    _rnn.weight_ih_l0.copy_(torch.tensor(_Wx.T))
    _rnn.weight_hh_l0.copy_(torch.tensor(_Wh.T))
    _rnn.bias_ih_l0.copy_(torch.tensor(_b))
    _rnn.bias_hh_l0.zero_()
_h, _ = rnn_forward(_x, _h0, _Wx, _Wh, _b)
expect_shape("h", _h, (2, 5, 4), "h holds h_1..h_T for every example: (N, T, H).")
_ref = _rnn(torch.tensor(_x), torch.tensor(_h0)[None])[0].detach().numpy()
expect_close("h", _h, _ref, atol=1e-10, hint="Check that each step starts from the previous step's h.")
print("rnn_forward passes the visible tests.")

# %% [markdown]
# ## 3. Backward through one step
#
# With a = x W_x + h_prev W_h + b and h = tanh(a), and dh = ∂L/∂h given from above:
# da = dh ⊙ (1 − h²), dx = da W_xᵀ, dh_prev = da W_hᵀ, dW_x = xᵀ da, dW_h = h_prevᵀ da,
# db = Σ_n da. Return the gradients in the order of the forward's arguments.

# %%
#| nbgrader: answer id=rnn_step_backward
#| solution: solutions.rnn.rnn_step_backward

# %%
#| nbgrader: tests id=rnn_step_backward points=2
"""rnn_step_backward agrees with centred differences of your rnn_step_forward."""
_rng = np.random.default_rng(2)
_args = [_rng.standard_normal(s) for s in [(2, 3), (2, 4), (3, 4), (4, 4), (4,)]]
_h, _cache = rnn_step_forward(*_args)
_dh = _rng.standard_normal(_h.shape)
_grads = rnn_step_backward(_dh, _cache)
assert len(_grads) == 5, "return (dx, dh_prev, dWx, dWh, db): five gradients"
for _name, _arg, _g in zip(["x", "h_prev", "Wx", "Wh", "b"], _args, _grads):
    _num = numerical_gradient(lambda: rnn_step_forward(*_args)[0], _arg, _dh)
    _err = expect_rel_error("d" + _name, _g, _num, tol=1e-7, hint="tanh'(a) = 1 - tanh(a)^2.")
    print(f"d{_name}: relative error {_err:.1e}")
print("rnn_step_backward passes the visible tests.")

# %% [markdown]
# ## 4. Backpropagation through time
#
# The weights are shared across time, so their gradient is the **sum** of the per-step
# gradients. The gradient reaching h_t has two parts: dh[:, t] from above, and what flows back
# from step t+1 through h_t's use there.

# %%
#| nbgrader: answer id=rnn_backward
#| solution: solutions.rnn.rnn_backward

# %%
#| nbgrader: tests id=rnn_backward points=3
"""rnn_backward agrees with centred differences of your rnn_forward."""
_rng = np.random.default_rng(3)
_args = [_rng.standard_normal(s) for s in [(2, 4, 3), (2, 3), (3, 3), (3, 3), (3,)]]
_args[3] *= 0.5
_h, _cache = rnn_forward(*_args)
_dh = _rng.standard_normal(_h.shape)
_grads = rnn_backward(_dh, _cache)
assert len(_grads) == 5, "return (dx, dh0, dWx, dWh, db): five gradients"
for _name, _arg, _g in zip(["x", "h0", "Wx", "Wh", "b"], _args, _grads):
    _num = numerical_gradient(lambda: rnn_forward(*_args)[0], _arg, _dh)
    _err = expect_rel_error(
        "d" + _name, _g, _num, tol=1e-7,
        hint="Carry dh_next backwards and add each step's weight gradients.",
    )
    print(f"d{_name}: relative error {_err:.1e}")
print("rnn_backward passes the visible tests.")

# %% [markdown]
# ## 5. How far back does the gradient reach?
#
# ∂h_T/∂h_{T−k} = J_T J_{T−1} ⋯ J_{T−k+1} with J_t = ∂h_t/∂h_{t−1} = diag(1 − h_t²) W_hᵀ.

# %%
#| nbgrader: answer id=rnn_step_jacobians
#| solution: solutions.gradients.rnn_step_jacobians

# %%
#| nbgrader: tests id=rnn_step_jacobians points=1
"""rnn_step_jacobians matches torch.autograd on one step."""
_rng = np.random.default_rng(4)
_h, _Wh = np.tanh(_rng.standard_normal((1, 2, 3))), _rng.standard_normal((3, 3))
_J = rnn_step_jacobians(_h, _Wh)
expect_shape("J", _J, (1, 2, 3, 3))
# for h_t = tanh(a) with a = ... + h_{t-1} Wh, dh_t/dh_{t-1}[i, j] = (1 - h_t[i]^2) Wh[j, i]
expect_close("J", _J[0, 1], (1 - _h[0, 1] ** 2)[:, None] * _Wh.T, atol=1e-12,
             hint="Row i is output unit i: scale row i of Wh^T by 1 - h_t[i]^2.")
print("rnn_step_jacobians passes the visible tests.")

# %%
#| nbgrader: answer id=jacobian_product_norms
#| solution: solutions.gradients.jacobian_product_norms

# %%
#| nbgrader: tests id=jacobian_product_norms points=2
"""jacobian_product_norms on a hand-made case: constant diagonal Jacobians."""
_J = np.broadcast_to(np.diag([0.5, 0.25]), (1, 4, 2, 2)).copy()
_n = jacobian_product_norms(_J)
expect_shape("norms", _n, (1, 5), "one norm for each k = 0..T.")
expect_close("norms", _n, [[1, 0.5, 0.25, 0.125, 0.0625]], atol=1e-12,
             hint="k = 0 is the identity; each further k multiplies by one more Jacobian.")
print("jacobian_product_norms passes the visible tests.")

# %% [markdown]
# ## 6. Clipping by global norm

# %%
#| nbgrader: answer id=clip_by_global_norm
#| solution: solutions.gradients.clip_by_global_norm

# %%
#| nbgrader: tests id=clip_by_global_norm points=2
"""clip_by_global_norm on hand-computed cases."""
_g = [np.array([3.0, 0.0]), np.array([[0.0, 4.0]])]  # global norm 5
_c, _total = clip_by_global_norm(_g, 1.0)
assert abs(_total - 5.0) < 1e-12, f"the global norm of (3, 0) and (0, 4) is 5, got {_total}"
expect_close("clipped[0]", _c[0], [0.6, 0.0], atol=1e-12, hint="scale every array by max_norm / total.")
expect_close("clipped[1]", _c[1], [[0.0, 0.8]], atol=1e-12)
_c, _ = clip_by_global_norm(_g, 10.0)
expect_close("unclipped", _c[0], [3.0, 0.0], atol=0, hint="below max_norm nothing changes.")
print("clip_by_global_norm passes the visible tests.")

# %% [markdown]
# ## 7. Written question
#
# Why does clipping each entry to [−c, c] change the direction of the gradient, while clipping
# by the global norm does not?

# %% [markdown]
# #| nbgrader: written id=q_clipping points=2
# ### BEGIN SOLUTION
# **Model answer.** Global-norm clipping multiplies every entry by the same factor, so the
# gradient keeps its direction. Value clipping cuts only the large entries, so their share shrinks.
#
# **Rubric (2 points).** 1 point: same factor for all entries. 1 point: value clipping changes
# the ratios between entries.
# ### END SOLUTION
