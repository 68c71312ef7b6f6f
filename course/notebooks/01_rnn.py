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
# 3. measure how the gradient $\|\partial h_T/\partial h_{T-k}\|$ shrinks or grows with $k$, and
#    say when it must vanish;
# 4. clip gradients by their global norm, and explain why clipping each entry changes the
#    direction.
#
# **How to work through it.** Read each section, fill in the answer cell (replace
# `raise NotImplementedError()`), then run the test cell under it: it checks your function on a
# small case and, when something is off, says which quantity is wrong and what to look at. The
# experiments in section 8 run *your* functions, so they work once the tests of sections 2–7 pass.
# One rule for every exercise: never change the arrays you are given in place (no `+=` or
# `[...] =` on an argument); compute new arrays. The graders check it. Your own local arrays
# (an accumulator you created with `np.zeros`, say) are yours to update with `+=`.
# The whole notebook runs in well under a minute on a laptop.
#
# **Notation** (the same in every notebook of the course): $N$ batch size, $T$ time steps, $D$
# input size, $H$ hidden size. Vectors are **rows**: a batch of inputs at step $t$ is a matrix
# $x_t$ of shape $(N, D)$, and a matrix multiplies from the right, $x_t W_x$. The names in the
# equations are the names in the code: $W_x$ is `Wx`, $W_h$ is `Wh`, $h_{t-1}$ is `h_prev`.

# %%
#| nbgrader: given id=setup
import os
from collections.abc import Callable, Sequence  # used by the type hints of the test helpers

import matplotlib.pyplot as plt
import numpy as np
import torch

# Under nbgrader (validate / autograde) the long experiments are skipped.
FULL_RUN = "NBGRADER_EXECUTION" not in os.environ
torch.set_default_dtype(torch.float64)
# The matrices here are tiny: one thread is faster than several that wait for each other.
torch.set_num_threads(1)
np.set_printoptions(precision=4, suppress=True)

# %%
#| nbgrader: given id=test_helpers
#| inline: autograder.asserts
#| inline: autograder.inside.inplace
#| inline: solutions.gradients.rel_error
#| inline: solutions.gradients.numerical_gradient
#| inline: solutions.gradients.backward_agrees

# %% [markdown]
# ## 1. Why a sequence model needs memory
#
# Many inputs arrive as sequences, and the right output at one position often depends on
# something seen much earlier:
#
# * **Agreement in language.** In "The *letters* that my grandmother kept in the drawer of her old
#   desk *were* ...", the verb is plural because of a noun nine words back; the nouns in between
#   ("grandmother", "drawer", "desk") are all singular and must not win.
# * **Brackets in code.** Whether `)` may appear now depends on how many `(` are still open, and
#   they may have been opened hundreds of characters ago.
# * **Signals.** A vibration reading from a machine means one thing if the machine was switched on
#   a second ago and another if it has been running for an hour.
#
# A feed-forward network that looks at a fixed window of the last $w$ inputs cannot see past the
# window, and its number of weights grows with $w$. A **recurrent** network instead keeps a
# fixed-size vector, the hidden state $h_t$, and updates it once per input. Whatever it must
# remember has to be written into $h_t$ and survive every later update. This notebook builds the
# simplest such network and then measures how badly the "survive every later update" part goes.

# %% [markdown]
# ## 2. The RNN step
#
# At step $t$ the network combines the new input with the previous state and squashes the sum
# with tanh (row vectors; shapes on the right):
#
# $$h_t = \tanh\left(x_t W_x + h_{t-1} W_h + b\right)\qquad
# x_t \in \mathbb{R}^{N\times D},\ h_{t-1}, h_t \in \mathbb{R}^{N\times H},\
# W_x \in \mathbb{R}^{D\times H},\ W_h \in \mathbb{R}^{H\times H},\ b \in \mathbb{R}^{H}.$$
#
# ![One RNN step: h_prev times Wh plus x_t times Wx plus b goes through tanh and gives h_t](attachment:rnn_cell.png)
#
# The bias $b$ has shape $(H,)$ and is broadcast over the $N$ rows. We call the argument of the
# tanh the pre-activation, $a_t = x_t W_x + h_{t-1} W_h + b$.
#
# **Other notations for the same map.** Papers and PyTorch use column vectors and put the matrix
# on the left: $h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b)$. This is our step with
# $W_{hh} = W_h^\top$ and $W_{xh} = W_x^\top$. The same quantities under the names you will meet
# elsewhere:
#
# | | this course (code) | Ng's course | CS224n | colah's blog | `torch.nn.RNN` |
# |---|---|---|---|---|---|
# | hidden state | `h` $(N, H)$ | $a^{\langle t \rangle}$ | $h^{(t)}$ | $h_t$ | `h_t` |
# | input weights | `Wx` $(D, H)$ | $W_{ax}$, part of $W_a$ | $U$ | part of $W$ | `weight_ih_l0` $= W_x^\top$ $(H, D)$ |
# | recurrent weights | `Wh` $(H, H)$ | $W_{aa}$, part of $W_a$ | $W$ | part of $W$ | `weight_hh_l0` $= W_h^\top$ $(H, H)$ |
# | bias | `b` $(H,)$ | $b_a$ | $b$ | $b$ | `bias_ih_l0 + bias_hh_l0` (two vectors, only their sum matters) |
#
# **Your task.** Implement `rnn_step_forward(x, h_prev, Wx, Wh, b)`.
# * Inputs: `x` $(N, D)$, `h_prev` $(N, H)$, `Wx` $(D, H)$, `Wh` $(H, H)$, `b` $(H,)$.
# * Return a pair `(h, cache)`: `h` is the new state, a numpy array of shape $(N, H)$; `cache` is
#   anything your `rnn_step_backward` (section 4) will need later. The docstring suggests a dict,
#   but any Python object works: the tests never look inside it. Keeping `h` in it saves work,
#   because the derivative of tanh can be written with $h$ itself.
# * One line of numpy does it; no loop over the batch.

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
_out = rnn_step_forward(_x, _h_prev, _Wx, _Wh, _b)
assert isinstance(_out, tuple | list) and len(_out) == 2, (
    "rnn_step_forward must return a pair (h, cache); got "
    + (
        f"a single array of shape {_out.shape}"
        if isinstance(_out, np.ndarray)
        else type(_out).__name__
    )
    + "."
)
_h, _ = _out
expect_shape("h", _h, (2, 4), "h has one row per example (N) and one column per hidden unit (H).")
expect_close(
    "h",
    _h,
    _cell(torch.tensor(_x), torch.tensor(_h_prev)).detach().numpy(),
    atol=1e-10,
    hint="Compute x @ Wx + h_prev @ Wh + b first, then take tanh of the whole sum "
    "(Wx and Wh multiply from the right: no transposes are needed).",
)
print("rnn_step_forward passes the visible tests.")

# %% [markdown]
# ## 3. A whole sequence: unrolling in time
#
# To read a sequence $x_1, \dots, x_T$ we start from an initial state $h_0$ and apply the step $T$
# times. Drawn out step by step ("unrolled"), the RNN looks like a deep feed-forward network with
# one layer per time step, except that **every layer has the same weights** $W_x, W_h, b$:
#
# ![The RNN unrolled over time with the same weights in every cell and the gradient flowing back through the Jacobians J_t](attachment:rnn_unrolled.png)
#
# Sharing the weights across time has two consequences. The number of parameters does not depend
# on $T$, so one network handles sequences of any length, and it applies the same rule at every
# position, much as a convolution applies the same filter at every pixel. And, as section 5
# shows, the gradient of a shared weight collects a contribution from every step it was used in.
#
# **Your task.** Implement `rnn_forward(x, h0, Wx, Wh, b)` by calling your `rnn_step_forward` in
# a loop over $t$.
# * Inputs: `x` $(N, T, D)$ (batch first: `x[:, t]` is the input at one step), `h0` $(N, H)$,
#   and the weights as before.
# * Return a pair `(h, cache)`: `h` of shape $(N, T, H)$ holds $h_1, \dots, h_T$, so `h[:, t]`
#   is the state *after* reading `x[:, t]` and $h_0$ is **not** included. The cache is again
#   yours to choose (a list of the step caches, or a dict as in the docstring: anything works).

