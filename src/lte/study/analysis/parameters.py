"""The parameter-count table: every cell at the study's sizes, counted from the model and by formula.

Per recurrent layer with m inputs and n units, each cell's formula lives in its module (`layer_parameters`;
the study's cell equations): RNN, IRNN n(n+m+1); Jordan n(n+m+1) + n(n+1); GRU 3n(n+m+1), reset-after + n (its
b_hn); LSTM 4n(n+m+1); LSTMP with projection p: 4n(p+m+1) + np. Plus the embedding (V x n, cells that read
one) and the readout (out x V + V).
"""

from __future__ import annotations

from pathlib import Path

import jax
import pandas as pd

from lte.core.cells import CELLS
from lte.core.model import ModelConfig, count_params, init_params
from lte.study.parameters import (  # noqa: F401 (re-exported)
    WITHIN,
    closed_form_parameters,
    equal_parameter_hidden,
    equal_parameter_width,
    layer_formula,
)

SIZES = {"small profile (1 x 64)": (64, 1), "paper profile (2 x 400)": (400, 2)}


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
