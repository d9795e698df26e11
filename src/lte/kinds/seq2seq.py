"""An encoder-decoder with a bidirectional encoder: the program read both ways, the answer emitted one way.

A bidirectional net sees the future, so it cannot predict a sequence step by
step. Here it only *reads*: the encoder runs one layer
forward over the program and one over the program reversed; its outputs are
the forward pass joined with the backward pass re-reversed, and its summary
is both directions' output after the whole program. A unidirectional decoder
then emits the answer, reading at every step the previous character
(teacher-forced in training, its own in greedy decoding, starting from '@')
joined with the summary. Any cell, by name; the loss and metrics are the
study's (masked cross-entropy, character accuracy, exact match).

A run is the run kind `seq2seq` (lte.kinds): a run folder with config.json,
metrics.jsonl (one row per test evaluation), checkpoints/ and summary.json; a
half-finished folder resumes from its last checkpoint (the batches are a pure
function of seed and step), so `lte sweep` serves it as any other kind.

Shapes: sources [B, S] right-padded with PAD (lengths [B]); answers [B, A].
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from data_gen.tasks import TaskSpec, sample_examples
from data_gen.vocab import PAD_ID, VOCAB_SIZE, decode, encode
from lte.core import checkpoint
from lte.core.cells import CELLS, get_cell
from lte.core.config import Data, Evaluation, Optimiser
from lte.core.console import log_to_stderr
from lte.core.data import TEST_SEED
from lte.core.errors import LteError, check_positive_ints
from lte.core.fields import ComposedConfig, Part, compose, setting
from lte.core.metrics import masked_mean_and_counts
from lte.core.model import ModelConfig, matmul_rows, run_layer
from lte.core.run_folder import append_metrics, read_metrics, train_in_folder, truncate_metrics, write_json_atomic
from lte.kinds import RunKind
from lte.kinds.naming import config_digest, naming_defaults

GO = "@"


@dataclass(frozen=True)
class Seq2SeqSteps:
    """The seq2seq kind's budget: a fixed number of steps (no curriculum, no stop rule)."""

    steps: int = setting(1000, "training steps")

    def __post_init__(self) -> None:
        check_positive_ints(self, ("steps",))


class Seq2SeqRules(ComposedConfig):
    """One encoder-decoder run's settings: the task at its target level, the cell and its width per direction,
    the optimiser, the steps, the test evaluation and the seed."""

    WHAT = "seq2seq config"
    NAMING_DEFAULTS: ClassVar[dict] = {"nesting": 1}  # before nesting was resolved by the task

    def check(self) -> None:
        if self.model not in CELLS:
            raise LteError(f"unknown model {self.model!r}; allowed: {', '.join(CELLS)}")

    def spec(self) -> TaskSpec:
        return self.part(TaskSpec)

    @property
    def rate(self) -> float:
        return self.learning_rate if self.learning_rate is not None else get_cell(self.model).default_learning_rate


Seq2SeqConfig = compose(
    "Seq2SeqConfig",
    [
        Part(TaskSpec, "task", ("task", "length", "nesting")),
        Part(ModelConfig, "model", ("cell", "hidden"), rename={"cell": "model"}),
        Part(Optimiser, "optimiser", ("batch_size", "learning_rate", "clip")),
        Part(Seq2SeqSteps, "budget"),
        Part(Evaluation, "evaluation", ("eval_every", "test_size")),
        Part(Data, "seed", ("seed",)),
    ],
    base=Seq2SeqRules,
    defaults={"task": "addition", "length": 2, "hidden": 64, "eval_every": 250, "test_size": 500},
    helps={
        "model": "the recurrent cell of encoder and decoder",
        "hidden": "units per direction",
        "batch_size": "examples per batch",
        "learning_rate": "SGD learning rate (None: the cell's default)",
        "eval_every": "steps between test evaluations",
        "test_size": "test examples (one fixed set for every seed)",
        "seed": "initial weights and batches",
    },
)


def run_name(config: Seq2SeqConfig, labels: dict | None = None) -> str:
    """s2s-<model>-h<H>-<task><length>x<nesting>-s<seed>-<digest of the settings that differ from their defaults>."""
    digest = config_digest(config.to_json(), naming_defaults(Seq2SeqConfig))
    return f"s2s-{config.model}-h{config.hidden}-{config.task}{config.length}x{config.nesting}-s{config.seed}-{digest}"


def encode_pairs(examples) -> dict:
    """Sources (the input up to and without '@'), decoder inputs ('@' + answer[:-1]) and targets (answer)."""
    sources = [encode(e.input[:-1]) for e in examples]
    answers = [encode(e.target) for e in examples]
    S, A = max(map(len, sources)), max(map(len, answers))
    out = {
        "sources": np.full((len(examples), S), PAD_ID, np.int32),
        "lengths": np.array([len(s) for s in sources]),
        "decoder_inputs": np.full((len(examples), A), PAD_ID, np.int32),
        "targets": np.full((len(examples), A), PAD_ID, np.int32),
        "mask": np.zeros((len(examples), A), np.int32),
    }
    go = encode(GO)[0]
    for i, (s, a) in enumerate(zip(sources, answers)):
        out["sources"][i, : len(s)] = s
        out["decoder_inputs"][i, : len(a)] = np.concatenate([[go], a[:-1]])
        out["targets"][i, : len(a)] = a
        out["mask"][i, : len(a)] = 1
    return out


