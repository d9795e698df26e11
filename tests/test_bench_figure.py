"""The benchmark's figure is drawn from its CSVs alone: a ratio strip per way of running the steps, its colour
code in the legend, titles in words; `lte bench --figures-only` redraws it without timing anything."""

from __future__ import annotations

import json

import pandas as pd
from matplotlib.colors import to_rgba

from lte.bench import figure

DEVICE = "cpu-intel_r_xeon_r_processor_avx512_2cores"


def _table() -> pd.DataFrame:
    """Two cells at two shapes; every ratio column, one ratio above 1."""
    rows = []
    for cell, ratio in (("lstm", 1.3), ("irnn", 0.5)):
        for steps in (32, 144):
            row = {"device": DEVICE, "cell": cell, "hidden": 64, "batch": 32, "steps": steps, "layers": 1}
            row |= {"step_s": 0.002, "torch_step_s": 0.002 / ratio, "jax_version": "0.10", "torch_version": "2.1"}
            for column in figure.RATIO_STRIPS:
                row |= {column: ratio, f"{column}_min": ratio * 0.9, f"{column}_max": ratio * 1.1}
            rows.append(row)
    return pd.DataFrame(rows)


def _ensemble() -> pd.DataFrame:
    return pd.DataFrame(
        {"device": DEVICE, "cell": "lstm", "hidden": 64, "batch": 32, "steps": 32, "layers": 1}
        | {"layout": "sequential", "default_layout": True, "models": [1, 4, 16], "all_models_over_one": [1, 1.1, 1.2]}
    )


def test_a_strip_per_way_of_running_with_its_colour_code_and_titles_in_words():
    table = _table()
    fig = figure.bench_plot(table, _ensemble(), "lte bench on Intel Xeon Processor, AVX-512, 2 cores")
    strips = [ax for ax in fig.axes if ax.get_title(loc="left").startswith("JAX step / PyTorch step")]
    assert len(strips) == len(figure.RATIO_STRIPS)
    for ax in strips:
        for cell in ("lstm", "irnn"):
            bars = [p for p in ax.patches if p.get_gid() == f"ratio:{cell}"]
            ratio = table[table.cell == cell].jax_over_torch.iloc[0]
            assert len(bars) == 2  # one per shape
            assert all(b.get_facecolor() == to_rgba(figure.FASTER if ratio <= 1 else figure.SLOWER) for b in bars)
    legend = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"ratio ≤ 1: the project's step is faster", "ratio > 1: PyTorch's step is faster"} <= legend
    titles = [ax.get_title(loc=where) for ax in fig.axes for where in ("left", "center")] + [fig._suptitle.get_text()]
    assert not any("_" in t or DEVICE in t for t in titles)  # no file slug
    assert any(t.startswith("K models in one step") for t in titles)


def test_device_words_read_the_provenance_and_the_vector_instructions(tmp_path):
    path = tmp_path / f"{DEVICE}.csv"
    assert figure.device_words(path, _table()) == "intel r xeon r processor, AVX-512, 2 cores"
    path.with_suffix(".provenance.json").write_text(json.dumps({"device": "cpu: Intel(R) Xeon(R) Processor"}))
    assert figure.device_words(path, _table()) == "Intel Xeon Processor, AVX-512, 2 cores"


def test_figures_only_redraws_from_the_csvs_and_times_nothing(tmp_path, monkeypatch, capsys):
    import lte.bench
    from lte.cli import main

    def timed(*args, **kwargs):
        raise AssertionError("the benchmark ran")

    monkeypatch.setattr(lte.bench, "run_benchmark", timed)
    monkeypatch.setattr(lte.bench, "run_ensemble_benchmark", timed)
    _table().to_csv(tmp_path / f"{DEVICE}.csv", index=False)
    _ensemble().to_csv(tmp_path / f"{DEVICE}-ensemble.csv", index=False)
    assert main(["bench", "--figures-only", "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"{DEVICE}.png").stat().st_size > 1000 and (tmp_path / f"{DEVICE}.pdf").exists()
    assert not (tmp_path / f"{DEVICE}-ensemble.png").exists()  # an ensemble table is drawn with its table
    assert "wrote" in capsys.readouterr().out
