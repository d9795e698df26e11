"""Recurrent cells, chosen by name. A new cell is one new module in this folder: its file name is its name,
and it is registered when the package is imported (the study's LSTM and IRNN first, then by name).

A cell is a module-level object with:

- `gates`: how many H-wide blocks its input projection has (LSTM 4, IRNN 1);
- `uses_embedding`: whether its first layer reads a learned embedding (else the one-hot character);
- `default_learning_rate`: the SGD rate used when a run names none;
- `input_scale`: the scale of its input weights W as `init` draws them (a run's
  `input_scale` rescales that draw);
- `init(key, input_size, hidden, options) -> params` with at least
  `W` [I, gates*H] and `b` [gates*H] (the input projection, applied to every
  time step at once outside the scan) and whatever recurrent weights it needs;
- `zero_carry(params, batch) -> carry`: the state at an example's start;
- `step(params, carry, xw_BxG) -> carry`: one time step, given that step's
  input projection `xw = x @ W + b`;
- `output(carry) -> h_BxH`: what the next layer (or the readout) reads (a part of the carry, not a function of
  it: the fused gradient relies on that);
- optionally `output_size(hidden, options)` when that is not `hidden` (LSTMP);
- optionally, for the fused gradient (`lte.core.recurrence`), the additive form
  `recurrent_input(carry) -> a` and `update(params, carry, z) -> carry` with
  `step = update(carry, xw + a @ U)`; and, to spare the fused backward from recomputing `update`,
  `update_forward(params, carry, z) -> (carry', saved)` with `update_backward(params, carry, saved, d_carry')
  -> (d_carry, d_z, d_params)` (the LSTM's: its gate activations, checked against autodiff bit for bit);
- `layer_parameters(m, n, options) -> int`: the closed formula of a layer's parameter count (n units reading
  m inputs), which the parameter table checks against the initialised model;
- `numpy_zero_carry(layer, batch)` and `numpy_step(layer, carry, x) -> (carry, output)`: an independent
  float64 NumPy reference of one step, input projection included, against which the tests check the model.
"""

from __future__ import annotations

from types import ModuleType

from data_gen.registry import register_modules
from lte.core.errors import LteError

REQUIRED = ("gates", "uses_embedding", "default_learning_rate", "input_scale", "init", "zero_carry", "step", "output",
            "layer_parameters", "numpy_zero_carry", "numpy_step")
FIRST = ("lstm", "irnn")  # the study's two cells lead every listing


def register(path: list[str], package: str) -> dict[str, ModuleType]:
    """Every module of the package at `path` as a cell, named by its file name; a module that lacks a required
    attribute is a clear error naming them."""
    return register_modules(path, package, REQUIRED, FIRST, LteError, "cell", "lte.core.cells")


CELLS: dict[str, ModuleType] = register(__path__, __name__)


def get_cell(name: str) -> ModuleType:
    """The registered cell `name`, or a user's flax cell named `module.path:ClassName` (lte.core.flax_cell)."""
    if ":" in name:
        from lte.core.flax_cell import flax_cell
        return flax_cell(name)
    if name not in CELLS:
        raise LteError(f"unknown model {name!r}; allowed: {', '.join(CELLS)}, or a flax cell as "
                       f"module.path:ClassName")
    return CELLS[name]


def output_size(cell: ModuleType, hidden: int, options: dict) -> int:
    """How many units a layer of `cell` passes on (its `output_size`, else `hidden`)."""
    return cell.output_size(hidden, options) if hasattr(cell, "output_size") else hidden
