"""Threats to validity (lte.study.analysis.threats), each computed from records it is given."""

import pandas as pd

from lte.study.analysis import ceiling, run_threats, threats


def test_the_equal_parameters_model_is_judged_against_the_five_percent_rule(monkeypatch, tmp_path):
    def runs(irnn_params: int):
        return lambda *_: pd.DataFrame(
            {"label_variant_id": ["lstm", "irnn-params"], "parameters": [38571, irnn_params]}
        )

    monkeypatch.setattr(threats, "load_runs", runs(27563))
    assert "(0.71x), outside 5%" in threats.parameters_threat("default", tmp_path)
    monkeypatch.setattr(threats, "load_runs", runs(38753))
    assert "(1.00x), within 5%" in threats.parameters_threat("default", tmp_path)
    # at the equal-units IRNN's selected settings: said, since its own width was never tuned
    tuned = {"cfg_learning_rate": [1.5, 0.3, 0.3], "cfg_clip": [0.1, 1.0, 1.0], "cfg_input_scale": [0.1, 0.1, 0.1]}
    runs3 = pd.DataFrame(
        {"label_variant_id": ["lstm", "irnn-units", "irnn-params"], "parameters": [38571, 9707, 38753]}
    )
    monkeypatch.setattr(threats, "load_runs", lambda *_: runs3.assign(**tuned))
    assert "not tuned for its own width" in threats.parameters_threat("default", tmp_path)
    tuned["cfg_learning_rate"][2] = 0.1
    monkeypatch.setattr(threats, "load_runs", lambda *_: runs3.assign(**tuned))
    assert "not tuned" not in threats.parameters_threat("default", tmp_path)


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
    monkeypatch.setattr(run_threats, "load_runs", lambda *_: records)
    text = run_threats.stopped_low_threat("default", tmp_path)
    assert "memorisation 1 of 4" in text and "addition 1 of 4" in text
    monkeypatch.setattr(run_threats, "load_runs", lambda *_: records.assign(test_char_accuracy=[0.8, 1.0, 0.5, 0.9]))
    assert run_threats.stopped_low_threat("default", tmp_path).startswith("No run was stopped")


def test_the_selection_threat_names_both_stages_and_their_edges():
    from pathlib import Path

    from lte.study.analysis.threats import selection_threat

    text = selection_threat("quick", Path("results"))
    assert "(s)" not in text and "on the baseline strategy (" in text
    assert "then each strategy's learning rate on its own (3 rates per strategy, on addition and copy; " in text
    assert "winning rate" in text and "irnn/copy/naive" in text  # a stage-2 winner on the edge of its 3 rates


def test_one_run_is_singular(monkeypatch, tmp_path):
    records = pd.DataFrame({"cfg_model": ["irnn", "lstm", "lstm"], "steps": [5000, 5000, 5000]})
    monkeypatch.setattr(threats, "load_runs", lambda *_: records)
    text = threats.adding_threat("quick", tmp_path)
    assert "IRNN 5,000 steps, 1 run; LSTM 5,000 steps, 2 runs" in text and "1 runs" not in text
    assert threats.plural(1, "seed") == "1 seed" and threats.plural(3, "seed") == "3 seeds"


def test_no_run_stopped_on_a_plateau_is_said_as_such(monkeypatch, tmp_path):
    records = pd.DataFrame(
        {
            "label_model": ["lstm", "lstm", "irnn"],
            "label_seed": [0, 1, 0],
            "stop_reason": ["max_steps", "max_steps", "diverged"],
            "test_char_accuracy": [0.2, 0.9, float("nan")],
        }
    )
    monkeypatch.setattr(run_threats, "load_runs", lambda *_: records)
    text = run_threats.stopped_low_threat("quick", tmp_path)
    assert text.startswith("No run stopped on a plateau, so the stop rule never acted")
    assert "8 ended at their step cap and 4 diverged" in text  # four experiments of the same records
    assert "0.3 or more below" not in text


def test_few_seeds_per_cell_are_a_threat(monkeypatch, tmp_path):
    records = pd.DataFrame({"label_model": ["lstm", "lstm", "irnn", "irnn"], "label_seed": [0, 1, 0, 1]})
    monkeypatch.setattr(threats, "load_runs", lambda *_: records)
    text = threats.seeds_threat("quick", tmp_path)
    assert "Few study seeds per cell (fewer than 5): program 2, addition 2, memorisation 2, convergence 2" in text
    many = pd.DataFrame({"label_model": ["lstm"] * 5, "label_seed": range(5)})
    monkeypatch.setattr(threats, "load_runs", lambda *_: many)
    assert threats.seeds_threat("quick", tmp_path) is None


