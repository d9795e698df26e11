"""The adding problem (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015): the IRNN's classic check.

Each sequence has T steps of two inputs: a number drawn from U(0, 1) and a
marker, 1 at exactly two steps (one in the first half, one in the second)
and 0 elsewhere. The target is the sum of the two marked numbers, read from
the last step's output by a linear unit; the loss is the mean squared error.
Always answering 1 gives an MSE of Var(u1 + u2) = 2/12 ~ 0.167 (the
baseline); a net that carries the marked numbers across T steps goes well
below it.

A run is a folder like a character-task run: config.json, metrics.jsonl,
checkpoints/ (resumable), summary.json. It is the run kind `adding`
(lte.kinds): experiments/adding_problem.toml declares `kind = "adding"` and
`lte sweep` runs its grid (models x T x seeds), skipping finished runs;
its figure and outcome (lte.study.analysis.adding) read the runs its index lists.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from lte.core import checkpoint
from lte.core.cells import CELLS, get_cell
from lte.core.config import Budget, Data, Evaluation, Optimiser
from lte.core.console import log_to_stderr
from lte.core.data import TEST_SEED, VAL_SEED
from lte.core.errors import LteError, check_positive_ints, check_positive_numbers
from lte.core.fields import ComposedConfig, Part, compose, setting
from lte.core.model import ModelConfig, matmul_rows, run_layer
from lte.core.run_folder import append_metrics, read_metrics, train_in_folder, truncate_metrics, write_json_atomic
from lte.kinds import RunKind
from lte.kinds.naming import config_digest, naming_defaults
from lte.kinds.summary import read_summary

BASELINE_MSE = 2.0 / 12.0  # predicting 1 always: the variance of a sum of two U(0, 1)


@dataclass(frozen=True)
class AddingSequences:
    """The adding problem's data: sequences of T (value, marker) pairs."""

    sequence_length: int = setting(150, "T: the length of each sequence")

    def __post_init__(self) -> None:
        check_positive_ints(self, ("sequence_length",))
        if self.sequence_length < 2:
            raise LteError(f"sequence_length must be at least 2 (one marker per half), got {self.sequence_length}")


class AddingRules(ComposedConfig):
    """One adding-problem run's settings (Le et al.'s section 4.1): the cell and its width, the sequences, the
    optimiser, the steps, the evaluations and the seed."""

    WHAT = "adding-problem config"

    def check(self) -> None:
        if self.model not in CELLS:
            raise LteError(f"unknown model {self.model!r}; allowed: {', '.join(CELLS)}")
        check_positive_ints(self, ("max_steps",))
        check_positive_numbers(self, ("learning_rate",))

    def to_json(self) -> dict:
        data = super().to_json()
        if not self.val_size:  # the form of the records made before validation sets existed
            del data["val_size"]
        return data


AddingConfig = compose(
    "AddingConfig",
    [
        Part(ModelConfig, "model", ("cell", "hidden"), rename={"cell": "model"}),
        Part(AddingSequences, "task"),
        Part(Optimiser, "optimiser", ("batch_size", "learning_rate", "clip")),
        Part(Budget, "budget", ("max_steps",)),
        Part(Evaluation, "evaluation", ("eval_every", "test_size", "val_size")),
        Part(Data, "seed", ("seed",)),
        Part(ModelConfig, "model", ("forget_bias",)),
    ],
    base=AddingRules,
    defaults={
        "model": "irnn",
        "hidden": 100,
        "batch_size": 16,
        "learning_rate": 0.01,
        "clip": 1.0,
        "eval_every": 500,
        "val_size": 0,
    },  # fmt: skip
    helps={
        "model": "the recurrent cell",
        "hidden": "units",
        "batch_size": "sequences per batch",
        "learning_rate": "SGD learning rate",
        "max_steps": "training steps",
        "eval_every": "steps between test evaluations",
        "test_size": "test sequences (one fixed set for every seed)",
        "val_size": "validation sequences (one fixed set, apart from the test set; what a selection scores); 0: none",
        "seed": "initial weights and data",
        "forget_bias": "LSTM only: added to the forget gate's bias at initialisation",
    },
)


