"""The benchmark in its tiny mode: it runs and writes its table (no speed is asserted)."""

import csv
import json

from lte.bench import Shape, counted_weights, run_benchmark
from lte.cells import CELLS
from lte.model import ModelConfig, init_params

import jax


def test_tiny_benchmark_writes_its_table(tmp_path):
    lines = []
    path = run_benchmark([Shape(hidden=8, batch=4, steps=5)], repeats=2, out_dir=tmp_path, log=lines.append)
    rows = list(csv.DictReader(open(path)))
    assert [r["cell"] for r in rows] == list(CELLS)
    for row in rows:
        assert float(row["step_s"]) > 0 and float(row["compile_s"]) > 0
        assert float(row["flop_per_s"]) == float(row["flop_per_step"]) / float(row["step_s"])
        if row["torch_step_s"]:  # the median of paired ratios lies between their extremes
            assert float(row["jax_over_torch_min"]) <= float(row["jax_over_torch_max"])
    assert any("FLOP/step = 6 x" in line for line in lines)
    record = json.loads(path.with_suffix(".provenance.json").read_text())
    assert record["repeats"] == 2 and record["shapes"] == [{"hidden": 8, "batch": 4, "steps": 5, "layers": 2}]
    assert record["wall_s"] > 0 and record["device"] and record["versions"]["jax"] and "commit" in record
    from lte.bench import bench_figure

    assert all(p.stat().st_size > 1000 for p in bench_figure(path))


def test_tiny_ensemble_benchmark_writes_its_table(tmp_path):
    from lte.bench import run_ensemble_benchmark

    path = run_ensemble_benchmark(Shape(hidden=8, batch=4, steps=5), [1, 2], ["irnn"], 2, tmp_path, log=lambda _: None)
    rows = list(csv.DictReader(open(path)))
    assert [int(r["models"]) for r in rows] == [1, 2] and all(float(r["step_s"]) > 0 for r in rows)
    assert json.loads(path.with_suffix(".provenance.json").read_text())["models"] == [1, 2]


def test_flop_counting_follows_the_rule():
    lstm = init_params(jax.random.PRNGKey(0), ModelConfig(cell="lstm", hidden=400, layers=2))
    assert counted_weights(lstm) == 4 * 400 * 400 * 4  # U, U, W (embedding input), W: 4 x (400 x 1600)
    irnn = init_params(jax.random.PRNGKey(0), ModelConfig(cell="irnn", hidden=400, layers=2))
    assert counted_weights(irnn) == 3 * 400 * 400  # the first layer's W is a one-hot lookup


def test_the_goals_report_says_met_or_by_how_much_missed(tmp_path):
    import pandas as pd

    from lte.bench import goals_report

    base = {"device": "cpu-test", "steps": 100, "layers": 2, "cpu_count": 2, "jax_version": "x", "torch_version": "y",
            "matmul_peak_flop_per_s": 1e11, "hidden": 400, "batch": 100}
    rows = [{**base, "cell": "lstm", "step_s": 1.2, "torch_step_s": 1.0, "fraction_of_peak": 0.7,
             "autodiff_step_s": 1.5, "fused_over_autodiff": 0.8},
            {**base, "cell": "irnn", "step_s": 0.3, "torch_step_s": 0.4, "fraction_of_peak": 0.5,
             "autodiff_step_s": 0.3, "fused_over_autodiff": 1.0}]
    path = tmp_path / "cpu-test.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    text = goals_report(path).read_text()
    assert "| no: 20% slower |" in text
    assert "| 70% | no: 5 points short |" in text
    assert "| 0.25x | yes |" in text and "0.80x the autodiff step | faster" in text
    rows[0].update(repeats=5, jax_over_torch_min=0.95, jax_over_torch_max=1.3)  # a miss that some repeats beat
    pd.DataFrame(rows).to_csv(path, index=False)
    text = goals_report(path).read_text()
    assert "(1.20x; paired per-repeat ratios 0.95 to 1.30 over 5 repeats) | no: 20% slower, within the run's noise" in text


def test_interleaved_timing_pairs_the_repeats():
    from lte.bench import interleaved_seconds

    calls = []
    times = interleaved_seconds([lambda: calls.append("a"), lambda: calls.append("b")], 3)
    assert calls == ["a", "b"] * 3 and [len(t) for t in times] == [3, 3]


def test_too_few_repeats_is_a_clear_error(capsys):
    from lte.cli import main

    assert main(["bench", "--tiny", "--repeats", "0"]) == 2
    assert "--repeats 0: the benchmark needs at least 1 timed step per shape" in capsys.readouterr().err
