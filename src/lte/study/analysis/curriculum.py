"""How the runs moved through their curriculum (issue 31, item 2): how each level was left, and the steps spent
at the target level.

A level is left on its target accuracy (`advance`) or because learning stalled (`advance-stalled`, the plateau
schedule's); the amended and original schedules log both as `advance`, so their records cannot tell them apart.

A metrics row logs the level the run was evaluated at, and the event that evaluation caused: an advance takes
effect after its row. So a run's final level is its last row's level, one level further when that row advanced.
"""

from __future__ import annotations

import pandas as pd

from data_gen.curriculum import Level, next_level

ADVANCES = ("advance", "advance-stalled")
FIRST_LEVEL = Level(1, 1)
# schedules whose records log a stalled level's advance as `advance` (lte.core.schedule)
UNTOLD_SCHEDULES = ("amended", "original")
# how a run still at level 1 saw the target level, per strategy that follows the level (data_gen/strategies)
HOW_SEEN = {"naive": "naive runs never trained there", "combined": "combined runs only in their mix draws"}


def run_curriculum(curves: pd.DataFrame) -> pd.DataFrame:
    """Per run (`cell`): its advances on target and stalled, the level it ended at, whether that is the target
    level, whether it never left the first level (1, 1) on the way to a harder target, the steps it trained at
    the target level (from its entry there to its last evaluation) and its steps."""
    rows = []
    for cell, run in curves.sort_values("step").groupby("cell", sort=True):
        target = Level(int(run["cfg_length"].iloc[0]), int(run["cfg_nesting"].iloc[0]))
        steps = run["step"].astype(int).tolist()
        levels = [Level(*map(int, level)) for level in run["level"]]
        events = run["event"].fillna("")
        final = levels[-1]
        if events.iloc[-1] in ADVANCES:  # the last evaluation's advance took the run one level further
            final = next_level(final, target) or final
        at_target = [i for i, level in enumerate(levels) if level == target]
        # the run entered the target level at the step of the row before its first row there (0: it started
        # there), or at its last row when that row's advance took it there
        if at_target:
            entered = steps[at_target[0] - 1] if at_target[0] > 0 else 0
        else:
            entered = steps[-1] if final == target else None
        rows.append(
            {
                "cell": cell,
                "advance": int((events == "advance").sum()),
                "advance-stalled": int((events == "advance-stalled").sum()),
                "final level": final,
                "reached target": final == target,
                "never left level 1": target != FIRST_LEVEL and final == FIRST_LEVEL,
                "steps at target": steps[-1] - entered if entered is not None else float("nan"),
                "steps": steps[-1],
            }
        )
    return pd.DataFrame(rows)


