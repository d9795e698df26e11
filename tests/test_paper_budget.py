"""The paper profile's compute estimate: FLOP by the benchmark's counting rule, hours as FLOP over a rate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lte.bench.paper_budget import CURRENT_TABLE, EXPERIMENTS, cell_flop, estimate
from lte.core.config import TrainConfig
from lte.kinds.adding import AddingConfig

ROOT = Path(__file__).resolve().parents[1]


def test_a_runs_flop_is_its_steps_and_evaluations_by_the_counting_rule():
    config = TrainConfig(task="addition", length=2, model="irnn", hidden=8, layers=1, batch_size=4, max_steps=10,
                         eval_every=5, val_size=6, test_size=9)  # fmt: skip
    # the IRNN reads one-hot characters: its first layer's W is a lookup, so U (8 x 8) alone counts
    rows = config.resolved_row_length
    assert cell_flop(config) == pytest.approx(6 * 64 * rows * (4 * 10 + (6 + 9) * 3 / 3))
    adding = AddingConfig(model="irnn", hidden=4, sequence_length=10, batch_size=2, max_steps=5, eval_every=5,
                          test_size=3)  # fmt: skip
    assert cell_flop(adding) == pytest.approx(6 * (2 * 4 + 4 * 4) * 10 * (2 * 5 + 3 * 2 / 3))


def test_the_estimate_covers_every_experiment_and_divides_by_its_rates():
    table = estimate(ROOT / "results" / "bench" / CURRENT_TABLE, ROOT / "experiments")
    assert list(table.experiment) == [*EXPERIMENTS, "all"]
    assert table.flop.iloc[-1] == pytest.approx(table.flop.iloc[:-1].sum()) and (table.flop > 0).all()
    measured = pd.read_csv(ROOT / "results" / "bench" / CURRENT_TABLE)
    rate = measured[measured.batch == measured.batch.max()].flop_per_s.max()
    hours = [c for c in table.columns if c.startswith("hours at")]
    assert len(hours) == 3 and "measured" in hours[0] and all("assumed" in c for c in hours[1:])
    assert table[hours[0]].iloc[-1] == pytest.approx(table.flop.iloc[-1] / rate / 3600)
