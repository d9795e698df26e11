"""Recurrent cells, chosen by name. A new cell is one new module registered here.

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
- `output(carry) -> h_BxH`: what the next layer (or the readout) reads;
- optionally `output_size(hidden, options)` when that is not `hidden` (LSTMP);
- optionally, for the fused gradient (`lte.recurrence`), the additive form
  `recurrent_input(carry) -> a` and `update(params, carry, z) -> carry` with
  `step = update(carry, xw + a @ U)`.
"""

from __future__ import annotations

from types import ModuleType

from lte.cells import gru, gru_reset_after, irnn, jordan, lstm, lstmp, rnn
from lte.errors import LteError

CELLS: dict[str, ModuleType] = {"lstm": lstm, "irnn": irnn, "rnn": rnn, "gru": gru,
                                "gru_reset_after": gru_reset_after, "lstmp": lstmp, "jordan": jordan}


def get_cell(name: str) -> ModuleType:
    if name not in CELLS:
        raise LteError(f"unknown model {name!r}; allowed: {', '.join(CELLS)}")
    return CELLS[name]


def output_size(cell: ModuleType, hidden: int, options: dict) -> int:
    """How many units a layer of `cell` passes on (its `output_size`, else `hidden`)."""
    return cell.output_size(hidden, options) if hasattr(cell, "output_size") else hidden
