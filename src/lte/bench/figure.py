"""`lte bench`'s figure, drawn from its CSVs alone: a strip of JAX / PyTorch step ratios per way of running
them, the step times behind them, and the ensembles' throughput.

`lte bench --figures-only` (`make bench-figure`) redraws the figure of every table in results/bench without
timing anything.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lte.bench.ensemble_table import with_layouts

FASTER, SLOWER = "#0072B2", "#D55E00"  # a ratio at or below 1 (the project's step is faster), above 1
JAX_COLOR, TORCH_COLOR = "#000000", "#E69F00"
ENSEMBLE_COLORS = ["#009E73", "#CC79A7", "#56B4E9"]  # per cell, apart from the strips' faster / slower colours
CELL_HATCHES = ["", "//", "..", "xx", "\\\\", "oo", "++", "--"]
CELL_MARKERS = "os^Dv<>p"
CELL_NAMES = {"lstm": "LSTM", "irnn": "IRNN", "rnn": "tanh RNN", "gru": "GRU"}
# each ratio column a table may hold (older tables hold fewer): the strip's title, in words
RATIO_STRIPS = {
    "jax_over_torch": "both on all cores, JAX on one device",
    "split_over_torch": "both on all cores, JAX's batch split over the CPU devices",
    "jax_over_torch_1core": "both on one core each (as a sweep's workers run)",
}


def cell_name(cell: str) -> str:
    return CELL_NAMES.get(cell, cell)


def shape_label(row) -> str:
    return f"{int(row.layers)}x{int(row.hidden)} B{int(row.batch)} T{int(row.steps)}"


def device_words(csv_path: Path, table) -> str:
    """The machine in words ('Intel Xeon Processor, AVX-512, 2 cores'), from the table's provenance when it is
    there, else from the file name; the vector instructions are read from the file name (`device_name`)."""
    slug = str(table.device.iloc[0]) if "device" in table else csv_path.stem
    extension = re.search(r"_(avx\d*|avx512\w*|sse\d\w*|neon|sve)_", slug)
    named_cores = re.search(r"(\d+)cores", slug)
    provenance = csv_path.with_suffix(".provenance.json")
    record = json.loads(provenance.read_text()) if provenance.exists() else {}
    if "device" in record:  # "cpu: Intel(R) Xeon(R) Processor" -> "Intel Xeon Processor"
        name = re.sub(r"\(R\)|\(TM\)", "", str(record["device"])).split(": ", 1)[-1]
    else:  # "cpu-amd_epyc_avx2_2cores" -> "amd epyc"
        name = re.sub(r"_?\d+cores$", "", slug.split("-", 1)[-1])
        name = (name.replace(extension.group(1), "") if extension else name).replace("_", " ")
    words = [" ".join(name.split())]
    if extension:
        words.append(extension.group(1).upper().replace("AVX512", "AVX-512"))
    cores = record.get("cpu_count") or (named_cores.group(1) if named_cores else None)
    if cores:
        words.append(f"{cores} cores")
    return ", ".join(words)


def _provenance_note(csv_path: Path) -> str:
    provenance = csv_path.with_suffix(".provenance.json")
    if not provenance.exists():
        return ""
    record = json.loads(provenance.read_text())
    commit = str(record.get("commit", ""))
    commit = commit[:7] + ("-dirty" if commit.endswith("-dirty") else "")  # measured with uncommitted changes
    return f" (measured {str(record.get('time', ''))[:10]}, commit {commit})"


def _ratio_strip(ax, table, column: str, shapes: list[str], cells: list[str]) -> None:
    """One bar per shape and cell: the median ratio, coloured by which step is faster, hatched by cell, with
    the per-repeat range."""
    width = 0.8 / len(cells)
    for i, cell in enumerate(cells):
        rows = table[table.cell == cell]
        x = np.array([shapes.index(label) for label in rows.shape_label]) + (i - (len(cells) - 1) / 2) * width
        ratio = rows[column].to_numpy(float)
        spread = [
            np.clip(ratio - rows.get(f"{column}_min", rows[column]).to_numpy(float), 0, None),
            np.clip(rows.get(f"{column}_max", rows[column]).to_numpy(float) - ratio, 0, None),
        ]
        ax.bar(
            x,
            ratio,
            width * 0.92,
            color=[FASTER if value <= 1 else SLOWER for value in ratio],
            hatch=CELL_HATCHES[i % len(CELL_HATCHES)],
            edgecolor="white",
            linewidth=0,
            yerr=spread,
            capsize=1.5,
            error_kw={"elinewidth": 0.8, "ecolor": "#333333"},
            gid=f"ratio:{cell}",
        )
    ax.axhline(1.0, color="black", linewidth=1)
    ax.set_ylabel("JAX / PyTorch", fontsize=8)
    ax.set_title(f"JAX step / PyTorch step, {RATIO_STRIPS[column]}", fontsize=9, loc="left")
    ax.grid(axis="y", alpha=0.3)


def _step_times(ax, table, shapes: list[str], cells: list[str], has_torch: bool) -> None:
    """Each framework's median step per shape and cell (log scale): colour the framework, marker the cell."""
    for i, cell in enumerate(cells):
        rows = table[table.cell == cell]
        x = np.array([shapes.index(label) for label in rows.shape_label]) + (i - (len(cells) - 1) / 2) * 0.2
        marker = CELL_MARKERS[i % len(CELL_MARKERS)]
        ax.scatter(x, 1000 * rows.step_s, marker=marker, color=JAX_COLOR, s=22, zorder=3)
        if has_torch:
            ax.scatter(x, 1000 * rows.torch_step_s, marker=marker, facecolors="white", edgecolors=TORCH_COLOR, s=22)
    ax.set_yscale("log")
    ax.set_ylabel("step (ms, median)", fontsize=8)
    ax.set_title("training step time, all cores (log scale)", fontsize=9, loc="left")
    ax.grid(axis="y", alpha=0.3)


