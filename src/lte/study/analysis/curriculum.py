"""How the runs moved through their curriculum (issue 31, item 2): how each level was left, and the steps spent
at the target level.

A level is left on its target accuracy (`advance`) or because learning stalled (`advance-stalled`, the plateau
schedule's); the amended and original schedules log both as `advance`, so their records cannot tell them apart.
"""

from __future__ import annotations

import pandas as pd


def run_curriculum(curves: pd.DataFrame) -> pd.DataFrame:
    """Per run (`cell`): its advances on target and stalled, whether it reached the target level, the steps it
    trained there (from its first evaluation at the target level to its last evaluation) and its steps."""
    rows = []
    for cell, run in curves.sort_values("step").groupby("cell", sort=True):
        target = [int(run["cfg_length"].iloc[0]), int(run["cfg_nesting"].iloc[0])]
        steps = run["step"].astype(int).tolist()
        at_target = [i for i, level in enumerate(run["level"]) if list(level) == target]
        events = run["event"].fillna("")
        # a row logs the level it was evaluated at; the advance it records takes effect after it, so the run
        # entered the target level at the step of the row before its first row there (0: it started there)
        entered = (steps[at_target[0] - 1] if at_target[0] > 0 else 0) if at_target else None
        rows.append(
            {
                "cell": cell,
                "advance": int((events == "advance").sum()),
                "advance-stalled": int((events == "advance-stalled").sum()),
                "reached target": entered is not None,
                "steps at target": steps[-1] - entered if entered is not None else 0,
                "steps": steps[-1],
            }
        )
    return pd.DataFrame(rows)


def curriculum_summary(curves: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group `by` (e.g. model and strategy): runs, levels left on target and stalled (summed over the runs),
    runs that reached the target level, and the median steps at the target level and in all."""
    per_run = run_curriculum(curves).merge(curves.drop_duplicates("cell")[["cell", *by]], on="cell")
    return (
        per_run.groupby(by, sort=True)
        .agg(
            runs=("cell", "size"),
            **{
                "left on target": ("advance", "sum"),
                "left stalled": ("advance-stalled", "sum"),
                "reached target": ("reached target", "sum"),
                "median steps at target": ("steps at target", "median"),
                "median steps": ("steps", "median"),
            },
        )
        .reset_index()
    )


def curriculum_section(experiments: dict[str, pd.DataFrame]) -> list[str]:
    """The report's account of the curricula: a table per experiment (`experiments[name]`: its curves)."""
    lines = [
        "## The curriculum: how runs left each level",
        "",
        "Per model and strategy (runs over seeds and tricks): the levels left on the target accuracy and "
        "because learning stalled (summed over the runs), the runs that reached the target level, and the "
        "median steps trained there. Records of the amended schedule log every advance as left on target "
        "(they cannot tell a stall apart).",
        "",
    ]
    for name, curves in experiments.items():
        if curves.empty:
            continue
        table = curriculum_summary(curves, ["label_model", "label_strategy"])
        lines += [
            f"**{name}**",
            "",
            "| model | strategy | runs | left on target | left stalled | reached target | "
            "median steps at target | median steps |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r.label_model.upper()} | {r.label_strategy} | {r.runs} | {r._4} | {r._5} | {r._6} | "
            f"{r._7:,.0f} | {r._8:,.0f} |"
            for r in table.itertuples()
        ]
        lines.append("")
    return lines
