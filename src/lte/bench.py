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
import math
import os
import re
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from data_gen.vocab import VOCAB_SIZE
from lte.core.cells import CELLS
from lte.core.errors import LteError
from lte.core.model import ModelConfig, init_params
from lte.core.provenance import cpu_model, provenance, vector_extension
from lte.core.recurrence import is_additive
from lte.core.train import (TrainState, compiled_counting_step, compiled_train_step, make_optimizer, with_learning_rate,
                            zero_counts)

COUNTING_RULE = ("FLOP/step = 6 x (weight matrices of the recurrent layers, except the first layer's W when it reads "
                 "the one-hot character) x B x T; nominal: the embedding-folded lookup still counts its W")
TORCH_CELLS = {"lstm": ("LSTM", None), "irnn": ("RNN", "relu"), "rnn": ("RNN", "tanh"),
               "gru_reset_after": ("GRU", None), "lstmp": ("LSTM", None)}
# Full float32 matmuls in both frameworks: TF32 (a GPU's default in some libraries) would be another benchmark.
MATMUL_PRECISION = "highest"
MIN_TIMED_SECONDS = 0.02  # each timed block runs enough steps to last at least this long (small shapes)
WARM_CALL_BELOW_SECONDS = 0.1  # steps shorter than this get an untimed call before each timed block

SEEDS = ("parameters (timing_params): numpy default_rng(0) uniform in +-0.08, model i of an ensemble default_rng(i); "
         "synthetic batch: numpy default_rng(0), model i default_rng(i); PyTorch: manual_seed(0)")


def _torch_version() -> str | None:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class Shape:
    hidden: int
    batch: int
    steps: int = 100
    layers: int = 2

    @property
    def label(self) -> str:
        return f"{self.layers}x{self.hidden} B{self.batch} T{self.steps}"


# The study's shapes on a CPU (1 or 2 layers of 64-256 units, batch 32 and 100) at its row lengths: 32 (copy of
# 10 digits, 3-digit addition) and 144 (programs of length 2, nesting 2). `make bench` times these.
STUDY_SHAPES = [Shape(hidden, batch, steps, layers) for layers, hidden in ((1, 64), (1, 128), (1, 256), (2, 128))
                for batch in (32, 100) for steps in (32, 144)]
STUDY_CELLS = ["lstm", "irnn"]
# Zaremba's scale (2 x 400), where the first speed goals were set: `lte bench --full` adds these and every cell.
PAPER_SHAPES = [Shape(hidden, batch) for hidden in (128, 400) for batch in (100, 1000)]
TINY_SHAPES = [Shape(hidden=8, batch=4, steps=5)]
ENSEMBLE_SHAPE = Shape(hidden=64, batch=32, steps=32, layers=1)
# K models per step: each K is a compile in this process and in each sweep worker (about a second apiece), so
# the default table (5 minutes in all on the reference machine) takes three; `lte bench --full` all five
ENSEMBLE_MODELS, ENSEMBLE_MODELS_FULL = [1, 4, 16], [1, 2, 4, 8, 16]


def parse_shape(text: str) -> Shape:
    """'LAYERSxHIDDEN:BATCH:STEPS', e.g. '1x64:32:32'."""
    try:
        size, batch, steps = text.split(":")
        layers, hidden = size.split("x")
        shape = Shape(hidden=int(hidden), batch=int(batch), steps=int(steps), layers=int(layers))
    except ValueError:
        raise LteError(f"--shapes {text!r}: a shape is LAYERSxHIDDEN:BATCH:STEPS, e.g. 1x64:32:32") from None
    if min(shape.hidden, shape.batch, shape.steps, shape.layers) < 1:
        raise LteError(f"--shapes {text!r}: layers, hidden, batch and steps must be positive integers")
    return shape


def parse_cells(text: str) -> list[str]:
    cells = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if not cells or unknown:
        raise LteError(f"--cells {text!r}: unknown cell(s) {', '.join(unknown) or '(none given)'}; "
                       f"allowed: {', '.join(CELLS)}")
    return cells


def device_name() -> str:
    """File-name-safe name of JAX's device: the GPU's kind, or the CPU's model, vector instructions and core
    count, so that another machine's tables sit beside this one's instead of replacing them."""
    device = jax.devices()[0]
    name = (device.device_kind if device.platform != "cpu"
            else " ".join(filter(None, (cpu_model(), vector_extension(), f"{os.cpu_count()}cores"))))
    return f"{device.platform}-" + re.sub(r"[^a-z0-9.]+", "_", name.lower()).strip("_")


def gpu_unused_warning() -> str | None:
    """A warning when this machine has an NVIDIA GPU but JAX runs on the CPU (a CPU-only jaxlib)."""
    has_gpu = shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia/version").exists()
    if has_gpu and jax.default_backend() == "cpu":
        return ("warning: this machine has an NVIDIA GPU but JAX runs on the CPU; install a CUDA build of JAX "
                "(pip install -e '.[cuda]', which `make bench` does when nvidia-smi is found) to benchmark the GPU")
    return None


