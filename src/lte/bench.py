"""`lte bench` / `make bench`: recurrent training speed on this machine, side by side with PyTorch.

For each cell at each (hidden, batch): compile time, median training-step time
(compile excluded), tokens/s, achieved FLOP/s and its fraction of this
device's float32 matmul peak measured in the same run, and peak memory. The
same shapes in PyTorch (nn.LSTM / nn.RNN) when PyTorch is installed. Cells
with the fused recurrent gradient (the default) are also timed with plain
autodiff (`autodiff` column), so the trick's gain is measured in the same run.
The steps compared in a row are timed in rotation, repeat by repeat, so that a
slow spell of the machine falls on all of them alike; the spread of the
per-repeat JAX / PyTorch ratios is recorded beside their medians' ratio.

FLOP counting rule (printed with the table): a training step costs about
3 x the forward pass, and the forward pass 2 FLOP per multiply-add, so
6 x (recurrent-layer weights that multiply a vector) x tokens; embedding and
one-hot lookups and the softmax readout are not counted.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from data_gen.vocab import VOCAB_SIZE
from lte.cells import CELLS
from lte.model import ModelConfig, init_params
from lte.provenance import provenance
from lte.recurrence import is_additive
from lte.train import TrainState, compiled_train_step, make_optimizer, with_learning_rate

COUNTING_RULE = ("FLOP/step = 6 x (weight matrices of the recurrent layers, except the first layer's W when it reads "
                 "the one-hot character) x B x T; nominal: the embedding-folded lookup still counts its W")
TORCH_CELLS = {"lstm": ("LSTM", None), "irnn": ("RNN", "relu"), "rnn": ("RNN", "tanh"),
               "gru_reset_after": ("GRU", None), "lstmp": ("LSTM", None)}


SEEDS = ("parameters: PRNGKey(0), model i of an ensemble PRNGKey(i); synthetic batch: numpy default_rng(0), "
         "model i default_rng(i); PyTorch: manual_seed(0)")


def _torch_version() -> str | None:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


@dataclass
class Shape:
    hidden: int
    batch: int
    steps: int = 100
    layers: int = 2


def device_name() -> str:
    device = jax.devices()[0]
    name = device.device_kind if device.platform != "cpu" else (platform.processor() or platform.machine())
    return f"{device.platform}-{name}".replace(" ", "_").replace("/", "_").lower()


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_peak(n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a large float32 matmul on the default device (this run's peak reference)."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    return 2 * n ** 3 / _median_seconds(lambda: f(a).block_until_ready(), repeats)


def counted_weights(params: dict) -> int:
    total = 0
    for i, layer in enumerate(params["layers"]):
        for name, weight in layer.items():
            one_hot_lookup = name == "W" and i == 0 and "embed" not in params
            if weight.ndim == 2 and not one_hot_lookup:
                total += weight.size
    return total


def _peak_memory_bytes() -> int:
    stats = jax.devices()[0].memory_stats() or {}
    if "peak_bytes_in_use" in stats:
        return int(stats["peak_bytes_in_use"])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # CPU: the process's peak


def jax_step(cell: str, shape: Shape, gradient: str = "fused") -> tuple[Callable[[], None], dict]:
    """One compiled training step of `cell` at `shape`, ready to time (compiled and run once)."""
    config = ModelConfig(cell=cell, hidden=shape.hidden, layers=shape.layers, gradient=gradient)
    params = init_params(jax.random.PRNGKey(0), config)
    state = with_learning_rate(TrainState(params, make_optimizer(5.0).init(params)), 0.01)
    batch = _synthetic_batch(shape)
    step = compiled_train_step(config, 5.0)
    start = time.perf_counter()
    compiled = step.lower(state, batch).compile()
    compile_seconds = time.perf_counter() - start
    holder = {"state": state}

    def one():
        holder["state"], counts = compiled(holder["state"], batch)
        jax.block_until_ready(counts)

    one()
    return one, {"compile_s": compile_seconds, "flop_per_step": 6 * counted_weights(params) * shape.batch * shape.steps,
                 "peak_memory_mb": _peak_memory_bytes() / 2 ** 20}


def interleaved_seconds(steps: list[Callable[[], None]], repeats: int) -> list[list[float]]:
    """Each step timed `repeats` times in rotation (a, b, c, a, b, c, ...), so that a slow spell of the machine
    falls on all of them alike and the per-repeat ratios are paired."""
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(repeats):
        for fn, seen in zip(steps, times):
            start = time.perf_counter()
            fn()
            seen.append(time.perf_counter() - start)
    return times


def torch_step(cell: str, shape: Shape) -> Callable[[], None] | None:
    """The same shape with PyTorch's fused recurrent layers (cuDNN on a GPU), run once; None without PyTorch
    or without a PyTorch counterpart of `cell`."""
    try:
        import torch
    except ImportError:
        return None
    if cell not in TORCH_CELLS:
        return None
    kind, nonlinearity = TORCH_CELLS[cell]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    kwargs = {"nonlinearity": nonlinearity} if nonlinearity else {}
    out_size = ModelConfig(cell=cell, hidden=shape.hidden).output_size
    if out_size != shape.hidden:
        kwargs["proj_size"] = out_size  # the LSTMP
    embed = torch.nn.Embedding(VOCAB_SIZE, shape.hidden).to(device)
    rnn = getattr(torch.nn, kind)(shape.hidden, shape.hidden, num_layers=shape.layers, **kwargs).to(device)
    readout = torch.nn.Linear(out_size, VOCAB_SIZE).to(device)
    parameters = [*embed.parameters(), *rnn.parameters(), *readout.parameters()]
    optimizer = torch.optim.SGD(parameters, lr=0.01)
    tokens = torch.randint(1, VOCAB_SIZE, (shape.steps, shape.batch), device=device)
    targets = torch.roll(tokens, -1, 0)

    def one():
        optimizer.zero_grad(set_to_none=True)
        out, _ = rnn(embed(tokens))
        loss = torch.nn.functional.cross_entropy(readout(out).reshape(-1, VOCAB_SIZE), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 5.0)
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    one()
    return one


def write_csv(rows: list[dict], path: Path, log=print, **run: object) -> Path:
    """The table, and beside it <stem>.provenance.json: commit, device, versions, wall time, the run's settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    record = {**provenance(), "torch": _torch_version(), **run}
    path.with_suffix(".provenance.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    log(f"wrote {path} (provenance beside it)")
    return path


def _synthetic_batch(shape: Shape, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, VOCAB_SIZE, size=(shape.batch, shape.steps)).astype(np.int32)
    resets = np.zeros_like(tokens)
    resets[:, 0] = 1
    return {"inputs": tokens, "targets": np.roll(tokens, -1, axis=1), "mask": np.ones_like(tokens), "resets": resets}


def bench_ensemble(cell: str, shape: Shape, k: int, repeats: int) -> dict:
    """K models of `shape` in one vmapped step: step time and per-model tokens/s."""
    from lte.ensemble import compiled_ensemble_step, stack

    config = ModelConfig(cell=cell, hidden=shape.hidden, layers=shape.layers)
    states = []
    for i in range(k):
        params = init_params(jax.random.PRNGKey(i), config)
        states.append(with_learning_rate(TrainState(params, make_optimizer(5.0).init(params)), 0.01))
    holder = {"state": stack(states)}
    batch = stack([_synthetic_batch(shape, i) for i in range(k)])
    step = compiled_ensemble_step(config, 5.0)

    def one():
        holder["state"], counts = step(holder["state"], batch, np.ones(k, bool))
        jax.block_until_ready(counts)

    one()
    seconds = _median_seconds(one, repeats)
    return {"cell": cell, "hidden": shape.hidden, "batch": shape.batch, "steps": shape.steps, "models": k,
            "step_s": seconds, "tokens_per_s_per_model": shape.batch * shape.steps / seconds,
            "tokens_per_s_all_models": k * shape.batch * shape.steps / seconds}


def run_ensemble_benchmark(shape: Shape, ks: list[int], cells: list[str], repeats: int, out_dir: Path,
                           log=print) -> Path:
    device, start = device_name(), time.perf_counter()
    log(f"\nmany models at once (vmap), {shape.layers} x {shape.hidden}, batch {shape.batch} x {shape.steps}:")
    log(f"{'cell':6s} {'K':>3s} {'step ms':>9s} {'tokens/s per model':>19s} {'vs K=1':>7s} {'all models':>11s}")
    rows = []
    for cell in cells:
        base = None
        for k in ks:
            row = {"device": device, **bench_ensemble(cell, shape, k, repeats)}
            base = base or row["tokens_per_s_per_model"]
            rows.append(row)
            log(f"{cell:6s} {k:3d} {1000 * row['step_s']:9.1f} {row['tokens_per_s_per_model']:19.0f} "
                f"{row['tokens_per_s_per_model'] / base:7.2f} {row['tokens_per_s_all_models']:11.0f}")
    return write_csv(rows, out_dir / f"{device}-ensemble.csv", log, repeats=repeats, shape=vars(shape), models=ks,
                     cells=cells, seeds=SEEDS, wall_s=round(time.perf_counter() - start, 1))


def run_benchmark(shapes: list[Shape], cells: list[str] | None = None, repeats: int = 5,
                  out_dir: Path = Path("results/bench"), log=print) -> Path:
    cells, start = cells or list(CELLS), time.perf_counter()
    peak = matmul_peak()
    device = device_name()
    log(f"device {device}; {os.cpu_count()} CPU cores; jax {jax.__version__}; "
        f"float32 matmul peak measured now: {peak / 1e9:.1f} GFLOP/s")
    log(COUNTING_RULE)
    header = f"{'cell':6s} {'H':>5s} {'B':>5s} {'compile s':>9s} {'step ms':>9s} {'tokens/s':>10s} {'GFLOP/s':>8s} " \
             f"{'% peak':>6s} {'mem MB':>8s} {'autodiff':>9s} {'torch ms':>9s} {'jax/torch':>9s}"
    log(header)
    rows = []
    for shape in shapes:
        for cell in cells:
            fused, r = jax_step(cell, shape)
            autodiff = jax_step(cell, shape, "autodiff")[0] if is_additive(CELLS[cell]) else None
            torch_fn = torch_step(cell, shape)
            timed = [fn for fn in (fused, autodiff, torch_fn) if fn is not None]
            times = dict(zip(timed, interleaved_seconds(timed, repeats)))
            step_s = statistics.median(times[fused])
            plain = statistics.median(times[autodiff]) if autodiff else None
            torch_s = statistics.median(times[torch_fn]) if torch_fn else None
            # each repeat's own JAX / PyTorch ratio: their spread says whether a small difference is noise
            paired = sorted(a / b for a, b in zip(times[fused], times[torch_fn])) if torch_fn else None
            tokens = shape.batch * shape.steps
            row = {"device": device, "cell": cell, "hidden": shape.hidden, "batch": shape.batch,
                   "steps": shape.steps, "layers": shape.layers, **r, "step_s": step_s, "tokens_per_s": tokens / step_s,
                   "flop_per_s": r["flop_per_step"] / step_s, "matmul_peak_flop_per_s": peak,
                   "fraction_of_peak": r["flop_per_step"] / step_s / peak,
                   "autodiff_step_s": plain, "fused_over_autodiff": step_s / plain if plain else None,
                   "torch_step_s": torch_s, "torch_version": _torch_version() if torch_fn else None,
                   "jax_over_torch": step_s / torch_s if torch_fn else None,
                   "jax_over_torch_min": paired[0] if paired else None,
                   "jax_over_torch_max": paired[-1] if paired else None,
                   "repeats": repeats, "jax_version": jax.__version__, "cpu_count": os.cpu_count()}
            rows.append(row)
            torch_ms = f"{1000 * torch_s:9.1f}" if torch_fn else f"{'-':>9s}"
            ratio = f"{row['jax_over_torch']:9.2f}" if torch_fn else f"{'-':>9s}"
            autodiff_ms = f"{1000 * plain:9.1f}" if plain else f"{'-':>9s}"
            log(f"{cell:6s} {shape.hidden:5d} {shape.batch:5d} {r['compile_s']:9.2f} {1000 * step_s:9.1f} "
                f"{row['tokens_per_s']:10.0f} {row['flop_per_s'] / 1e9:8.1f} {100 * row['fraction_of_peak']:6.1f} "
                f"{r['peak_memory_mb']:8.0f} {autodiff_ms} {torch_ms} {ratio}")
    return write_csv(rows, out_dir / f"{device}.csv", log, repeats=repeats, shapes=[vars(s) for s in shapes],
                     cells=cells, counting_rule=COUNTING_RULE, seeds=SEEDS,
                     wall_s=round(time.perf_counter() - start, 1))


def bench_figure(csv_path: Path) -> list[Path]:
    """Step time per cell and shape, JAX beside PyTorch (and the ensemble throughput when its CSV is there)."""
    import pandas as pd

    from lte.analysis.figures import new_figure, save_figure

    table = pd.read_csv(csv_path)
    ensemble_path = csv_path.with_name(csv_path.stem + "-ensemble.csv")
    panels = 2 if ensemble_path.exists() else 1
    fig, axes = new_figure(1, panels, figsize=(6.5 * panels, 4.6), squeeze=False)
    ax = axes[0][0]
    labels = [f"{r.cell} H{r.hidden} B{r.batch}" for r in table.itertuples()]
    x = np.arange(len(table))
    ax.bar(x - 0.2, 1000 * table.step_s, 0.4, label=f"JAX {table.jax_version.iloc[0]}")
    if table.torch_step_s.notna().any():
        ax.bar(x + 0.2, 1000 * table.torch_step_s, 0.4, label=f"PyTorch {table.torch_version.dropna().iloc[0]}")
    ax.set_yscale("log")
    ax.set_xticks(x, labels, fontsize=7, rotation=40, ha="right")
    ax.set_ylabel("training step (ms, median; log scale)")
    ax.set_title(f"{table.device.iloc[0]}: {int(table.layers.iloc[0])} layers, {int(table.steps.iloc[0])} time steps")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    if panels == 2:
        ensemble = pd.read_csv(ensemble_path)
        ax = axes[0][1]
        for (cell, group), color in zip(ensemble.groupby("cell"), ["#d62728", "#1f77b4", "#7f7f7f"]):
            ax.plot(group.models, group.tokens_per_s_all_models, marker="o", color=color, label=f"{cell}: all models")
            ax.plot(group.models, group.tokens_per_s_per_model, marker=".", linestyle=":", color=color,
                    label=f"{cell}: per model")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("models trained at once (K)")
        ax.set_ylabel("tokens/s")
        ax.set_title(f"K models in one vmapped step (H{int(ensemble.hidden.iloc[0])}, B{int(ensemble.batch.iloc[0])})")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return save_figure(fig, csv_path.with_suffix(""), bbox_inches=None)


def goals_report(csv_path: Path) -> Path:
    """<device>-goals.md: issue 5's speed goals, each met or missed by how much, from the measured table."""
    import pandas as pd

    table = pd.read_csv(csv_path)
    device = table.device.iloc[0]
    record = csv_path.with_suffix(".provenance.json")
    commit = json.loads(record.read_text()).get("commit") if record.exists() else None
    lines = [f"# Speed goals on {device}", "",
             f"Generated by `lte bench` from `{csv_path.name}` (do not edit)"
             + (f" at commit {commit}" if commit else "") + ". Measured in one run: "
             f"{int(table.cpu_count.iloc[0])} CPU cores, jax {table.jax_version.iloc[0]}"
             + (f", PyTorch {table.torch_version.dropna().iloc[0]}" if table.torch_version.notna().any() else "")
             + f"; float32 matmul peak measured in the same run: {table.matmul_peak_flop_per_s.iloc[0] / 1e9:.1f} "
             "GFLOP/s.", "", f"FLOP rule: {COUNTING_RULE}.", "", "| goal | measured | met |", "|---|---|---|"]

    def row(cell: str, hidden: int, batch: int):
        match = table[(table.cell == cell) & (table.hidden == hidden) & (table.batch == batch)]
        return None if match.empty else match.iloc[0]

    lstm, irnn = row("lstm", 400, 100), row("irnn", 400, 100)
    if lstm is not None:
        if pd.notna(lstm.torch_step_s):
            ratio = lstm.step_s / lstm.torch_step_s
            spread, verdict = "", "yes" if ratio <= 1 else f"no: {100 * (ratio - 1):.0f}% slower"
            if "jax_over_torch_min" in table and pd.notna(lstm.jax_over_torch_min):
                low, high = lstm.jax_over_torch_min, lstm.jax_over_torch_max
                spread = f"; paired per-repeat ratios {low:.2f} to {high:.2f} over {int(lstm.repeats)} repeats"
                if ratio > 1 and low <= 1:
                    verdict += ", within the run's noise (some repeats were faster than PyTorch's)"
            lines.append(f"| 2 x 400 LSTM, batch 100: step no slower than PyTorch's | {1000 * lstm.step_s:.0f} ms vs "
                         f"{1000 * lstm.torch_step_s:.0f} ms ({ratio:.2f}x{spread}) | {verdict} |")
        lines.append(f"| 2 x 400 LSTM, batch 100: at least 75% of the matmul peak | {100 * lstm.fraction_of_peak:.0f}% | "
                     f"{'yes' if lstm.fraction_of_peak >= 0.75 else f'no: {100 * (0.75 - lstm.fraction_of_peak):.0f} points short'} |")
        if pd.notna(lstm.autodiff_step_s):
            lines.append(f"| fused recurrent gradient vs plain autodiff (same shape) | {lstm.fused_over_autodiff:.2f}x "
                         f"the autodiff step | {'faster' if lstm.fused_over_autodiff < 1 else 'not faster'} |")
    if lstm is not None and irnn is not None:
        r = irnn.step_s / lstm.step_s
        lines.append(f"| IRNN step at most 0.3x the LSTM step at 400 units | {r:.2f}x | "
                     f"{'yes' if r <= 0.3 else f'no: {r - 0.3:.2f} over'} |")
    path = csv_path.with_name(f"{csv_path.stem}-goals.md")
    path.write_text("\n".join(lines) + "\n")
    return path
