"""The figures say what their intervals are, leave diverged runs out of the bars, and embed no Type 3 fonts."""

import shutil
from pathlib import Path

import numpy as np
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
        "bars: mean over 2 seeds, 95% t interval; dots: seeds (1 diverged run left out)"
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
