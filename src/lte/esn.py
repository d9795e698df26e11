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
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from data_gen.vocab import VOCAB_SIZE
from lte.errors import LteError, check_finite_numbers, check_positive_ints
from lte.fields import setting


@dataclass(frozen=True)
class ESNConfig:
    units: int = setting(400, "reservoir units")
    spectral_radius: float = setting(0.9, "the reservoir matrix's spectral radius")
    leak_rate: float = setting(1.0, "leaky integration rate in (0, 1] (1: no leak)")
    density: float = setting(0.1, "share of nonzero reservoir weights, in (0, 1]")
    input_scale: float = setting(1.0, "scale of the input weights")
    ridge: float = setting(1e-2, "ridge penalty of the readout fit")
    washout: int = setting(0, "steps of each row left out of the fit (>= 0)")
    fit_batches: int = setting(50, "training batches whose states the readout is fitted on")
    seed: int = setting(0, "reservoir and data")

    def __post_init__(self) -> None:
        check_finite_numbers(self)
        for name, low, high in (("spectral_radius", 0.0, None), ("leak_rate", 0.0, 1.0), ("density", 0.0, 1.0),
                                ("input_scale", 0.0, None), ("ridge", 0.0, None)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > low or (
                    high is not None and value > high):
                allowed = f"in ({low}, {high}]" if high is not None else f"> {low}"
                raise LteError(f"{name} must be a number {allowed}, got {value!r}")
        check_positive_ints(self, ("units", "fit_batches"))
        if not isinstance(self.washout, int) or self.washout < 0:
            raise LteError(f"washout must be a non-negative integer, got {self.washout!r}")


def make_reservoir(config: ESNConfig, input_size: int = VOCAB_SIZE) -> dict:
    """{"W_in": [I, N], "W": [N, N]}: W sparse, rescaled to the requested spectral radius."""
    rng = np.random.default_rng(config.seed)
    n = config.units
    W = rng.uniform(-1.0, 1.0, (n, n)) * (rng.random((n, n)) < config.density)
    radius = np.abs(np.linalg.eigvals(W)).max()
    if radius == 0:
        raise LteError(f"the reservoir has no nonzero eigenvalue (units {n}, density {config.density}); "
                       f"raise density")
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


def fit_esn(train_config, config: ESNConfig, log=print) -> dict:
    """Fit the readout on a character task (a `TrainConfig` names it) and score it; returns the metrics."""
    from lte.data import TrainingBatches, make_test_set

    if config.washout >= train_config.resolved_row_length:
        raise LteError(f"washout {config.washout} leaves no step of a row to fit on: rows of this task are "
                       f"{train_config.resolved_row_length} characters, so washout must be below that")
    reservoir = make_reservoir(config)
    n = config.units + 1
    gram, cross = np.zeros((n, n)), np.zeros((n, VOCAB_SIZE))
    feed = TrainingBatches(dataclasses.replace(train_config, data="fresh"))
    try:
        for step in range(config.fit_batches):
            batch = feed.get(step, train_config.spec().target)
            states = np.asarray(reservoir_states(reservoir, config, batch), np.float64)
            rows = _scored_rows(batch, config.washout)
            X = np.concatenate([states[rows], np.ones((rows.sum(), 1))], axis=1)
            Y = np.eye(VOCAB_SIZE)[np.asarray(batch["targets"])[rows]]
            gram += X.T @ X
            cross += X.T @ Y
    finally:
        feed.close()
    readout = ridge_readout(gram, cross, config.ridge)
    test = make_test_set(train_config)
    correct = scored = 0
    for batch in test.teacher:
        states = np.asarray(reservoir_states(reservoir, config, batch), np.float64)
        logits = states @ readout[:-1] + readout[-1]
        mask = np.asarray(batch["mask"]).astype(bool)
        correct += int((logits.argmax(-1) == np.asarray(batch["targets"]))[mask].sum())
        scored += int(mask.sum())
    metrics = {"test_char_accuracy": correct / max(scored, 1), "scored": scored, "units": config.units,
               "spectral_radius": config.spectral_radius, "fit_batches": config.fit_batches}
    log(f"esn {config.units} units (radius {config.spectral_radius}, leak {config.leak_rate}) on "
        f"{train_config.task} ({train_config.length},{train_config.nesting}): test char accuracy "
        f"{metrics['test_char_accuracy']:.3f}")
    return metrics