# %%
#| nbgrader: answer id=rnn_forward
#| solution: solutions.rnn.rnn_forward

# %%
#| nbgrader: tests id=rnn_forward points=2
"""rnn_forward matches torch.nn.RNN (batch_first) on a small random case."""
_rng = np.random.default_rng(1)
_x, _h0 = _rng.standard_normal((2, 5, 3)), _rng.standard_normal((2, 4))
_Wx, _Wh, _b = (
    _rng.standard_normal((3, 4)),
    0.5 * _rng.standard_normal((4, 4)),
    _rng.standard_normal(4),
)
_rnn = torch.nn.RNN(3, 4, batch_first=True)
with torch.no_grad():
    _rnn.weight_ih_l0.copy_(torch.tensor(_Wx.T))
    _rnn.weight_hh_l0.copy_(torch.tensor(_Wh.T))
    _rnn.bias_ih_l0.copy_(torch.tensor(_b))
    _rnn.bias_hh_l0.zero_()
# rnn_forward calls your rnn_step_forward: that one must be right first.
_step = rnn_step_forward(_x[:, 0], _h0, _Wx, _Wh, _b)[0]
if not np.allclose(_step, np.tanh(_x[:, 0] @ _Wx + _h0 @ _Wh + _b), atol=1e-12):
    raise AssertionError(
        "rnn_step_forward does not pass its own test yet, and rnn_forward is built on it: fix "
        "rnn_step_forward first."
    )
_out = rnn_forward(_x, _h0, _Wx, _Wh, _b)
assert isinstance(_out, tuple | list) and len(_out) == 2, (
    "rnn_forward must return a pair (h, cache)."
)
_h, _ = _out
expect_shape(
    "h",
    _h,
    (2, 5, 4),
    "h holds h_1..h_T for every example, shape (N, T, H); leave h0 out.",
)
_ref = _rnn(torch.tensor(_x), torch.tensor(_h0)[None])[0].detach().numpy()
expect_close(
    "h",
    _h,
    _ref,
    atol=1e-10,
    hint="Each step must start from the state the previous step returned (h0 for the first), "
    "and h[:, t] must be the state after reading x[:, t].",
)
print("rnn_forward passes the visible tests.")

# %% [markdown]
# ## 4. Backward through one step
#
# Suppose a loss $L$ depends on $h$ and we are handed its gradient $dh = \partial L/\partial h$,
# of shape $(N, H)$. (Throughout, $d\square$ means "$\partial L/\partial\square$, with the shape
# of $\square$".) Write the step as $a = x W_x + h_{\text{prev}} W_h + b$ and $h = \tanh(a)$.
#
# **Derive it yourself first.** On paper, find $da = \partial L/\partial a$, then $dx$,
# $dh_{\text{prev}}$, $dW_x$, $dW_h$ and $db$, each with its shape. Two facts are enough: the
# derivative of tanh can be written with its output, $\tanh'(a) = 1 - \tanh^2(a)$; and for a
# product $Y = XW$ with row vectors, $dX = dY\,W^\top$ and $dW = X^\top dY$ (if you forget which
# side the transpose goes on, check the shapes: only one arrangement fits). Then ask yourself
# why $db$ has shape $(H,)$ although $da$ has $N$ rows. Open the hint to check, or when stuck.
#
# <details><summary>Hint (open it only when stuck): the derivation</summary>
#
# Since $\tanh'(a) = 1 - \tanh^2(a) = 1 - h^2$, element by element:
#
# $$da = dh \odot (1 - h^2) \qquad (N, H)$$
#
# The rest follows from one rule for a product $Y = XW$ with row vectors: $dX = dY\,W^\top$ and
# $dW = X^\top dY$. (If you forget which side the transpose goes on, check the shapes: only one
# arrangement fits.) So
#
# $$dx = da\, W_x^\top\ (N, D),\quad dh_{\text{prev}} = da\, W_h^\top\ (N, H),\quad
# dW_x = x^\top da\ (D, H),\quad dW_h = h_{\text{prev}}^\top da\ (H, H),\quad
# db = \textstyle\sum_{n} da_{n,:}\ (H,).$$
#
# The bias gradient is a sum over the batch because the same $b$ was added to every row.
#
# </details>
#
# **Your task.** Implement `rnn_step_backward(dh, cache)`.
# * Inputs: `dh` $(N, H)$ and the cache your `rnn_step_forward` returned.
# * Return a tuple of **five** gradients, one per argument of the forward and in the same order:
#   `(dx, dh_prev, dWx, dWh, db)` with shapes $(N, D)$, $(N, H)$, $(D, H)$, $(H, H)$, $(H,)$.
#
# The test compares each gradient with centred differences of your own `rnn_step_forward`,
# $\big(f(\theta+\varepsilon) - f(\theta-\varepsilon)\big)/2\varepsilon$ one entry at a time, so
# it first checks that your forward pass is right. Expect relative errors below about $10^{-8}$.

# %%
#| nbgrader: answer id=rnn_step_backward
#| solution: solutions.rnn.rnn_step_backward

# %%
#| nbgrader: tests id=rnn_step_backward points=2
"""rnn_step_backward agrees with centred differences of your rnn_step_forward."""
_rng = np.random.default_rng(2)
_args = [_rng.standard_normal(s) for s in [(2, 3), (2, 4), (3, 4), (4, 4), (4,)]]
_h, _cache = rnn_step_forward(*_args)
# This test differentiates YOUR forward pass: it must be right first.
if not np.allclose(_h, np.tanh(_args[0] @ _args[2] + _args[1] @ _args[3] + _args[4]), atol=1e-12):
    raise AssertionError(
        "rnn_step_forward does not compute tanh(x @ Wx + h_prev @ Wh + b), and this test compares "
        "your backward with centred differences of your forward: fix rnn_step_forward first."
    )
_dh = _rng.standard_normal(_h.shape)
_dh_before = snapshot(_dh)
_grads = rnn_step_backward(_dh, _cache)
expect_unchanged("rnn_step_backward", ["dh"], [_dh_before], [_dh])
assert isinstance(_grads, tuple | list) and len(_grads) == 5, (
    "rnn_step_backward must return five gradients (dx, dh_prev, dWx, dWh, db), one per "
    f"argument of rnn_step_forward; got {len(_grads) if hasattr(_grads, '__len__') else _grads!r}."
)
_hints = {
    "x": "dx = da @ Wx.T, where da is the gradient of the pre-activation: dh through the "
    "slope of tanh, written with the h of the forward pass.",
    "h_prev": "dh_prev = da @ Wh.T (the transpose of Wh, from the right).",
    "Wx": "dWx = x.T @ da: the input of the product, transposed, times da.",
    "Wh": "dWh pairs da with h_prev (the input of the product), not with the new h.",
    "b": "db sums da over the batch (axis 0), giving shape (H,).",
}
for _name, _arg, _g in zip(["x", "h_prev", "Wx", "Wh", "b"], _args, _grads):
    _num = numerical_gradient(lambda: rnn_step_forward(*_args)[0], _arg, _dh)
    _err = expect_rel_error("d" + _name, _g, _num, tol=1e-7, hint=_hints[_name])
    print(f"d{_name}: relative error {_err:.1e}")
print("rnn_step_backward passes the visible tests.")

