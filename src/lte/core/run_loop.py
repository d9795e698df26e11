"""One run's loop between evaluations: its state, batches, schedule, evaluations, checkpoints and records."""

from __future__ import annotations

import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from data_gen.curriculum import Level, uses_level
from data_gen.vocab import PAD_ID
from lte.core import checkpoint
from lte.core.config import TrainConfig
from lte.core.console import format_duration
from lte.core.data import (
    TrainingBatches,
    eval_layout,
    make_target_validation_set,
    make_test_set,
    make_validation_set,
)
from lte.core.evaluate import evaluate, make_eval_fns
from lte.core.metrics import compute_metrics
from lte.core.model import count_params
from lte.core.optimizer import TrainState
from lte.core.provenance import provenance
from lte.core.run_folder import (
    FolderLock,
    append_metrics,
    finished_summary,
    open_run,
    read_metrics,
    truncate_metrics,
    write_json_atomic,
)
from lte.core.schedule import ScheduleState, update_schedule
from lte.core.steps import (
    DIVERGED,
    DIVERGENCE_FACTOR,
    DIVERGENCE_LOSS,
    DIVERGENCE_PATIENCE,
    init_train_state,
    params_finite,
    zero_counts,
)

TIMING_FIELDS = ("wall_time", "tokens_per_second", "steps_per_second")
PHASES = ("setup", "steps", "batches", "evaluation", "checkpoints", "records")
# Seconds between checkpoints (saved at an evaluation once this much has passed since the last, at the end of
# a run, and when it is interrupted). An interrupted run resumes from its last checkpoint to the same bits,
# since a batch is a pure function of (seed, step, level); 0 saves at every evaluation.
CHECKPOINT_SECONDS = 30.0


def _progress(config: TrainConfig, row: dict, rate: float, elapsed: float) -> str:
    eta = ""
    if config.max_steps:
        eta = f" | ETA {format_duration((config.max_steps - row['step']) / max(rate, 1e-9))}"
    if config.max_seconds:
        eta = f" | time left {format_duration(max(config.max_seconds - elapsed, 0))}"
    return (
        f"step {row['step']:>6}{'/' + str(config.max_steps) if config.max_steps else ''}"
        f" | {rate:6.1f} steps/s | level {row['level'][0]},{row['level'][1]}"
        f" | loss {row['train_loss']:.3f} | train {row['train_char_accuracy']:.3f}"
        f" | val {row['val_char_accuracy']:.3f} | test {row['test_char_accuracy']:.3f}"
        f" (exact {row['test_exact_match']:.3f}) | lr {row['learning_rate']:.4g}{eta}"
    )


def starting_level(config: TrainConfig) -> Level:
    """(1, 1), as in the original; with the amended and plateau schedules, the target for baseline and mix.

    Their training data does not depend on the level, which then only decides
    when the learning rate starts to decay: in the original that waits until
    the level has climbed to the target, judged on validation data of easy
    levels the model is never trained on. Starting at the target, every
    strategy decays by the same rule once it is at the target.
    """
    if config.schedule != "original" and not uses_level(config.strategy):
        return config.spec().target
    return Level(1, 1)


