"""The benchmark in its tiny mode: it runs and writes its table (no speed is asserted)."""

import csv
import json
import math
import time

import jax
import pytest

from lte.bench import Shape, counted_weights, run_benchmark
from lte.core.cells import CELLS
from lte.core.model import ModelConfig, init_params
from lte.core.recurrence import is_additive


def test_tiny_benchmark_writes_its_table(tmp_path):
    lines = []
    path = run_benchmark(
        [Shape(hidden=8, batch=4, steps=5)], repeats=2, out_dir=tmp_path, log=lines.append, autodiff=True
    )
    rows = list(csv.DictReader(open(path)))
    assert [r["cell"] for r in rows] == list(CELLS)
    for row in rows:
        assert float(row["step_s"]) > 0 and float(row["compile_s"]) > 0
        # plain autodiff's step beside the fused gradient's, where the cell has one (an additive cell)
        assert bool(row["autodiff_step_s"]) == is_additive(CELLS[row["cell"]])
        assert float(row["flop_per_s"]) == float(row["flop_per_step"]) / float(row["step_s"])
        if row["torch_step_s"]:  # the median of paired ratios lies between their extremes
            assert float(row["jax_over_torch_min"]) <= float(row["jax_over_torch_max"])
            # and again with each framework on one core, in a single-threaded process
            assert float(row["step_1core_s"]) > 0 and float(row["torch_step_1core_s"]) > 0
            assert float(row["jax_over_torch_1core_min"]) <= float(row["jax_over_torch_1core_max"])
    assert any("FLOP/step = 6 x" in line for line in lines)
    record = json.loads(path.with_suffix(".provenance.json").read_text())
    assert record["repeats"] == 2 and record["shapes"] == [{"hidden": 8, "batch": 4, "steps": 5, "layers": 2}]
    assert record["wall_s"] > 0 and record["device"] and record["versions"]["jax"] and "commit" in record
    from lte.bench import bench_figure

    assert all(p.stat().st_size > 1000 for p in bench_figure(path))


def test_tiny_ensemble_benchmark_writes_its_table(tmp_path):
    from lte.bench import run_ensemble_benchmark

    path = run_ensemble_benchmark(
        Shape(hidden=8, batch=4, steps=5), [1, 2], ["irnn"], 2, tmp_path, log=lambda _: None, sweep_workers=2
    )
    rows = list(csv.DictReader(open(path)))
    # each layout at each K, against one model alone (`lte train`'s step), all timed in one rotation
    assert [(r["layout"], int(r["models"])) for r in rows] == [
        ("vectorised", 1),
        ("vectorised", 2),
        ("sequential", 1),
        ("sequential", 2),
    ]
    assert [r["default_layout"] for r in rows] == ["False", "False", "True", "True"]  # on a CPU: sequential
    assert all(float(r["step_s"]) > 0 and float(r["single_step_s"]) > 0 for r in rows)
    assert len({r["single_step_s"] for r in rows}) == 1
    assert float(rows[1]["all_models_over_one"]) == pytest.approx(
        2 * float(rows[1]["single_step_s"]) / float(rows[1]["step_s"])
    )
    # each repeat's own ratio, paired in the rotation: the median's lies between their extremes
    assert all(
        float(r["all_models_over_one_min"]) <= float(r["all_models_over_one_max"]) and r["repeats"] == "2" for r in rows
    )
    # as in a sweep: two single-threaded worker processes at once, each timing every K
    assert all(float(r["sweep_step_s"]) > 0 and r["sweep_workers"] == "2" for r in rows)
    assert float(rows[0]["sweep_all_models_over_one"]) == pytest.approx(
        float(rows[0]["sweep_single_step_s"]) / float(rows[0]["sweep_step_s"])
    )
    # one model at batch 1, timed in the same rotation: the per-step overhead that K models could share
    assert all(float(r["batch_one_step_s"]) > 0 and float(r["overhead_share"]) > 0 for r in rows)
    assert float(rows[0]["shared_overhead_bound"]) == pytest.approx(1.0)
    assert json.loads(path.with_suffix(".provenance.json").read_text())["models"] == [1, 2]


