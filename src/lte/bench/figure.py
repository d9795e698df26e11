"""`lte bench`'s figure: the JAX / PyTorch ratios, the step times behind them, and the ensembles' throughput."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lte.bench.ensemble_table import with_layouts


def bench_figure(csv_path: Path) -> list[Path]:
    """The JAX / PyTorch ratio per cell and shape (the question a reader asks), the step times behind it, and the
    ensemble's throughput against one model at a time (when its CSV is there)."""
    import pandas as pd

    from lte.study.analysis.figures import new_figure, save_figure

    table = pd.read_csv(csv_path)
    ensemble_path = csv_path.with_name(csv_path.stem + "-ensemble.csv")
    has_torch = "jax_over_torch" in table and table.jax_over_torch.notna().any()
    panels = 1 + has_torch + ensemble_path.exists()
    fig, axes = new_figure(1, panels, figsize=(6.2 * panels, 4.8), squeeze=False)
    axes = list(axes[0])
    labels = [f"{r.cell} {int(r.layers)}x{int(r.hidden)} B{int(r.batch)} T{int(r.steps)}" for r in table.itertuples()]
    x = np.arange(len(table))
    if has_torch:
        ax = axes.pop(0)
        # each comparison in the table: (ratio column, legend, hatch); tables from before hold fewer
        comparisons = [
            (name, legend, hatch)
            for name, legend, hatch in (
                ("jax_over_torch", "all cores, one device", None),
                ("split_over_torch", "all cores, batch split over the CPU devices (dotted)", ".."),
                ("jax_over_torch_1core", "one core each (hatched)", "//"),
            )
            if name in table
        ]
        width = 0.8 / len(comparisons)
        for i, (name, legend, hatch) in enumerate(comparisons):
            ratio = table[name]
            spread = [
                (ratio - table.get(f"{name}_min", ratio)).clip(lower=0),
                (table.get(f"{name}_max", ratio) - ratio).clip(lower=0),
            ]
            ax.bar(
                x + (i - (len(comparisons) - 1) / 2) * width,
                ratio,
                width,
                color=["#0072b2" if value <= 1 else "#d55e00" for value in ratio],
                hatch=hatch,
                edgecolor="white" if hatch else None,
                yerr=spread,
                capsize=2,
                ecolor="#333333",
                label=legend,
            )
        if len(comparisons) > 1:
            ax.legend(fontsize=7)
        ax.axhline(1.0, color="black", linewidth=1)
        ax.set_xticks(x, labels, fontsize=6, rotation=60, ha="right")
        ax.set_ylabel("JAX step / PyTorch step (median; bars: per-repeat range)")
        ax.set_title("below 1: the project's step is faster")
        ax.grid(axis="y", alpha=0.3)
    ax = axes.pop(0)
    ax.bar(x - 0.2, 1000 * table.step_s, 0.4, color="#0072b2", label=f"JAX {table.jax_version.iloc[0]}")
    if has_torch:
        ax.bar(
            x + 0.2,
            1000 * table.torch_step_s,
            0.4,
            color="#e69f00",
            hatch="//",
            label=f"PyTorch {table.torch_version.dropna().iloc[0]}",
        )
    ax.set_yscale("log")
    ax.set_xticks(x, labels, fontsize=6, rotation=60, ha="right")
    ax.set_ylabel("training step (ms, median; log scale)")
    ax.set_title(str(table.device.iloc[0]), fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    if axes:
        ensemble = with_layouts(pd.read_csv(ensemble_path))
        ax = axes.pop(0)
        for (cell, group), color, marker in zip(
            ensemble.groupby("cell", sort=False), ["#d55e00", "#0072b2", "#009e73"], "os^"
        ):
            for layout, runs in group.groupby("layout", sort=False):
                default = bool(runs.default_layout.iloc[0])
                speedup = runs.all_models_over_one
                spread = None
                if "all_models_over_one_min" in runs:  # the per-repeat range, paired in the rotation
                    spread = [
                        (speedup - runs.all_models_over_one_min).clip(lower=0),
                        (runs.all_models_over_one_max - speedup).clip(lower=0),
                    ]
                label = f"{cell}, {layout}{' (default)' if default else ''}"
                ax.errorbar(
                    runs.models,
                    speedup,
                    yerr=spread,
                    marker=marker,
                    color=color,
                    capsize=2,
                    linestyle="-" if default else ":",
                    label=label,
                )
        ax.axhline(1.0, color="black", linewidth=1)
        ax.axhline(2.0, color="grey", linestyle="--", linewidth=1, label="goal at K = 16: 2x")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("models trained at once (K)")
        ax.set_ylabel("throughput of all K models / one model alone\n(median; bars: per-repeat range)")
        first = ensemble.iloc[0]
        ax.set_title(
            f"K models in one step ({int(first.layers)}x{int(first.hidden)} B{int(first.batch)} T{int(first.steps)})",
            fontsize=9,
        )
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return save_figure(fig, csv_path.with_suffix(""))