def init_params(key: jax.Array, config: Seq2SeqConfig) -> dict:
    cell = get_cell(config.model)
    H = config.hidden
    out = ModelConfig(cell=config.model, hidden=H).output_size
    k = jax.random.split(key, 5)
    uniform = lambda kk, shape: jax.random.uniform(kk, shape, jnp.float32, -0.08, 0.08)
    return {
        "embed": uniform(k[0], (VOCAB_SIZE, H)),
        "forward": cell.init(k[1], H, H, {}),
        "backward": cell.init(k[2], H, H, {}),
        "decoder": cell.init(k[3], H + 2 * out, H, {}),
        "readout": {"W": uniform(k[4], (out, VOCAB_SIZE)), "b": jnp.zeros((VOCAB_SIZE,), jnp.float32)},
    }


def reverse_within_length(x_BxSx_: jax.Array, lengths_B: jax.Array) -> jax.Array:
    """Each row's first `length` entries reversed, the padding after them left in place (an involution)."""
    S = x_BxSx_.shape[1]
    positions = jnp.arange(S)[None, :]
    index = jnp.where(positions < lengths_B[:, None], lengths_B[:, None] - 1 - positions, positions)
    return jnp.take_along_axis(x_BxSx_, index.reshape(*index.shape, *([1] * (x_BxSx_.ndim - 2))), axis=1)


def encode_source(params: dict, config: Seq2SeqConfig, sources_BxS: jax.Array, lengths_B: jax.Array):
    """(outputs [B, S, 2*out]: forward joined with the re-reversed backward pass; summary [B, 2*out])."""
    cell = get_cell(config.model)
    B, S = sources_BxS.shape
    no_resets = jnp.zeros((S, B))
    _, forward_SxBxH = run_layer(cell, params["forward"], params["embed"][sources_BxS.T], no_resets)
    reversed_BxS = reverse_within_length(sources_BxS, lengths_B)
    _, backward_SxBxH = run_layer(cell, params["backward"], params["embed"][reversed_BxS.T], no_resets)
    forward_BxSxH = jnp.transpose(forward_SxBxH, (1, 0, 2))
    backward_BxSxH = reverse_within_length(jnp.transpose(backward_SxBxH, (1, 0, 2)), lengths_B)
    outputs = jnp.concatenate([forward_BxSxH, backward_BxSxH], axis=-1)
    last = jnp.take_along_axis(forward_BxSxH, (lengths_B - 1)[:, None, None], axis=1)[:, 0]
    first = backward_BxSxH[:, 0]  # the backward pass's output after reading the whole program
    return outputs, jnp.concatenate([last, first], axis=-1)


def _decoder_inputs(params: dict, tokens_BxA: jax.Array, summary_Bx2O: jax.Array) -> jax.Array:
    embedded = params["embed"][tokens_BxA]
    return jnp.concatenate(
        [embedded, jnp.broadcast_to(summary_Bx2O[:, None], (*tokens_BxA.shape, summary_Bx2O.shape[-1]))], -1
    )


def logits_of(params: dict, config: Seq2SeqConfig, batch: dict) -> jax.Array:
    """Teacher-forced answer logits [B, A, V]."""
    cell = get_cell(config.model)
    _, summary = encode_source(params, config, batch["sources"], batch["lengths"])
    x_BxAxI = _decoder_inputs(params, batch["decoder_inputs"], summary)
    A, B = batch["decoder_inputs"].shape[1], batch["decoder_inputs"].shape[0]
    _, h_AxBxO = run_layer(cell, params["decoder"], jnp.transpose(x_BxAxI, (1, 0, 2)), jnp.zeros((A, B)))
    return jnp.transpose(matmul_rows(h_AxBxO, params["readout"]["W"]) + params["readout"]["b"], (1, 0, 2))


def loss_and_counts(params: dict, config: Seq2SeqConfig, batch: dict):
    return masked_mean_and_counts(logits_of(params, config, batch), batch["targets"], batch["mask"])


def greedy_answers(params: dict, config: Seq2SeqConfig, batch: dict, steps: int) -> jax.Array:
    """The decoder fed its own argmax from '@' on: characters [B, steps]."""
    cell = get_cell(config.model)
    _, summary = encode_source(params, config, batch["sources"], batch["lengths"])
    B = summary.shape[0]
    layer = params["decoder"]

    def body(state, _):
        carry, token_B = state
        x = _decoder_inputs(params, token_B[:, None], summary)[:, 0]
        carry = cell.step(layer, carry, x @ layer["W"] + layer["b"])
        token_B = jnp.argmax(cell.output(carry) @ params["readout"]["W"] + params["readout"]["b"], -1)
        return (carry, token_B.astype(jnp.int32)), token_B

    start = (cell.zero_carry(layer, B), jnp.full((B,), encode(GO)[0], jnp.int32))
    _, tokens_SxB = jax.lax.scan(body, start, None, length=steps)
    return tokens_SxB.T


