"""The paper profile's compute, estimated: its FLOP count from its experiment files, its time at given rates.

Nothing of the paper profile has been run. Its cost is bounded from above by every cell running to its step
cap (the plateau schedule stops most runs sooner): FLOP per training step by the benchmark's counting rule
(`lte.bench.steps.COUNTING_RULE`), plus each evaluation's forward passes over the validation and test sets
(a third of a training step's FLOP per row). The time at a rate is that count over the rate: the rates are
the current benchmark table's achieved FLOP/s (a CPU's, measured) and round GPU rates that are assumptions,
not measurements. The table says which is which.

    lte paper-budget        # writes results/bench/paper-budget.md and .json (seconds)
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import jax
import pandas as pd

from lte.bench.steps import COUNTING_RULE, counted_weights
from lte.study.experiment import RESULTS, load_experiment

# run in the Makefile's order (make sweeps), each experiment of the paper profile
EXPERIMENTS = (
    "lr_selection",
    "strategy_selection",
    "question3_selection",
    "addition",
    "memorisation",
    "convergence",
    "program",
    "adding_selection",
    "adding_problem",
)
ASSUMED_GPU_FLOP_PER_S = (10e12, 50e12)  # round rates for a GPU, not measured: float32 on an H100 peaks near 67e12
CURRENT_TABLE = "cpu-intel_r_xeon_r_processor_avx512_2cores.csv"  # results/bench/README.md's current table


def _stand_in_selections(root: Path, experiments: Path) -> None:
    """Selection files for the paper profile with any rate: FLOP do not depend on the rate, clip or scale."""
    selected = root / "lr_selection"
    selected.mkdir(parents=True)
    base = {"learning_rate": 0.1, "clip": 1.0, "input_scale": 0.1, "val_char_accuracy": 0.0, "seeds": 0}
    pairs = [f"{m}/{t}" for m in ("lstm", "irnn", "rnn") for t in ("copy", "addition", "program")]
    (selected / "selected_paper.json").write_text(json.dumps({p: base for p in pairs}))
    adding = {m: {"learning_rate": 0.01, "clip": 1.0} for m in ("lstm", "irnn", "rnn")}
    (selected / "selected_adding_paper.json").write_text(json.dumps(adding))


def cell_flop(config) -> float:
    """FLOP of one run at its step cap: training steps, and the evaluations' forward passes."""
    key = jax.random.PRNGKey(0)
    if hasattr(config, "sequence_length"):  # the adding problem: one layer reading 2 real inputs per step
        from lte.kinds.adding import init_params

        layer = init_params(key, config)["layer"]
        weights = sum(w.size for w in jax.tree_util.tree_leaves(layer) if w.ndim == 2)
        rows, length, evaluated = config.batch_size, config.sequence_length, config.test_size + config.val_size
    else:
        from lte.core.model import init_params

        weights = counted_weights(init_params(key, config.model_config()))
        rows, length, evaluated = config.batch_size, config.resolved_row_length, config.test_size + config.val_size
    steps = config.max_steps
    evaluations = steps // config.eval_every + 1
    return 6 * weights * length * (rows * steps + evaluated * evaluations / 3)


def estimate(bench_table: Path, experiments: Path = Path("experiments")) -> pd.DataFrame:
    """Per experiment of the paper profile: cells, FLOP at the step caps, and hours at each rate."""
    measured = pd.read_csv(bench_table)
    largest = measured[measured.batch == measured.batch.max()]
    cpu_rate = float(largest.flop_per_s.max())
    rates = {f"hours at {cpu_rate / 1e9:.0f} GFLOP/s (measured: {measured.device.iloc[0]})": cpu_rate}
    rates.update({f"hours at {r / 1e12:.0f} TFLOP/s (assumed GPU)": r for r in ASSUMED_GPU_FLOP_PER_S})
    rows = []
    with tempfile.TemporaryDirectory(prefix="lte-paper-budget-") as temporary:
        _stand_in_selections(Path(temporary), experiments)
        for name in EXPERIMENTS:
            _, cells = load_experiment(experiments / f"{name}.toml", "paper", results=Path(temporary))
            flop = sum(cell_flop(c.config) for c in cells)
            rows.append({"experiment": name, "cells": len(cells), "flop": flop})
    table = pd.DataFrame(rows)
    table.loc[len(table)] = {"experiment": "all", "cells": table.cells.sum(), "flop": table.flop.sum()}
    for label, rate in rates.items():
        table[label] = table.flop / rate / 3600
    return table


def write_estimate(results: Path = RESULTS, experiments: Path = Path("experiments"), log=print) -> Path:
    """results/bench/paper-budget.md (the table and how it was made) and .json (the same numbers)."""
    from lte.core.provenance import provenance

    table = estimate(results / "bench" / CURRENT_TABLE, experiments)
    made = provenance()
    out = results / "bench" / "paper-budget.md"
    header = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    body = ["| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row) + " |" for row in
            table.itertuples(index=False)]  # fmt: skip
    lines = [
        "# The paper profile's compute, estimated (not measured)",
        "",
        "Every cell of the paper profile at its step cap (an upper bound: the plateau schedule stops most runs "
        "sooner), from the experiment files; evaluations included. Made by `lte paper-budget` "
        "(`lte.bench.paper_budget`).",
        "",
        f"- FLOP: {COUNTING_RULE}; an evaluation's forward pass counts a third of that per row.",
        f"- The measured rate is the largest achieved FLOP/s at the largest batch of `{CURRENT_TABLE}` "
        "(the current benchmark table, 2 CPU cores); the GPU rates are round assumptions, not measurements.",
        f"- Made at commit `{str(made.get('commit'))[:7]}`; the JSON beside this file holds the same numbers and "
        "the full provenance.",
        "",
        *header,
        *body,
        "",
    ]
    out.write_text("\n".join(lines))
    record = {"table": table.to_dict(orient="records"), "provenance": made}
    out.with_suffix(".json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    log(str(out))
    return out