class RunLoop:
    """One run folder's side of the training loop: data, schedule, evaluation, logging, checkpoints.

    The model step itself is the caller's, so one loop (`train`) or K loops in
    lock-step (`lte.methods.ensemble.train_together`) drive the same bookkeeping. A run
    moves through: step while not stopped -> evaluate every `eval_every` steps
    and once more when it stops -> `finish` writes summary.json.
    """

    def __init__(self, config: TrainConfig, out: Path, log, checkpoint_every: float = CHECKPOINT_SECONDS) -> None:
        self.config, self.out, self.log = config, Path(out), log
        self.checkpoint_every = checkpoint_every
        self.lock = FolderLock(self.out)  # released by close(); by the OS if this process dies
        self.batches = None
        self.unsaved = None  # (step, state, meta) of the last evaluation when no checkpoint was saved there
        self.last_saved = time.monotonic()
        # where the run's time goes (seconds): setup, steps (batch waits included), batches (the waits),
        # evaluation, checkpoints, records; `lte.study.run_profile` tabulates them
        self.phases = dict.fromkeys(PHASES, 0.0)
        started = time.perf_counter()
        try:
            self._open(config, log)
        except BaseException:
            self.close()
            raise
        self.phases["setup"] = time.perf_counter() - started

    def _open(self, config: TrainConfig, log) -> None:
        open_run(self.out, config)
        summary_path = self.out / "summary.json"
        self.summary = finished_summary(self.out) if summary_path.exists() else None
        if self.summary is not None:
            log(f"{self.out} is finished; nothing to train")
            self.close()
            return
        self.model_config = config.model_config()
        state = init_train_state(config)
        self.mgr = checkpoint.manager(self.out / "checkpoints")
        restored = checkpoint.restore_latest(self.mgr, state, log=log)
        if restored is not None and restored[0] not in {row.get("step") for row in read_metrics(self.out)}:
            log(
                f"{self.out}: metrics.jsonl has lost the row of step {restored[0]}, where the last checkpoint is; "
                f"the run starts over so that every row is written again (its checkpoints are moved to "
                f"checkpoints.replaced/)"
            )
            for step in self.mgr.all_steps():
                checkpoint.set_aside(self.mgr, step, "replaced")
            restored = None
        if restored is None:
            self.step, self.elapsed = 0, 0.0
            self.schedule = ScheduleState(starting_level(config), config.resolved_learning_rate)
            self.exploded = 0
            truncate_metrics(self.out, -1)
        else:
            self.step, state, meta = restored
            self.elapsed = meta["elapsed"]
            self.schedule = ScheduleState.from_json(meta["schedule"])
            self.exploded = meta.get("exploded", 0)  # consecutive evaluations with an exploded loss
            truncate_metrics(self.out, self.step)
            log(f"resuming {self.out} at step {self.step}")
        self.state = state  # the state to start from (the driver owns it from here on)
        self.counts_fn, self.decode_fn = make_eval_fns(self.model_config, eval_layout(config)[1])
        self.test = make_test_set(config)
        self.val = make_validation_set(config, self.schedule.level)
        self.batches = TrainingBatches(config)
        self.n_params = count_params(state.params)
        log(
            f"{config.model} {config.layers}x{config.hidden} ({self.n_params:,} parameters) on {config.task} "
            f"({config.length},{config.nesting}) {config.strategy}; batches {config.batch_size}x"
            f"{config.resolved_row_length}; device {jax.devices()[0].platform}"
        )
        self.stop_reason = None
        self.models_per_step = 1  # K when trained in a K-slot ensemble (lte.methods.ensemble): the bits depend on it
        self.cpu_devices = 1  # > 1: each batch split over that many CPU devices (lte.core.data_parallel): likewise
        self.interval_start, self.interval_steps, self.tokens = time.perf_counter(), 0, 0
        self.train_counts = zero_counts()

    @property
    def finished(self) -> bool:
        return self.summary is not None

    def check_stop(self) -> None:
        """Set `stop_reason` once the schedule or a budget says so."""
        config = self.config
        if self.stop_reason:
            return
        if self.schedule.stopped:
            self.stop_reason = (
                "learning rate below its minimum"
                if self.schedule.learning_rate < config.min_learning_rate
                else "plateau at the target level"
            )
        elif config.max_steps is not None and self.step >= config.max_steps:
            self.stop_reason = "max_steps"
        elif (
            config.max_seconds is not None
            and self.elapsed + time.perf_counter() - self.interval_start >= config.max_seconds
        ):
            self.stop_reason = "max_seconds"

    @property
    def wants_step(self) -> bool:
        return not self.finished and not self.stop_reason

    @property
    def ready_to_finish(self) -> bool:
        """Stopped, and the last interval is evaluated."""
        return not self.finished and bool(self.stop_reason) and self.interval_steps == 0

    def next_batch(self) -> dict:
        batch = self.batches.get(self.step, self.schedule.level)
        self.tokens += int((batch["inputs"] != PAD_ID).sum())
        if self.config.dropout > 0:  # masks: a pure function of (seed, step), so a resumed run draws the same
            batch = {**batch, "dropout_seed": np.array([self.config.seed, self.step], np.uint32)}
        return batch

    def count_step(self, steps: int = 1) -> None:
        """`steps` steps taken (their counts are summed on the device by the step itself)."""
        self.step += steps
        self.interval_steps += steps

    def chunk_length(self, step: int | None = None) -> int:
        """The steps from `step` (default: the current one) to the next evaluation or the step budget.

        With a time budget, one: it is checked between steps."""
        step = self.step if step is None else step
        if self.config.max_seconds is not None:
            return 1
        count = self.config.eval_every - step % self.config.eval_every
        if self.config.max_steps is not None:
            count = min(count, self.config.max_steps - step)
        return max(count, 0)

    def next_chunk(self, count: int) -> dict:
        """The batches of the next `count` steps, stacked; the chunk after it is made ahead meanwhile."""
        started = time.perf_counter()
        batches, tokens = self.batches.chunk(
            self.step, count, self.schedule.level, next_count=self.chunk_length(self.step + count)
        )
        self.tokens += tokens
        self.phases["batches"] += time.perf_counter() - started
        return batches

    @property
    def eval_due(self) -> bool:
        return (
            not self.finished
            and self.interval_steps > 0
            and (self.step % self.config.eval_every == 0 or bool(self.stop_reason))
        )

    def evaluate(self, state: TrainState) -> None:
        """Evaluate, log a metrics line, update the schedule and save a checkpoint."""
        config = self.config
        jax.block_until_ready(self.train_counts)  # the interval's steps, dispatched ahead, are done
        seconds = time.perf_counter() - self.interval_start
        self.elapsed += seconds
        self.phases["steps"] += seconds
        started = time.perf_counter()
        train_metrics = compute_metrics(self.train_counts)
        exploded = not train_metrics["loss"] <= DIVERGENCE_LOSS  # NaN included
        self.exploded = self.exploded + 1 if exploded else 0
        # A spike the run recovers from (IRNNs at high rates do, within a few evaluations) is not divergence;
        # a loss that stays exploded, or is exploded when the run ends, is.
        if (
            not math.isfinite(train_metrics["loss"])
            or not params_finite(state.params)
            or self.exploded >= DIVERGENCE_PATIENCE
            or (exploded and self.last_evaluation)
        ):
            self._diverged(train_metrics["loss"], seconds)
            return
        val_metrics = evaluate(state.params, self.val, self.counts_fn, self.decode_fn)
        test_metrics = evaluate(state.params, self.test, self.counts_fn, self.decode_fn)
        row = {
            "step": self.step,
            "level": [self.schedule.level.length, self.schedule.level.nesting],
            "learning_rate": self.schedule.learning_rate,
            "train_loss": train_metrics["loss"],
            "train_char_accuracy": train_metrics["char_accuracy"],
            **{f"val_{k}": v for k, v in val_metrics.items()},
            "val_source": self.val.name,
            **{f"test_{k}": v for k, v in test_metrics.items()},
            "wall_time": self.elapsed,
            "steps_per_second": self.interval_steps / seconds,
            "tokens_per_second": self.tokens / seconds,
        }
        self.schedule, event = update_schedule(
            self.schedule,
            config.spec().target,
            val_accuracy=val_metrics["char_accuracy"],
            train_accuracy=train_metrics["char_accuracy"],
            target_accuracy=config.target_accuracy,
            decay=config.lr_decay,
            min_learning_rate=config.min_learning_rate,
            schedule=config.schedule,
            eval_every=config.eval_every,
        )
        row["event"] = event
        append_metrics(self.out, row)
        meta = {"elapsed": self.elapsed, "schedule": self.schedule.to_json(), "exploded": self.exploded}
        if event in ("advance", "advance-stalled"):
            self.val = make_validation_set(config, self.schedule.level)
        self.phases["evaluation"] += time.perf_counter() - started
        if self.checkpoint_due():
            self._save(self.step, state, meta)
        else:  # a copy: the caller's step may donate the state's buffers
            self.unsaved = (self.step, jax.tree_util.tree_map(jnp.copy, state), meta)
        self.log(_progress(config, row, self.interval_steps / seconds, self.elapsed))
        self.interval_start, self.interval_steps, self.tokens = time.perf_counter(), 0, 0
        self.train_counts = zero_counts()

    def _diverged(self, train_loss: float, seconds: float) -> None:
        """Non-finite loss or parameters: record it (no evaluation, no checkpoint of the broken state), stop."""
        self.stop_reason = DIVERGED
        row = {
            "step": self.step,
            "level": [self.schedule.level.length, self.schedule.level.nesting],
            "learning_rate": self.schedule.learning_rate,
            "train_loss": train_loss,
            "event": DIVERGED,
            "wall_time": self.elapsed,
            "steps_per_second": self.interval_steps / seconds,
        }
        append_metrics(self.out, row)
        self.log(
            f"diverged: the training loss exploded (loss {train_loss:.4g}; above {DIVERGENCE_LOSS:.0f}, "
            f"{DIVERGENCE_FACTOR} times a uniform guess's, at {self.exploded} evaluation(s) in a row, at the "
            f"run's last, or not finite) or the parameters are not finite by step "
            f"{self.step}, at learning rate {self.schedule.learning_rate:.4g} with clip {self.config.clip}; "
            f"the run stops and is recorded as diverged (try a lower learning rate or clip)"
        )
        self.interval_start, self.interval_steps, self.tokens = time.perf_counter(), 0, 0
        self.train_counts = zero_counts()

    @property
    def last_evaluation(self) -> bool:
        """This evaluation ends the run (its step budget reached, or it stopped for another reason)."""
        return bool(self.stop_reason) or (self.config.max_steps is not None and self.step >= self.config.max_steps)

    def checkpoint_due(self) -> bool:
        return time.monotonic() - self.last_saved >= self.checkpoint_every

    def _save(self, step: int, state: TrainState, meta: dict) -> None:
        started = time.perf_counter()
        checkpoint.save(self.mgr, step, state, meta)
        self.unsaved, self.last_saved = None, time.monotonic()
        self.phases["checkpoints"] += time.perf_counter() - started

    def save_pending(self) -> None:
        """Checkpoint the last evaluation's state if it has not been saved (at the end, or when interrupted)."""
        if self.unsaved is not None:
            self._save(*self.unsaved)

    def finish(self, params: dict) -> dict:
        """Write summary.json (the run is then finished) and return it."""
        try:
            self.batches.close()
            self.save_pending()
            started = time.perf_counter()
            rows = read_metrics(self.out)
            last = rows[-1] if rows else {}
            diverged = self.stop_reason == DIVERGED
            # for model selection: validation data at the target level (the test set is never used to choose)
            val_target = (
                None
                if diverged
                else evaluate(params, make_target_validation_set(self.config), self.counts_fn, self.decode_fn)
            )
            tested = [r["test_char_accuracy"] for r in rows if r.get("test_char_accuracy") is not None]
            summary = {
                "stop_reason": self.stop_reason,
                "diverged": diverged,
                "steps": self.step,
                "wall_time": self.elapsed,
                "parameters": self.n_params,
                "final": last,
                "final_val_target": val_target,
                "best_test_char_accuracy": max(tested, default=None),
                "models_per_step": self.models_per_step,
                "provenance": provenance(),
            }
            if self.cpu_devices > 1:  # only then, so that one-device summaries stay as they were
                summary["cpu_devices"] = self.cpu_devices
            write_json_atomic(self.out / "summary.json", summary)
            self.phases["records"] += time.perf_counter() - started
            if diverged:
                self.log(f"done: diverged at step {self.step}, {format_duration(self.elapsed)}")
            else:
                self.log(
                    f"done: {self.stop_reason} after {self.step} steps, {format_duration(self.elapsed)}; "
                    f"test char accuracy {last['test_char_accuracy']:.3f}, "
                    f"exact match {last['test_exact_match']:.3f}"
                )
            self.summary = summary
            return summary
        finally:
            self.close()

    def close(self) -> None:
        """Save the last evaluated state, stop the data thread and give the folder up (safe to call more than
        once): an interrupted run loses no more than the steps since its last evaluation."""
        try:
            if self.batches is not None:
                self.batches.close()
            self.save_pending()
        finally:
            self.lock.release()
