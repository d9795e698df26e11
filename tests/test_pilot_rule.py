"""The pilot's cap rule (lte.study.analysis.pilot) on synthetic runs."""

import pandas as pd

from lte.study.analysis.pilot import PLATEAU_STOP, choose_caps


def _runs(task: str, steps: list[int], reasons: list[str] | None = None) -> pd.DataFrame:
    reasons = reasons or [PLATEAU_STOP] * len(steps)
    return pd.DataFrame({"cfg_task": task, "steps": steps, "stop_reason": reasons})


def test_the_cap_is_the_smallest_candidate_every_plateaued_run_fits_under():
    runs = pd.concat([_runs("copy", [12_400, 32_300, 9_000]), _runs("addition", [7_000, 10_000])])
    caps = choose_caps(runs).set_index("task")["cap"]
    assert caps["copy"] == 40_000 and caps["addition"] == 10_000


def test_a_run_that_hit_its_cap_gives_the_largest_candidate():
    runs = _runs("program", [5_000, 40_000], [PLATEAU_STOP, "max_steps"])
    table = choose_caps(runs).set_index("task")
    assert table.loc["program", "cap"] == 40_000 and table.loc["program", "stopped on plateau"] == 1
