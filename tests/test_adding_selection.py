"""The adding problem's selection warnings (lte.study.analysis.adding_selection), on synthetic tables."""

import json

import pandas as pd

from lte.study.analysis import adding_selection


def _table() -> pd.DataFrame:
    rows = [
        # model, rate, clip, val_mse, selected
        ("irnn", 0.01, 1.0, 0.196, False),
        ("irnn", 0.1, 1.0, 0.171, False),
        ("irnn", 1.0, 1.0, 0.1703, True),  # top edge, and no better than predicting 1
        ("lstm", 0.01, 1.0, 0.1653, True),  # bottom edge, below predicting 1
        ("lstm", 0.1, 1.0, 0.182, False),
        ("lstm", 1.0, 1.0, 0.170, False),
        ("rnn", 0.01, 1.0, 0.170, False),
        ("rnn", 0.1, 1.0, 0.100, True),  # inside: nothing to say
        ("rnn", 1.0, 1.0, 0.168, False),
    ]
    table = pd.DataFrame(rows, columns=["model", "learning_rate", "clip", "val_mse", "selected"])
    return table.assign(T=30, seeds=1, diverged=0, baseline_mse=0.1676)


def test_a_winner_on_an_edge_or_no_better_than_predicting_1_is_a_warning():
    warnings = adding_selection.selection_warnings(_table())
    kinds = [(w["model"], w["kind"]) for w in warnings]
    assert kinds == [("irnn", "edge"), ("irnn", "no better than predict-1"), ("lstm", "edge")]
    assert warnings[0]["edge"] == "top" and warnings[2]["edge"] == "bottom"
    assert warnings[0]["widened"] == [0.01, 0.1, 1.0, 10.0]  # a factor of 10 past the edge (section 9)
    text = adding_selection.warnings_text(warnings)
    assert text.startswith(
        "IRNN rate 1 on the top edge of those tried (0.01, 0.1, 1), validation MSE 0.1703, not below predicting 1 "
        "(0.1676 at T = 30): no setting tried learned the task; LSTM rate 0.01 on the bottom edge"
    )
    assert "section 9" in text and "was not applied" in text and "RNN" not in text.replace("IRNN", "")
    inside = adding_selection.warnings_text(warnings[1:2])
    assert "section 9" not in inside  # no edge: the widening rule does not apply


def test_the_sweep_logs_the_same_warnings_and_writes_the_winners(monkeypatch, tmp_path):
    monkeypatch.setattr(adding_selection, "adding_selection_table", lambda *_: _table())
    lines = []
    selected = adding_selection.write_adding_selection("quick", tmp_path, log=lines.append)
    assert lines == [
        "warning: adding/irnn: the selected learning_rate 1 is on the edge of the values tried; widen them to "
        "[0.01, 0.1, 1.0, 10.0] and sweep again",
        "warning: adding/irnn: the selected setting's validation MSE 0.1703 does not beat predicting 1 (0.1676): "
        "the grid holds no setting that learns the task",
        "warning: adding/lstm: the selected learning_rate 0.01 is on the edge of the values tried; widen them to "
        "[0.001, 0.01, 0.1, 1.0] and sweep again",
    ]
    written = json.loads((tmp_path / "lr_selection" / "selected_adding_quick.json").read_text())
    assert written == json.loads(json.dumps(selected)) and written["rnn"]["learning_rate"] == 0.1


def test_missing_selection_records_give_no_warning(tmp_path):
    assert adding_selection.recorded_warnings("quick", tmp_path) == []