def adding_examples(seed: int, index: int, count: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` sequences, a pure function of (seed, index): inputs [count, T, 2] and targets [count]."""
    rng = np.random.default_rng([seed, index])
    values = rng.uniform(0.0, 1.0, (count, T))
    first = rng.integers(0, T // 2, count)
    second = rng.integers(T // 2, T, count)
    markers = np.zeros((count, T))
    markers[np.arange(count), first] = 1.0
    markers[np.arange(count), second] = 1.0
    inputs = np.stack([values, markers], axis=-1).astype(np.float32)
    return inputs, (values * markers).sum(axis=1).astype(np.float32)


TEST_INDEX = 2**31 - 1  # the test set's index: never a training step


def adding_val_set(config: AddingConfig) -> tuple[np.ndarray, np.ndarray]:
    """The validation sequences: a fixed set of their own (lte.core.data.VAL_SEED), the same for every seed."""
    return adding_examples(VAL_SEED, TEST_INDEX, config.val_size, config.sequence_length)


def predict_one_mse(targets: np.ndarray) -> float:
    """The mean squared error of always predicting 1 on `targets`: the baseline a model must beat on that set
    (1/6 in expectation)."""
    return float(np.mean((np.asarray(targets, np.float64) - 1.0) ** 2))


def adding_test_set(config: AddingConfig) -> tuple[np.ndarray, np.ndarray]:
    """The test sequences: drawn from the main path's fixed test seed (lte.core.data.TEST_SEED), so every seed of a
    (T, size) is scored on the same set and seeds change only the weights and the training batches."""
    return adding_examples(TEST_SEED, TEST_INDEX, config.test_size, config.sequence_length)


class AddingState(NamedTuple):
    params: dict
    opt_state: optax.OptState


def init_params(key: jax.Array, config: AddingConfig) -> dict:
    cell = get_cell(config.model)
    k_layer, k_out = jax.random.split(key)
    return {
        "layer": cell.init(k_layer, 2, config.hidden, {"forget_bias": config.forget_bias}),
        "readout": {
            "W": 0.001 * jax.random.normal(k_out, (config.hidden, 1), jnp.float32),
            "b": jnp.zeros((1,), jnp.float32),
        },
    }


def predict(params: dict, config: AddingConfig, inputs_BxTx2: jax.Array) -> jax.Array:
    """The sum predicted from the last step's output [B]."""
    cell = get_cell(config.model)
    B, T, _ = inputs_BxTx2.shape
    _, h_TxBxH = run_layer(cell, params["layer"], jnp.transpose(inputs_BxTx2, (1, 0, 2)), jnp.zeros((T, B)))
    return (matmul_rows(h_TxBxH[-1:], params["readout"]["W"])[0] + params["readout"]["b"])[:, 0]


def mse(params: dict, config: AddingConfig, inputs: jax.Array, targets: jax.Array) -> jax.Array:
    return jnp.mean((predict(params, config, inputs) - targets) ** 2)


def make_optimizer(config: AddingConfig) -> optax.GradientTransformation:
    return optax.chain(optax.clip_by_global_norm(config.clip), optax.sgd(config.learning_rate))


def make_train_step(config: AddingConfig):
    optimizer = make_optimizer(config)

    def train_step(state: AddingState, inputs, targets):
        loss, grads = jax.value_and_grad(mse)(state.params, config, inputs, targets)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        return AddingState(optax.apply_updates(state.params, updates), opt_state), loss

    return jax.jit(train_step, donate_argnums=0)


def train_adding(config: AddingConfig, out: Path, *, log=None) -> dict:
    """Train (or resume, or report a finished run) in `out`; returns the summary."""
    log = log or log_to_stderr
    return train_in_folder(config, out, lambda folder: _train_adding(config, folder, log))


def _train_adding(config: AddingConfig, out: Path, log) -> dict:
    from lte.core.provenance import provenance

    params = init_params(jax.random.PRNGKey(config.seed), config)
    state = AddingState(params, make_optimizer(config).init(params))
    mgr = checkpoint.manager(out / "checkpoints")
    restored = checkpoint.restore_latest(mgr, state, log=log)
    step, elapsed = 0, 0.0
    if restored is not None:
        step, state, meta = restored
        elapsed = meta["elapsed"]
        log(f"resuming {out} at step {step}")
    truncate_metrics(out, step if restored is not None else -1)
    train_step = make_train_step(config)
    evaluate = jax.jit(lambda p, x, y: mse(p, config, x, y))
    test_x, test_y = adding_test_set(config)
    val = adding_val_set(config) if config.val_size else None
    baseline = predict_one_mse(test_y)
    start, losses, diverged = time.perf_counter(), [], False
    while step < config.max_steps and not diverged:
        x, y = adding_examples(config.seed, step, config.batch_size, config.sequence_length)
        state, loss = train_step(state, x, y)
        losses.append(loss)
        step += 1
        if step % config.eval_every == 0 or step == config.max_steps:
            seconds = time.perf_counter() - start
            elapsed += seconds
            row = {
                "step": step,
                "train_mse": float(np.mean(jax.device_get(losses))),
                "test_mse": float(evaluate(state.params, test_x, test_y)),
                "wall_time": elapsed,
                "steps_per_second": len(losses) / seconds,
            }
            if val is not None:
                row["val_mse"] = float(evaluate(state.params, *val))
            diverged = not (math.isfinite(row["train_mse"]) and math.isfinite(row["test_mse"]))
            append_metrics(out, {**row, "event": "diverged"} if diverged else row)
            if diverged:
                log(
                    f"diverged: the mean squared error is not finite by step {step} (learning rate "
                    f"{config.learning_rate}, clip {config.clip}); the run stops and is recorded as diverged"
                )
                break
            checkpoint.save(mgr, step, state, {"elapsed": elapsed})
            eta = (config.max_steps - step) / max(row["steps_per_second"], 1e-9)
            log(
                f"{config.model} T={config.sequence_length} step {step}/{config.max_steps} | "
                f"{row['steps_per_second']:.0f} steps/s | train mse {row['train_mse']:.4f} | "
                f"test mse {row['test_mse']:.4f} (baseline {baseline:.3f}) | ETA {eta:.0f} s"
            )
            start, losses = time.perf_counter(), []
    rows = read_metrics(out)
    finite = [r["test_mse"] for r in rows if r.get("test_mse") is not None]
    summary = {
        "steps": step,
        "wall_time": elapsed,
        "diverged": diverged,
        "stop_reason": "diverged" if diverged else "max_steps",
        "final_test_mse": None if diverged or not rows else rows[-1]["test_mse"],
        "best_test_mse": min(finite, default=None),
        "baseline_mse": baseline,
        **({"final_val_mse": None if diverged or not rows else rows[-1].get("val_mse")} if val else {}),
        "provenance": provenance(),
    }
    write_json_atomic(out / "summary.json", summary)
    return summary


# ---------------------------------------------------------------- the experiment


def run_name(config: AddingConfig, labels: dict | None = None) -> str:
    """model_T<T>_seed<s>-<digest of the settings that differ from their defaults>: a changed setting gets a new
    folder, never a stale one."""
    digest = config_digest(config.to_json(), naming_defaults(AddingConfig))
    return f"{config.model}_T{config.sequence_length}_seed{config.seed}-{digest}"


def adding_summary_row(path: Path) -> dict:
    """The adding kind's result columns from a summary.json (its run kind's records reader, lte.kinds); older
    records lack the stop reason (they ran to max_steps) and the divergence flag (a missing final MSE)."""
    summary = read_summary(path)
    try:
        diverged = bool(summary.get("diverged")) or summary["final_test_mse"] is None
        return {
            "steps": summary["steps"],
            "wall_time": summary["wall_time"],
            "models_per_step": 1,
            "stop_reason": "diverged" if diverged else summary.get("stop_reason", "max_steps"),
            "diverged": diverged,
            "final_test_mse": None if diverged else summary["final_test_mse"],
            "best_test_mse": summary.get("best_test_mse"),
            "final_val_mse": None if diverged else summary.get("final_val_mse"),
            "commit": summary["provenance"]["commit"],
            "device": summary["provenance"]["device"],
        }
    except (KeyError, TypeError) as error:
        raise LteError(f"{path} is not a complete adding-problem summary ({type(error).__name__}: {error})") from None


KIND = RunKind("adding", AddingConfig, train_adding, run_name, summary_row=adding_summary_row)
