"""One recurrent layer over a sequence, with a choice of gradient.

Most cells are *additive* and declare it (`Additive`): a step is
`carry' = update(carry, z)` with `z = xw + a @ U`, where `a = recurrent_input(carry)`
(h for the LSTM and the IRNN, the projection r for the LSTMP) and `xw` is the
input projection of that step, computed for all steps at once outside the scan.

Plain autodiff of that scan builds dU inside the backward scan, as one small
[A, B] x [B, G] matmul plus an [A, G] accumulation per time step. The fused
gradient (`gradient="fused"`, what cuDNN does) lets the backward scan carry
only the state's cotangent and emit dz per step; dU is then a single large
matmul over all T*B rows, `a_(TB)xA^T @ dz_(TB)xG`, and dxw is dz itself.
Both are exact; tests compare them to float32 tolerance. The backward scan
needs `update`'s vector-Jacobian product at each step: a cell that saves what
it needs in the forward scan (`update_forward` / `update_backward`, the LSTM's
gate activations) spares the backward every transcendental; for the others
the forward saves z and the backward recomputes `update` under autodiff.

Cells that do not declare the additive form (the GRUs, a user's flax cell) use
autodiff of their own `__call__`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

GRADIENTS = ("fused", "autodiff", "rtrl")  # rtrl: the training gradient by lte.methods.rtrl; the scan as autodiff


class Additive(NamedTuple):
    """A cell's additive form, the fused gradient's kernel: `carry' = update(params, carry, z)` with
    `z = xw + recurrent_input(carry) @ U`, where `params` are the layer's parameters but W, b and U.

    `update_forward(params, carry, z) -> (carry', saved)` and `update_backward(params, carry, saved, d_carry')
    -> (d_carry, d_z, d_params)`, if given, spare the backward scan from recomputing `update`.
    """

    recurrent_input: Callable[[Any], jax.Array]
    update: Callable
    update_forward: Callable | None = None
    update_backward: Callable | None = None


def reset(carry, keep_B: jax.Array):
    """Zero the state of the rows where an example starts (keep = 0)."""
    return jax.tree_util.tree_map(lambda c: c * keep_B[:, None], carry)


def is_additive(cell) -> bool:
    return getattr(cell, "additive", None) is not None


def scan_layer(
    cell, params: dict, xw_TxBxG: jax.Array, keep_TxB: jax.Array, carry, unroll: int = 1, gradient: str = "fused"
):
    """Run `cell` over T steps from `carry`. Returns (final carry, outputs [T, B, H])."""
    if gradient == "fused" and is_additive(cell):
        U, extra = _split(params)
        return _fused(cell, unroll)(U, extra, xw_TxBxG, keep_TxB, carry)
    return _plain_scan(cell, params, xw_TxBxG, keep_TxB, carry, unroll)


def _plain_scan(cell, params, xw_TxBxG, keep_TxB, carry, unroll):
    def body(carry, inputs):
        xw_BxG, keep_B = inputs
        carry = cell.step(params, reset(carry, keep_B), xw_BxG)
        return carry, cell.output(carry)

    return jax.lax.scan(body, carry, (xw_TxBxG, keep_TxB), unroll=unroll)


def _split(params: dict) -> tuple[jax.Array, dict]:
    """U, and the parameters `update` may read (W and b act outside the scan)."""
    return params["U"], {k: v for k, v in params.items() if k not in ("W", "b", "U")}


def _update_pair(form: Additive):
    """`update` saving what its backward needs, and that backward: (update_forward, update_backward).

    A cell may give its own pair (the LSTM saves its gate activations, so the backward scan evaluates no
    transcendental); otherwise the forward saves z and the backward is autodiff of `update`, recomputed.
    """
    if form.update_forward is not None and form.update_backward is not None:
        return form.update_forward, form.update_backward

    def update_forward(extra, carry_r, z_BxG):
        return form.update(extra, carry_r, z_BxG), z_BxG

    def update_backward(extra, carry_r, z_BxG, d_new):
        _, update_vjp = jax.vjp(lambda c, z, e: form.update(e, c, z), carry_r, z_BxG, extra)
        return update_vjp(d_new)

    return update_forward, update_backward


@functools.cache
def _fused(cell, unroll: int):
    """The additive recurrence as a `jax.custom_vjp` with the large-matmul dU."""
    form = cell.additive
    update_forward, update_backward = _update_pair(form)

    def forward(U, extra, xw_TxBxG, keep_TxB, carry, keep_residuals: bool):
        def body(carry, inputs):
            xw_BxG, keep_B = inputs
            carry_r = reset(carry, keep_B)
            z_BxG = xw_BxG + form.recurrent_input(carry_r) @ U
            if not keep_residuals:
                new = form.update(extra, carry_r, z_BxG)
                return new, (cell.output(new), None)
            new, saved = update_forward(extra, carry_r, z_BxG)
            return new, (cell.output(new), (carry_r, saved))

        final, (out_TxBxH, residuals) = jax.lax.scan(body, carry, (xw_TxBxG, keep_TxB), unroll=unroll)
        return final, out_TxBxH, residuals

    @jax.custom_vjp
    def run(U, extra, xw_TxBxG, keep_TxB, carry):
        final, out, _ = forward(U, extra, xw_TxBxG, keep_TxB, carry, False)
        return final, out

    def run_fwd(U, extra, xw_TxBxG, keep_TxB, carry):
        final, out, residuals = forward(U, extra, xw_TxBxG, keep_TxB, carry, True)
        return (final, out), (U, extra, keep_TxB, residuals)

    def run_bwd(saved, cotangents):
        U, extra, keep_TxB, (carry_r_T, saved_T) = saved
        d_final, d_out_TxBxH = cotangents

        def body(carry_grads, inputs):
            d_carry, d_extra = carry_grads
            carry_r, saved_t, d_out_BxH, keep_B = inputs
            _, output_vjp = jax.vjp(cell.output, d_carry)  # `output` picks part of the carry: linear, any point
            d_new = jax.tree_util.tree_map(jnp.add, d_carry, output_vjp(d_out_BxH)[0])
            d_carry_r, d_z_BxG, d_extra_t = update_backward(extra, carry_r, saved_t, d_new)
            _, input_vjp = jax.vjp(form.recurrent_input, carry_r)
            d_carry_r = jax.tree_util.tree_map(jnp.add, d_carry_r, input_vjp(d_z_BxG @ U.T)[0])
            d_extra = jax.tree_util.tree_map(jnp.add, d_extra, d_extra_t)
            return (reset(d_carry_r, keep_B), d_extra), d_z_BxG

        zero_extra = jax.tree_util.tree_map(jnp.zeros_like, extra)
        (d_carry0, d_extra), d_z_TxBxG = jax.lax.scan(
            body, (d_final, zero_extra), (carry_r_T, saved_T, d_out_TxBxH, keep_TxB), reverse=True, unroll=unroll
        )
        a_TxBxA = jax.vmap(form.recurrent_input)(carry_r_T)
        # the one large matmul; as 2-D operands (XLA's CPU dot is much slower with two contracting dims)
        d_U = a_TxBxA.reshape(-1, a_TxBxA.shape[-1]).T @ d_z_TxBxG.reshape(-1, d_z_TxBxG.shape[-1])
        return d_U, d_extra, d_z_TxBxG, jnp.zeros_like(keep_TxB), d_carry0

    run.defvjp(run_fwd, run_bwd)
    return run
