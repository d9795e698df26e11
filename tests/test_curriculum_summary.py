"""How runs left their levels (lte.study.analysis.curriculum), on synthetic curves."""

import pandas as pd

from lte.study.analysis.curriculum import curriculum_summary, run_curriculum


def _run(cell: str, strategy: str, levels: list[list[int]], events: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cell": cell,
            "label_model": "irnn",
            "label_strategy": strategy,
            "cfg_length": 3,
            "cfg_nesting": 1,
            "step": [100 * (i + 1) for i in range(len(levels))],
            "level": levels,
            "event": events,
        }
    )


def test_levels_left_on_target_or_stalled_and_the_steps_at_the_target():
    curriculum = _run(
        "a",
        "naive",
        [[1, 1], [2, 1], [2, 1], [3, 1], [3, 1], [3, 1]],
        ["advance", None, "advance-stalled", None, None, None],
    )
    baseline = _run("b", "baseline", [[3, 1]] * 4, [None] * 4)
    never = _run("c", "naive", [[1, 1], [1, 1]], [None, None])
    runs = run_curriculum(pd.concat([curriculum, baseline, never])).set_index("cell")
    assert runs.loc["a", "advance"] == 1 and runs.loc["a", "advance-stalled"] == 1
    assert runs.loc["a", "steps at target"] == 600 - 300  # the advance logged at step 300 took it there
    assert runs.loc["b", "steps at target"] == 400  # starts at the target: every step counts
    assert not runs.loc["c", "reached target"] and runs.loc["c", "steps at target"] == 0
    summary = curriculum_summary(pd.concat([curriculum, never]), ["label_model", "label_strategy"])
    assert summary.loc[0, "runs"] == 2 and summary.loc[0, "reached target"] == 1
    assert summary.loc[0, "left on target"] == 1 and summary.loc[0, "left stalled"] == 1
