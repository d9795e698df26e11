"""A user's own recurrent cell, written as a flax module, trained through the project's path by name:
`lte train --model mypkg.cells:MyCell` (any `flax.linen.RNNCellBase` whose constructor takes `features`).

The adapter meets the cell contract of `lte.core.cells`: the layer's input projection W x + b (W [I, H], for a
one-hot character exactly a learned H-wide embedding) feeds the flax cell, whose own weights live under
`params["flax"]`; the carry is (the flax cell's carry, its last output). Gradients are plain autodiff (the
fused gradient needs the additive form, which a foreign cell does not declare).

Records are data, never code: a `module:Class` name is imported only once the user has allowed it, by naming it
on the command line (`lte train --model`, an experiment file they sweep), by `--allow-user-cells`, or by
`allow_user_cells` in Python. The permission lives in the environment (ALLOW_ENV), so that a sweep's worker
processes inherit it; a name read from a run folder's config.json is otherwise refused before any import.
"""

from __future__ import annotations

import functools
import importlib
import os
from types import SimpleNamespace

import jax
import jax.numpy as jnp

from lte.core.errors import LteError

INPUT_SCALE = 0.08  # W ~ U(-0.08, 0.08), as the LSTM's weights
ALLOW_ENV = "LTE_ALLOW_USER_CELLS"  # comma-separated module:Class names the user allowed, or "*" for any


def allow_user_cells(*specs: str) -> None:
    """Allow these `module:Class` cells to be imported (no names: any), in this process and its workers."""
    allowed = {s for s in os.environ.get(ALLOW_ENV, "").split(",") if s}
    allowed |= set(specs) if specs else {"*"}
    os.environ[ALLOW_ENV] = ",".join(sorted(allowed))


def user_cell_allowed(spec: str) -> bool:
    allowed = os.environ.get(ALLOW_ENV, "").split(",")
    return "*" in allowed or spec in allowed


def is_flax_spec(name: str) -> bool:
    return ":" in name


def flax_cell(spec: str) -> SimpleNamespace:
    """The cell named `module.path:ClassName`, as a cell of lte.core.cells' contract, if the user allowed it."""
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise LteError(f"model {spec!r}: a flax cell is named module.path:ClassName, e.g. mypkg.cells:MyCell")
    if not all(part.isidentifier() for part in module_name.split(".")) or not class_name.isidentifier():
        raise LteError(f"model {spec!r}: a flax cell is named module.path:ClassName with Python identifiers only")
    if not user_cell_allowed(spec):
        raise LteError(f"model {spec!r} names code outside the package; a record or config never imports code by "
                       f"itself: name it with --model, or pass --allow-user-cells if you trust its source")
    return _flax_cell(spec)


@functools.lru_cache(maxsize=None)
def _flax_cell(spec: str) -> SimpleNamespace:
    import flax.linen as nn

    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise LteError(f"model {spec!r}: cannot import {module_name} ({error})") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.RNNCellBase)):
        raise LteError(f"model {spec!r}: {module_name}.{class_name} is not a flax.linen.RNNCellBase subclass")

    def make(hidden: int):
        return cls(features=hidden)

    def init(key: jax.Array, input_size: int, hidden: int, options: dict) -> dict:
        k_w, k_cell = jax.random.split(key)
        cell = make(hidden)
        carry = cell.initialize_carry(k_cell, (1, hidden))
        return {"W": jax.random.uniform(k_w, (input_size, hidden), jnp.float32, -INPUT_SCALE, INPUT_SCALE),
                "b": jnp.zeros((hidden,), jnp.float32),
                "flax": cell.init(k_cell, carry, jnp.zeros((1, hidden)))["params"]}

    def zero_carry(params: dict, batch: int):
        hidden = params["W"].shape[1]
        return make(hidden).initialize_carry(jax.random.PRNGKey(0), (batch, hidden)), jnp.zeros((batch, hidden))

    def step(params: dict, carry, xw_BxH: jax.Array):
        new_carry, y = make(params["W"].shape[1]).apply({"params": params["flax"]}, carry[0], xw_BxH)
        return new_carry, y

    return SimpleNamespace(__name__=spec, gates=1, uses_embedding=False, default_learning_rate=0.1,
                           input_scale=INPUT_SCALE, init=init, zero_carry=zero_carry, step=step,
                           output=lambda carry: carry[1])
