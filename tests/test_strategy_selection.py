"""The per-strategy selection stage: rates scaled around the base selection, and the most specific selection
taken by the experiments that say "selected" (docs/preregistration.md, section 4)."""

import json
import textwrap

import numpy as np
import pytest

from lte.core.errors import LteError
from lte.study.experiment import load_experiment

STAGE_2 = textwrap.dedent("""
    [experiment]
    name = "strategy_selection"

    [grid]
    model = ["lstm"]
    strategy = ["naive", "combined"]
    seed = [100]

    [[variant]]
    label = "rate / 3"
    id = "third"
    learning_rate_scale = 0.3333333333333333

    [[variant]]
    label = "rate x 3"
    id = "triple"
    learning_rate_scale = 3.0

    [fixed]
    task = "addition"
    length = 2
    nesting = 1
    learning_rate = "selected-base"
    clip = "selected-base"
    input_scale = "selected-base"

    [profiles.quick]
    hidden = 8
    max_steps = 10
""")


@pytest.fixture()
def results(tmp_path):
    folder = tmp_path / "results" / "lr_selection"
    folder.mkdir(parents=True)
    base = {"learning_rate": 1.5, "clip": 1.0, "input_scale": 0.3, "val_char_accuracy": 0.6, "seeds": 3}
    (folder / "selected_quick.json").write_text(json.dumps({"lstm/addition": base}))
    (folder / "selected_strategies_quick.json").write_text(
        json.dumps({"lstm/addition/combined": {**base, "learning_rate": 4.5}})
    )
    return tmp_path / "results"


def test_the_stage_scales_the_base_selection_and_ignores_its_own_output(tmp_path, results):
    path = tmp_path / "strategy_selection.toml"
    path.write_text(STAGE_2)
    _, cells = load_experiment(path, "quick", results)
    rates = sorted({(c.labels["strategy"], c.labels["variant_id"], c.config.learning_rate) for c in cells})
    # "selected-base": the per-(model, task) rate 1.5, never the per-strategy 4.5 it will itself write
    assert rates == [
        ("combined", "third", 0.5),
        ("combined", "triple", 4.5),
        ("naive", "third", 0.5),
        ("naive", "triple", 4.5),
    ]
    assert {c.config.clip for c in cells} == {1.0}


def test_selected_takes_the_per_strategy_rate_where_there_is_one(tmp_path, results):
    path = tmp_path / "addition.toml"
    without_variants = STAGE_2.split("[[variant]]")[0] + "[fixed]" + STAGE_2.split("[fixed]")[1]
    path.write_text(
        without_variants.replace('"selected-base"', '"selected"').replace(
            'name = "strategy_selection"', 'name = "addition"'
        )
    )
    _, cells = load_experiment(path, "quick", results)
    assert {c.labels["strategy"]: c.config.learning_rate for c in cells} == {"naive": 1.5, "combined": 4.5}


def test_a_scale_that_is_no_positive_number_is_refused(tmp_path, results):
    path = tmp_path / "bad.toml"
    path.write_text(STAGE_2.replace("learning_rate_scale = 3.0", "learning_rate_scale = -3.0"))
    with pytest.raises(LteError, match="learning_rate_scale .* must be a positive number, got -3.0"):
        load_experiment(path, "quick", results)


def test_the_stage_writes_each_strategys_best_rate_and_names_an_edge(tmp_path, monkeypatch):
    import test_verdicts as records

    from lte.study.analysis.lr_selection import write_strategy_selection

    results = tmp_path / "results"
    rng = np.random.default_rng(0)
    cells = []
    for strategy, best in (("naive", 0.5), ("combined", 4.5)):  # combined's best is its largest rate tried
        for rate in (0.5, 1.5, 4.5):
            for seed in (100, 101, 102):
                val = 0.8 - 0.1 * abs(np.log(rate / best)) + rng.normal(0, 0.001)
                config = records.config(
                    task="addition",
                    length=2,
                    nesting=1,
                    hidden=8,
                    model="lstm",
                    strategy=strategy,
                    learning_rate=rate,
                    clip=1.0,
                    input_scale=0.3,
                    seed=seed,
                )
                cells.append(
                    {
                        "name": f"{strategy}-{rate}-{seed}",
                        "config": config,
                        "labels": {"strategy": strategy, "rate": rate, "seed": seed},
                        "summary": records._summary(val, val, 10),
                    }
                )
    monkeypatch.setattr(records, "PROFILE", "quick")
    records.write_records(results, "strategy_selection", cells, rng)
    lines = []
    selected = write_strategy_selection(records.PROFILE, results, log=lines.append)
    assert selected["lstm/addition/naive"]["learning_rate"] == 0.5
    assert selected["lstm/addition/combined"]["learning_rate"] == 4.5
    assert len(lines) == 2 and all("on the edge" in line for line in lines)  # 0.5 is the smallest tried too
    written = json.loads((results / "lr_selection" / f"selected_strategies_{records.PROFILE}.json").read_text())
    assert written == selected