def test_question_3s_lstm_choice_on_its_own_test_runs_is_named(monkeypatch, tmp_path):
    assert threats.question3_choice_threat("quick", tmp_path) is None  # no study records: nothing to say
    (tmp_path / "runs" / "quick" / "addition").mkdir(parents=True)
    (tmp_path / "runs" / "quick" / "addition" / "cells.json").write_text("{}")
    monkeypatch.setattr(threats, "load_runs", lambda *_: pd.DataFrame({"label_seed": [103, 104, 105]}))
    text = threats.question3_choice_threat("quick", tmp_path)
    assert "Question 3's LSTM part" in text and "section 7" in text
    assert "separate seeds (3 seeds: 103, 104, 105; question3_selection)" in text
    monkeypatch.setattr(threats, "load_runs", lambda *_: pd.DataFrame())
    assert "So does the IRNN's here" in threats.question3_choice_threat("quick", tmp_path)


def test_shared_rates_are_a_threat(monkeypatch, tmp_path):
    memorisation = pd.DataFrame(
        {
            "cfg_model": ["irnn"] * 4,
            "cfg_strategy": ["naive"] * 4,
            "cfg_invert": [False, True, False, True],
            "cfg_double": [False, False, True, True],
            "cfg_learning_rate": [0.9] * 4,
        }
    )
    program = pd.DataFrame(
        {"cfg_model": ["irnn", "irnn", "lstm", "lstm"], "cfg_strategy": ["baseline", "naive"] * 2}
    ).assign(cfg_learning_rate=[0.3, 0.3, 5.0, 5.0])
    monkeypatch.setattr(
        threats, "load_runs", lambda experiment, *_: {"memorisation": memorisation, "program": program}[experiment]
    )
    text = threats.rate_sharing_threat("quick", tmp_path)
    assert text.startswith("Rates are shared, not tuned per arm, to fit the compute budget")
    assert "the copy tricks (invert, double) run at their strategy's rate" in text
    assert "programs run every strategy at stage 1's rate, tuned on baseline (IRNN 0.3, LSTM 5)" in text
    tuned = program.assign(cfg_learning_rate=[0.3, 0.9, 5.0, 5.0])  # a rate per strategy: not shared
    monkeypatch.setattr(
        threats, "load_runs", lambda experiment, *_: {"memorisation": memorisation, "program": tuned}[experiment]
    )
    assert "programs" not in threats.rate_sharing_threat("quick", tmp_path)


def test_the_quick_records_threats_name_every_measured_threat():
    from pathlib import Path

    text = "\n".join(threats.threats_section("quick", Path("results")))
    assert "1 runs" not in text and "(s)" not in text
    assert "No run stopped on a plateau, so the stop rule never acted" in text
    assert "Few study seeds per cell (fewer than 5): program 2, addition 4, memorisation 2, convergence 4" in text
    assert "Rates are shared, not tuned per arm" in text and "Question 3's LSTM part" in text
    # the adding selection's warnings (adding_selection.py), which the sweep only logged before
    assert "IRNN rate 1 on the top edge of those tried (0.01, 0.1, 1), validation MSE 0.1703, not below " in text
    assert "predicting 1 (0.1676 at T = 30)" in text
    assert "LSTM rate 0.01 on the bottom edge" in text and "RNN rate 0.01 on the bottom edge" in text


def test_a_control_at_the_ceiling_is_named_with_the_change_that_decided(monkeypatch, tmp_path):
    controls = [
        {
            "task": "copy (14 digits)",
            "model": "lstm",
            "control": "baseline",
            "accuracy": 1.0,
            "acts": [
                ("double vs no trick (baseline)", "hurts", -0.57, -57.2),
                ("both vs no trick (baseline)", "hurts", -0.016, -1.65),
            ],
        }
    ]
    monkeypatch.setattr(ceiling, "ceiling_controls", lambda *_: controls)
    text = ceiling.ceiling_threat("default", tmp_path)
    assert "copy (14 digits) LSTM baseline (1.000)" in text
    assert "both vs no trick (baseline) hurts the LSTM on copy (14 digits) with a change of -0.016" in text
    monkeypatch.setattr(ceiling, "ceiling_controls", lambda *_: [])
    assert ceiling.ceiling_threat("default", tmp_path) is None


