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


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """'1 run', '2 runs' (`plural_form` where adding s is wrong)."""
    return f"{count:,} {noun if count == 1 else plural_form or noun + 's'}"


def and_list(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