def test_the_shared_overhead_bound():
    """K models sharing only a step's fixed cost: a third of the step is overhead -> at most 1.5x as K grows."""
    from lte.bench import shared_overhead_bound

    assert shared_overhead_bound(1, 6.0, 2.0) == pytest.approx(1.0)
    assert shared_overhead_bound(16, 6.0, 2.0) == pytest.approx(16 * 6 / (2 + 16 * 4))
    assert shared_overhead_bound(10**6, 6.0, 2.0) == pytest.approx(1.5, rel=1e-5)
    assert shared_overhead_bound(4, 1.0, 0.0) == pytest.approx(1.0)  # no overhead: nothing to share


def test_flop_counting_follows_the_rule():
    lstm = init_params(jax.random.PRNGKey(0), ModelConfig(cell="lstm", hidden=400, layers=2))
    assert counted_weights(lstm) == 4 * 400 * 400 * 4  # U, U, W (embedding input), W: 4 x (400 x 1600)
    irnn = init_params(jax.random.PRNGKey(0), ModelConfig(cell="irnn", hidden=400, layers=2))
    assert counted_weights(irnn) == 3 * 400 * 400  # the first layer's W is a one-hot lookup


def test_the_goals_report_says_met_or_by_how_much_missed(tmp_path):
    import pandas as pd

    from lte.bench import goals_report

    base = {
        "device": "cpu-test",
        "steps": 100,
        "layers": 2,
        "cpu_count": 2,
        "jax_version": "x",
        "torch_version": "y",
        "matmul_peak_flop_per_s": 1e11,
        "hidden": 400,
        "batch": 100,
    }
    rows = [
        {
            **base,
            "cell": "lstm",
            "step_s": 1.2,
            "torch_step_s": 1.0,
            "fraction_of_peak": 0.7,
            "autodiff_step_s": 1.5,
            "fused_over_autodiff": 0.8,
        },
        {
            **base,
            "cell": "irnn",
            "step_s": 0.3,
            "torch_step_s": 0.4,
            "fraction_of_peak": 0.5,
            "autodiff_step_s": 0.3,
            "fused_over_autodiff": 1.0,
        },
    ]
    path = tmp_path / "cpu-test.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    text = goals_report(path).read_text()
    assert "| no: 20% slower |" in text
    assert "| 70% | no: 5 points short |" in text
    assert "| 0.25x | yes |" in text and "0.80x the autodiff step | faster" in text
    rows[0].update(repeats=5, jax_over_torch_min=0.95, jax_over_torch_max=1.3)  # a miss that some repeats beat
    pd.DataFrame(rows).to_csv(path, index=False)
    text = goals_report(path).read_text()
    assert (
        "(1.20x; paired per-repeat ratios 0.95 to 1.30 over 5 repeats) | no: 20% slower, within the run's noise" in text
    )


def test_one_core_columns_are_the_medians_and_the_paired_ratios():
    from lte.bench import one_core_repeats, with_one_core_columns

    assert [one_core_repeats(n) for n in (1, 2, 5, 7, 20)] == [1, 2, 3, 3, 10]

    rows = [{"cell": "lstm"}, {"cell": "lstmp"}]
    with_one_core_columns(rows, [([1.0, 3.0, 2.0], [2.0, 2.0, 4.0]), None])
    assert rows[0] == {
        "cell": "lstm",
        "repeats_1core": 3,
        "step_1core_s": 2.0,
        "torch_step_1core_s": 2.0,
        "jax_over_torch_1core": 1.0,
        "jax_over_torch_1core_min": 0.5,
        "jax_over_torch_1core_max": 1.5,
    }
    assert rows[1] == {"cell": "lstmp"}  # no PyTorch step: no columns


def test_interleaved_timing_pairs_the_repeats():
    from lte.bench import interleaved_seconds

    calls = []
    times = interleaved_seconds([lambda: calls.append("a") or 1.0, lambda: calls.append("b") or 2.0], 3)
    assert calls == ["a", "b"] * 3 and times == [[1.0] * 3, [2.0] * 3]