def test_ceiling_controls_are_read_from_the_control_arms(monkeypatch, tmp_path):
    import pandas as pd

    from lte.study.analysis import comparisons, verdicts

    rows = [
        (model, strategy, acc)
        for model, base in (("lstm", 0.99), ("irnn", 0.7))
        for strategy, acc in (("baseline", base), ("naive", base - 0.02), ("mix", base), ("combined", base))
    ]
    runs = pd.DataFrame(rows, columns=["cfg_model", "cfg_strategy", "test_char_accuracy"]).assign(
        cfg_invert=False, cfg_double=False, task_name="addition"
    )
    gains = pd.DataFrame(
        [("addition", "naive vs baseline", "lstm", "hurts", -2.0)], columns=["task", "factor", "model", "act", "mean"]
    )
    monkeypatch.setattr(comparisons, "_runs", lambda experiment, *_: runs if experiment == "addition" else runs[:0])
    monkeypatch.setattr(verdicts, "question_1", lambda *_: {"gains": gains})
    (control,) = ceiling.ceiling_controls("default", tmp_path)
    assert (control["model"], control["control"], control["accuracy"]) == ("lstm", "baseline", 0.99)
    ((factor, act, moved, gain),) = control["acts"]
    assert (factor, act, round(moved, 3), gain) == ("naive vs baseline", "hurts", -0.02, -2.0)


def _curves(slopes: dict[str, float], label: dict[str, str], steps: int = 10_000) -> pd.DataFrame:
    """A straight test-accuracy curve per run with the given slope per 1,000 steps."""
    rows = []
    for cell, slope in slopes.items():
        for step in range(0, steps + 1, 500):
            rows.append(
                {"cell": cell, "step": step, "test_char_accuracy": 0.3 + slope * step / 1000, "label_arm": label[cell]}
            )
    return pd.DataFrame(rows)


def test_the_budget_threat_counts_capped_runs_and_runs_the_cell_mean_hides(monkeypatch, tmp_path):
    slopes = {"a0": 0.03, "a1": -0.03, "b0": 0.0, "b1": 0.0}  # cell a: mean 0, one seed still rising
    curves = _curves(slopes, {"a0": "a", "a1": "a", "b0": "b", "b1": "b"})
    runs = pd.DataFrame({"cell": list(slopes), "stop_reason": ["max_steps", "plateau", "plateau", "plateau"]})
    monkeypatch.setattr(run_threats, "JUDGED", ("addition",))
    monkeypatch.setattr(run_threats, "load_runs", lambda e, *_: runs if e == "addition" else pd.DataFrame())
    monkeypatch.setattr(run_threats, "load_curves", lambda e, *_: curves if e == "addition" else pd.DataFrame())
    text = run_threats.budget_threat("default", tmp_path)
    assert "addition 1 of 4 (1 of them still rising on their own)" in text
    assert (
        "in cells whose mean slope is not (the cell rule, on the mean over seeds, can hide them): addition 1." in text
    )


def test_a_late_collapse_is_named_with_its_best_and_final_accuracy(monkeypatch, tmp_path):
    curves = pd.DataFrame(
        {
            "cell": ["fell"] * 3 + ["held"] * 3,
            "step": [0, 1, 2] * 2,
            "test_char_accuracy": [0.2, 0.9, 0.5, 0.2, 0.9, 0.85],
        }
    )
    monkeypatch.setattr(run_threats, "JUDGED", ("memorisation",))
    monkeypatch.setattr(run_threats, "load_curves", lambda *_: curves)
    text = run_threats.fell_back_threat("default", tmp_path)
    assert "`fell` (0.900 to 0.500)" in text and "held" not in text


def test_strategies_at_different_rates_are_listed(monkeypatch, tmp_path):
    from lte.study.analysis import comparisons

    runs = pd.DataFrame(
        {
            "task_name": "addition (3 digits)",
            "cfg_model": ["lstm"] * 2 + ["irnn"] * 2,
            "cfg_strategy": ["baseline", "mix"] * 2,
            "cfg_learning_rate": [15.0, 5.0, 0.3, 0.3],
        }
    )
    monkeypatch.setattr(comparisons, "_runs", lambda experiment, *_: runs if experiment == "addition" else runs[:0])
    text = threats.rates_threat("default", tmp_path)
    assert "addition (3 digits) LSTM (baseline 15, mix 5)" in text and "IRNN" not in text


def test_capped_counts_count_runs_at_their_cap_and_those_still_rising(monkeypatch, tmp_path):
    slopes = {"a0": 0.03, "a1": 0.0, "b0": 0.0}
    curves = _curves(slopes, {"a0": "a", "a1": "a", "b0": "b"})
    runs = pd.DataFrame({"cell": list(slopes), "stop_reason": ["max_steps", "max_steps", "plateau"]})
    monkeypatch.setattr(run_threats, "JUDGED", ("addition",))
    monkeypatch.setattr(run_threats, "load_runs", lambda e, *_: runs if e == "addition" else pd.DataFrame())
    monkeypatch.setattr(run_threats, "load_curves", lambda e, *_: curves if e == "addition" else pd.DataFrame())
    assert run_threats.capped_counts("default", tmp_path) == [("addition", 2, 3, 1)]