def matmul_peak(n: int = 2048, min_seconds: float = 0.2, repeats: int = 5) -> float:
    """FLOP/s of a large float32 matmul on the default device (this run's peak reference); each timing runs
    enough matmuls to last `min_seconds`, so that a fast GPU is timed at its peak, not at its launch overhead."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    start = time.perf_counter()
    f(a).block_until_ready()
    inner = max(1, math.ceil(min_seconds / max(time.perf_counter() - start, 1e-9)))

    def many():
        out = None
        for _ in range(inner):
            out = f(a)
        out.block_until_ready()

    return 2 * n ** 3 * inner / _median_seconds(many, repeats)


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def counted_weights(params: dict) -> int:
    total = 0
    for i, layer in enumerate(params["layers"]):
        for name, weight in layer.items():
            one_hot_lookup = name == "W" and i == 0 and "embed" not in params
            if weight.ndim == 2 and not one_hot_lookup:
                total += weight.size
    return total


def compiled_memory_mb(compiled) -> float | None:
    """The compiled step's own memory (XLA's buffer assignment: arguments, outputs and temporaries), per shape."""
    try:
        stats = compiled.memory_analysis()
    except Exception:  # some backends do not report it
        return None
    if stats is None:
        return None
    peak = getattr(stats, "peak_memory_in_bytes", 0)
    total = peak or (stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
                     - stats.alias_size_in_bytes)
    return total / 2 ** 20


def jax_step(cell: str, shape: Shape, gradient: str = "fused", unroll: int = 1) -> tuple[Callable[[], None], dict]:
    """One compiled training step of `cell` at `shape`, ready to time (compiled and run once)."""
    config = ModelConfig(cell=cell, hidden=shape.hidden, layers=shape.layers, gradient=gradient, unroll=unroll)
    params = timing_params(config, 0)
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
                 "memory_mb": compiled_memory_mb(compiled)}


def interleaved_seconds(blocks: list[Callable[[], float]], repeats: int) -> list[list[float]]:
    """Each block run `repeats` times in rotation (a, b, c, a, b, c, ...), so that a slow spell of the machine
    falls on all of them alike and the per-repeat ratios are paired. A block returns the seconds it measured."""
    times: list[list[float]] = [[] for _ in blocks]
    for _ in range(repeats):
        for block, seen in zip(blocks, times):
            seen.append(block())
    return times


def warm_block(fn: Callable[[], None], inner: int, warm: bool = True) -> Callable[[], float]:
    """A block of `fn`: one untimed call (unless `warm` is False), then `inner` timed ones; returns their seconds
    per call.

    The untimed call refills the caches that the step before it in the rotation evicted: timed cold, a 3 ms
    LSTM step right after a 40 MB one read about 15% slower than it runs in a training loop, where it
    follows itself."""
    def run() -> float:
        if warm:
            fn()
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        return (time.perf_counter() - start) / inner
    return run


def _step_estimate(fn: Callable[[], None]) -> float:
    """A step's seconds, roughly (it only sizes the timed blocks): one call, or for a short step the median of
    three (one call of a long step is enough, and three would cost a table seconds)."""
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    return once if once >= MIN_TIMED_SECONDS else max(_median_seconds(fn, 3), 1e-9)


def per_step_seconds(steps: list[Callable[[], None]], repeats: int) -> list[list[float]]:
    """Per-step seconds of each step, timed in rotation (`interleaved_seconds`) in warm blocks (`warm_block`)
    of enough steps of its own to last MIN_TIMED_SECONDS (a small step is too short to time alone). A step of
    WARM_CALL_BELOW_SECONDS or more is timed without the untimed call first: refilling the caches (at most the
    last-level cache, read from memory in a millisecond or two) is a percent or two of it at most, alike for
    every step of the rotation, and the call would double the time the table's longest steps take."""
    estimates = [_step_estimate(fn) for fn in steps]
    return interleaved_seconds([warm_block(fn, max(1, math.ceil(MIN_TIMED_SECONDS / t)), t < WARM_CALL_BELOW_SECONDS)
                                for fn, t in zip(steps, estimates)], repeats)


def torch_step(cell: str, shape: Shape, log=print) -> Callable[[], None] | None:
    """The same shape with PyTorch's fused recurrent layers, on JAX's device (cuDNN on a GPU), in full float32,
    run once; None without PyTorch, without a PyTorch counterpart of `cell`, or without PyTorch on JAX's device."""
    try:
        import torch
    except ImportError:
        return None
    if cell not in TORCH_CELLS:
        return None
    device = "cuda" if jax.default_backend() == "gpu" else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        log("PyTorch has no CUDA here while JAX runs on the GPU: no PyTorch column")
        return None
    torch.set_float32_matmul_precision(MATMUL_PRECISION)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    kind, nonlinearity = TORCH_CELLS[cell]
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


def reference_lstm(x, h_0, c_0, weights, seq_lengths, input_size, hidden_size, num_layers, dropout, bidirectional):
    """jax.experimental.rnn.lstm's pure-JAX reference with lstm's signature (the cuDNN step's path on a CPU)."""
    from jax.experimental import rnn

    W_ih, W_hh, b_ih, b_hh = rnn.unpack_lstm_weights(weights, input_size, hidden_size, num_layers, bidirectional)
    return rnn.lstm_ref(x, h_0, c_0, W_ih, W_hh, b_ih, b_hh, seq_lengths, input_size, hidden_size, num_layers,
                        dropout, bidirectional)


