"""The selection's grid rule (lte.study.analysis.lr_selection): a winner on an edge widens its axis."""

import pandas as pd


def test_the_selection_widens_a_grid_whose_winner_is_on_an_edge():
    from lte.study.analysis.lr_selection import edge_warning, edge_winners, widened_axis

    assert widened_axis([0.5, 1.5, 5.0], 5.0) == [0.5, 1.5, 5.0, 15.0]
    assert widened_axis([0.5, 1.5, 5.0], 0.5) == [0.167, 0.5, 1.5, 5.0]
    assert widened_axis([0.5, 1.5, 5.0], 1.5) is None and widened_axis([1.0], 1.0) is None
    table = pd.DataFrame(
        [
            {
                "model": "lstm",
                "task": "copy",
                "learning_rate": lr,
                "clip": clip,
                "input_scale": 0.08,
                "selected": (lr, clip) == (1.5, 1.0),
            }
            for lr in (0.5, 1.5, 5.0)
            for clip in (1.0, 5.0)
        ]
    )
    (edge,) = edge_winners(table)
    assert (edge["axis"], edge["widened"], edge["new_value"]) == ("clip", [0.333, 1.0, 5.0], 0.333)
    assert edge["rates"] == [0.5, 1.5, 4.5] and not edge["at_bound"]
    assert "clip 0.333" in edge_warning(edge) and "rates 0.5, 1.5, 4.5" in edge_warning(edge)


def test_widening_stops_at_the_axis_bound():
    from lte.study.analysis.lr_selection import AXIS_BOUNDS, edge_warning, edge_winners, widened_axis

    assert widened_axis([0.3, 1.0], 1.0, bounds=AXIS_BOUNDS["input_scale"]) is None
    assert widened_axis([0.3, 1.0], 0.3, bounds=AXIS_BOUNDS["input_scale"]) == [0.1, 0.3, 1.0]
    table = pd.DataFrame(
        [
            {"model": "irnn", "task": "copy", "learning_rate": lr, "clip": 1.0, "input_scale": scale}
            | {"selected": (lr, scale) == (0.1, 1.0)}
            for lr in (0.03, 0.1, 0.3)
            for scale in (0.3, 1.0)
        ]
    )
    (edge,) = edge_winners(table)
    assert edge["at_bound"] and edge["new_value"] is None and "not widened further" in edge_warning(edge)


def test_a_winner_at_chance_level_is_named():
    from lte.study.analysis.lr_selection import chance_warnings

    table = pd.DataFrame(
        [
            {"model": "lstm", "task": "copy", "val_char_accuracy": v, "chance": 0.11, "selected": selected}
            for v, selected in ((0.12, True), (0.05, False))
        ]
    )
    (warning,) = chance_warnings(table)
    assert "lstm/copy" in warning and "0.120 on validation" in warning and "chance (0.110" in warning
    assert chance_warnings(table.assign(val_char_accuracy=[0.5, 0.05])) == []
