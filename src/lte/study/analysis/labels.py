"""The study's arms as the figures, tables and verdicts name them."""

from __future__ import annotations

import pandas as pd

from data_gen.curriculum import STRATEGIES as CURRICULUM_STRATEGIES

STRATEGIES = list(CURRICULUM_STRATEGIES)  # baseline first: every effect is against it
TRICKS = [(False, False, "none"), (True, False, "invert"), (False, True, "double"), (True, True, "both")]


def task_name(row: pd.Series) -> str:
    if row["cfg_task"] == "program":
        return f"program ({row['cfg_length']},{row['cfg_nesting']})"
    return f"{row['cfg_task']} ({row['cfg_length']} digits)"