def seq2seq_test_examples(config: Seq2SeqConfig) -> list:
    """The test split at the target level, from the main path's fixed test seed (lte.core.data.TEST_SEED): one test
    set for every seed of a task, as in the char-level runs."""
    spec = dataclasses.replace(config.spec(), strategy="baseline")
    return sample_examples(spec, config.test_size, seed=TEST_SEED, split="test", level=spec.target)


class Seq2SeqState(NamedTuple):
    params: dict
    opt_state: optax.OptState


def make_optimizer(config: Seq2SeqConfig) -> optax.GradientTransformation:
    return optax.chain(optax.clip_by_global_norm(config.clip), optax.sgd(config.rate))


def train_batch(config: Seq2SeqConfig, step: int) -> dict:
    """The batch of training step `step` (1-based): fresh examples at the target level, a pure function of
    (seed, step), so a resumed run draws what an uninterrupted one would."""
    spec = config.spec()
    examples = sample_examples(spec, config.batch_size, seed=config.seed * 1_000_003 + step, level=spec.target)
    return {k: jnp.asarray(v) for k, v in encode_pairs(examples).items()}


def train_seq2seq(config: Seq2SeqConfig, out: Path, *, log=None) -> dict:
    """Train (or resume, or report a finished run) in the run folder `out`; returns the summary."""
    log = log or log_to_stderr
    return train_in_folder(config, out, lambda folder: _train_seq2seq(config, folder, log))


def _train_seq2seq(config: Seq2SeqConfig, out: Path, log) -> dict:
    from lte.core.provenance import provenance

    optimizer = make_optimizer(config)
    params = init_params(jax.random.PRNGKey(config.seed), config)
    state = Seq2SeqState(params, optimizer.init(params))
    mgr = checkpoint.manager(out / "checkpoints")
    restored = checkpoint.restore_latest(mgr, state, log=log)
    step, elapsed = 0, 0.0
    if restored is not None:
        step, state, meta = restored
        elapsed = meta["elapsed"]
        log(f"resuming {out} at step {step}")
    truncate_metrics(out, step if restored is not None else -1)

    @jax.jit
    def train_step(state: Seq2SeqState, batch: dict) -> Seq2SeqState:
        grads, _ = jax.grad(loss_and_counts, has_aux=True)(state.params, config, batch)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        return Seq2SeqState(optax.apply_updates(state.params, updates), opt_state)

    test_examples = seq2seq_test_examples(config)
    test = {k: jnp.asarray(v) for k, v in encode_pairs(test_examples).items()}
    decode_fn = jax.jit(lambda p, b: greedy_answers(p, config, b, test["targets"].shape[1]))
    counts_fn = jax.jit(lambda p, b: loss_and_counts(p, config, b)[1])
    start, interval = time.perf_counter(), 0
    while step < config.steps:
        step += 1
        state = train_step(state, train_batch(config, step))
        interval += 1
        if step % config.eval_every == 0 or step == config.steps:
            jax.block_until_ready(state)
            seconds = time.perf_counter() - start
            elapsed += seconds  # training time: the evaluation below is left out
            counts = counts_fn(state.params, test)
            predicted = np.asarray(decode_fn(state.params, test))
            exact = np.mean([decode(row)[: len(e.target)] == e.target for row, e in zip(predicted, test_examples)])
            row = {
                "step": step,
                "test_char_accuracy": float(counts["correct"] / counts["scored"]),
                "test_exact_match": float(exact),
                "wall_time": elapsed,
                "steps_per_second": interval / seconds,
            }
            append_metrics(out, row)
            checkpoint.save(mgr, step, state, {"elapsed": elapsed})
            log(
                f"seq2seq {config.model} on {config.task} ({config.length},{config.nesting}) step {step}/"
                f"{config.steps} | {row['steps_per_second']:.0f} steps/s | test char accuracy "
                f"{row['test_char_accuracy']:.3f} | exact match {row['test_exact_match']:.3f}"
            )
            start, interval = time.perf_counter(), 0
    rows = read_metrics(out)
    summary = {
        "stop_reason": "max_steps",
        "diverged": False,
        "steps": step,
        "wall_time": elapsed,
        "final": rows[-1] if rows else {},
        "provenance": provenance(),
    }
    write_json_atomic(out / "summary.json", summary)
    return summary


KIND = RunKind(
    "seq2seq",
    Seq2SeqConfig,
    train_seq2seq,
    run_name,
    command="encoder-decoder: bidirectional encoder, unidirectional decoder",
    printed=("test_char_accuracy", "test_exact_match"),
)