def test_a_timed_block_warms_the_step_first_and_times_the_rest_per_call():
    import time

    from lte.bench import warm_block

    calls = []

    def step():  # only the first call is slow: the warm call, which the block must not time
        calls.append(len(calls))
        if len(calls) == 1:
            time.sleep(0.2)

    seconds = warm_block(step, 4)()
    assert calls == [0, 1, 2, 3, 4] and seconds < 0.05


def test_a_long_step_is_timed_without_the_untimed_call(monkeypatch):
    import lte.bench.timing as timing
    from lte.bench import per_step_seconds

    monkeypatch.setattr(timing, "WARM_CALL_BELOW_SECONDS", 0.01)
    monkeypatch.setattr(timing, "MIN_TIMED_SECONDS", 0.001)
    calls = {"short": 0, "long": 0}

    def short():
        calls["short"] += 1

    def long():
        calls["long"] += 1
        time.sleep(0.02)

    times = per_step_seconds([short, long], repeats=2)
    # 1 call estimates the long step (3 more the short one); then per repeat the short step is warmed (1 untimed
    # call) before its timed block, and the long one (over WARM_CALL_BELOW_SECONDS, one call per block) runs only
    # its timed call
    assert calls["long"] == 1 + 2 and calls["short"] > 1 + 3 + 2 * 2
    assert all(t >= 0.02 for t in times[1])


def test_too_few_repeats_is_a_clear_error(capsys):
    from lte.cli import main

    assert main(["bench", "--tiny", "--repeats", "0"]) == 2
    assert "--repeats 0: the benchmark needs at least 1 timed step per shape" in capsys.readouterr().err


def _tree_digest(folder):
    import hashlib
    from pathlib import Path

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).glob("*")) if p.is_file()}


