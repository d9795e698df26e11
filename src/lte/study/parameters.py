"""Parameter counts by each cell's closed formula, and the width at which one model matches another's count.

Per recurrent layer with m inputs and n units, each cell's formula lives in its module (`layer_parameters`;
the study's cell equations): RNN, IRNN n(n+m+1); Jordan n(n+m+1) + n(n+1); GRU 3n(n+m+1), reset-after + n (its
b_hn); LSTM 4n(n+m+1); LSTMP with projection p: 4n(p+m+1) + np. Plus the embedding (V x n, cells that read
one) and the readout (out x V + V). `lte.study.analysis.parameters` checks them against the model's count.
"""

from __future__ import annotations

from collections.abc import Callable

from data_gen.vocab import VOCAB_SIZE
from lte.core.cells import CELLS
from lte.core.model import ModelConfig

WITHIN = 0.05  # equal parameters: a count within 5% of the reference model's


def layer_formula(cell: str, m: int, n: int, options: dict | None = None) -> int:
    """The cell's own closed formula (`layer_parameters` in its module) for a layer of n units reading m inputs."""
    return CELLS[cell].layer_parameters(m, n, options or {})


def closed_form_parameters(config: ModelConfig) -> dict:
    """The model's parameters by formula: per part and in total."""
    n, out, v = config.hidden, config.output_size, config.vocab_size
    first_input = n if config.uses_embedding else v
    options = {"projection": config.projection}
    layers = [layer_formula(config.cell, first_input if i == 0 else out, n, options) for i in range(config.layers)]
    embedding = v * n if config.uses_embedding else 0
    readout = out * v + v
    return {
        "layers": sum(layers),
        "embedding": embedding,
        "readout": readout,
        "total": sum(layers) + embedding + readout,
    }


def equal_parameter_width(count_reference: int, count_of_width: Callable[[int], int]) -> int:
    """The width whose parameter count (growing with width) is nearest `count_reference`; a ValueError when
    that nearest count is not within WITHIN of it."""
    width = 1
    while count_of_width(width) < count_reference and width < count_reference:
        width += 1
    best = min((w for w in (width - 1, width) if w >= 1), key=lambda w: abs(count_of_width(w) - count_reference))
    off = count_of_width(best) / count_reference - 1
    if abs(off) > WITHIN:
        raise ValueError(
            f"no width has a parameter count within {WITHIN:.0%} of the reference's "
            f"{count_reference:,}: the nearest, width {best}, has {count_of_width(best):,} ({off:+.1%})"
        )
    return best


def equal_parameter_hidden(
    cell: str, reference: str, reference_hidden: int, layers: int, vocab_size: int = VOCAB_SIZE
) -> int:
    """The hidden size at which `cell` has the parameter count nearest `reference`'s at `reference_hidden`
    (embedding and readout included, by the closed formulas the parameter table checks against the model)."""

    def count(name: str, hidden: int) -> int:
        return closed_form_parameters(ModelConfig(cell=name, hidden=hidden, layers=layers, vocab_size=vocab_size))[
            "total"
        ]

    return equal_parameter_width(count(reference, reference_hidden), lambda width: count(cell, width))
