"""The echo state network (Jaeger 2001): a fixed random reservoir, only the readout trained.

    x' = (1 - a) x + a tanh(u W_in + x W)      (leak rate a)

W is sparse (a `density` of its entries nonzero) and scaled so that its
spectral radius (largest |eigenvalue|) is `spectral_radius` (< 1 for the echo
state property). W_in reads the one-hot character. Nothing in the reservoir
is trained: the readout [x, 1] -> logits is fitted in closed form by ridge
regression on one-hot next-character targets at the scored positions, with
the first `washout` steps of every row left out (the state has not yet
forgotten its zero start). Evaluated with the study's teacher-forced
character accuracy on the same test sets as the trained models.

One config (`ESNConfig`) holds the task and the reservoir. A run is the run
kind `esn` (lte.kinds): a run folder with config.json, metrics.jsonl (one row:
the fit's test accuracy), summary.json. The fit is one shot, so a folder left
unfinished is simply refit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from data_gen.tasks import TaskSpec
from data_gen.vocab import VOCAB_SIZE
from lte.core.config import Data, Evaluation, Optimiser, TrainConfig
from lte.core.console import log_to_stderr
from lte.core.errors import LteError, check_positive_ints
from lte.core.fields import ComposedConfig, Part, compose, setting
from lte.core.model import ModelConfig
from lte.core.run_folder import append_metrics, train_in_folder, truncate_metrics, write_json_atomic
from lte.kinds import RunKind
from lte.kinds.naming import config_digest, naming_defaults

# a dense N x N reservoir (float64) and its eigenvalues: 512 MiB and minutes at 8192; the study's has 400
MAX_UNITS = 8192


@dataclass(frozen=True)
class Reservoir:
    """The echo-state network's own settings: its fixed random reservoir and the ridge fit of its readout."""

    units: int = setting(400, "reservoir units")
    spectral_radius: float = setting(0.9, "the reservoir matrix's spectral radius")
    leak_rate: float = setting(1.0, "leaky integration rate in (0, 1] (1: no leak)")
    density: float = setting(0.1, "share of nonzero reservoir weights, in (0, 1]")
    ridge: float = setting(1e-2, "ridge penalty of the readout fit")
    washout: int = setting(0, "steps of each row left out of the fit (>= 0)")
    fit_batches: int = setting(50, "training batches whose states the readout is fitted on")

    def __post_init__(self) -> None:
        for name, low, high in (
            ("spectral_radius", 0.0, None),
            ("leak_rate", 0.0, 1.0),
            ("density", 0.0, 1.0),
            ("ridge", 0.0, None),
        ):
            value = getattr(self, name)
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not value > low
                or (high is not None and value > high)
            ):
                allowed = f"in ({low}, {high}]" if high is not None else f"> {low}"
                raise LteError(f"{name} must be a number {allowed}, got {value!r}")
        check_positive_ints(self, ("units", "fit_batches"))
        if self.units > MAX_UNITS:
            raise LteError(
                f"units {self.units}: at most {MAX_UNITS} reservoir units (the reservoir is a dense "
                f"units x units matrix whose eigenvalues are computed)"
            )
        if isinstance(self.washout, bool) or not isinstance(self.washout, int) or self.washout < 0:
            raise LteError(f"washout must be a non-negative integer, got {self.washout!r}")


class ESNRules(ComposedConfig):
    """One echo-state network's settings: the task (its data as the study's training batches and test set, at
    the target level), the reservoir and its readout, and the seed."""

    WHAT = "echo-state-network config"
    NAMING_DEFAULTS: ClassVar[dict] = {"nesting": 1}  # before nesting was resolved by the task

    def check(self) -> None:
        if self.input_scale is None:
            raise LteError("input_scale must be a positive number, got None")
        rows = self.task_config().resolved_row_length
        if self.washout >= rows:
            raise LteError(
                f"washout {self.washout} leaves no step of a row to fit on: rows of this task are "
                f"{rows} characters, so washout must be below that"
            )

    def task_config(self) -> TrainConfig:
        """The task as a TrainConfig: what lte.core.data's training batches and test set are made from."""
        return TrainConfig(
            task=self.task,
            length=self.length,
            nesting=self.nesting,
            strategy=self.strategy,
            batch_size=self.batch_size,
            test_size=self.test_size,
            data="fresh",
            seed=self.seed,
        )


ESNConfig = compose(
    "ESNConfig",
    [
        Part(TaskSpec, "task", ("task", "length", "nesting", "strategy")),
        Part(Optimiser, "task", ("batch_size",)),
        Part(Evaluation, "task", ("test_size",)),
        Part(Reservoir, "reservoir and readout", ("units", "spectral_radius", "leak_rate", "density")),
        Part(ModelConfig, "reservoir and readout", ("input_scale",)),
        Part(Reservoir, "reservoir and readout", ("ridge", "washout", "fit_batches")),
        Part(Data, "seed", ("seed",)),
    ],
    base=ESNRules,
    defaults={"task": "copy", "length": 3, "strategy": "combined", "input_scale": 1.0},
    helps={
        "strategy": "how the training batches draw examples (lte train's strategy)",
        "batch_size": "rows per training batch",
        "test_size": "test examples (the study's fixed test set)",
        "input_scale": "scale of the input weights",
        "seed": "reservoir and data",
    },
)


def run_name(config: ESNConfig, labels: dict | None = None) -> str:
    """esn-u<units>-r<radius>-<task><length>x<nesting>-s<seed>-<digest of the settings that differ from their
    defaults>."""
    digest = config_digest(config.to_json(), naming_defaults(ESNConfig))
    return (
        f"esn-u{config.units}-r{config.spectral_radius:g}-{config.task}{config.length}x{config.nesting}"
        f"-s{config.seed}-{digest}"
    )


