"""The training path: `train` drives a run folder through its loop (`lte.core.run_loop`), whose steps and
evaluations are `lte.core.steps` and `lte.core.evaluate`; their public names are importable from here.

A run is a folder: config.json (the resolved config), metrics.jsonl (a line
per evaluation), checkpoints/ (Orbax), summary.json (at the end). Running
the same config on an existing folder resumes it; a batch is a pure function
of (seed, step, level), so a resumed run continues exactly where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path

from lte.core import checkpoint
from lte.core.config import TrainConfig
from lte.core.console import log_to_stderr
from lte.core.errors import LteError
from lte.core.evaluate import evaluate, make_eval_fns, predictions  # noqa: F401 (re-exported)
from lte.core.optimizer import TrainState, make_optimizer, with_learning_rate  # noqa: F401 (re-exported)
from lte.core.params_file import PARAMS_FILE, load_params_file
from lte.core.run_folder import read_metrics, read_record  # noqa: F401 (re-exported)
from lte.core.run_loop import CHECKPOINT_SECONDS, PHASES, TIMING_FIELDS, RunLoop, starting_level  # noqa: F401
from lte.core.steps import (  # noqa: F401 (re-exported: the training path's public names stay here)
    DIVERGED,
    DIVERGENCE_LOSS,
    DIVERGENCE_PATIENCE,
    compiled_chunk_step,
    compiled_counting_step,
    compiled_train_step,
    init_train_state,
    loss_gradient,
    make_train_step,
    params_finite,
    sgd_step,
    zero_counts,
)


def load_config(run: Path) -> TrainConfig:
    path = Path(run) / "config.json"
    if not path.exists():
        raise LteError(f"{run} is not a run folder (no config.json)")
    return TrainConfig.from_json(json.loads(read_record(path)))


def train(
    config: TrainConfig,
    out: Path,
    *,
    log=None,
    cpu_devices: int = 1,
    checkpoint_every: float = CHECKPOINT_SECONDS,
    phases: dict | None = None,
) -> dict:
    """Train (or resume, or just report a finished run) in `out`. Returns the summary.

    The steps between two evaluations run as one compiled call (`compiled_chunk_step`). `cpu_devices` > 1
    splits each batch's rows over that many CPU devices instead (`lte.core.data_parallel`; JAX must have them:
    `use_cpu_devices`), one step a call; the same gradient up to rounding, recorded in summary.json.
    `phases`, when given, gets the seconds spent in each of `PHASES` (`RunLoop.phases`)."""
    log = log or log_to_stderr
    if cpu_devices > 1:
        from lte.core.data_parallel import check_data_parallel

        check_data_parallel(config.model_config(), config.batch_size, cpu_devices)
    run = RunLoop(config, out, log, checkpoint_every)
    if run.finished:
        return run.summary
    try:
        state = _train_split(run, cpu_devices) if cpu_devices > 1 else _train_chunks(run)
        return run.finish(state.params)
    except BaseException:
        run.close()
        raise
    finally:
        if phases is not None:
            phases.update(run.phases)


def _train_chunks(run: RunLoop) -> TrainState:
    chunk_step = compiled_chunk_step(run.model_config, run.config.clip)

    def take_steps(state: TrainState, sums: dict) -> tuple[TrainState, dict]:
        count = run.chunk_length()
        state, sums = chunk_step(state, run.next_chunk(count), sums)
        run.count_step(count)
        return state, sums

    return _drive(run, take_steps)


def _train_split(run: RunLoop, cpu_devices: int) -> TrainState:
    from lte.core.data_parallel import data_parallel_counting_step

    train_step = data_parallel_counting_step(run.model_config, run.config.clip, cpu_devices)
    run.cpu_devices = cpu_devices
    run.log(f"each batch's rows split over {cpu_devices} CPU devices")

    def take_steps(state: TrainState, sums: dict) -> tuple[TrainState, dict]:
        state, sums = train_step(state, run.next_batch(), sums)
        run.count_step()
        return state, sums

    return _drive(run, take_steps)


def _drive(run: RunLoop, take_steps) -> TrainState:
    """Steps (`take_steps(state, sums)`, which counts them) until the run stops, evaluating when due."""
    state, sums, rate = run.state, zero_counts(), None
    while True:
        run.check_stop()
        if run.ready_to_finish:
            return state
        if run.wants_step:
            if run.schedule.learning_rate != rate:  # a new rate only after a decay: no transfer per step
                rate = run.schedule.learning_rate
                state = with_learning_rate(state, rate)
            state, sums = take_steps(state, sums)
        if run.eval_due:
            run.train_counts, sums = sums, zero_counts()
            run.evaluate(state)


def load_params(run: Path, config: TrainConfig, log=None) -> dict:
    """The newest intact checkpoint's parameters of a run folder, or a shipped model's params.npz when it has
    no checkpoints; `log` is told which."""
    folder = Path(run) / "checkpoints"
    shipped = Path(run) / PARAMS_FILE
    if not folder.is_dir() and shipped.is_file():
        if log:
            log(f"using the final parameters in {shipped}")
        return load_params_file(shipped, init_train_state(config).params)
    if not folder.is_dir():
        raise LteError(f"{run} has no checkpoint yet; train it first")
    restored = checkpoint.restore_latest(
        checkpoint.manager(folder, read_only=True), init_train_state(config), log=log, read_only=True
    )
    if restored is None:
        raise LteError(f"{run} has no checkpoint yet; train it first")
    if log:
        log(f"using the checkpoint at step {restored[0]} of {run}")
    return restored[1].params