def cudnn_lstm_step(shape: Shape, lstm_fn=None) -> Callable[[], float]:
    """A training step of JAX's cuDNN LSTM (jax.experimental.rnn.lstm; GPUs only) with the benchmark's embedding,
    readout, loss, clip and SGD, compiled and run once; each call returns its loss. `lstm_fn` replaces the cuDNN
    call (tests: reference_lstm)."""
    from jax.experimental import rnn

    lstm_fn = lstm_fn or rnn.lstm
    h, n = shape.hidden, shape.layers
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    params = {"embed": 0.08 * jax.random.normal(keys[0], (VOCAB_SIZE, h)),
              "lstm": rnn.init_lstm_weight(keys[1], h, h, n, False),
              "readout": 0.08 * jax.random.normal(keys[2], (h, VOCAB_SIZE)), "bias": jnp.zeros(VOCAB_SIZE)}
    batch = _synthetic_batch(shape)
    tokens, targets = jnp.asarray(batch["inputs"]), jnp.asarray(batch["targets"])
    optimizer = make_optimizer(5.0, 0.01)
    zeros = jnp.zeros((n, shape.batch, h))
    lengths = jnp.full((shape.batch,), shape.steps, jnp.int32)

    def loss(p):
        y, _, _ = lstm_fn(p["embed"][tokens], zeros, zeros, p["lstm"], lengths, input_size=h, hidden_size=h,
                          num_layers=n, dropout=0.0, bidirectional=False)
        logits = y @ p["readout"] + p["bias"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), targets[..., None], -1))

    @jax.jit
    def step(p, opt_state):
        value, grads = jax.value_and_grad(loss)(p)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, value

    holder = {"state": (params, optimizer.init(params))}

    def one() -> float:
        *state, value = step(*holder["state"])
        holder["state"] = tuple(state)
        return float(value)  # waits for the step

    one()
    return one


def one_core_seconds(pairs: list[tuple[str, dict]], repeats: int) -> list[tuple[list[float], list[float]] | None]:
    """In a process started single-threaded (`timed_on_one_core`), PyTorch held to one thread too: each
    (cell, shape)'s fused JAX step and PyTorch step, timed in rotation; None where PyTorch has no such step."""
    import torch

    torch.set_num_threads(1)
    times = []
    with jax.default_matmul_precision(MATMUL_PRECISION):
        for cell, shape in pairs:
            theirs = torch_step(cell, Shape(**shape), log=lambda _: None)
            times.append(None if theirs is None else
                         tuple(per_step_seconds([jax_step(cell, Shape(**shape))[0], theirs], repeats)))
    return times


def one_core_repeats(repeats: int) -> int:
    """Repeats of the one-core table: half the main table's, rounded down (at least 3, at most `repeats`), so
    that a default `make bench` stays within 5 minutes on the 2-core reference machine."""
    return min(repeats, max(3, repeats // 2))


def timed_on_one_core(pairs: list[tuple[str, dict]], repeats: int) -> list[tuple[list[float], list[float]] | None]:
    """`one_core_seconds` in a fresh process with one XLA thread and one PyTorch thread: each framework on one
    core, as `lte sweep`'s workers run (one single-threaded process per core)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from lte.core.runtime import set_environment, single_threaded_cpu_env

    with ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=set_environment,
                             initargs=(single_threaded_cpu_env(),)) as pool:
        return pool.submit(one_core_seconds, pairs, repeats).result()


def with_one_core_columns(rows: list[dict], times: list[tuple[list[float], list[float]] | None]) -> None:
    """Each row's one-core JAX and PyTorch steps (medians, and the paired per-repeat ratios' extremes)."""
    for row, pair in zip(rows, times):
        if pair is None:
            continue
        ours, theirs = pair
        paired = sorted(a / b for a, b in zip(ours, theirs))
        row.update(repeats_1core=len(ours), step_1core_s=statistics.median(ours),
                   torch_step_1core_s=statistics.median(theirs),
                   jax_over_torch_1core=statistics.median(ours) / statistics.median(theirs),
                   jax_over_torch_1core_min=paired[0], jax_over_torch_1core_max=paired[-1])


def write_csv(rows: list[dict], path: Path, log=print, **run: object) -> Path:
    """The table, and beside it <stem>.provenance.json: commit, device, versions, wall time, the run's settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
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


def ensemble_step(cell: str, shape: Shape, k: int, layout: str) -> Callable[[], None]:
    """K models of `shape` in one compiled step in `layout` (model i from PRNGKey(i)), ready to time (run once)."""
    from lte.methods.ensemble import compiled_ensemble_step, stack

    config = ModelConfig(cell=cell, hidden=shape.hidden, layers=shape.layers)
    holder = {"state": stack([_train_state(config, i) for i in range(k)]), "sums": zero_counts(k)}
    batch = stack([_synthetic_batch(shape, i) for i in range(k)])
    step = compiled_ensemble_step(config, 5.0, layout)

    def one():
        holder["state"], holder["sums"] = step(holder["state"], batch, np.ones(k, bool), holder["sums"])
        jax.block_until_ready(holder["sums"])

    one()
    return one


def single_model_step(cell: str, shape: Shape) -> Callable[[], None]:
    """One model's step as `lte train` takes it (`compiled_counting_step`), ready to time (run once)."""
    config = ModelConfig(cell=cell, hidden=shape.hidden, layers=shape.layers)
    holder = {"state": _train_state(config, 0), "sums": zero_counts()}
    batch, step = _synthetic_batch(shape), compiled_counting_step(config, 5.0)

    def one():
        holder["state"], holder["sums"] = step(holder["state"], batch, holder["sums"])
        jax.block_until_ready(holder["sums"])

    one()
    return one


def split_step(cell: str, shape: Shape, devices: int) -> Callable[[], None]:
    """`lte train --cpu-devices N`'s step: one model, the batch's rows split over `devices` CPU devices
    (`lte.core.data_parallel`), ready to time (run once)."""
    from lte.core.data_parallel import data_parallel_counting_step

    config = ModelConfig(cell=cell, hidden=shape.hidden, layers=shape.layers)
    holder = {"state": _train_state(config, 0), "sums": zero_counts()}
    batch, step = _synthetic_batch(shape), data_parallel_counting_step(config, 5.0, devices)

    def one():
        holder["state"], holder["sums"] = step(holder["state"], batch, holder["sums"])
        jax.block_until_ready(holder["sums"])

    one()
    return one


def split_devices(shape: Shape, on_gpu: bool) -> int:
    """How many CPU devices `split_step` can use at `shape` here: all of JAX's CPU devices (`lte bench` asks for
    one per core before JAX starts), or 0 where there is no split to time (a GPU, one device, uneven rows)."""
    devices = len(jax.devices("cpu"))
    return devices if not on_gpu and devices > 1 and shape.batch % devices == 0 else 0


def timing_params(config: ModelConfig, seed: int) -> dict:
    """Parameters of `config`'s shapes, for timing only: drawn by NumPy (uniform in +-0.08, Zaremba's range)
    rather than by `init_params`, whose eager random ops compile afresh at every new shape (about 1 s a shape,
    in each process that times it). A step's time does not depend on the values: dense matmuls, no
    data-dependent branch."""
    shapes = jax.eval_shape(lambda key: init_params(key, config), jax.random.PRNGKey(seed))
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda leaf: jnp.asarray(rng.uniform(-0.08, 0.08, leaf.shape).astype(leaf.dtype)), shapes)