def make_reservoir(config: ESNConfig, input_size: int = VOCAB_SIZE) -> dict:
    """{"W_in": [I, N], "W": [N, N]}: W sparse, rescaled to the requested spectral radius."""
    rng = np.random.default_rng(config.seed)
    n = config.units
    W = rng.uniform(-1.0, 1.0, (n, n)) * (rng.random((n, n)) < config.density)
    radius = np.abs(np.linalg.eigvals(W)).max()
    if radius == 0:
        raise LteError(f"the reservoir has no nonzero eigenvalue (units {n}, density {config.density}); raise density")
    W *= config.spectral_radius / radius
    W_in = rng.uniform(-config.input_scale, config.input_scale, (input_size, n))
    return {"W_in": jnp.asarray(W_in, jnp.float32), "W": jnp.asarray(W, jnp.float32)}


@jax.jit
def _states(reservoir: dict, leak_rate: float, tokens_BxT: jax.Array, resets_BxT: jax.Array) -> jax.Array:
    """Reservoir states [B, T, N] after reading each character (reset to 0 where an example starts)."""
    drive_TxBxN = reservoir["W_in"][tokens_BxT.T]

    def body(x_BxN, inputs):
        drive_BxN, reset_B = inputs
        x_BxN = x_BxN * (1.0 - reset_B[:, None])
        x_BxN = (1.0 - leak_rate) * x_BxN + leak_rate * jnp.tanh(drive_BxN + x_BxN @ reservoir["W"])
        return x_BxN, x_BxN

    x0 = jnp.zeros((tokens_BxT.shape[0], reservoir["W"].shape[0]), jnp.float32)
    _, x_TxBxN = jax.lax.scan(body, x0, (drive_TxBxN, resets_BxT.T.astype(jnp.float32)))
    return jnp.transpose(x_TxBxN, (1, 0, 2))


def reservoir_states(reservoir: dict, config: ESNConfig, batch: dict) -> jax.Array:
    return _states(reservoir, float(config.leak_rate), jnp.asarray(batch["inputs"]), jnp.asarray(batch["resets"]))


def ridge_readout(gram_SxS: np.ndarray, cross_SxO: np.ndarray, ridge: float) -> np.ndarray:
    """argmin_W |X W - Y|^2 + ridge |W without its bias row|^2, from X^T X and X^T Y (X's last column is 1)."""
    penalty = np.eye(gram_SxS.shape[0]) * ridge
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    return np.linalg.solve(gram_SxS + penalty, cross_SxO)


def _scored_rows(batch: dict, washout: int) -> np.ndarray:
    mask = np.asarray(batch["mask"]).astype(bool).copy()
    mask[:, :washout] = False
    return mask


def fit_esn(config: ESNConfig) -> dict:
    """Fit the readout on the task's training batches and score it on its test set; returns the metrics."""
    from lte.core.data import TrainingBatches, make_test_set

    task = config.task_config()
    reservoir = make_reservoir(config)
    n = config.units + 1
    gram, cross = np.zeros((n, n)), np.zeros((n, VOCAB_SIZE))
    feed = TrainingBatches(task)
    try:
        for step in range(config.fit_batches):
            batch = feed.get(step, task.spec().target)
            states = np.asarray(reservoir_states(reservoir, config, batch), np.float64)
            rows = _scored_rows(batch, config.washout)
            X = np.concatenate([states[rows], np.ones((rows.sum(), 1))], axis=1)
            Y = np.eye(VOCAB_SIZE)[np.asarray(batch["targets"])[rows]]
            gram += X.T @ X
            cross += X.T @ Y
    finally:
        feed.close()
    readout = ridge_readout(gram, cross, config.ridge)
    correct = scored = 0
    for batch in make_test_set(task).teacher:
        states = np.asarray(reservoir_states(reservoir, config, batch), np.float64)
        logits = states @ readout[:-1] + readout[-1]
        mask = np.asarray(batch["mask"]).astype(bool)
        correct += int((logits.argmax(-1) == np.asarray(batch["targets"]))[mask].sum())
        scored += int(mask.sum())
    return {"test_char_accuracy": correct / max(scored, 1), "scored": scored}


def train_esn(config: ESNConfig, out: Path, *, log=None) -> dict:
    """Fit (or report a finished fit) in the run folder `out`; returns the summary. The fit is one shot: a
    folder without a summary is refit from the start."""
    from lte.core.provenance import provenance

    log = log or log_to_stderr

    def fit(out: Path) -> dict:
        truncate_metrics(out, -1)  # what an interrupted fit wrote is dropped: it is fitted again
        start = time.perf_counter()
        row = {"step": config.fit_batches, **fit_esn(config), "wall_time": time.perf_counter() - start}
        append_metrics(out, row)
        log(
            f"esn {config.units} units (radius {config.spectral_radius}, leak {config.leak_rate}) on "
            f"{config.task} ({config.length},{config.nesting}): test char accuracy {row['test_char_accuracy']:.3f}"
        )
        summary = {
            "stop_reason": "fitted",
            "diverged": False,
            "steps": config.fit_batches,
            "wall_time": row["wall_time"],
            "final": row,
            "provenance": provenance(),
        }
        write_json_atomic(out / "summary.json", summary)
        return summary

    return train_in_folder(config, out, fit)


KIND = RunKind(
    "esn",
    ESNConfig,
    train_esn,
    run_name,
    command="an echo state network on a task: fixed reservoir, ridge readout",
    printed=("test_char_accuracy", "scored"),
)
