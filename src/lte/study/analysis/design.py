"""Design choices made by a rule stated before their pilot ran (experiments/memorisation_length.toml).

The memorisation length: question 1 needs room above the LSTM's baseline for a factor to help it by more
than δ, so the copy length is the smallest candidate at which the LSTM's baseline (no tricks) ends its
pilot below a ceiling, on validation data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lte.study.analysis.records import load_runs
from lte.study.experiment import RESULTS, runs_dir

PILOT = "memorisation_length"
CANDIDATE_LENGTHS = (8, 10, 12, 14)
CEILING = 0.90  # mean validation character accuracy at or below which the LSTM's baseline leaves room


def choose_memorisation_length(runs: pd.DataFrame) -> tuple[pd.DataFrame, int | None]:
    """(mean validation accuracy per length, the chosen length or None when no candidate qualifies).

    `runs` has one row per pilot run with cfg_length and val_target_char_accuracy.
    """
    unknown = sorted(set(runs["cfg_length"]) - set(CANDIDATE_LENGTHS))
    if unknown:
        raise ValueError(f"pilot lengths {unknown} are not candidates of the stated rule {CANDIDATE_LENGTHS}")
    table = (
        runs.groupby("cfg_length")["val_target_char_accuracy"]
        .agg(["mean", "min", "max", "count"])
        .rename_axis("length")
        .reset_index()
    )
    below = table[table["mean"] <= CEILING]
    return table, int(below["length"].min()) if not below.empty else None


def design_section(profile: str, configured_length: int | None, results: Path = RESULTS) -> list[str]:
    """The report's account of the pilot: its table, the rule's choice and whether the experiment uses it."""
    if not (runs_dir(PILOT, profile, results) / "cells.json").exists():
        return []
    table, chosen = choose_memorisation_length(load_runs(PILOT, profile, results))
    lines = [
        "## Design pilot: the memorisation length",
        "",
        "Rule, stated in `experiments/memorisation_length.toml` before its pilot ran: the copy length is the "
        f"smallest of {', '.join(map(str, CANDIDATE_LENGTHS))} at which the LSTM (baseline strategy, no tricks) "
        f"ends the memorisation budget with mean validation character accuracy at most {CEILING:.2f}, so that a "
        "strategy or trick has room to help it (question 1).",
        "",
        "| length | mean validation accuracy | min | max | seeds |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.length} | {r.mean:.3f} | {r.min:.3f} | {r.max:.3f} | {r.count} |" for r in table.itertuples()]
    verdict = f"The rule chooses **{chosen}**" if chosen is not None else "No candidate qualifies"
    if configured_length is not None and chosen is not None:
        verdict += (
            "; the memorisation experiment uses it."
            if configured_length == chosen
            else f"; **the memorisation experiment uses {configured_length}**, not the rule's choice."
        )
    return lines + ["", verdict, ""]


def configured_memorisation_length(profile: str, results: Path) -> int | None:
    """The copy length the memorisation records used (None before they exist)."""
    if not (runs_dir("memorisation", profile, results) / "cells.json").exists():
        return None
    lengths = load_runs("memorisation", profile, results, require_all=False).get("cfg_length", pd.Series()).unique()
    return int(lengths[0]) if len(lengths) == 1 else None