def curriculum_summary(curves: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group `by` (e.g. model and strategy): runs, levels left on target and stalled (summed over the runs),
    runs that reached the target level, runs that never left level 1, the median steps at the target level of
    the runs that reached it (NaN when none did) and the median steps of all."""
    per_run = run_curriculum(curves).merge(curves.drop_duplicates("cell")[["cell", *by]], on="cell")
    return (
        per_run.groupby(by, sort=True)
        .agg(
            runs=("cell", "size"),
            **{
                "left on target": ("advance", "sum"),
                "left stalled": ("advance-stalled", "sum"),
                "reached target": ("reached target", "sum"),
                "never left level 1": ("never left level 1", "sum"),
                "median steps at target": ("steps at target", "median"),
                "median steps": ("steps", "median"),
            },
        )
        .reset_index()
    )


def _untold_schedules(curves: pd.DataFrame) -> bool:
    """Whether any run of `curves` used a schedule that logs a stalled level's advance as `advance` (records
    without a schedule predate the plateau schedule: the amended one)."""
    if "cfg_schedule" not in curves:
        return True
    return bool(curves["cfg_schedule"].fillna("amended").isin(UNTOLD_SCHEDULES).any())


def _runs(n: int) -> str:
    return f"{n} run{'s' if n != 1 else ''}"


def curriculum_section(experiments: dict[str, pd.DataFrame]) -> list[str]:
    """The report's account of the curricula: a table per experiment (`experiments[name]`: its curves)."""
    present = {name: curves for name, curves in experiments.items() if not curves.empty}
    lines = [
        "## The curriculum: how runs left each level",
        "",
        "Per model and strategy (runs over seeds and tricks): the levels left on the target accuracy and "
        "because learning stalled (summed over the runs), the runs that ended at the target level (an advance at "
        "a run's last evaluation counts), the runs whose curriculum never left level 1, and the median steps "
        "trained at the target level by the runs that reached it (their number is in the column before; - when "
        "none did)."
        + (
            " Records of the amended schedule log every advance as left on target (they cannot tell a stall apart)."
            if any(_untold_schedules(curves) for curves in present.values())
            else ""
        ),
        "",
    ]
    for name, curves in present.items():
        table = curriculum_summary(curves, ["label_model", "label_strategy"])
        lines += [
            f"**{name}**",
            "",
            "| model | strategy | runs | left on target | left stalled | reached target | never left level 1 | "
            "median steps at target (runs that reached it) | median steps |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in table.itertuples(index=False):
            at_target = r[7]
            lines.append(
                f"| {r.label_model.upper()} | {r.label_strategy} | {r.runs} | {r[3]} | {r[4]} | {r[5]} | "
                + (f"**{r[6]}**" if r[6] else "0")
                + f" | {'-' if pd.isna(at_target) else f'{at_target:,.0f}'} | {r[8]:,.0f} |"
            )
        never = table[table["never left level 1"] > 0]
        if len(never):
            targets = sorted(map(tuple, curves[["cfg_length", "cfg_nesting"]].drop_duplicates().astype(int).values))
            how = [HOW_SEEN[s] for s in sorted(set(never.label_strategy)) if s in HOW_SEEN]
            lines += [
                "",
                f"**Never left level 1**, so tested at a target level ({', '.join(f'{a},{b}' for a, b in targets)}) "
                "that their curriculum never reached"
                + (f" ({'; '.join(how)})" if how else "")
                + ": "
                + "; ".join(
                    f"{r.label_model.upper()} {r.label_strategy} {r[6]} of {_runs(r.runs)}"
                    for r in never.itertuples(index=False)
                )
                + ".",
            ]
        split = stall_split(curves, ["label_model", "label_strategy"])
        if len(split):
            lines += [
                "",
                "**Seeds that left a level stalled against those that did not** (cells with both; mean final test "
                "character accuracy): "
                + "; ".join(
                    f"{r.label_model.upper()} {r.label_strategy}: {_runs(r.stalled_runs)} stalled "
                    f"{r.stalled_final:.3f}, {_runs(r.other_runs)} not {r.other_final:.3f}"
                    for r in split.itertuples(index=False)
                )
                + ". A stall is judged on a window of steps (docs/preregistration.md, section 1); a run moved on "
                "from a plateau it would have left later ends lower.",
            ]
        lines.append("")
    return lines


def stall_split(curves: pd.DataFrame, by: list[str], metric: str = "test_char_accuracy") -> pd.DataFrame:
    """Per group `by` whose runs include some that left a level stalled and some that never did: how many of
    each and their mean final `metric` (a run's last evaluation)."""
    if metric not in curves:
        return pd.DataFrame()
    per_run = run_curriculum(curves)
    last = curves.sort_values("step").groupby("cell")[metric].last().rename("final")
    per_run = per_run.merge(last, on="cell").merge(curves.drop_duplicates("cell")[["cell", *by]], on="cell")
    rows = []
    for key, group in per_run.groupby(by, sort=True):
        stalled = group[group["advance-stalled"] > 0]
        other = group[group["advance-stalled"] == 0]
        if len(stalled) and len(other):
            rows.append(
                {
                    **dict(zip(by, key if isinstance(key, tuple) else (key,))),
                    "stalled_runs": len(stalled),
                    "stalled_final": float(stalled.final.mean()),
                    "other_runs": len(other),
                    "other_final": float(other.final.mean()),
                }
            )
    return pd.DataFrame(rows)