# %% [markdown]
# ## 5. Backpropagation through time (BPTT)
#
# BPTT is ordinary backpropagation applied to the unrolled network of section 3. Two things make
# it different from backpropagation through a stack of distinct layers.
#
# **The state gradient has two sources.** $h_t$ is used twice: by whatever reads it from above (a
# readout and its loss $L_t$; this part arrives as `dh[:, t]`), and by step $t+1$, which turns it
# into $h_{t+1}$. So the total gradient reaching $h_t$ is the sum
#
# $$\frac{\partial L}{\partial h_t} = \underbrace{dh_{[:,t]}}_{\text{from above}}
# + \underbrace{\frac{\partial L}{\partial h_{t+1}}\, J_{t+1}}_{\text{from step }t+1},
# \qquad J_{t+1} = \frac{\partial h_{t+1}}{\partial h_t},$$
#
# and the second term is exactly the `dh_prev` that the backward pass of step $t+1$ returns. We
# therefore walk backwards from $t = T$ to $t = 1$, carrying that term (call it `dh_next`; it is
# zero at $t = T$).
#
# **Weight gradients are sums over time.** $W_h$ was used at every step, so the loss depends on
# it through $T$ paths, and the chain rule adds them up (row vectors):
#
# $$\frac{\partial L}{\partial W_h} = \sum_{t=1}^{T} h_{t-1}^\top\, da_t,\qquad
# \frac{\partial L}{\partial W_x} = \sum_{t=1}^{T} x_t^\top\, da_t,\qquad
# \frac{\partial L}{\partial b} = \sum_{t=1}^{T}\sum_n (da_t)_{n,:}$$
#
# where $da_t$ is the pre-activation gradient of step $t$. Each term is what your
# `rnn_step_backward` returns for that step.
#
# **Your task.** Implement `rnn_backward(dh, cache)`.
# * Inputs: `dh` $(N, T, H)$, the gradients from above for every $h_t$ (they do **not** include
#   the part flowing back through time: that is your job), and the cache of your `rnn_forward`.
# * Return five gradients `(dx, dh0, dWx, dWh, db)` with shapes $(N, T, D)$, $(N, H)$, $(D, H)$,
#   $(H, H)$, $(H,)$. `dh0` is what flows out of the first step, towards $h_0$.
# * The sizes $N, T, H$ can be read from `dh.shape`; $D$ from anything you stored in the cache.

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
# This test differentiates YOUR forward pass: it must be right first.
_ref, _h_t = [], _args[1]
for _t in range(_args[0].shape[1]):
    _h_t = np.tanh(_args[0][:, _t] @ _args[2] + _h_t @ _args[3] + _args[4])
    _ref.append(_h_t)
if np.shape(_h) != (2, 4, 3) or not np.allclose(_h, np.stack(_ref, axis=1), atol=1e-12):
    raise AssertionError(
        "rnn_forward does not give the states h_1..h_T, and this test compares your backward "
        "with centred differences of your forward: fix rnn_forward first."
    )
# rnn_backward calls your rnn_step_backward: that one must be right first.
_rng_step = np.random.default_rng(13)
_sargs = [_rng_step.standard_normal(s) for s in [(1, 2), (1, 3), (2, 3), (3, 3), (3,)]]
_sdouts = [_rng_step.standard_normal(s) for s in [(1, 3)]]
if not backward_agrees(rnn_step_forward, rnn_step_backward, _sargs, _sdouts):
    raise AssertionError(
        "rnn_step_backward does not pass its own test yet, and rnn_backward is built on it: fix "
        "rnn_step_backward first."
    )
_dh = _rng.standard_normal(_h.shape)
_dh_before = snapshot(_dh)
_grads = rnn_backward(_dh, _cache)
expect_unchanged(
    "rnn_backward",
    ["dh"],
    [_dh_before],
    [_dh],
    hint="For example dh[:, t] += dh_next does this; add into a new array: g = dh[:, t] + dh_next.",
)
assert isinstance(_grads, tuple | list) and len(_grads) == 5, (
    "rnn_backward must return five gradients (dx, dh0, dWx, dWh, db), one per argument of "
    "rnn_forward."
)
_hints = {
    "x": "Step t's backward takes dh[:, t] + dh_next (what flowed back from step t+1); "
    "its dx goes into dx[:, t].",
    "h0": "dh0 is the dh_prev returned by the backward of the first step, after the loop.",
    "Wx": "The weights are shared: add (+=) every step's dWx, do not keep only the last one.",
    "Wh": "Add every step's dWh, and make sure each step's cache holds the hidden state that "
    "step started from (h0 for the first step).",
    "b": "Add every step's db; each is already summed over the batch.",
}
for _name, _arg, _g in zip(["x", "h0", "Wx", "Wh", "b"], _args, _grads):
    _num = numerical_gradient(lambda: rnn_forward(*_args)[0], _arg, _dh)
    _err = expect_rel_error("d" + _name, _g, _num, tol=1e-7, hint=_hints[_name])
    print(f"d{_name}: relative error {_err:.1e}")
print("rnn_backward passes the visible tests.")

# %% [markdown]
# ## 6. How far back does the gradient reach?
#
# Unroll the recursion of section 5. What a loss at the last step tells the state $k$ steps
# earlier is carried by a product of $k$ Jacobians (row vectors, $\partial L/\partial h$ is a row):
#
# $$\frac{\partial L}{\partial h_{T-k}} = \frac{\partial L}{\partial h_T}\,
# \frac{\partial h_T}{\partial h_{T-k}},\qquad
# \frac{\partial h_T}{\partial h_{T-k}} = J_T\, J_{T-1} \cdots J_{T-k+1},\qquad
# J_t = \frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(1 - h_t^2)\, W_h^\top .$$
#
# Entry $(i, j)$ of $J_t$ is $\partial h_{t,i}/\partial h_{t-1,j} = (1 - h_{t,i}^2)\,(W_h)_{j,i}$:
# row $i$ belongs to output unit $i$, hence the transpose. (In the column-vector papers the same
# matrix reads $\operatorname{diag}(1-h_t^2)\, W_{hh}$, because $W_{hh} = W_h^\top$.)
#
# **The singular-value condition.** The spectral norm of a product is at most the product of the
# norms, $|\tanh'| \le 1$, and $W_h^\top$ has the same singular values as $W_h$. So
#
# $$\|J_t\|_2 \le \|\operatorname{diag}(1 - h_t^2)\|_2\, \|W_h\|_2 \le \gamma\,
# \sigma_{\max}(W_h),\qquad
# \left\|\frac{\partial h_T}{\partial h_{T-k}}\right\|_2 \le \big(\gamma\,\sigma_{\max}(W_h)\big)^k ,$$
#
# with $\gamma = \max|\tanh'| = 1$ (for a sigmoid unit $\gamma = 1/4$). If the largest singular
# value $\sigma_{\max}(W_h)$ is below $1/\gamma$, the gradient from $k$ steps back shrinks at
# least geometrically in $k$, **for every input sequence**, for as long as $W_h$ satisfies the
# condition (Bengio, Simard & Frasconi 1994; Pascanu, Mikolov & Bengio 2013).
#
# Nothing as strong holds the other way round. $\sigma_{\max}(W_h) > 1$ is needed for the
# gradient to explode, but it is not enough: when units saturate, $1 - h_t^2$ is close to zero and the product can
# still vanish. People often quote the spectral radius $\rho(W_h) = \max|\lambda_i(W_h)|$
# instead; it is never larger than $\sigma_{\max}$, equal to it for a scaled orthogonal matrix,
# and about half of it for a random Gaussian matrix (the one in section 8 has
# $\sigma_{\max} \approx 2\rho$). Section 8 measures all of this.
#
# Why vanishing matters for learning: by section 5, $\partial L/\partial W_h$ is a sum over time.
# The terms that link a loss to an input $k$ steps before it carry one of these products, so for
# large $k$ they are tiny next to the terms from recent steps. Training then follows the
# short-range terms and barely sees the long-range ones: the network does not learn long
# dependencies, even though it could represent them.
#
# **Your task (two functions).**
#
# `rnn_step_jacobians(h, Wh)`: `h` is the $(N, T, H)$ output of `rnn_forward` (so `h[:, t]` is
# $h_{t+1}$ in the 1-based maths), `Wh` is $(H, H)$. Return `J` of shape $(N, T, H, H)$ with
# `J[n, t] = diag(1 - h[n, t]**2) @ Wh.T`, the Jacobian of the step that *produced* `h[:, t]`.
# Broadcasting does it without a loop: scaling row $i$ of `Wh.T` by $1 - h_i^2$ is the same as
# multiplying by the diagonal matrix.
#
# `jacobian_product_norms(J, ord=2)`: `J` is $(N, T, H, H)$ as above. Return `norms` of shape
# $(N, T + 1)$ with `norms[:, 0]` the norm of the identity (it is 1 for the spectral norm) and
# `norms[:, k]` the norm of `J[:, T-1] @ J[:, T-2] @ ... @ J[:, T-k]`, that is
# $\|J_T J_{T-1}\cdots J_{T-k+1}\|$. Build the product one factor at a time, multiplying the new
# factor on the **right**, and take `np.linalg.norm(P, ord=ord, axis=(1, 2))` of the $(N, H, H)$
# stack. The order matters: $\|AB\|$ and $\|BA\|$ differ in general.