def test_a_tiny_run_writes_to_a_temporary_folder_and_never_over_the_committed_tables(capsys):
    import re
    from pathlib import Path

    from lte.cli import main

    committed = _tree_digest("results/bench")
    assert committed, "the committed benchmark tables are missing"
    assert main(["bench", "--tiny", "--repeats", "1", "--cells", "irnn"]) == 0
    err = capsys.readouterr().err
    out = Path(re.search(r"writing to (\S+)", err).group(1))
    assert out.resolve() != Path("results/bench").resolve() and list(out.glob("*.csv"))
    assert _tree_digest("results/bench") == committed


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--shapes", "64:32:32"], r"--shapes '64:32:32': a shape is LAYERSxHIDDEN:BATCH:STEPS"),
        (["--shapes", "1x0:32:32"], r"must be positive integers"),
        (["--cells", "lstm,lsmt"], r"unknown cell\(s\) lsmt; allowed: lstm"),
        (["--tiny", "--full"], r"--tiny and --full: choose one"),
    ],
)
def test_bad_benchmark_filters_are_clear_errors(capsys, argv, message):
    import re

    from lte.cli import main

    assert main(["bench", *argv]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_filters_choose_the_cells_and_shapes():
    from lte.bench import Shape, parse_cells, parse_shape

    assert parse_shape("2x128:100:144") == Shape(hidden=128, batch=100, steps=144, layers=2)
    assert parse_cells("irnn, lstm") == ["irnn", "lstm"]


def test_the_device_name_carries_the_cpu_model_vector_instructions_and_cores(monkeypatch):
    import lte.bench.device as device

    monkeypatch.setattr(device, "cpu_model", lambda: "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz")
    monkeypatch.setattr(device, "vector_extension", lambda: "avx512")
    monkeypatch.setattr(device.os, "cpu_count", lambda: 2)
    assert device.device_name() == "cpu-intel_r_xeon_r_platinum_8375c_cpu_2.90ghz_avx512_2cores"
    monkeypatch.setattr(device, "vector_extension", lambda: "")
    assert device.device_name() == "cpu-intel_r_xeon_r_platinum_8375c_cpu_2.90ghz_2cores"


def test_the_vector_extension_is_read_from_the_cpu_flags(monkeypatch, tmp_path):
    import builtins

    import lte.bench.device as device

    real_open = builtins.open
    for flags, expected in (
        ("fpu sse2 avx avx2 fma avx512f avx512bw", "avx512"),
        ("fpu sse2 avx avx2 fma", "avx2"),
        ("fp asimd evtstrm", "neon"),
        ("fpu sse2", ""),
    ):
        cpuinfo = tmp_path / f"cpuinfo-{expected or 'none'}"
        cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
        monkeypatch.setattr(
            builtins,
            "open",
            lambda path, *a, c=cpuinfo, **k: real_open(c if path == "/proc/cpuinfo" else path, *a, **k),
        )
        assert device.vector_extension() == expected


def test_a_gpu_that_jax_does_not_use_is_reported(monkeypatch):
    import lte.bench.device as device

    monkeypatch.setattr(device.shutil, "which", lambda name: "/usr/bin/nvidia-smi" if name == "nvidia-smi" else None)
    assert "JAX runs on the CPU" in device.gpu_unused_warning()
    monkeypatch.setattr(device.shutil, "which", lambda name: None)
    monkeypatch.setattr(device, "Path", lambda *_: type("P", (), {"exists": lambda self: False})())
    assert device.gpu_unused_warning() is None


def test_the_cudnn_lstm_step_trains_through_its_reference_on_a_cpu():
    """The cuDNN column's step (GPUs only) runs here with jax.experimental.rnn's pure-JAX reference in its place."""
    from lte.bench import Shape, cudnn_lstm_step, reference_lstm

    step = cudnn_lstm_step(Shape(hidden=8, batch=4, steps=5, layers=1), lstm_fn=reference_lstm)
    losses = [step() for _ in range(30)]
    assert all(map(math.isfinite, losses)) and losses[-1] < losses[0]


def test_compiled_memory_is_measured_per_shape():
    from lte.bench import Shape, jax_step

    small = jax_step("lstm", Shape(hidden=8, batch=4, steps=5, layers=1))[1]["memory_mb"]
    large = jax_step("lstm", Shape(hidden=64, batch=32, steps=40, layers=1))[1]["memory_mb"]
    assert 0 < small < large


def test_the_goals_report_lists_the_small_shapes_and_the_ensembles(tmp_path):
    import pandas as pd

    from lte.bench import bench_figure, goals_report

    base = {
        "device": "cpu-test",
        "layers": 1,
        "cpu_count": 2,
        "jax_version": "x",
        "torch_version": "y",
        "matmul_peak_flop_per_s": 1e11,
        "steps": 32,
        "repeats": 7,
    }
    rows = [
        {
            **base,
            "cell": "lstm",
            "hidden": 64,
            "batch": 32,
            "step_s": 0.0021,
            "torch_step_s": 0.0015,
            "jax_over_torch": 1.4,
            "jax_over_torch_min": 1.3,
            "jax_over_torch_max": 1.5,
            "fraction_of_peak": 0.01,
        },
        {
            **base,
            "cell": "irnn",
            "hidden": 64,
            "batch": 32,
            "step_s": 0.0008,
            "torch_step_s": 0.0010,
            "jax_over_torch": 0.8,
            "jax_over_torch_min": 0.7,
            "jax_over_torch_max": 0.9,
            "fraction_of_peak": 0.01,
        },
    ]
    rows[0].update(
        repeats_1core=4,
        step_1core_s=0.0020,
        torch_step_1core_s=0.0025,
        jax_over_torch_1core=0.8,
        jax_over_torch_1core_min=0.7,
        jax_over_torch_1core_max=0.9,
    )
    for row, split_s in zip(rows, (0.0012, 0.0011)):  # the batch split over both cores
        row.update(
            split_devices=2,
            split_step_s=split_s,
            split_over_torch=split_s / row["torch_step_s"],
            split_over_torch_min=0.7,
            split_over_torch_max=1.2,
        )
    path = tmp_path / "cpu-test.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    ensemble = [
        {
            "cell": cell,
            "layers": 1,
            "hidden": 64,
            "batch": 32,
            "steps": 32,
            "models": k,
            "layout": "sequential",
            "default_layout": True,
            "all_models_over_one": speed,
            "tokens_per_s_all_models": 1000 * speed,
            "tokens_per_s_per_model": 1000 * speed / k,
            "overhead_share": 0.25,
            "shared_overhead_bound": 1.3,
        }
        for cell, speeds in (("lstm", (1.0, 0.9, 1.5)), ("irnn", (1.0, 1.8, 2.5)))
        for k, speed in zip((1, 4, 16), speeds)
    ]
    pd.DataFrame(ensemble).to_csv(tmp_path / "cpu-test-ensemble.csv", index=False)
    text = goals_report(path).read_text()
    assert (
        "| LSTM 1x64, batch 32, T 32, all cores, one device: step no slower than PyTorch's | 2.10 ms vs 1.50 ms (1.40x"
    ) in text
    assert "| no: 40% slower |" in text and "| IRNN 1x64, batch 32, T 32" in text
    assert "| the study's shapes, all of them, all cores, one device | 1 of 2 met | no |" in text
    split = ", all cores, the batch split over 2 CPU devices (`lte train --cpu-devices 2`)"
    assert (
        f"| LSTM 1x64, batch 32, T 32{split}: step no slower than PyTorch's | 1.20 ms vs 1.50 ms (0.80x; "
        "paired per-repeat ratios 0.70 to 1.20 over 7 repeats) | yes |"
    ) in text
    assert (
        f"| IRNN 1x64, batch 32, T 32{split}: step no slower than PyTorch's | 1.10 ms vs 1.00 ms (1.10x; "
        "paired per-repeat ratios 0.70 to 1.20 over 7 repeats) | no: 10% slower, within the run's noise"
    ) in text
    assert f"| the study's shapes, all of them{split} | 1 of 2 met | no |" in text
    assert (
        "| LSTM 1x64, batch 32, T 32, one core each (as `lte sweep`'s workers run): step no slower than "
        "PyTorch's | 2.00 ms vs 2.50 ms (0.80x; paired per-repeat ratios 0.70 to 0.90 over 4 repeats) | yes |"
    ) in text
    assert (
        "| the study's shapes, all of them, one core each (as `lte sweep`'s workers run) | 1 of 1 met | yes |" in text
    )
    assert (
        "| LSTM 1x64 B32, sequential (this device's default): K = 16 models in one step, at least 2x the "
        "throughput of one at a time | 1.50x (the "
        "most that sharing the per-step overhead could give: 1.30x; a batch-1 step costs 25% of a batch-32 "
        "step) | no: 0.50 short |" in text
    )
    assert (
        "| IRNN 1x64 B32, sequential (this device's default): K = 16 models in one step, at least 2x the "
        "throughput of one at a time | 2.50x ("
        in text
        and "| yes |" in text
    )
    # ensembles are K > 1 (a sweep runs K = 1 as `lte train`'s step): K = 1's own ratio is shown beside
    assert (
        "| LSTM 1x64 B32, sequential (this device's default): never below 1.0x at any K (4, 16) | lowest 0.90x "
        "at K = 4; K = 1 through the ensemble path: 1.00x (a sweep runs K = 1 as `lte train`'s own step) | no |" in text
    )
    assert "never below 1.0x at any K (4, 16) | lowest 1.80x at K = 4; K = 1 through" in text
    # with paired per-repeat ratios, a median below 1.0x whose repeats reach 1.0x reads as noise
    noisy = pd.DataFrame(ensemble).assign(all_models_over_one_min=0.85, all_models_over_one_max=1.05, repeats=7)
    noisy.to_csv(tmp_path / "cpu-test-ensemble.csv", index=False)
    text = goals_report(path).read_text()
    assert (
        "| lowest 0.90x at K = 4 (paired per-repeat ratios 0.85 to 1.05 over 7 repeats); K = 1 through the "
        "ensemble path: 1.00x (a sweep runs K = 1 as `lte train`'s own step) | no, within the run's noise (some "
        "repeats were at or above 1.0x) |"
    ) in text
    # as in a sweep: K = 1 at 1.01x (the ensemble path with one model, timed against `lte train`'s step) is no
    # reason to group; a K > 1 above 1.0x is
    for speeds, verdict in (((1.01, 0.9, 0.8), "one model at a time"), ((1.0, 1.1, 0.8), "ensembles pay")):
        pd.DataFrame(ensemble).assign(sweep_workers=2, sweep_all_models_over_one=list(speeds) * 2).to_csv(
            tmp_path / "cpu-test-ensemble.csv", index=False
        )
        best = max(zip(speeds, (1, 4, 16)))
        assert (
            f"as in a sweep (2 single-threaded workers at once): the best K | K = {best[1]}: {best[0]:.2f}x "
            f"(K 1: {speeds[0]:.2f}x, K 4: {speeds[1]:.2f}x, K 16: {speeds[2]:.2f}x) | {verdict} |"
            in goals_report(path).read_text()
        )
    assert all(p.stat().st_size > 1000 for p in bench_figure(path))