def _ensemble_panel(ax, ensemble) -> None:
    """K models in one step against one model at a time, per cell and layout (the device's default solid)."""
    for i, (cell, group) in enumerate(ensemble.groupby("cell", sort=False)):
        color, marker = ENSEMBLE_COLORS[i % len(ENSEMBLE_COLORS)], CELL_MARKERS[i % len(CELL_MARKERS)]
        for layout, runs in group.groupby("layout", sort=False):
            default = bool(runs.default_layout.iloc[0])
            speedup = runs.all_models_over_one
            spread = None
            if "all_models_over_one_min" in runs:  # the per-repeat range, paired in the rotation
                spread = [
                    (speedup - runs.all_models_over_one_min).clip(lower=0),
                    (runs.all_models_over_one_max - speedup).clip(lower=0),
                ]
            ax.errorbar(
                runs.models,
                speedup,
                yerr=spread,
                marker=marker,
                color=color,
                capsize=2,
                linestyle="-" if default else ":",
                label=f"{cell_name(cell)}, {layout}{' (this device’s default)' if default else ''}",
            )
    ax.axhline(1.0, color="black", linewidth=1)
    ax.axhline(2.0, color="grey", linestyle="--", linewidth=1, label="goal at K = 16: 2x")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(ensemble.models.unique()), [str(k) for k in sorted(ensemble.models.unique())])
    ax.set_xlabel("models trained at once (K)")
    ax.set_ylabel("throughput of K models in one step / one model alone\n(median; bars: range over repeats)")
    first = ensemble.iloc[0]
    ax.set_title(
        f"K models in one step, {int(first.layers)} layer x {int(first.hidden)} units, batch {int(first.batch)}, "
        f"T {int(first.steps)}",
        fontsize=9,
        loc="left",
    )
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)