# %%
#| nbgrader: answer id=rnn_step_jacobians
#| solution: solutions.gradients.rnn_step_jacobians

# %%
#| nbgrader: tests id=rnn_step_jacobians points=1
"""rnn_step_jacobians on one small case, checked entry by entry against the formula."""
_rng = np.random.default_rng(4)
_h, _Wh = np.tanh(_rng.standard_normal((1, 2, 3))), _rng.standard_normal((3, 3))
_J = rnn_step_jacobians(_h, _Wh)
expect_shape("J", _J, (1, 2, 3, 3), "one (H, H) Jacobian per example and per step: (N, T, H, H).")
# for h_t = tanh(a) with a = ... + h_{t-1} Wh, dh_t/dh_{t-1}[i, j] = (1 - h_t[i]^2) Wh[j, i]
_expected = np.stack([(1 - _h[0, t] ** 2)[:, None] * _Wh.T for t in range(2)])[None]
if np.allclose(_J, _expected.swapaxes(-1, -2), atol=1e-12):
    raise AssertionError(
        "J is the transpose of the expected Jacobian: J[n, t] is diag(1 - h[n, t]**2) @ Wh.T, "
        "so row i (output unit i) is column i of Wh scaled by 1 - h[n, t, i]**2."
    )
expect_close(
    "J",
    _J,
    _expected,
    atol=1e-12,
    hint="J[n, t] = diag(1 - h[n, t]**2) @ Wh.T: scale row i of Wh.T by 1 - h[n, t, i]**2, "
    "using the h of the same step t.",
)
print("rnn_step_jacobians passes the visible tests.")

# %%
#| nbgrader: answer id=jacobian_product_norms
#| solution: solutions.gradients.jacobian_product_norms

# %%
#| nbgrader: tests id=jacobian_product_norms points=2
"""jacobian_product_norms on hand-made cases: constant diagonal Jacobians, then the order."""
_J = np.broadcast_to(np.diag([0.5, 0.25]), (1, 4, 2, 2)).copy()
_n = jacobian_product_norms(_J)
expect_shape("norms", _n, (1, 5), "one norm for each k = 0..T, so (N, T + 1).")
expect_close(
    "norms",
    _n,
    [[1, 0.5, 0.25, 0.125, 0.0625]],
    atol=1e-12,
    hint="k = 0 is the identity (norm 1); each further k multiplies by one more Jacobian.",
)
# Two steps: J_1 = [[0, 1], [0, 0]] and J_2 = diag(2, 0). By hand: ||J_2|| = 2,
# J_2 J_1 = [[0, 2], [0, 0]] has norm 2, but J_1 J_2 = 0 and J_1 alone has norm 1.
_J = np.array([[[[0.0, 1.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 0.0]]]])
expect_close(
    "norms (order test)",
    jacobian_product_norms(_J),
    [[1.0, 2.0, 2.0]],
    atol=1e-12,
    hint="k = 1 is the LAST Jacobian J[:, T-1]; then multiply each earlier one on the right: "
    "P = P @ J[:, T-k].",
)
print("jacobian_product_norms passes the visible tests.")

# %% [markdown]
# ## 7. Clipping the gradient
#
# When the products of section 6 grow instead, one unlucky batch can produce a gradient a
# million times larger than usual, and a single step of gradient descent throws the weights far
# away from where training was going. Pascanu et al. (2013) describe the loss surface of an RNN
# as having steep "cliffs" where this happens. The standard guard is to **clip by the global
# norm**: treat the gradients of all parameters as one long vector $g$ and, if it is too long,
# shrink it:
#
# $$\|g\| = \sqrt{\textstyle\sum_{\text{arrays}}\sum_{\text{entries}} g_i^2},\qquad
# g \leftarrow g \cdot \frac{c}{\|g\|}\ \text{ if } \|g\| > c .$$
#
# Every entry is multiplied by the same number, so the clipped gradient points the same way as
# the true one; only the step is shorter. The alternative you will also find in code,
# **clipping each entry** to $[-c, c]$, is a different operation: it shortens the large entries
# and leaves the small ones alone, so the vector turns.
#
# ![A 2-D gradient g, its global-norm clipped version along g and its value-clipped version turned towards the corner of the square](attachment:clipping.png)
#
# **Your task.** Implement `clip_by_global_norm(grads, max_norm)`.
# * Inputs: `grads`, a list of numpy arrays of any shapes (one per parameter), and `max_norm`
#   $> 0$.
# * Return a pair `(clipped, total)`: `clipped` is a **new** list of arrays with the same shapes
#   (do not change the arrays you were given), and `total` is the global norm *before*
#   clipping, as a Python float.
# * When `total <= max_norm`, return the gradients unchanged (as copies or the same values).
#   All-zero gradients (total 0) must come back as zeros: make sure nothing divides by zero.

# %%
#| nbgrader: answer id=clip_by_global_norm
#| solution: solutions.gradients.clip_by_global_norm

# %%
#| nbgrader: tests id=clip_by_global_norm points=2
"""clip_by_global_norm on hand-computed cases."""
_g = [np.array([3.0, 0.0]), np.array([[0.0, 4.0]])]  # global norm 5
_g_before = snapshot(_g)
_c, _total = clip_by_global_norm(_g, 1.0)
expect_unchanged("clip_by_global_norm", ["grads"], [_g_before], [_g])
assert abs(_total - 5.0) < 1e-12, (
    f"the global norm of (3, 0) and (0, 4) taken together is 5, got {_total}: add the squares of "
    "all entries of all arrays, then take one square root."
)
expect_close(
    "clipped[0]",
    _c[0],
    [0.6, 0.0],
    atol=1e-12,
    hint="Scale every array by the same factor max_norm / total.",
)
expect_close(
    "clipped[1]",
    _c[1],
    [[0.0, 0.8]],
    atol=1e-12,
    hint="Scale every array, keeping its shape, by max_norm / total.",
)
_c, _ = clip_by_global_norm(_g, 10.0)
expect_close(
    "unclipped",
    _c[0],
    [3.0, 0.0],
    atol=0,
    hint="When the global norm is below max_norm nothing may change.",
)
print("clip_by_global_norm passes the visible tests.")

# %% [markdown]
# ## 8. Experiments
#
# Everything below runs **your** functions from sections 2–7 (and PyTorch for the training
# runs). The long parts sit inside `if FULL_RUN:` so that nbgrader skips them when it grades.

# %% [markdown]
# ### Course helpers (given, not an exercise)
#
# The experiments use a few tools that are not part of the lesson: `adding_problem` makes
# batches of the adding problem of 8.4 (and `ADDING_BASELINE_MSE` is its constant-predictor
# score), `SequenceModel` puts a linear readout on top of any recurrent module, and `train` runs
# Adam with global-norm clipping and a progress bar. They contain no answer to an exercise: the
# recurrent layers they train are PyTorch's `torch.nn.RNN` here. Run the cell below; its code is
# folded away (click the bar to its left, or the three dots, to read it).

# %%
#| nbgrader: given id=course_helpers
#| collapse: source
# Course helpers (given, not an exercise): task generators and a training loop for the
# experiments. Copied from the course's code when the notebook is built; no need to edit.
#| inline: solutions.tasks._rng
#| inline: solutions.tasks._int_at_least
#| inline: solutions.tasks._n_examples
#| inline: solutions.tasks.ADDING_BASELINE_MSE
#| inline: solutions.tasks.adding_problem
#| inline: solutions.train.OPTIMIZERS
#| inline: solutions.train.SequenceModel
#| inline: solutions.train._as_tensor
#| inline: solutions.train.train
#| inline: solutions.seeds.CELLS
#| inline: solutions.seeds._mse_per_copy
#| inline: solutions.seeds._cross_entropy_per_copy
#| inline: solutions.seeds.LOSSES
#| inline: solutions.seeds.StackedSeeds
#| inline: solutions.seeds.train_seeds
#| inline: solutions.seeds.mse_per_seed
#| inline: solutions.seeds.train_and_test
#| inline: solutions.seeds.median_and_range

