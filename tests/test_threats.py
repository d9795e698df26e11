"""Threats to validity (lte.study.analysis.threats), each computed from records it is given."""

import pandas as pd

from lte.study.analysis import threats


def test_the_equal_parameters_model_is_judged_against_the_five_percent_rule(monkeypatch, tmp_path):
    def runs(irnn_params: int):
        return lambda *_: pd.DataFrame(
            {"label_variant_id": ["lstm", "irnn-params"], "parameters": [38571, irnn_params]}
        )

    monkeypatch.setattr(threats, "load_runs", runs(27563))
    assert "(0.71x), outside 5%" in threats.parameters_threat("default", tmp_path)
    monkeypatch.setattr(threats, "load_runs", runs(38753))
    assert "(1.00x), within 5%" in threats.parameters_threat("default", tmp_path)


def test_unequal_adding_budgets_are_named(monkeypatch, tmp_path):
    records = pd.DataFrame({"cfg_model": ["irnn", "lstm", "rnn"], "steps": [150000, 40000, 40000]})
    monkeypatch.setattr(threats, "load_runs", lambda *_: records)
    assert threats.adding_threat("default", tmp_path).startswith("The adding problem's step budgets are unequal")
    monkeypatch.setattr(threats, "load_runs", lambda *_: records.assign(steps=150000))
    assert "are equal" in threats.adding_threat("default", tmp_path)


def test_no_records_no_threat_section(tmp_path):
    assert threats.threats_section("default", tmp_path / "empty") == []


def test_a_run_stopped_on_a_plateau_far_below_its_cells_best_seed_is_counted(monkeypatch, tmp_path):
    records = pd.DataFrame(
        {
            "label_model": ["lstm", "lstm", "irnn", "irnn"],
            "label_seed": [200, 201, 200, 201],
            "stop_reason": ["plateau at the target level"] * 2 + ["max_steps", "plateau at the target level"],
            "test_char_accuracy": [0.26, 1.0, 0.5, 0.9],  # the IRNN's low run hit its cap, not a plateau
        }
    )
    monkeypatch.setattr(threats, "load_runs", lambda *_: records)
    text = threats.stopped_low_threat("default", tmp_path)
    assert "memorisation 1 of 4" in text and "addition 1 of 4" in text
    monkeypatch.setattr(threats, "load_runs", lambda *_: records.assign(test_char_accuracy=[0.8, 1.0, 0.5, 0.9]))
    assert threats.stopped_low_threat("default", tmp_path).startswith("No run was stopped")


def test_the_selection_threat_names_both_stages_and_their_edges():
    from pathlib import Path

    from lte.study.analysis.threats import selection_threat

    text = selection_threat("quick", Path("results"))
    assert "(s)" not in text and "on the baseline strategy (" in text
    assert "then each strategy's learning rate on its own (3 rates per strategy, on addition, copy; " in text
    assert "winning rate" in text and "irnn/copy/naive" in text  # a stage-2 winner on the edge of its 3 rates