def bench_plot(table, ensemble=None, title: str = "") -> Figure:
    """The figure of one benchmark table (and its ensemble table, when given)."""
    table = table.assign(shape_label=[shape_label(r) for r in table.itertuples()])
    shapes = list(dict.fromkeys(table.shape_label))
    cells = list(dict.fromkeys(table.cell))
    has_torch = "torch_step_s" in table and table.torch_step_s.notna().any()
    strips = [c for c in RATIO_STRIPS if has_torch and c in table and table[c].notna().any()]
    rows = len(strips) + 1
    fig = Figure(figsize=(15 if ensemble is not None else 10, 1.9 * len(strips) + 3.6))
    columns = {"ncols": 2, "width_ratios": [2.1, 1.0]} if ensemble is not None else {"ncols": 1}
    grid = fig.add_gridspec(rows, height_ratios=[1.0] * len(strips) + [1.5], **columns)
    axes = [fig.add_subplot(grid[i, 0]) for i in range(rows)]
    for ax in axes[1:]:
        ax.sharex(axes[0])
    ratio_axes = axes[: len(strips)]
    for ax in ratio_axes[1:]:
        ax.sharey(ratio_axes[0])
    for ax, column in zip(ratio_axes, strips):
        _ratio_strip(ax, table, column, shapes, cells)
        ax.tick_params(labelbottom=False)
    _step_times(axes[-1], table, shapes, cells, has_torch)
    axes[-1].set_xticks(range(len(shapes)), shapes, fontsize=7, rotation=45, ha="right")
    axes[-1].set_xlabel("shape: layers x hidden units, batch B, sequence length T")
    handles = []
    if strips:
        handles += [
            Patch(color=FASTER, label="ratio ≤ 1: the project's step is faster"),
            Patch(color=SLOWER, label="ratio > 1: PyTorch's step is faster"),
        ]
    jax_version = str(table.jax_version.iloc[0]) if "jax_version" in table else ""
    handles.append(Line2D([], [], linestyle="", marker="o", color=JAX_COLOR, label=f"JAX {jax_version} step (filled)"))
    if has_torch:
        torch_version = table.torch_version.dropna().iloc[0] if "torch_version" in table else ""
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markerfacecolor="white",
                markeredgecolor=TORCH_COLOR,
                label=f"PyTorch {torch_version} step (open)",
            )
        )
    for i, cell in enumerate(cells):  # a cell: its hatch in the strips, its marker in the step times
        hatch, marker = CELL_HATCHES[i % len(CELL_HATCHES)], CELL_MARKERS[i % len(CELL_MARKERS)]
        if strips:
            name = f"{cell_name(cell)} bars" + (" (hatched)" if hatch else " (plain)")
            handles.append(Patch(facecolor="#777777", hatch=hatch, edgecolor="white", label=name))
        handles.append(Line2D([], [], linestyle="", marker=marker, color="#555555", label=f"{cell_name(cell)} step"))
    fig.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(len(handles), 4),
        fontsize=8,
        frameon=False,
        title="bars: median of the paired per-repeat ratios, whiskers their range; hatch: the cell",
        title_fontsize=8,
    )
    if ensemble is not None:
        _ensemble_panel(fig.add_subplot(grid[:, 1]), with_layouts(ensemble))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def bench_figure(csv_path: Path) -> list[Path]:
    """The figure of a benchmark table and its ensemble table beside it (`<device>-ensemble.csv`, when there),
    written beside the CSV as `<device>.png` and `.pdf`; reads the CSVs only, times nothing."""
    import pandas as pd

    from lte.study.analysis.figures import save_figure

    csv_path = Path(csv_path)
    table = pd.read_csv(csv_path)
    ensemble_path = csv_path.with_name(csv_path.stem + "-ensemble.csv")
    ensemble = pd.read_csv(ensemble_path) if ensemble_path.exists() else None
    title = f"lte bench on {device_words(csv_path, table)}{_provenance_note(csv_path)}"
    return save_figure(bench_plot(table, ensemble, title), csv_path.with_suffix(""))


def benchmark_tables(folder: Path = Path("results/bench")) -> list[Path]:
    """The benchmark tables in `folder`: every `<device>.csv` (its ensemble table is found beside it)."""
    return sorted(p for p in folder.glob("*.csv") if not p.stem.endswith("-ensemble"))
