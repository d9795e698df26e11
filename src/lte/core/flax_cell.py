"""Every recurrent cell is a flax module: the study's (`lte.core.cells`) and a user's own, named
`module.path:ClassName` (`lte train --model mypkg.cells:MyCell`, any `flax.linen.RNNCellBase` whose constructor
takes `features`). `Cell` is how the model uses either one.

A layer's parameters are a flat dict: its input projection `W` [I, gates*H] and `b` [gates*H] (applied to every
time step at once outside the scan, so the cell's `__call__(carry, xw)` reads `xw = x @ W + b`) beside the flax
module's own parameters (`U`, ...).

Records are data, never code: a `module:Class` name is imported only once the user has allowed it, by naming it
on the command line (`lte train --model`, an experiment file they sweep), by `--allow-user-cells`, or by
`allow_user_cells` in Python. The permission lives in the environment (ALLOW_ENV), so that a sweep's worker
processes inherit it; a name read from a run folder's config.json is otherwise refused before any import.
"""

from __future__ import annotations

import functools
import importlib
import os
from types import ModuleType

import flax.linen as nn
import jax
import jax.numpy as jnp

from lte.core.errors import LteError

INIT_SCALE = 0.08  # Zaremba's U(-0.08, 0.08): the default of every weight
ALLOW_ENV = "LTE_ALLOW_USER_CELLS"  # comma-separated module:Class names the user allowed, or "*" for any
INPUT = ("W", "b")  # the layer's input projection, beside the cell's own parameters


def uniform(scale: float):
    """A flax initializer: U(-scale, scale) in float32."""
    return lambda key, shape, dtype=jnp.float32: jax.random.uniform(key, shape, dtype, -scale, scale)