# %% [markdown]
# ### 8.1 Gradient norms over time
#
# We build one random $64\times 64$ matrix $M$ with entries drawn from $\mathcal{N}(0, 1/H)$ and
# rescale it to each spectral radius $\rho \in \{0.5, 0.9, 1, 1.5, 3\}$: $W_h = \rho\, M /
# \rho(M)$. Using the *same* $M$ for every $\rho$ means the curves differ only in scale, not in
# the luck of the draw (comparing two different random initialisations would mix the two
# effects). A batch of $N = 8$ random input sequences ($D = 8$, $T = 60$, $x_t \sim
# \mathcal{N}(0, 1)$, $W_x$ with entries from $\mathcal{N}(0, 1/D)$, $b = 0$, $h_0 = 0$) drives
# the network; your `rnn_forward`, `rnn_step_jacobians` and `jacobian_product_norms` give
# $\|\partial h_T/\partial h_{T-k}\|_2$ for every $k$, and we plot the geometric mean over the
# batch. Dashed lines show the bound $\sigma_{\max}(W_h)^k$ of section 6.
#
# The right panel repeats the experiment with a scaled random **orthogonal** matrix, whose
# singular values all equal $\rho$, so there $\sigma_{\max} = \rho$ and the bound is $\rho^k$.

# %%
H_EXP, T_EXP, D_EXP, N_EXP = 64, 60, 8, 8  # hidden size, length, input size, batch
RHOS = (0.5, 0.9, 1.0, 1.5, 3.0)
K_REPORT = 50  # the k whose values are printed


