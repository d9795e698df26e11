"""How runs left their levels (lte.study.analysis.curriculum), on synthetic curves."""

import pandas as pd

from data_gen.curriculum import Level
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
    assert not runs.loc["c", "reached target"] and pd.isna(runs.loc["c", "steps at target"])  # never there
    summary = curriculum_summary(pd.concat([curriculum, never]), ["label_model", "label_strategy"])
    assert summary.loc[0, "runs"] == 2 and summary.loc[0, "reached target"] == 1
    assert summary.loc[0, "left on target"] == 1 and summary.loc[0, "left stalled"] == 1


def _target_runs():
    # copy to length 3: "late" advances into the target at its last evaluation, "never" stays at level 1,
    # "early" reaches the target halfway
    late = _run("late", "naive", [[1, 1], [2, 1], [2, 1]], ["advance", None, "advance"])
    never = _run("never", "naive", [[1, 1]] * 3, [None] * 3)
    early = _run("early", "combined", [[1, 1], [2, 1], [3, 1], [3, 1]], ["advance", "advance", None, None])
    return late, never, early


def test_a_run_that_advances_into_the_target_at_its_last_evaluation_reached_it():
    late, never, early = _target_runs()
    runs = run_curriculum(pd.concat([late, never, early])).set_index("cell")
    assert runs.loc["late", "reached target"] and runs.loc["late", "steps at target"] == 0
    assert runs.loc["late", "final level"] == Level(3, 1) and runs.loc["early", "steps at target"] == 400 - 200
    assert not runs.loc["never", "reached target"] and runs.loc["never", "never left level 1"]
    assert not runs.loc["late", "never left level 1"]
    assert pd.isna(runs.loc["never", "steps at target"])  # not 0: it never trained there


def test_the_median_steps_at_the_target_is_over_the_runs_that_reached_it():
    late, never, early = _target_runs()
    summary = curriculum_summary(pd.concat([late, never]), ["label_model", "label_strategy"])
    row = summary.iloc[0]
    assert row["runs"] == 2 and row["reached target"] == 1 and row["never left level 1"] == 1
    assert row["median steps at target"] == 0  # the late run's, not the median of 0 and the never run's 0
    nobody = curriculum_summary(never, ["label_model", "label_strategy"]).iloc[0]
    assert pd.isna(nobody["median steps at target"]) and nobody["reached target"] == 0


def test_the_section_flags_runs_that_never_left_level_1_and_names_the_schedule_only_when_used():
    from lte.study.analysis.curriculum import curriculum_section

    late, never, early = _target_runs()
    curves = pd.concat([late, never, early]).assign(cfg_schedule="plateau")
    text = "\n".join(curriculum_section({"memorisation": curves}))
    assert "Records of the amended schedule" not in text
    assert "| IRNN | naive | 2 | 2 | 0 | 1 | **1** | 0 | 300 |" in text
    assert "| IRNN | combined | 1 | 2 | 0 | 1 | 0 | 200 | 400 |" in text
    assert "**Never left level 1**, so tested at a target level (3,1)" in text
    assert "naive runs never trained there" in text and "IRNN naive 1 of 2 runs" in text
    amended = "\n".join(curriculum_section({"memorisation": curves.assign(cfg_schedule="amended")}))
    assert "Records of the amended schedule log every advance as left on target" in amended
    reached = "\n".join(curriculum_section({"memorisation": early.assign(cfg_schedule="plateau")}))
    assert "Never left level 1" not in reached


def test_seeds_that_left_a_level_stalled_are_set_against_the_others():
    from lte.study.analysis.curriculum import stall_split

    def with_accuracy(run: pd.DataFrame, final: float) -> pd.DataFrame:
        return run.assign(test_char_accuracy=[0.1] * (len(run) - 1) + [final])

    stalled = with_accuracy(_run("s", "naive", [[2, 1], [3, 1], [3, 1]], ["advance-stalled", None, None]), 0.6)
    on_target = with_accuracy(_run("t", "naive", [[2, 1], [3, 1], [3, 1]], ["advance", None, None]), 0.9)
    alone = with_accuracy(_run("u", "combined", [[2, 1], [3, 1]], ["advance-stalled", None]), 0.5)
    split = stall_split(pd.concat([stalled, on_target, alone]), ["label_model", "label_strategy"])
    assert len(split) == 1  # combined has no seed that did not stall: nothing to set against
    row = split.iloc[0]
    assert row.label_strategy == "naive" and (row.stalled_runs, row.other_runs) == (1, 1)
    assert (row.stalled_final, row.other_final) == (0.6, 0.9)
