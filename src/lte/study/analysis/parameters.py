"""The parameter-count table: every cell at the study's sizes, counted from the model and by formula.

Per recurrent layer with m inputs and n units, each cell's formula lives in its module (`layer_parameters`;
the study's cell equations): RNN, IRNN n(n+m+1); Jordan n(n+m+1) + n(n+1); GRU 3n(n+m+1), reset-after + n (its
b_hn); LSTM 4n(n+m+1); LSTMP with projection p: 4n(p+m+1) + np. Plus the embedding (V x n, cells that read
one) and the readout (out x V + V).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jax
import pandas as pd

from data_gen.vocab import VOCAB_SIZE
from lte.core.cells import CELLS
from lte.core.model import ModelConfig, count_params, init_params

WITHIN = 0.05  # equal parameters: a count within 5% of the reference model's
SIZES = {"small profile (1 x 64)": (64, 1), "paper profile (2 x 400)": (400, 2)}


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


def parameter_table() -> pd.DataFrame:
    rows = []
    for size, (hidden, layers) in SIZES.items():
        for cell in CELLS:
            config = ModelConfig(cell=cell, hidden=hidden, layers=layers)
            params = init_params(jax.random.PRNGKey(0), config)
            formula = closed_form_parameters(config)
            counted = count_params(params)
            rows.append(
                {
                    "size": size,
                    "cell": cell,
                    "input": "embedding" if config.uses_embedding else "one-hot",
                    "recurrent layers": count_params(params["layers"]),
                    "embedding": formula["embedding"],
                    "readout": formula["readout"],
                    "total (counted)": counted,
                    "total (formula)": formula["total"],
                    "match": counted == formula["total"],
                }
            )
    return pd.DataFrame(rows)


def write_parameter_table(out_dir: Path) -> list[Path]:
    """results/tables/parameters.{csv,md,tex}; refuses to write a table whose counts miss the formulas."""
    from lte.study.analysis.tables import write_table

    table = parameter_table()
    if not table["match"].all():
        raise AssertionError(f"parameter counts differ from the formulas:\n{table[~table['match']]}")
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "parameters.csv", index=False)
    shown = table.drop(columns=["match"]).assign(**{c: table[c].map("{:,}".format) for c in NUMBERS})
    return [
        out_dir / "parameters.csv",
        *write_table(
            shown,
            out_dir / "parameters",
            "Parameters per model, counted from the initialised model (equal to the closed formulas in every row)",
        ),
    ]


NUMBERS = ["recurrent layers", "embedding", "readout", "total (counted)", "total (formula)"]