def test_the_goals_report_times_a_default_run_only(tmp_path):
    import pandas as pd

    from lte.bench import ENSEMBLE_MODELS, STUDY_CELLS, STUDY_SHAPES, goals_report

    path = tmp_path / "cpu-test.csv"
    pd.DataFrame(
        [
            {
                "device": "cpu-test",
                "cell": "lstm",
                "hidden": 64,
                "batch": 32,
                "steps": 32,
                "layers": 1,
                "cpu_count": 2,
                "jax_version": "x",
                "torch_version": None,
                "matmul_peak_flop_per_s": 1e11,
                "step_s": 0.002,
                "torch_step_s": None,
                "fraction_of_peak": 0.1,
                "repeats": 7,
                "compile_s": 0.9,
            }
        ]
    ).to_csv(path, index=False)
    # both tables' wall times come from their provenance records
    (tmp_path / "cpu-test-ensemble.provenance.json").write_text(json.dumps({"models": ENSEMBLE_MODELS, "wall_s": 60.0}))
    for steps, expected in (
        (
            {"wall_s": 200.0},
            "| 4.3 min: the step table 200 s, the ensemble table 60 s (steps "
            "compiled afresh: median compile 0.90 s; `make bench` adds the data path's table) | yes |",
        ),
        (
            {"wall_s": 290.0},
            "| 5.8 min: the step table 290 s, the ensemble table 60 s (steps "
            "compiled afresh: median compile 0.90 s; `make bench` adds the data path's table) | "
            "no: 0.8 min over |",
        ),
        ({"wall_s": 200.0, "autodiff": True}, None),
        ({"wall_s": 200.0, "cells": ["lstm"]}, None),
    ):
        record = {"shapes": [vars(s) for s in STUDY_SHAPES], "cells": STUDY_CELLS, "autodiff": False, **steps}
        path.with_suffix(".provenance.json").write_text(json.dumps(record))
        text = goals_report(path).read_text()
        line = [row for row in text.splitlines() if "| the default `lte bench` (both tables) within 5 minutes |" in row]
        if expected is None:  # an --autodiff, --full or filtered run's time answers another question
            assert line == []
        else:
            assert len(line) == 1 and line[0].endswith(expected), line


def test_with_two_cpu_devices_a_row_times_the_split_step_beside_the_others():
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json\nfrom lte.core.data_parallel import use_cpu_devices\nuse_cpu_devices(2)\n"
        "from lte.bench import Shape, _bench_row\n"
        "row = _bench_row('lstm', Shape(hidden=8, batch=4, steps=5), 2, 1e11, 'cpu-test', False, lambda _: None)\n"
        "odd = _bench_row('irnn', Shape(hidden=8, batch=3, steps=5), 1, 1e11, 'cpu-test', False, lambda _: None)\n"
        "print(json.dumps([row, odd]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    row, odd = json.loads(result.stdout.strip().splitlines()[-1])
    assert row["split_devices"] == 2 and row["split_step_s"] > 0
    if row["torch_step_s"]:  # PyTorch installed (the bench extra): the paired ratios beside it
        assert row["split_over_torch_min"] <= row["split_over_torch"] <= row["split_over_torch_max"]
    assert "split_step_s" not in odd  # 3 rows do not split over 2 devices: no split step timed
    assert row["autodiff_step_s"] is None  # plain autodiff is timed only when asked (`lte bench --full`)
