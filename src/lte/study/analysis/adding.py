"""The adding problem's analysis: its figure (test MSE against steps) and its outcome against Le et al.'s
expectation, read from the run folders the experiment lists (cells.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator

from lte.core.run_folder import indexed_runs, read_metrics
from lte.kinds.adding import AddingConfig, adding_test_set, predict_one_mse
from lte.study.analysis.figures import MODEL_COLORS, MODEL_NAMES, new_figure, save_figure
from lte.study.experiment import outputs_dir, runs_dir

# line styles and markers besides the colours: the curves stay apart in grey
MODEL_LINES = {"lstm": "-", "irnn": "--", "rnn": ":"}
MODEL_MARKERS = {"lstm": "o", "irnn": "s", "rnn": "^"}
ADDING_EXPERIMENT = "adding_problem"  # the experiment (experiments/adding_problem.toml) the analysis reads


def steps_in_thousands(ax) -> None:
    """Training steps on x as 20k, 40k, ...: six-digit counts written out run into each other at this width."""
    ax.xaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10], integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k" if x else "0"))


@cache
def _set_baseline(sequence_length: int, test_size: int) -> float:
    config = AddingConfig(sequence_length=sequence_length, test_size=test_size)
    return predict_one_mse(adding_test_set(config)[1])


def test_set_baseline(config: dict) -> float:
    """The test MSE of always predicting 1 on the run's own test set (not the expectation 1/6: a set of 1,000
    sequences at T = 150 has 0.18), what a run must beat."""
    return _set_baseline(int(config["sequence_length"]), int(config.get("test_size", 1000)))


def adding_figure(
    profile: str = "default", results: Path = Path("results"), experiment: str = ADDING_EXPERIMENT
) -> list[Path]:
    """Test MSE against training steps, per model and T: the mean over seeds, the band their min-max
    (the profiles run one to three seeds here: too few for an interval). The figure is named by `experiment`."""
    root = runs_dir(experiment, profile, results)
    runs = [run / "config.json" for run in indexed_runs(root) if (run / "config.json").exists()]
    if not runs:
        raise FileNotFoundError(f"no adding-problem runs under {root}; run `make sweep-adding_problem` first")
    curves: dict[tuple[int, str], list[list[dict]]] = {}
    diverged: dict[tuple[int, str], int] = {}
    baselines: dict[int, float] = {}
    for config_path in runs:
        config = json.loads(config_path.read_text())
        key = (config["sequence_length"], config["model"])
        baselines[config["sequence_length"]] = test_set_baseline(config)
        rows = read_metrics(config_path.parent)
        if any(r.get("event") == "diverged" for r in rows):  # shown in the legend, not as a curve
            diverged[key] = diverged.get(key, 0) + 1
        elif rows:
            curves.setdefault(key, []).append(rows)
    lengths = sorted({T for T, _ in curves})
    fig, axes = new_figure(1, len(lengths), figsize=(5.5 * len(lengths), 4.2), squeeze=False)
    for ax, T in zip(axes[0], lengths):
        for (length, model), seeds in sorted(curves.items()):
            if length != T:
                continue
            steps = min(len(s) for s in seeds)
            x = [r["step"] for r in seeds[0][:steps]]
            y = np.array([[r["test_mse"] for r in s[:steps]] for s in seeds])
            color = MODEL_COLORS.get(model)
            lost = f", {diverged[length, model]} diverged" if diverged.get((length, model)) else ""
            ax.plot(
                x,
                y.mean(0),
                color=color,
                linestyle=MODEL_LINES.get(model, "-"),
                marker=MODEL_MARKERS.get(model),
                markevery=max(1, len(x) // 8),
                label=f"{MODEL_NAMES.get(model, model)} ({len(seeds)} "
                f"seed{'s' if len(seeds) > 1 else ''}{lost}; band: min to max)",
            )
            ax.fill_between(x, y.min(0), y.max(0), color=color, alpha=0.2)
        ax.axhline(
            baselines[T],
            color="black",
            linestyle="--",
            linewidth=1,
            label=f"predict 1 (this test set's MSE {baselines[T]:.3f})",
        )
        ax.set_xlabel("training step")
        steps_in_thousands(ax)
        ax.set_ylabel("test MSE")
        ax.set_ylim(0, 0.25)  # linear: the question is how far below the baseline, not orders of magnitude
        ax.set_title(f"adding problem, T = {T}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, outputs_dir("figures", profile, results) / experiment, bbox_inches=None)


def adding_outcome(
    profile: str = "default", results: Path = Path("results"), experiment: str = ADDING_EXPERIMENT
) -> dict:
    """Per (T, model): mean final test MSE over seeds, the test set's predict-1 MSE (`baseline_mse`) and whether
    every seed ended below half of it."""
    from lte.kinds import get_kind

    reader = get_kind("adding").read_summary
    table: dict[str, dict] = {}
    for run in indexed_runs(runs_dir(experiment, profile, results)):
        if not (run / "summary.json").exists():
            continue
        config = json.loads((run / "config.json").read_text())
        result = reader(run / "summary.json")
        key = f"T={config['sequence_length']} {config['model']}"
        row = table.setdefault(
            key,
            {
                "final_test_mse": [],
                "steps": [],
                "wall_time": [],
                "commits": [],
                "diverged": 0,
                "baseline_mse": test_set_baseline(config),
            },
        )
        if result["diverged"]:
            row["diverged"] += 1
        else:
            row["final_test_mse"].append(result["final_test_mse"])
        row["steps"].append(result["steps"])
        row["wall_time"].append(result["wall_time"])
        row["commits"].append(result["commit"])
    for row in table.values():
        values = row["final_test_mse"]
        row.update(
            mean=float(np.mean(values)) if values else float("nan"),
            below_half_baseline=bool(values)
            and not row["diverged"]
            and all(v < row["baseline_mse"] / 2 for v in values),
        )
    return table


def adding_verdict(outcome: dict) -> str:
    """Whether Le et al.'s expectation at T = 150 held (the IRNN and the LSTM learn, the tanh RNN does not), as
    the predicate of a sentence whose subject is the expectation."""
    at_150 = {k.split()[1]: v["below_half_baseline"] for k, v in outcome.items() if k.startswith("T=150 ")}
    if not {"irnn", "lstm", "rnn"} <= set(at_150):
        return "is not testable: the runs do not include IRNN, LSTM and tanh RNN at T = 150"
    held = at_150["irnn"] and at_150["lstm"] and not at_150["rnn"]
    return (
        ("held" if held else "did not hold") + " (IRNN learned: "
        f"{'yes' if at_150['irnn'] else 'no'}, LSTM: {'yes' if at_150['lstm'] else 'no'}, "
        f"tanh RNN: {'yes' if at_150['rnn'] else 'no'})"
    )
