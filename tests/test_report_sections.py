"""Sections of the study report (lte.study.analysis.report) that read the profile's settings and selections."""

from pathlib import Path

from lte.study.analysis import method_sections, provenance, report

RESULTS = Path("results")


def test_the_deviations_quote_the_quick_profiles_own_settings():
    text = "\n".join(method_sections.deviations_section("quick", RESULTS))
    assert "1 layer of 32 units, batches of 32 rows" in text and "64 units" not in text
    assert "this profile's cap (copy 1,500, addition 2,000, programs 800 steps" in text
    assert "40,000" not in text and "30,000" not in text
    assert "(copy-4 in this profile)" in text
    # docs/preregistration.md, section 10: what the quick profile's verdicts are
    assert "while its caps are 800-2,000 steps: a stop can never fire" in text
    assert "Its verdicts exercise the machinery and are not the study's answers." in text


def test_without_records_the_deviations_read_the_experiment_files(tmp_path):
    text = "\n".join(method_sections.deviations_section("default", tmp_path))
    assert "a cap sized by a pilot (copy 40,000, addition and programs 30,000 steps" in text
    assert "1 layer of 64 units" in text and "(copy-14 in this profile)" in text
    assert "not the study's answers" not in text and "These records were made under" not in text
    paper = "\n".join(method_sections.deviations_section("paper", tmp_path))
    assert "2 layers of 400 units, batches of 100 rows" in paper and "`PROFILE=paper` runs" not in paper


def test_caps_shared_by_tasks_are_named_together():
    caps = {"copy": [40000], "addition": [30000], "program": [30000]}
    assert method_sections.caps_text(caps) == "copy 40,000, addition and programs 30,000 steps"
    assert method_sections.caps_text({"copy": [1500, 2000]}) == "copy 1,500-2,000 steps"


def test_the_hyperparameters_name_both_stages_what_is_shared_and_link_both_tables():
    text = "\n".join(method_sections.hyperparameters_section("quick", RESULTS, "quick/figures"))
    assert "**Stage 1**, per model and task: learning rate x clip x input scale on the baseline strategy" in text
    assert "**Stage 2**, per model, task and strategy: the learning rate again" in text
    assert "on addition and copy; baseline keeps stage 1's setting" in text
    assert "](quick/tables/lr_selection.md)" in text and "](quick/tables/strategy_selection.md)" in text
    assert "the copy tricks (invert, double) run at their strategy's setting" in text
    assert "programs run every strategy at stage 1's rate" in text and "compute budget" in text
    assert "1 selection seed per setting" in text


def test_the_adding_section_carries_the_selections_warnings():
    text = "\n".join(report.adding_section("quick", RESULTS, "quick/figures"))
    assert "**The selection's warnings.** IRNN rate 1 on the top edge of those tried (0.01, 0.1, 1)" in text
    assert "validation MSE 0.1703, not below predicting 1 (0.1676 at T = 30)" in text
    assert "LSTM rate 0.01 on the bottom edge" in text and "RNN rate 0.01 on the bottom edge" in text
    assert "3 runs of 5,000 steps" in text


def test_a_sweep_under_half_a_minute_reads_under_one_minute():
    def sweep(seconds: float) -> dict:
        return {"seconds": seconds, "training_seconds": seconds, "cells": 1, "workers": 2, "whole": True}

    prov = {"sweeps": {"lr_selection": sweep(90.0), "convergence": sweep(12.0)}}
    text = provenance.time_sentence(prov)
    assert "(lr_selection 2, convergence <1 min)" in text and " 0," not in text and " 0 min" not in text
    assert text.startswith("a whole run of its sweeps takes about 2 minutes")
    assert provenance.time_sentence({"sweeps": {"convergence": sweep(12.0)}}).startswith(
        "a whole run of its sweeps takes under a minute"
    )