class RecurrentCell(nn.RNNCellBase):
    """The study's cells' base: `__call__(carry, xw) -> (carry, output)` with `xw = x @ W + b`.

    Class attributes a cell may set (a user's cell may too; these are the defaults): `gates` (W is
    [I, gates*H]), `uses_embedding` (whether a first layer reads a learned embedding, else the one-hot character),
    `default_learning_rate`, `input_scale` (the scale of W as `input_init` draws it), and `additive`
    (`lte.core.recurrence.Additive`: the form that the fused gradient needs). `output(carry)` picks what the
    next layer reads from the carry; without it, the carry is paired with the last output.
    """

    features: int
    gates = 1
    uses_embedding = False
    default_learning_rate = 0.1
    input_scale = INIT_SCALE
    additive = None

    def input_init(self, key: jax.Array, shape: tuple) -> jax.Array:
        return uniform(self.input_scale)(key, shape)

    def bias_init(self, key: jax.Array, shape: tuple) -> jax.Array:
        return uniform(INIT_SCALE)(key, shape)

    @classmethod
    def from_params(cls, params: dict) -> RecurrentCell:
        """The module that applies a layer's `params` (its sizes read from their shapes)."""
        return cls(features=params["W"].shape[-1] // cls.gates)

    def initialize_carry(self, rng: jax.Array, input_shape: tuple):
        return jnp.zeros((*input_shape[:-1], self.features))

    @property
    def num_feature_axes(self) -> int:
        return 1


class Cell:
    """A flax cell class as the model uses it: a layer's `init`, `zero_carry`, `step`, `output`.

    `references` is the module of a study cell, with its parameter formula `layer_parameters(m, n, options)` and
    its independent float64 NumPy reference `numpy_zero_carry(layer, batch)`, `numpy_step(layer, carry, x)`.
    """

    def __init__(self, module: type[nn.RNNCellBase], name: str, references: ModuleType | None = None):
        self.module, self.__name__ = module, name
        for attribute in ("gates", "uses_embedding", "default_learning_rate", "input_scale", "additive"):
            setattr(self, attribute, getattr(module, attribute, getattr(RecurrentCell, attribute)))
        self.owns_output = hasattr(module, "output")  # else the carry is (the module's carry, its last output)
        for reference in ("layer_parameters", "numpy_zero_carry", "numpy_step"):
            if references is not None:
                setattr(self, reference, getattr(references, reference))

    def __repr__(self) -> str:
        return f"<cell {self.__name__}>"

    def output_size(self, hidden: int, options: dict) -> int:
        """How many units a layer passes on (the hidden size, or the LSTMP's projection)."""
        own = getattr(self.module, "output_size", None)
        return own(hidden, options) if own else hidden

    def _build(self, hidden: int, options: dict) -> nn.RNNCellBase:
        fields = self.module.__dataclass_fields__
        return self.module(features=hidden, **{k: v for k, v in options.items() if k in fields and v is not None})

    def _from_params(self, params: dict) -> nn.RNNCellBase:
        if hasattr(self.module, "from_params"):
            return self.module.from_params(params)
        return self.module(features=params["W"].shape[-1] // self.gates)

    def init(self, key: jax.Array, input_size: int, hidden: int, options: dict) -> dict:
        """A layer of `hidden` units reading `input_size` inputs: W and b, drawn by the module's `input_init` and
        `bias_init` (a cell without them: U(-0.08, 0.08) and 0), and the module's own parameters (flax's init)."""
        k_w, k_cell, k_b = jax.random.split(key, 3)
        module, width = self._build(hidden, options), self.gates * hidden
        input_init = getattr(module, "input_init", uniform(INIT_SCALE))
        bias_init = getattr(module, "bias_init", lambda key, shape: jnp.zeros(shape, jnp.float32))
        carry = module.initialize_carry(k_cell, (1, width))
        own = module.init(k_cell, carry, jnp.zeros((1, width), jnp.float32))["params"]
        if set(own) & set(INPUT):
            raise LteError(
                f"cell {self.__name__}: its parameters may not be named {' or '.join(INPUT)} "
                f"(the layer's input projection)"
            )
        return {"W": input_init(k_w, (input_size, width)), "b": bias_init(k_b, (width,)), **own}

    def zero_carry(self, params: dict, batch: int):
        module = self._from_params(params)
        carry = module.initialize_carry(jax.random.PRNGKey(0), (batch, params["W"].shape[-1]))
        return carry if self.owns_output else (carry, jnp.zeros((batch, module.features)))

    def step(self, params: dict, carry, xw_BxG: jax.Array):
        """One time step (the module's `__call__`), given that step's input projection `xw = x @ W + b`."""
        own = {k: v for k, v in params.items() if k not in INPUT}
        module_carry = carry if self.owns_output else carry[0]
        new, y = self._from_params(params).apply({"params": own}, module_carry, xw_BxG)
        return new if self.owns_output else (new, y)

    def output(self, carry) -> jax.Array:
        """What the next layer (or the readout) reads: a part of the carry (the fused gradient relies on that)."""
        return self.module.output(carry) if self.owns_output else carry[1]


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


def flax_cell(spec: str) -> Cell:
    """The user's cell named `module.path:ClassName`, if the user allowed it."""
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise LteError(f"model {spec!r}: a flax cell is named module.path:ClassName, e.g. mypkg.cells:MyCell")
    if not all(part.isidentifier() for part in module_name.split(".")) or not class_name.isidentifier():
        raise LteError(f"model {spec!r}: a flax cell is named module.path:ClassName with Python identifiers only")
    if not user_cell_allowed(spec):
        raise LteError(
            f"model {spec!r} names code outside the package; a record or config never imports code by "
            f"itself: name it with --model, or pass --allow-user-cells if you trust its source"
        )
    return _flax_cell(spec)


@functools.cache
def _flax_cell(spec: str) -> Cell:
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise LteError(f"model {spec!r}: cannot import {module_name} ({error})") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.RNNCellBase)):
        raise LteError(f"model {spec!r}: {module_name}.{class_name} is not a flax.linen.RNNCellBase subclass")
    return Cell(cls, spec)