def _train_state(config: ModelConfig, seed: int) -> TrainState:
    params = timing_params(config, seed)
    return with_learning_rate(TrainState(params, make_optimizer(5.0).init(params)), 0.01)


def _ensemble_step_seconds(payload: tuple) -> dict:
    """In a worker process: each repeat's step time, all timed in rotation: one model alone ("single"), each
    (layout, K), and with `batch_one`, one model alone at batch 1 (what a step costs whatever its size: the
    per-step overhead)."""
    cell, shape, ks, layouts, repeats, batch_one = payload
    with jax.default_matmul_precision(MATMUL_PRECISION):
        steps = {"single": single_model_step(cell, Shape(**shape))}
        steps.update({(layout, k): ensemble_step(cell, Shape(**shape), k, layout) for layout in layouts for k in ks})
        if batch_one:
            steps["batch_one"] = single_model_step(cell, Shape(**{**shape, "batch": 1}))
        return dict(zip(steps, per_step_seconds(list(steps.values()), repeats)))


def paired_speedups(k: int, single_s: list[float], ensemble_s: list[float]) -> list[float]:
    """Each repeat's throughput of K models in one step over one model alone, timed in the same rotation,
    sorted: their spread says whether a median near 1.0x is above or below it."""
    return sorted(k * one / many for one, many in zip(single_s, ensemble_s))


def shared_overhead_bound(k: int, one_s: float, batch_one_s: float) -> float:
    """The most K models in one step can gain over one at a time if they share only the per-step overhead
    (a batch-1 step's time, `batch_one_s`) and each adds its own work (`one_s - batch_one_s`): K * one /
    (overhead + K * work). Larger gains need the work itself to run faster in a batched step."""
    work = max(one_s - batch_one_s, 1e-12)
    return k * one_s / (min(batch_one_s, one_s) + k * work)


