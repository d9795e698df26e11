"""Recurrent cells, chosen by name. A new cell is one new module in this folder: its file name is its name,
and it is registered when the package is imported (the study's LSTM and IRNN first, then by name).

A cell module holds:

- `CELL`: its flax module class (an `lte.core.flax_cell.RecurrentCell`), whose `__call__(carry, xw)` is the
  cell's equations given a step's input projection `xw = x @ W + b`, and whose class attributes say its
  `gates`, `uses_embedding`, `default_learning_rate`, `input_scale` and, for the fused gradient, its
  `additive` form (`lte.core.recurrence.Additive`); options a run gives (`forget_bias`, ...) are its fields;
- `layer_parameters(m, n, options) -> int`: the closed formula of a layer's parameter count (n units reading
  m inputs), which the parameter table checks against the initialised model;
- `numpy_zero_carry(layer, batch)` and `numpy_step(layer, carry, x) -> (carry, output)`: an independent
  float64 NumPy reference of one step, input projection included, against which the tests check the model.

`get_cell` gives it, as a user's own flax cell, wrapped in `lte.core.flax_cell.Cell`.
"""

from __future__ import annotations

from data_gen.registry import register_modules
from lte.core.errors import LteError
from lte.core.flax_cell import Cell, flax_cell

REQUIRED = ("CELL", "layer_parameters", "numpy_zero_carry", "numpy_step")
FIRST = ("lstm", "irnn")  # the study's two cells lead every listing


def register(path: list[str], package: str) -> dict[str, Cell]:
    """Every module of the package at `path` as a cell, named by its file name; a module that lacks a required
    attribute is a clear error naming them."""
    modules = register_modules(path, package, REQUIRED, FIRST, LteError, "cell", "lte.core.cells")
    return {name: Cell(module.CELL, name, module) for name, module in modules.items()}


CELLS: dict[str, Cell] = register(__path__, __name__)


def get_cell(name: str) -> Cell:
    """The registered cell `name`, or a user's flax cell named `module.path:ClassName` (lte.core.flax_cell)."""
    if ":" in name:
        return flax_cell(name)
    if name not in CELLS:
        raise LteError(f"unknown model {name!r}; allowed: {', '.join(CELLS)}, or a flax cell as module.path:ClassName")
    return CELLS[name]


def output_size(cell: Cell, hidden: int, options: dict) -> int:
    """How many units a layer of `cell` passes on (its `output_size`, else `hidden`)."""
    return cell.output_size(hidden, options)