def recurrent_matrix(rho, H=H_EXP, kind="gaussian", seed=0):
    """An (H, H) matrix with spectral radius rho: Gaussian N(0, 1/H) or orthogonal, rescaled."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((H, H)) / np.sqrt(H)
    if kind == "orthogonal":
        M, _ = np.linalg.qr(M)
    return rho * M / np.max(np.abs(np.linalg.eigvals(M)))


def gradient_norms(Wh, input_scale=1.0, seed=1):
    """Geometric mean over a batch of ||dh_T/dh_{T-k}||_2 for k = 0..T, from your functions."""
    rng = np.random.default_rng(seed)
    Wx = rng.standard_normal((D_EXP, H_EXP)) / np.sqrt(D_EXP)
    x = input_scale * rng.standard_normal((N_EXP, T_EXP, D_EXP))
    h, _ = rnn_forward(x, np.zeros((N_EXP, H_EXP)), Wx, Wh, np.zeros(H_EXP))
    norms = jacobian_product_norms(rnn_step_jacobians(h, Wh))  # (N, T + 1)
    return np.exp(np.log(np.maximum(norms, 1e-300)).mean(axis=0))  # (T + 1,)


def plot_gradient_norms(ax, curves, title):
    """curves: list of (label, sigma_max, norms); draws measured norms and sigma_max^k bounds."""
    k = np.arange(T_EXP + 1)
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, len(curves)))
    for (label, sigma, norms), color in zip(curves, colors):
        ax.semilogy(k, norms, color=color, lw=2, label=label)
        ax.semilogy(k, sigma**k, color=color, lw=1, ls="--")
    ax.axvline(K_REPORT, color="0.6", lw=0.8, ls=":")
    ax.set_ylim(1e-30, 1e12)
    ax.set_xlim(0, T_EXP)
    ax.set_xlabel("k (steps back from T)")
    ax.set_title(title, fontsize=11)
    ax.grid(True, which="major", alpha=0.3)


# %%
if FULL_RUN:
    results = {}
    for kind in ("gaussian", "orthogonal"):
        for rho in RHOS:
            Wh = recurrent_matrix(rho, kind=kind)
            results[kind, rho] = (np.linalg.norm(Wh, 2), gradient_norms(Wh))

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, kind in zip(axes, ("gaussian", "orthogonal")):
        curves = [
            (
                rf"$\rho$ = {rho:g}  ($\sigma_{{\max}}$ = {results[kind, rho][0]:.2f})",
                *results[kind, rho],
            )
            for rho in RHOS
        ]
        plot_gradient_norms(
            ax, curves, rf"{kind} $W_h$, H = {H_EXP}; dashed: $\sigma_{{\max}}(W_h)^k$"
        )
        ax.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel(r"$\|\partial h_T / \partial h_{T-k}\|_2$")
    fig.tight_layout()
    plt.show()

    print(f"‖∂h_T/∂h_(T-k)‖ at k = {K_REPORT} (geometric mean over {N_EXP} sequences):")
    print(
        f"{'rho':>5} | {'gaussian':>9} {'σ_max':>6} {'bound':>9} | {'orthogonal':>10} {'bound':>9}"
    )
    for rho in RHOS:
        sg, ng = results["gaussian", rho]
        so, no = results["orthogonal", rho]
        print(
            f"{rho:5.1f} | {ng[K_REPORT]:9.1e} {sg:6.2f} {sg**K_REPORT:9.1e} | "
            f"{no[K_REPORT]:10.1e} {so**K_REPORT:9.1e}"
        )
else:
    print("skipped under nbgrader")

# %% [markdown] claims=[{"says": "$\\rho \u003d 0.9$ has $\\sigma_{\\max}$ \u003d {}:", "printed": "0.9 | # {}"}, {"says": "vanishes, to about {} at $k \u003d 50$", "printed": "0.9 | {}", "rel": 0.5}, {"says": "grow, to about {} at $k \u003d 50$", "printed": "3.0 | {}", "rel": 0.5}, {"says": "below its bound {}:", "printed": "3.0 | # # {}", "rel": 0.05}, {"printed": "1.5 | {}", "holds": "< 1", "words": "the product still shrinks"}]
# **What to look for** (the numbers are those of the table above).
# * Every measured curve stays below its dashed line: the bound of section 6 holds.
# * Where $\sigma_{\max}(W_h) < 1$ (both panels at $\rho = 0.5$, the orthogonal panel at
#   $\rho = 0.9$) the bound itself falls geometrically, so vanishing is guaranteed.
# * The Gaussian matrix with $\rho = 0.9$ has $\sigma_{\max}$ = 1.77: the guarantee does not
#   apply, yet the gradient still vanishes, to about 1.2e-11 at $k = 50$.
# * At $\rho = 1.5$ the linear part alone would grow like $1.5^k$, but the inputs push the units
#   into the flat parts of tanh, the factors $1 - h_t^2$ are small, and the product still shrinks:
#   $\rho > 1$ does not guarantee explosion.
# * Only at $\rho = 3$ does the product grow, to about 1.1e+06 at $k = 50$ for the Gaussian
#   matrix, far below its bound 3.4e+38: the tanh factors slow the explosion down but do not
#   stop it.
# * The exact numbers depend on the draw of $W_h$ and on how hard the inputs drive the units;
#   another seed or input scale moves them by a few orders of magnitude (try the sliders below),
#   but not the picture.
#
# ### 8.2 Try it yourself
#
# Move the slider to any spectral radius and watch the curve cross from vanishing to exploding.
# The second slider scales the inputs. With `input_scale = 0` the state stays at zero, every
# $1 - h_t^2$ is 1, and the curve is just $\|(W_h^\top)^k\|$, which for large $k$ behaves like
# $\rho^k$ (this is where the spectral radius does decide everything). Larger inputs saturate
# more units and pull the curve down. The faint grey lines are the five curves of the figure above. (The sliders
# need a running kernel; the figure above shows the same thing without one.)

# %%
if FULL_RUN:
    import ipywidgets as widgets

    def show_gradient_norms(rho=1.0, input_scale=1.0, kind="gaussian"):
        Wh = recurrent_matrix(rho, kind=kind)
        sigma, norms = np.linalg.norm(Wh, 2), gradient_norms(Wh, input_scale=input_scale)
        fig, ax = plt.subplots(figsize=(7, 4))
        for r in RHOS:
            ax.semilogy(results[kind, r][1], color="0.85", lw=1)
        label = rf"$\rho$ = {rho:.2f}, $\sigma_{{\max}}$ = {sigma:.2f}"
        title = rf"{kind} $W_h$; dashed: $\sigma_{{\max}}(W_h)^k$"
        plot_gradient_norms(ax, [(label, sigma, norms)], title)
        ax.set_ylabel(r"$\|\partial h_T / \partial h_{T-k}\|_2$")
        ax.legend(loc="lower left")
        ax.text(
            0.98,
            0.95,
            f"k = {K_REPORT}: {norms[K_REPORT]:.1e}",
            transform=ax.transAxes,
            ha="right",
            va="top",
        )
        plt.show()

    widgets.interact(
        show_gradient_norms,
        rho=widgets.FloatSlider(value=1.0, min=0.1, max=4.0, step=0.05, description="ρ(W_h)"),
        input_scale=widgets.FloatSlider(
            value=1.0, min=0.0, max=3.0, step=0.1, description="input scale"
        ),
        kind=widgets.Dropdown(options=["gaussian", "orthogonal"], description="W_h"),
    )
else:
    print("skipped under nbgrader")

# %% [markdown] claims=[]
# ### Written question 1
#
# (a) A tanh RNN with $H = 2$ has
# $W_h = \begin{pmatrix} 0.5 & 1 \\ -0.25 & 0.5 \end{pmatrix}$, whose eigenvalues are
# $0.5 \pm 0.5i$, so its spectral radius is $\rho(W_h) = 1/\sqrt 2 \approx 0.71$. Does the
# argument of section 6 guarantee that $\|\partial h_T/\partial h_{T-k}\|$ vanishes as $k$
# grows, whatever the inputs? Show the computation that decides it (you may use
# $\sigma_{\max}(W) = \sqrt{\lambda_{\max}(W^\top W)}$).
# Would the answer change if the units used the logistic sigmoid, $h_t = \sigma(x_t W_x +
# h_{t-1} W_h + b)$, instead of tanh? Say why.
# (b) In 8.1 the Gaussian matrix with $\rho = 1.5$ has $\sigma_{\max}(W_h)$ well above 1 (see
# the legend), yet its gradient vanishes. Which factor of $J_t$ is responsible, and what does
# that tell you about the hidden states in that run? Why, then, does a large $W_h$ not
# guarantee that the gradient explodes?

# %% [markdown]
# #| nbgrader: written id=q_vanishing points=2
# ### BEGIN SOLUTION
# **Model answer.** (a) The argument needs $\gamma\,\sigma_{\max}(W_h) < 1$, because
# $\|J_t\|_2 \le \max_i|\tanh'|\cdot\sigma_{\max}(W_h)$ and the norm of a product is at most
# the product of the norms. Here $W_h^\top W_h = \begin{pmatrix} 0.3125 & 0.375 \\ 0.375 & 1.25
# \end{pmatrix}$ has trace $1.5625$ and determinant $0.25$, so its eigenvalues are
# $(1.5625 \pm \sqrt{1.5625^2 - 1})/2 \approx 1.38$ and $0.18$, and
# $\sigma_{\max} \approx \sqrt{1.38} \approx 1.18 > 1$: the bound $1.18^k$ grows and guarantees
# nothing, although $\rho \approx 0.71$. The spectral radius only bounds $\sigma_{\max}$ from
# below; the two differ because $W_h$ is not normal ($W_h W_h^\top \ne W_h^\top W_h$). (In this
# example the products do shrink in practice, e.g. $\|W_h^2\|_2 = 1$ and $\|W_h^4\|_2 = 0.25$, but
# that needs an argument about several steps together, not the one-step bound of section 6.)
# With the logistic sigmoid the factors are $\operatorname{diag}(\sigma'(a_t))\,W_h^\top$ with
# $\sigma' \le 1/4$, so $\gamma = 1/4$ and $\gamma\,\sigma_{\max} \approx 0.29 < 1$: now the
# gradient must vanish, at least as fast as $0.29^k$, for every input. (b) The factor
# $\operatorname{diag}(1 - h_t^2)$: the inputs and
# the large $W_h$ drive many units into saturation, $|h_{t,i}|$ close to 1, so their
# derivatives are close to 0 and cancel the growth of $W_h$. Explosion needs a large $W_h$
# *and* units that stay in the linear range of tanh; a large $W_h$ alone is necessary, not
# sufficient.
#
# **Rubric (2 points).** 1 point for (a): computes (or bounds) $\sigma_{\max}(W_h) > 1$ (about
# 1.18; any correct route, e.g. the eigenvalues of $W_h^\top W_h$, or one vector that $W_h$
# lengthens: the row $(1, 0)$ times $W_h$ is $(0.5, 1)$, of length $\approx 1.12$) and concludes
# that the section-6 argument gives no guarantee although $\rho < 1$ (0.5); uses $\gamma = 1/4$
# for the sigmoid to conclude that vanishing is then guaranteed (0.5). Answering "yes, because
# $\rho < 1$" earns 0 for the first half; an answer that says the gradient does vanish for this
# matrix in practice earns the first half only if it also says that the one-step argument of
# section 6 does not show it. 1 point for (b): names the factors $1 - h_t^2$
# (saturation) as what keeps
# the product small, and concludes that a large $W_h$ is not sufficient for explosion.
# ### END SOLUTION

# %% [markdown]
# ### 8.3 An exploding RNN trained with and without clipping
#
# Now a real training run. A `torch.nn.RNN` with $H = 32$ reads the adding problem of 8.4 at
# $T = 20$ (batch 32, plain SGD, learning rate 0.05). Its recurrent matrix is the Gaussian
# matrix of 8.1 rescaled to $\rho = 3$, the setting whose gradients exploded there (PyTorch
# stores `weight_hh_l0` $= W_h^\top$). We train three copies from the **same** initial weights
# on the **same** batches; only the treatment of the gradient differs:
#
# * **none**: the raw gradient;
# * **global norm**: your `clip_by_global_norm` with $c = 1$;
# * **value**: every entry clipped to $[-0.03, 0.03]$. The model has 1185 parameters, so this
#   caps the gradient's length at $0.03\sqrt{1185} \approx 1.03$, about the same cap as the
#   global-norm run: the two clipped runs take steps of similar size.
#
# For every step we record the loss, the gradient norm before clipping and the cosine between the
# raw gradient and the gradient actually used. We repeat this for five seeds (initial weights
# and batches); the figure shows seed 0, the table all five. First, a tiny example of that cosine:

# %%
_g = [np.array([4.0, 1.0]), np.array([[0.5, -0.2]])]  # two "parameters", global norm 4.16
_flat = np.concatenate([a.ravel() for a in _g])
for _name, _used in [
    ("global norm, c = 1", clip_by_global_norm(_g, 1.0)[0]),
    ("value, c = 1", [np.clip(a, -1.0, 1.0) for a in _g]),
]:
    _u = np.concatenate([a.ravel() for a in _used])
    _cos = _flat @ _u / (np.linalg.norm(_flat) * np.linalg.norm(_u))
    print(f"{_name:20s} used gradient {_u}, cosine with the raw gradient {_cos:.3f}")


# %%
def rnn_for_clipping_demo(rho, H=32, seed=0):
    """torch.nn.RNN(2, H) + linear readout; weight_hh_l0 = W_h^T with spectral radius rho."""
    torch.manual_seed(seed)
    rnn = torch.nn.RNN(2, H, batch_first=True)
    head = torch.nn.Linear(H, 1)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.tensor(recurrent_matrix(rho, H=H).T))
    return rnn, head


def train_with_clipping(mode, steps=150, rho=3.0, T=20, lr=0.05, seed=0, progress=True):
    """SGD on the adding problem; mode is 'none', 'global norm' or 'value'. Returns a history."""
    rnn, head = rnn_for_clipping_demo(rho, seed=seed)
    params = [*rnn.parameters(), *head.parameters()]
    opt = torch.optim.SGD(params, lr=lr)
    rng = np.random.default_rng(seed)
    hist = {"loss": [], "grad_norm": [], "cosine": [], "stopped_at": None}
    for step in tqdm(range(steps), desc=mode, leave=False, disable=not progress):
        x, y = (torch.from_numpy(a) for a in adding_problem(32, T, seed=rng, dtype=np.float64))
        out, _ = rnn(x)
        loss = torch.mean((head(out[:, -1]) - y) ** 2)
        if not torch.isfinite(loss):
            hist["stopped_at"] = step
            break
        opt.zero_grad()
        loss.backward()
        grads = [p.grad.numpy() for p in params]  # float64 views of the torch gradients
        if mode == "global norm":
            used, total = clip_by_global_norm(grads, 1.0)
        else:
            total = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
            used = [np.clip(g, -0.03, 0.03) for g in grads] if mode == "value" else grads
        raw, new = (np.concatenate([g.ravel() for g in gs]) for gs in (grads, used))
        hist["cosine"].append(raw @ new / (np.linalg.norm(raw) * np.linalg.norm(new)))
        with torch.no_grad():
            for p, g in zip(params, used):
                p.grad.copy_(torch.from_numpy(np.asarray(g)))
        opt.step()
        hist["loss"].append(loss.item())
        hist["grad_norm"].append(total)
    return hist


CLIP_MODES = ("none", "global norm", "value")
CLIP_SEEDS = (0, 1, 2, 3, 4)  # seed 0 is plotted; the table summarises all five

if FULL_RUN:
    from tqdm.auto import tqdm

    # How big is the very first gradient? It grows with the spectral radius of W_h.
    g0 = {
        rho: train_with_clipping("none", steps=1, rho=rho, progress=False)["grad_norm"][0]
        for rho in (0.9, 3.0)
    }
    for rho, g in g0.items():
        print(f"ρ = {rho}: gradient norm at initialisation {g:.3g}")
    print(f"ratio ρ = 3 / ρ = 0.9: {g0[3.0] / g0[0.9]:.0f}")

    runs = {
        (mode, seed): train_with_clipping(mode, seed=seed, progress=False)
        for seed in tqdm(CLIP_SEEDS, desc="seeds")
        for mode in CLIP_MODES
    }
    colors = {"none": "#b91c1c", "global norm": "#1d4ed8", "value": "#d97706"}

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for mode in CLIP_MODES:
        hist = runs[mode, CLIP_SEEDS[0]]
        axes[0].semilogy(hist["loss"], color=colors[mode], label=mode)
        axes[1].semilogy(hist["grad_norm"], color=colors[mode], label=mode)
        axes[2].plot(hist["cosine"], color=colors[mode], label=mode, lw=1)
    axes[0].axhline(ADDING_BASELINE_MSE, color="k", ls=":", lw=1, label="predict 1 (MSE 1/6)")
    axes[0].set_ylim(1e-2, 1e4)
    axes[0].set_title(f"training loss, seed {CLIP_SEEDS[0]} (cut at 1e4)", fontsize=11)
    axes[1].set_title("global gradient norm before clipping", fontsize=11)
    axes[2].set_title("cosine(raw gradient, gradient used)", fontsize=11)
    axes[2].set_ylim(0, 1.05)
    for ax in axes:
        ax.set_xlabel("SGD step")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    plt.show()

    print(f"over {len(CLIP_SEEDS)} seeds (final loss: mean of the last 30 steps):")
    final = {}
    for mode in CLIP_MODES:
        hists = [runs[mode, seed] for seed in CLIP_SEEDS]
        finite = [h for h in hists if h["stopped_at"] is None and np.isfinite(h["loss"][-1])]
        final[mode] = np.array([np.mean(h["loss"][-30:]) for h in hists])
        cos_medians = [np.median(h["cosine"]) for h in hists]
        cos_min = min(min(h["cosine"]) for h in hists)
        print(
            f"{mode:12s} final loss {median_and_range(final[mode])}, finite in {len(finite)} of "
            f"{len(hists)} seeds   cosine median {np.median(cos_medians):.2f} (seeds "
            f"{min(cos_medians):.2f}–{max(cos_medians):.2f}), min {cos_min:.2f}"
        )
    lower = int(np.sum(final["value"] < final["global norm"]))
    print(
        f"value clipping ends lower than global-norm clipping in {lower} of {len(CLIP_SEEDS)} seeds"
    )
else:
    print("skipped under nbgrader")

# %% [markdown] claims=[{"says": "about {} times larger", "printed": "ratio ρ \u003d 3 / ρ \u003d 0.9: {}", "rel": 0.1}, {"says": "(about {} against", "printed": "ρ \u003d 3.0: gradient norm at initialisation {}", "rel": 0.1}, {"says": "against {} for $\\rho \u003d 0.9$", "printed": "ρ \u003d 0.9: gradient norm at initialisation {}", "rel": 0.1}, {"printed": "none final loss median {}", "holds": "> 1e6", "words": "the loss runs off to astronomical values"}, {"printed": "global norm final loss ... finite in {} of 5", "holds": ">\u003d 5", "words": "Both clipped runs stay finite in every seed"}, {"printed": "value final loss ... finite in {} of 5", "holds": ">\u003d 5", "words": "Both clipped runs stay finite in every seed"}, {"printed": "global norm final loss median ... (range {}–", "holds": "> 0.1667", "words": "end above the constant predictor's 1/6 in every seed"}, {"printed": "value final loss median ... (range {}–", "holds": "> 0.1667", "words": "end above the constant predictor's 1/6 in every seed"}, {"printed": "global norm ... cosine median ... min {}", "holds": ">\u003d 0.999", "words": "the global-norm runs always move along the gradient"}, {"says": "(median cosine {} over", "printed": "value ... cosine median {}", "tol": 0.04}, {"says": "worst {} in", "printed": "value ... cosine median ... min {}", "tol": 0.06}, {"says": "ended lower in {} of the 5 seeds", "printed": "value clipping ends lower than global-norm clipping in {} of", "tol": 1}, {"printed": "value clipping ends lower than global-norm clipping in {} of", "holds": ">\u003d 1", "words": "of the two ends lower changes with the seed"}, {"printed": "value clipping ends lower than global-norm clipping in {} of", "holds": "<\u003d 4", "words": "of the two ends lower changes with the seed"}]
# **What to look for.** With $\rho = 3$ the very first gradient is already about 50 times
# larger than with $\rho = 0.9$ (about 217 against 4.35 for $\rho = 0.9$). Without clipping,
# the first steps throw the weights far away, the gradient then grows without bound and the loss
# runs off to astronomical values: training is over. Both clipped runs stay finite in every seed,
# and the loss stays in a sensible range, but neither learns the task in 150 SGD steps: both
# end above the constant predictor's 1/6 in every seed (see the table). Clipping keeps training
# alive; it does not add memory. The right panel shows the difference between the two: the
# global-norm runs always move along the gradient (cosine 1), while the value-clipped run moves
# well away from it (median cosine 0.57 over the five seeds, worst 0.37 in any step): with
# gradients this large most entries hit the clip, and the update is closer to the sign of the
# gradient than to the gradient. Which of the two ends lower changes with the seed (value
# clipping ended lower in 3 of the 5 seeds here): a different direction is a different
# optimiser, not a better or a worse one.

# %% [markdown]
# ### Written question 2
#
# Why does clipping each entry to $[-c, c]$ change the direction of the gradient, while clipping
# by the global norm does not?

# %% [markdown]
# #| nbgrader: written id=q_clipping points=2
# ### BEGIN SOLUTION
# **Model answer.** Global-norm clipping multiplies every entry by the same factor, so the
# gradient keeps its direction. Value clipping cuts only the large entries, so their share shrinks.
# For example $(4, 1)$ clipped to $[-1, 1]$ becomes $(1, 1)$, which points at 45 degrees instead
# of 14 degrees; scaled to norm 1 it becomes $(0.97, 0.24)$, the same direction.
#
# **Rubric (2 points).** 1 point: same factor for all entries. 1 point: value clipping changes
# the ratios between entries.
# ### END SOLUTION

# %% [markdown]
# ### 8.4 A vanilla RNN on the adding problem
#
# The adding problem (Hochreiter & Schmidhuber 1997) tests long memory directly. We use the
# variant most later papers use: each step carries two numbers, a value drawn from $U(0, 1)$ and
# a marker that is 1 at exactly two steps (one in the first half of the sequence, one in the
# second) and 0 elsewhere. The target is the sum of the two marked values. A model that ignores
# the input can do no better than always answering the mean, 1, whose mean squared error is the
# variance of the sum of two $U(0,1)$ values, $2 \cdot \tfrac{1}{12} = \tfrac{1}{6}$. Beating
# $1/6$ clearly requires remembering the first marked value for up to $T - 1$ steps.
#
# We train a `torch.nn.RNN` ($H = 16$, tanh, PyTorch's default initialisation, the same for every
# $T$) with Adam (learning rate $10^{-2}$, batch 64, 800 steps, global-norm clipping at 1) at
# $T = 10, 30, 100$, and measure the MSE on 2000 fresh test sequences. The outcome of one
# training run depends on its seed (the initial weights and the batches), so we train five
# seeds per length and report the median and the range. The five are trained side by side as
# one PyTorch layer with block-diagonal weights (`StackedSeeds` in the course helpers): each
# block is one independent RNN with its own weights, batches and clipping, and the five cost
# about as much as two separate runs.

# %%
ADDING_LENGTHS = (10, 30, 100)
ADDING_H, ADDING_STEPS, ADDING_BATCH = 16, 800, 64
ADDING_SETTINGS = dict(hidden_size=ADDING_H, steps=ADDING_STEPS, lr=1e-2, clip_norm=1.0)
ADDING_SEEDS = (0, 1, 2, 3, 4)  # five RNNs per length, trained side by side

if FULL_RUN:
    adding = {}  # T -> (training losses (seeds, steps), test MSE / baseline per seed)
    for T in ADDING_LENGTHS:
        batches = lambda rng, T=T: adding_problem(ADDING_BATCH, T, seed=rng)  # noqa: E731
        test_set = adding_problem(2000, T, seed=12345)
        loss, mse, _ = train_and_test(
            "RNN", batches, test_set, ADDING_SEEDS, desc=f"RNN, T = {T}", **ADDING_SETTINGS
        )
        adding[T] = (loss, mse / ADDING_BASELINE_MSE)

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
    window = 50
    colors = dict(zip(ADDING_LENGTHS, ["#1d4ed8", "#7c3aed", "#b91c1c"]))
    for T, (loss, _) in adding.items():
        kernel = np.ones(window) / window
        smooth = np.array([np.convolve(run, kernel, mode="valid") for run in loss])
        steps = np.arange(window - 1, loss.shape[1])
        ax0.fill_between(steps, smooth.min(0), smooth.max(0), color=colors[T], alpha=0.2)
        ax0.semilogy(steps, np.median(smooth, 0), color=colors[T], label=f"T = {T}")
    ax0.axhline(ADDING_BASELINE_MSE, color="k", ls=":", lw=1, label="baseline 1/6")
    ax0.set_xlabel("Adam step")
    ax0.set_ylabel(f"training MSE (mean of {window} steps)")
    ax0.set_title(f"training loss: median and range of {len(ADDING_SEEDS)} seeds", fontsize=11)
    ax0.legend(fontsize=9)
    ax0.grid(True, alpha=0.3)
    for k, T in enumerate(ADDING_LENGTHS):
        ratios = adding[T][1]
        ax1.bar(k, np.median(ratios), color=colors[T], alpha=0.5)
        ax1.plot(np.full(len(ratios), k), ratios, "o", color=colors[T], ms=4)
        ax1.annotate(
            f"{np.median(ratios):.2f}", (k, np.median(ratios)), ha="center", va="bottom", fontsize=9
        )
    ax1.axhline(1.0, color="k", ls=":", lw=1, label="baseline (always answer 1)")
    ax1.set_xticks(range(len(ADDING_LENGTHS)), [f"T = {T}" for T in ADDING_LENGTHS])
    ax1.set_ylabel("test MSE / baseline")
    ax1.set_title(f"bar: median; dots: the {len(ADDING_SEEDS)} seeds", fontsize=11)
    top = max(max(r.max() for _, r in adding.values()), 1.0)
    ax1.set_ylim(0, 1.15 * top)  # every dot and label stays in view
    ax1.legend(fontsize=9, loc="upper left")
    fig.tight_layout()
    plt.show()

    for T in ADDING_LENGTHS:
        ratios = adding[T][1]
        print(
            f"T = {T:3d}: test MSE / baseline {median_and_range(ratios)}; "
            f"below half the baseline in {np.sum(ratios < 0.5)} of {len(ratios)} seeds"
        )
else:
    print("skipped under nbgrader")

# %% [markdown] claims=[{"printed": "T \u003d 10: test MSE / baseline median ... (range ...–{})", "holds": "< 0.2", "words": "every seed drives the error far below the baseline"}, {"says": "median {} of the baseline", "printed": "T \u003d 10: test MSE / baseline median {}", "tol": 0.03}, {"says": "the median is about {} times the baseline", "printed": "T \u003d 30: test MSE / baseline median {}", "tol": 0.15}, {"says": "from about {} to", "printed": "T \u003d 30: test MSE / baseline median ... (range {}–", "tol": 0.15}, {"says": "to {} times the baseline, depending", "printed": "T \u003d 30: test MSE / baseline median ... (range ...–{})", "tol": 0.15}, {"printed": "T \u003d 100: test MSE / baseline median ... (range {}–", "holds": "> 0.9", "words": "every seed stays near the baseline"}]
# **What to look for** (median and range over five seeds, printed above). At $T = 10$ every
# seed drives the error far below the baseline (median 0.05 of the baseline): the two marked
# values are never more than nine steps apart, and the gradient that links them is still alive.
# At $T = 30$ the outcome depends on the seed: the median is about 0.74 times the baseline, and
# single seeds end anywhere from about 0.42 to 0.99 times the baseline, depending on whether
# their training curve has begun to bend down before the 800 steps are over. One seed alone
# could tell you "solved" or "failed". At $T = 100$ every seed stays near the baseline: the
# prediction becomes "about 1" and the gradient that would teach it to keep the first value has
# vanished on its way back through up to 99 Jacobians. The network is big enough to store one
# number; it just never receives the signal telling it to. (More steps can move the $T = 30$
# result further; at $T = 100$ a tanh RNN of this size stays near the baseline. Notebooks 02
# and 03 train gated cells on the same task.)

# %% [markdown]
# ## 9. Summary
#
# * A recurrent network keeps a state $h_t = \tanh(x_t W_x + h_{t-1} W_h + b)$ (row vectors;
#   $W_{hh} = W_h^\top$ in column-vector papers) and uses the same weights at every step.
# * BPTT is backpropagation through the unrolled network. The gradient reaching $h_t$ is the sum
#   of what comes from above and what flows back from step $t+1$; the gradient of each shared
#   weight is a sum over all steps.
# * What a loss learns about a state $k$ steps back is carried by
#   $J_T \cdots J_{T-k+1}$ with $J_t = \operatorname{diag}(1 - h_t^2) W_h^\top$. If
#   $\sigma_{\max}(W_h) < 1$ it must vanish geometrically; a larger $W_h$ allows explosion but,
#   because tanh saturates, does not force it.
# * Exploding gradients are handled by clipping the **global** norm, which shortens the step and
#   keeps its direction; clipping entries one by one turns the step.
# * Vanishing gradients are not fixed by clipping. Over five seeds the vanilla RNN solves the
#   adding problem at $T = 10$, succeeds or fails by seed at $T = 30$, and stays at the
#   constant-predictor baseline at $T = 100$.
#
# **Next: 02 · GRU.** The fix is to change the cell, not the optimiser. A gated recurrent unit
# computes an update gate $z_t \in (0, 1)^H$ and mixes the old state with a candidate,
# $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$ in PyTorch's convention. When $z_t$ is close
# to 1 the state is copied forward almost unchanged, and so is the gradient: the Jacobian is
# close to the identity instead of a product of squashed matrices. Notebook 02 builds it and
# measures the same gradient norms.
