"""Recurrent cells, chosen by name. A new cell is one new module registered here.

A cell is a module-level object with:

- `gates`: how many H-wide blocks its input projection has (LSTM 4, IRNN 1);
- `uses_embedding`: whether its first layer reads a learned embedding (else the one-hot character);
- `init(key, input_size, hidden, options) -> params` with at least
  `W` [I, gates*H] and `b` [gates*H] (the input projection, applied to every
  time step at once outside the scan) and whatever recurrent weights it needs;
- `zero_carry(batch, hidden) -> carry`: the state at an example's start;
- `step(params, carry, xw_BxG) -> carry`: one time step, given that step's
  input projection `xw = x @ W + b`;
- `output(carry) -> h_BxH`: what the next layer (or the readout) reads.
"""

from __future__ import annotations

from types import ModuleType

from lte.cells import irnn, lstm, rnn
from lte.errors import LteError

CELLS: dict[str, ModuleType] = {"lstm": lstm, "irnn": irnn, "rnn": rnn}


def get_cell(name: str) -> ModuleType:
    if name not in CELLS:
        raise LteError(f"unknown model {name!r}; allowed: {', '.join(CELLS)}")
    return CELLS[name]