def ensemble_seconds_as_in_sweeps(cell: str, shape: Shape, ks: list[int], layouts: list[str], repeats: int,
                                  workers: int) -> list[dict]:
    """Each step's time in each of `workers` single-threaded processes running at once: the conditions of
    `lte sweep`'s workers, which decide whether a sweep gains from ensembles."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from lte.core.runtime import set_environment, single_threaded_cpu_env

    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=set_environment,
                             initargs=(single_threaded_cpu_env(),)) as pool:
        futures = [pool.submit(_ensemble_step_seconds, (cell, vars(shape), ks, layouts, repeats, False))
                   for _ in range(workers)]
        return [future.result() for future in futures]


def run_ensemble_benchmark(shape: Shape, ks: list[int], cells: list[str], repeats: int, out_dir: Path,
                           log=print, sweep_workers: int | None = None) -> Path:
    """K models in one step, in each layout (`lte.methods.ensemble.LAYOUTS`), against one model at a time
    (`lte train`'s own step), all timed in rotation: in this process (all cores), and as in a sweep
    (`sweep_workers` single-threaded processes at once; default: one per core)."""
    from lte.methods.ensemble import LAYOUTS, default_layout

    device, start = device_name(), time.perf_counter()
    sweep_workers = sweep_workers or os.cpu_count() or 1
    log(f"\nmany models at once, {shape.label}, against one model at a time; 'as in sweeps': {sweep_workers} "
        f"single-threaded processes at once, the median over them; this device's default layout: {default_layout()}")
    log(f"{'cell':6s} {'layout':>10s} {'K':>3s} {'step ms':>9s} {'all models vs one':>18s} {'as in sweeps':>13s}")
    rows = []
    for cell in cells:
        repeat_times = _ensemble_step_seconds((cell, vars(shape), ks, LAYOUTS, repeats, True))
        times = {key: statistics.median(t) for key, t in repeat_times.items()}
        workers = ensemble_seconds_as_in_sweeps(cell, shape, ks, LAYOUTS, repeats, sweep_workers)
        in_sweeps = {key: statistics.median(statistics.median(w[key]) for w in workers) for key in workers[0]}
        one, batch_one = times["single"], times["batch_one"]
        for layout in LAYOUTS:
            for k in ks:
                seconds, sweep_seconds = times[layout, k], in_sweeps[layout, k]
                paired = paired_speedups(k, repeat_times["single"], repeat_times[layout, k])
                row = {"device": device, "cell": cell, "hidden": shape.hidden, "batch": shape.batch,
                       "steps": shape.steps, "layers": shape.layers, "layout": layout,
                       "default_layout": layout == default_layout(), "models": k, "step_s": seconds,
                       "single_step_s": one, "tokens_per_s_per_model": shape.batch * shape.steps / seconds,
                       "tokens_per_s_all_models": k * shape.batch * shape.steps / seconds,
                       "all_models_over_one": k * one / seconds, "all_models_over_one_min": paired[0],
                       "all_models_over_one_max": paired[-1], "repeats": repeats, "sweep_workers": sweep_workers,
                       "sweep_step_s": sweep_seconds, "sweep_single_step_s": in_sweeps["single"],
                       "sweep_all_models_over_one": k * in_sweeps["single"] / sweep_seconds,
                       "batch_one_step_s": batch_one, "overhead_share": batch_one / one,
                       "shared_overhead_bound": shared_overhead_bound(k, one, batch_one)}
                rows.append(row)
                log(f"{cell:6s} {layout:>10s} {k:3d} {1000 * seconds:9.2f} {row['all_models_over_one']:17.2f}x "
                    f"{row['sweep_all_models_over_one']:12.2f}x")
    return write_csv(rows, out_dir / f"{device}-ensemble.csv", log, repeats=repeats, shape=vars(shape), models=ks,
                     cells=cells, layouts=list(LAYOUTS), default_layout=default_layout(), seeds=SEEDS,
                     matmul_precision=MATMUL_PRECISION, sweep_workers=sweep_workers,
                     wall_s=round(time.perf_counter() - start, 1))


def run_benchmark(shapes: list[Shape], cells: list[str] | None = None, repeats: int = 5,
                  out_dir: Path = Path("results/bench"), log=print, autodiff: bool = False) -> Path:
    """Every cell at every shape: the fused step, PyTorch's, the step split over the CPU devices and (on a GPU,
    LSTM) JAX's cuDNN LSTM, timed in rotation; one CSV row per (cell, shape). With `autodiff`, plain autodiff's
    step too (the fused gradient's gain; `lte bench --full`: it costs a compile and a timed step per row)."""
    cells, start = cells or list(CELLS), time.perf_counter()
    warning = gpu_unused_warning()
    if warning:
        log(warning)
    on_gpu = jax.default_backend() == "gpu"
    with jax.default_matmul_precision(MATMUL_PRECISION):
        peak = matmul_peak()
        device = device_name()
        log(f"device {device}; {os.cpu_count()} CPU cores; jax {jax.__version__}; float32 matmuls at precision "
            f"{MATMUL_PRECISION!r} in JAX and PyTorch; matmul peak measured now: {peak / 1e9:.1f} GFLOP/s")
        log(COUNTING_RULE)
        log(f"{'cell':6s} {'shape':>18s} {'compile s':>9s} {'step ms':>9s} {'tokens/s':>10s} {'% peak':>6s} "
            f"{'mem MB':>7s} {'autodiff':>9s} {'torch ms':>9s} {'jax/torch':>9s} {'split ms':>9s} {'split/torch':>11s}")
        rows = []
        for shape in shapes:
            for cell in cells:
                rows.append(_bench_row(cell, shape, repeats, peak, device, on_gpu, log, autodiff))
    compared = [row for row in rows if row["torch_step_s"]]
    if compared and not on_gpu:
        log("\none core each (XLA and PyTorch single-threaded, in a fresh process), as `lte sweep`'s workers run:")
        log(f"{'cell':6s} {'shape':>18s} {'step ms':>9s} {'torch ms':>9s} {'jax/torch':>9s}")
        pairs = [(row["cell"], {k: row[k] for k in ("hidden", "batch", "steps", "layers")}) for row in compared]
        with_one_core_columns(compared, timed_on_one_core(pairs, one_core_repeats(repeats)))
        for row in compared:
            if "step_1core_s" in row:
                label = Shape(row["hidden"], row["batch"], row["steps"], row["layers"]).label
                log(f"{row['cell']:6s} {label:>18s} {1000 * row['step_1core_s']:9.2f} "
                    f"{1000 * row['torch_step_1core_s']:9.2f} {row['jax_over_torch_1core']:9.2f}")
    return write_csv(rows, out_dir / f"{device}.csv", log, repeats=repeats, shapes=[vars(s) for s in shapes],
                     cells=cells, autodiff=autodiff, counting_rule=COUNTING_RULE, seeds=SEEDS,
                     matmul_precision=MATMUL_PRECISION, torch_threads=_torch_threads(), wall_s=round(time.perf_counter() - start, 1))


def _torch_threads() -> int | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def _bench_row(cell: str, shape: Shape, repeats: int, peak: float, device: str, on_gpu: bool, log,
               autodiff: bool = False) -> dict:
    fused, r = jax_step(cell, shape)
    candidates = {"fused": fused,
                  "autodiff": jax_step(cell, shape, "autodiff")[0] if autodiff and is_additive(CELLS[cell]) else None,
                  "torch": torch_step(cell, shape, log),
                  "cudnn": cudnn_lstm_step(shape) if on_gpu and cell == "lstm" else None}
    devices = split_devices(shape, on_gpu)
    if devices:
        candidates["split"] = split_step(cell, shape, devices)
    timed = {name: fn for name, fn in candidates.items() if fn is not None}
    times = dict(zip(timed, per_step_seconds(list(timed.values()), repeats)))
    median = {name: statistics.median(t) for name, t in times.items()}
    step_s, plain, torch_s = median["fused"], median.get("autodiff"), median.get("torch")
    # each repeat's own JAX / PyTorch ratio: their spread says whether a small difference is noise
    paired = sorted(a / b for a, b in zip(times["fused"], times["torch"])) if torch_s else None
    row = {"device": device, "cell": cell, "hidden": shape.hidden, "batch": shape.batch, "steps": shape.steps,
           "layers": shape.layers, "compile_s": r["compile_s"], "flop_per_step": r["flop_per_step"],
           "memory_mb": r["memory_mb"], "step_s": step_s, "tokens_per_s": shape.batch * shape.steps / step_s,
           "flop_per_s": r["flop_per_step"] / step_s, "matmul_peak_flop_per_s": peak,
           "fraction_of_peak": r["flop_per_step"] / step_s / peak,
           "autodiff_step_s": plain, "fused_over_autodiff": step_s / plain if plain else None,
           "torch_step_s": torch_s, "torch_version": _torch_version() if torch_s else None,
           "jax_over_torch": step_s / torch_s if torch_s else None,
           "jax_over_torch_min": paired[0] if paired else None, "jax_over_torch_max": paired[-1] if paired else None,
           "cudnn_step_s": median.get("cudnn"), "repeats": repeats, "jax_version": jax.__version__,
           "cpu_count": os.cpu_count()}
    if "split" in median:  # all cores on one model, as PyTorch's step uses them
        row.update(split_devices=devices, split_step_s=median["split"])
        if torch_s:
            split = sorted(a / b for a, b in zip(times["split"], times["torch"]))
            row.update(split_over_torch=median["split"] / torch_s, split_over_torch_min=split[0],
                       split_over_torch_max=split[-1])

    def ms(value):
        return f"{1000 * value:9.2f}" if value else f"{'-':>9s}"

    memory = f"{r['memory_mb']:7.1f}" if r["memory_mb"] is not None else f"{'-':>7s}"
    ratio = f"{row['jax_over_torch']:9.2f}" if torch_s else f"{'-':>9s}"
    log(f"{cell:6s} {shape.label:>18s} {r['compile_s']:9.2f} {ms(step_s)} {row['tokens_per_s']:10.0f} "
        f"{100 * row['fraction_of_peak']:6.1f} {memory} {ms(plain)} {ms(torch_s)} {ratio} {ms(median.get('split'))}"
        + (f" {row['split_over_torch']:11.2f}" if "split_over_torch" in row else f" {'-':>11s}"))
    return row


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
        comparisons = [(name, legend, hatch) for name, legend, hatch in (
            ("jax_over_torch", "all cores, one device", None),
            ("split_over_torch", "all cores, batch split over the CPU devices (dotted)", ".."),
            ("jax_over_torch_1core", "one core each (hatched)", "//")) if name in table]
        width = 0.8 / len(comparisons)
        for i, (name, legend, hatch) in enumerate(comparisons):
            ratio = table[name]
            spread = [(ratio - table.get(f"{name}_min", ratio)).clip(lower=0),
                      (table.get(f"{name}_max", ratio) - ratio).clip(lower=0)]
            ax.bar(x + (i - (len(comparisons) - 1) / 2) * width, ratio, width,
                   color=["#0072b2" if value <= 1 else "#d55e00" for value in ratio], hatch=hatch,
                   edgecolor="white" if hatch else None, yerr=spread, capsize=2, ecolor="#333333", label=legend)
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
        ax.bar(x + 0.2, 1000 * table.torch_step_s, 0.4, color="#e69f00", hatch="//",
               label=f"PyTorch {table.torch_version.dropna().iloc[0]}")
    ax.set_yscale("log")
    ax.set_xticks(x, labels, fontsize=6, rotation=60, ha="right")
    ax.set_ylabel("training step (ms, median; log scale)")
    ax.set_title(str(table.device.iloc[0]), fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    if axes:
        ensemble = with_layouts(pd.read_csv(ensemble_path))
        ax = axes.pop(0)
        for (cell, group), color, marker in zip(ensemble.groupby("cell", sort=False), ["#d55e00", "#0072b2", "#009e73"],
                                                "os^"):
            for layout, runs in group.groupby("layout", sort=False):
                default = bool(runs.default_layout.iloc[0])
                speedup = runs.all_models_over_one
                spread = None
                if "all_models_over_one_min" in runs:  # the per-repeat range, paired in the rotation
                    spread = [(speedup - runs.all_models_over_one_min).clip(lower=0),
                              (runs.all_models_over_one_max - speedup).clip(lower=0)]
                ax.errorbar(runs.models, speedup, yerr=spread, marker=marker, color=color, capsize=2,
                            linestyle="-" if default else ":", label=f"{cell}, {layout}{' (default)' if default else ''}")
        ax.axhline(1.0, color="black", linewidth=1)
        ax.axhline(2.0, color="grey", linestyle="--", linewidth=1, label="goal at K = 16: 2x")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("models trained at once (K)")
        ax.set_ylabel("throughput of all K models / one model alone\n(median; bars: per-repeat range)")
        first = ensemble.iloc[0]
        ax.set_title(f"K models in one step ({int(first.layers)}x{int(first.hidden)} B{int(first.batch)} "
                     f"T{int(first.steps)})", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return save_figure(fig, csv_path.with_suffix(""))


def _met(ratio: float, goal: float) -> str:
    return "yes" if ratio <= goal else f"no: {100 * (ratio / goal - 1):.0f}% slower"


def with_layouts(ensemble):
    """An ensemble table with its `layout` and `default_layout` columns (tables from before the sequential layout
    timed the vectorised one only, then the only one)."""
    if "layout" not in ensemble:
        ensemble = ensemble.assign(layout="vectorised", default_layout=True)
    return ensemble


def _ensemble_goals(cell: str, layout: str, group) -> list[str]:
    """The goals report's lines on K models in one step, in one layout."""
    by_k = group.set_index("models")
    speedup = by_k.all_models_over_one
    default = " (this device's default)" if group.default_layout.iloc[0] else ""
    where = (f"{cell.upper()} {int(group.layers.iloc[0])}x{int(group.hidden.iloc[0])} B{int(group.batch.iloc[0])}, "
             f"{layout}{default}")
    lines = []
    if 16 in speedup.index:
        bound = ""
        if "shared_overhead_bound" in group:
            bound = (f" (the most that sharing the per-step overhead could give: {by_k.loc[16].shared_overhead_bound:.2f}x;"
                     f" a batch-1 step costs {100 * by_k.loc[16].overhead_share:.0f}% of a batch-"
                     f"{int(group.batch.iloc[0])} step)")
        lines.append(f"| {where}: K = 16 models in one step, at least 2x the throughput of one at a time | "
                     f"{speedup[16]:.2f}x{bound} | {'yes' if speedup[16] >= 2 else f'no: {2 - speedup[16]:.2f} short'} |")
    # an ensemble is K > 1: a sweep runs K = 1 as `lte train`'s own step, so K = 1's row here only prices the
    # ensemble path with one model (shown beside the verdict)
    ensembles = speedup[speedup.index > 1] if (speedup.index > 1).any() else speedup
    worst_k = ensembles.idxmin()
    spread, verdict = "", "yes" if ensembles.min() >= 1 - 1e-9 else "no"
    if "all_models_over_one_min" in group:  # tables from before the paired ratios have none
        low, high = by_k.loc[worst_k].all_models_over_one_min, by_k.loc[worst_k].all_models_over_one_max
        spread = (f" (paired per-repeat ratios {low:.2f} to {high:.2f} over {int(by_k.loc[worst_k].repeats)} "
                  f"repeats)")
        if verdict == "no" and high >= 1:
            verdict += ", within the run's noise (some repeats were at or above 1.0x)"
    one = (f"; K = 1 through the ensemble path: {speedup[1]:.2f}x (a sweep runs K = 1 as `lte train`'s own step)"
           if 1 in speedup.index and len(ensembles) < len(speedup) else "")
    lines.append(f"| {where}: never below 1.0x at any K ({', '.join(map(str, ensembles.index))}) | lowest "
                 f"{ensembles[worst_k]:.2f}x at K = {worst_k}{spread}{one} | {verdict} |")
    if "sweep_all_models_over_one" in group:
        in_sweeps = by_k.sweep_all_models_over_one
        best = in_sweeps.idxmax()
        lines.append(f"| {where}, as in a sweep ({int(group.sweep_workers.iloc[0])} single-threaded workers at "
                     f"once): the best K | K = {best}: {in_sweeps[best]:.2f}x "
                     f"({', '.join(f'K {k}: {v:.2f}x' for k, v in in_sweeps.items())}) | "
                     f"{'ensembles pay' if best > 1 and in_sweeps[best] > 1 else 'one model at a time'} |")
    return lines


def goals_report(csv_path: Path) -> Path:
    """<device>-goals.md: every speed goal, met or missed by how much, from the measured tables."""
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

    def versus_torch(r, ours: str = "step_s", theirs: str = "torch_step_s", ratio: str = "jax_over_torch",
                     repeats: str = "repeats") -> str:
        """Our step (column `ours`) against PyTorch's (`theirs`), with the paired ratios `ratio`_min/_max."""
        ours_s, theirs_s = getattr(r, ours), getattr(r, theirs)
        spread, verdict = "", _met(ours_s / theirs_s, 1.0)
        if f"{ratio}_min" in table and pd.notna(getattr(r, f"{ratio}_min")):
            low, high = getattr(r, f"{ratio}_min"), getattr(r, f"{ratio}_max")
            spread = f"; paired per-repeat ratios {low:.2f} to {high:.2f} over {int(getattr(r, repeats, r.repeats))} repeats"
            if ours_s > theirs_s and low <= 1:
                verdict += ", within the run's noise (some repeats were faster than PyTorch's)"
        return f"{1000 * ours_s:.2f} ms vs {1000 * theirs_s:.2f} ms ({ours_s / theirs_s:.2f}x{spread}) | {verdict}"

    small = table[(table.hidden <= 256) & table.cell.isin(STUDY_CELLS) & table.torch_step_s.notna()]
    comparisons = [(", all cores, one device", small, ("step_s", "torch_step_s", "jax_over_torch", "repeats"))]
    if "split_step_s" in small:  # tables from before `lte train --cpu-devices` have no split step
        split = small[small.split_step_s.notna()]
        devices = f"{int(split.split_devices.iloc[0])}" if not split.empty else "N"
        comparisons.append((f", all cores, the batch split over {devices} CPU devices (`lte train --cpu-devices "
                            f"{devices}`)", split, ("split_step_s", "torch_step_s", "split_over_torch", "repeats")))
    if "torch_step_1core_s" in small:
        comparisons.append((", one core each (as `lte sweep`'s workers run)", small[small.torch_step_1core_s.notna()],
                            ("step_1core_s", "torch_step_1core_s", "jax_over_torch_1core", "repeats_1core")))
    for where, shapes, columns in comparisons:
        for r in shapes.itertuples():
            lines.append(f"| {r.cell.upper()} {int(r.layers)}x{int(r.hidden)}, batch {int(r.batch)}, T "
                         f"{int(r.steps)}{where}: step no slower than PyTorch's | {versus_torch(r, *columns)} |")
        if not shapes.empty:
            met = int((shapes[columns[0]] <= shapes[columns[1]]).sum())
            lines.append(f"| the study's shapes, all of them{where} | {met} of {len(shapes)} met | "
                         f"{'yes' if met == len(shapes) else 'no'} |")
    lstm, irnn = row("lstm", 400, 100), row("irnn", 400, 100)
    if lstm is not None:
        if pd.notna(lstm.torch_step_s):
            lines.append(f"| 2 x 400 LSTM, batch 100: step no slower than PyTorch's | {versus_torch(lstm)} |")
        lines.append(f"| 2 x 400 LSTM, batch 100: at least 75% of the matmul peak | {100 * lstm.fraction_of_peak:.0f}% | "
                     f"{'yes' if lstm.fraction_of_peak >= 0.75 else f'no: {100 * (0.75 - lstm.fraction_of_peak):.0f} points short'} |")
        if pd.notna(lstm.autodiff_step_s):
            lines.append(f"| fused recurrent gradient vs plain autodiff (same shape) | {lstm.fused_over_autodiff:.2f}x "
                         f"the autodiff step | {'faster' if lstm.fused_over_autodiff < 1 else 'not faster'} |")
    if lstm is not None and irnn is not None:
        r = irnn.step_s / lstm.step_s
        lines.append(f"| IRNN step at most 0.3x the LSTM step at 400 units | {r:.2f}x | "
                     f"{'yes' if r <= 0.3 else f'no: {r - 0.3:.2f} over'} |")
    ensemble_path = csv_path.with_name(csv_path.stem + "-ensemble.csv")
    if ensemble_path.exists():
        ensemble = with_layouts(pd.read_csv(ensemble_path))
        for (cell, layout), group in ensemble.groupby(["cell", "layout"], sort=False):
            lines += _ensemble_goals(cell, layout, group)
    lines += _wall_time_goal(csv_path, table)
    path = csv_path.with_name(f"{csv_path.stem}-goals.md")
    path.write_text("\n".join(lines) + "\n")
    return path


DEFAULT_RUN_MINUTES = 5.0  # the default `lte bench` (both tables) on the 2-core reference machine


def _wall_time_goal(csv_path: Path, table) -> list[str]:
    """The default run's wall time (both tables, from their provenance) against DEFAULT_RUN_MINUTES; nothing
    for a filtered, --full or --autodiff run, whose time answers another question."""
    records = [path.with_suffix(".provenance.json") for path in
               (csv_path, csv_path.with_name(csv_path.stem + "-ensemble.csv"))]
    if not all(record.exists() for record in records):
        return []
    steps, ensemble = (json.loads(record.read_text()) for record in records)
    default = (steps.get("shapes") == [vars(s) for s in STUDY_SHAPES] and steps.get("cells") == STUDY_CELLS
               and not steps.get("autodiff", False) and ensemble.get("models") == ENSEMBLE_MODELS)
    if not default:
        return []
    seconds = steps["wall_s"] + ensemble["wall_s"]
    compiled = "from the compilation cache" if table.compile_s.median() < 0.2 else "compiled afresh"
    return [f"| the default `lte bench` (both tables) within {DEFAULT_RUN_MINUTES:.0f} minutes | "
            f"{seconds / 60:.1f} min: the step table {steps['wall_s']:.0f} s, the ensemble table "
            f"{ensemble['wall_s']:.0f} s (steps {compiled}: median compile {table.compile_s.median():.2f} s; "
            f"`make bench` adds the data path's table) | "
            f"{'yes' if seconds <= 60 * DEFAULT_RUN_MINUTES else f'no: {seconds / 60 - DEFAULT_RUN_MINUTES:.1f} min over'} |"]
