"""The shapes and cells `lte bench` times, and its --shapes and --cells filters."""

from __future__ import annotations

from dataclasses import dataclass

from lte.core.cells import CELLS
from lte.core.errors import LteError


@dataclass(frozen=True)
class Shape:
    """`layers` recurrent layers of `hidden` units, trained on `batch` rows of `steps` characters."""

    hidden: int
    batch: int
    steps: int = 100
    layers: int = 2

    @property
    def label(self) -> str:
        return f"{self.layers}x{self.hidden} B{self.batch} T{self.steps}"


# The study's shapes on a CPU (1 or 2 layers of 64-256 units, batch 32 and 100) at its row lengths: 32 (copy of
# 10 digits, 3-digit addition) and 144 (programs of length 2, nesting 2). `make bench` times these.
STUDY_SHAPES = [
    Shape(hidden, batch, steps, layers)
    for layers, hidden in ((1, 64), (1, 128), (1, 256), (2, 128))
    for batch in (32, 100)
    for steps in (32, 144)
]
STUDY_CELLS = ["lstm", "irnn"]

# Zaremba's scale (2 x 400), where the first speed goals were set: `lte bench --full` adds these and every cell.
PAPER_SHAPES = [Shape(hidden, batch) for hidden in (128, 400) for batch in (100, 1000)]
TINY_SHAPES = [Shape(hidden=8, batch=4, steps=5)]
ENSEMBLE_SHAPE = Shape(hidden=64, batch=32, steps=32, layers=1)
# K models per step: each K is a compile in this process and in each sweep worker, so the default table takes
# three, to keep the default run within its time goal (`goals.DEFAULT_RUN_MINUTES`); `lte bench --full` all five
ENSEMBLE_MODELS, ENSEMBLE_MODELS_FULL = [1, 4, 16], [1, 2, 4, 8, 16]


def parse_shape(text: str) -> Shape:
    """'LAYERSxHIDDEN:BATCH:STEPS', e.g. '1x64:32:32'."""
    try:
        size, batch, steps = text.split(":")
        layers, hidden = size.split("x")
        shape = Shape(hidden=int(hidden), batch=int(batch), steps=int(steps), layers=int(layers))
    except ValueError:
        raise LteError(f"--shapes {text!r}: a shape is LAYERSxHIDDEN:BATCH:STEPS, e.g. 1x64:32:32") from None
    if min(shape.hidden, shape.batch, shape.steps, shape.layers) < 1:
        raise LteError(f"--shapes {text!r}: layers, hidden, batch and steps must be positive integers")
    return shape


def parse_cells(text: str) -> list[str]:
    """'CELL,CELL,...', e.g. 'lstm,irnn'; each one of `lte.core.cells.CELLS`."""
    cells = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if not cells or unknown:
        raise LteError(
            f"--cells {text!r}: unknown cell(s) {', '.join(unknown) or '(none given)'}; allowed: {', '.join(CELLS)}"
        )
    return cells
