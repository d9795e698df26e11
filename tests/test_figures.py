"""The figures say what their intervals are, leave diverged runs out of the bars, and embed no Type 3 fonts."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lte.study.analysis import figures
from lte.study.analysis.__main__ import main as analysis_main

FIXTURE = Path(__file__).parent / "fixtures" / "results"


def test_a_diverged_run_is_left_out_of_its_bar_and_counted():
    fig, ax = figures.new_figure(1, 1, figsize=(3, 3))
    series = [("LSTM", "#0072B2", "", [np.array([0.5, 0.7]), np.array([0.2, np.nan, 0.4])])]
    counts, lost = figures._bars(ax, ["a", "b"], series, "accuracy")
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == pytest.approx([0.6, 0.3])  # the NaN would have made the second bar vanish
    assert (counts, lost) == ([2, 2], 1)
    assert figures._legend_title(counts, lost) == (
        "bars: mean over 2 seeds, 95% t interval clipped to [0, 1]; dots: seeds (1 diverged run left out)"
    )


def test_the_seed_note_gives_the_range_of_seeds():
    assert figures.seeds_note([8, 10, 9]) == "8-10 seeds"
    assert figures.seeds_note([1]) == "1 seed"
    with pytest.raises(ValueError, match="no finished runs"):
        figures.seeds_note([])


def test_figures_name_their_seeds_and_embed_truetype_fonts(tmp_path, capsys):
    results = tmp_path / "results"
    shutil.copytree(FIXTURE, results)
    assert analysis_main(["figures", "--profile", "quick", "--results", str(results)]) == 0
    pdfs = [Path(p) for p in capsys.readouterr().out.split() if p.endswith(".pdf")]
    assert len(pdfs) == 7  # the five of the experiments and the forest plots of questions 1 and 3
    for pdf in pdfs:
        data = pdf.read_bytes()
        assert b"/Type3" not in data, f"{pdf.name} embeds a Type 3 font"
        assert b"/FontFile2" in data, f"{pdf.name} embeds no TrueType font"


def _selection_table():
    """Two settings of one model and task, three seeds each, the second selected."""
    import pandas as pd

    seeds = [(0.2, 0.3, 0.25), (0.7, 0.9, 0.8)]
    return pd.DataFrame(
        {
            "model": "irnn",
            "task": "addition",
            "learning_rate": [0.1, 0.3],
            "clip": 1.0,
            "input_scale": 0.1,
            "seeds": 3,
            "val_char_accuracy": [float(np.mean(s)) for s in seeds],
            "seed_values": seeds,
            "selected": [False, True],
        }
    )


def test_lr_selection_draws_every_seed_and_its_mean_and_no_interval():
    from matplotlib.container import ErrorbarContainer

    fig = figures.lr_selection_plot(_selection_table())
    ax = fig.axes[0]
    assert not [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    seeds = np.concatenate([c.get_offsets() for c in ax.collections if c.get_gid() == "seeds"])
    assert sorted(seeds[:, 1]) == pytest.approx([0.2, 0.25, 0.3, 0.7, 0.8, 0.9])  # one dot per seed
    (line,) = ax.get_lines()
    assert list(line.get_ydata()) == pytest.approx([0.25, 0.8])  # the means
    legend = fig.legends[0]
    assert min(t.get_fontsize() for t in [*legend.get_texts(), legend.get_title()]) >= 7


def test_lr_selection_of_the_records_has_a_dot_for_each_seed_that_did_not_diverge():
    from lte.study.analysis.lr_selection import selection_table

    table = selection_table("quick", FIXTURE)
    fig = figures.lr_selection_plot(table)
    dots = sum(len(c.get_offsets()) for ax in fig.axes for c in ax.collections if c.get_gid() == "seeds")
    assert dots == sum(np.isfinite(v) for values in table.seed_values for v in values) > 0


def test_bar_intervals_of_proportions_stay_within_0_and_1():
    fig, ax = figures.new_figure(1, 1, figsize=(3, 3))
    # two seeds far apart: the t interval (12.7 standard errors either way) runs far past both ends
    series = [("IRNN", "#E69F00", "...", [np.array([0.99, 0.2]), np.array([0.05, 0.6])])]
    figures._bars(ax, ["a", "b"], series, "accuracy")
    from matplotlib.container import ErrorbarContainer

    (errorbars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    caps = [y for line in errorbars.lines[2] for segment in line.get_segments() for _, y in segment]
    assert min(caps) == pytest.approx(0.0) and max(caps) == pytest.approx(1.0)


def test_convergence_bands_stay_within_0_and_1(tmp_path, monkeypatch):
    results = tmp_path / "results"
    shutil.copytree(FIXTURE, results)
    drawn = {}
    monkeypatch.setattr(figures, "save_figure", lambda fig, stem, **kw: drawn.setdefault("fig", fig) and [])
    figures.convergence_figure("quick", results)
    bands = [c for ax in drawn["fig"].axes for c in ax.collections if c.get_paths()]
    ys = np.concatenate([path.vertices[:, 1] for band in bands for path in band.get_paths()])
    assert len(bands) >= 2 and ys.min() >= 0.0 and ys.max() <= 1.0


def test_the_adding_figure_step_labels_do_not_run_together():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from lte.study.analysis.adding import steps_in_thousands

    fig, ax = figures.new_figure(1, 1, figsize=(5.5, 4.2))  # one panel of the adding figure
    ax.plot([500, 150_000], [0.18, 0.01])  # the default profile's budget at T = 150
    steps_in_thousands(ax)
    fig.tight_layout()
    renderer = FigureCanvasAgg(fig).get_renderer()
    low, high = ax.get_xlim()
    shown = [t for t, x in zip(ax.get_xticklabels(), ax.get_xticks()) if low <= x <= high]
    boxes = [t.get_window_extent(renderer) for t in shown]
    digit = ax.text(0, 0, "0", fontsize=shown[0].get_fontsize()).get_window_extent(renderer).width
    assert len(boxes) >= 4
    assert min(b.x0 - a.x1 for a, b in zip(boxes, boxes[1:])) >= 2 * digit  # at least two digits' gap


def test_seed_dots_have_a_rim_that_keeps_them_apart_from_a_hatch():
    fig, ax = figures.new_figure(1, 1, figsize=(3, 3))
    figures._bars(ax, ["a"], [("double", "#E69F00", "...", [np.array([0.4, 0.5])])], "accuracy")
    from matplotlib.collections import PathCollection

    (dots,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert dots.get_zorder() > max(bar.get_zorder() for bar in ax.patches)
    assert tuple(dots.get_edgecolors()[0][:3]) == (1.0, 1.0, 1.0) and dots.get_linewidths()[0] > 0


def test_a_stopped_run_holds_its_final_value_in_the_convergence_curves():
    from lte.study.analysis.figures import held_by_step

    curves = pd.DataFrame(
        {"step": [100, 200, 300, 100, 200], "label_seed": [0, 0, 0, 1, 1], "acc": [0.1, 0.5, 0.9, 0.2, 0.4]}
    )
    held = held_by_step(curves, "acc")
    assert held.loc[300].tolist() == [0.9, 0.4]  # seed 1 stopped at step 200 and keeps its 0.4
    assert held.mean(axis=1).loc[300] == pytest.approx(0.65)
