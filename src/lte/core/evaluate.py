"""Evaluation of a model on a fixed set: its losses and accuracies, and greedy decoding."""

from __future__ import annotations

import functools
import math

import jax
import numpy as np

from data_gen.vocab import decode
from lte.core.console import Progress
from lte.core.data import (
    EvalSet,
)
from lte.core.metrics import compute_metrics, greedy_decode, masked_loss_and_counts
from lte.core.model import ModelConfig


@functools.lru_cache(maxsize=16)
def make_eval_fns(model_config: ModelConfig, decode_steps: int):
    counts_fn = jax.jit(lambda params, batch: masked_loss_and_counts(params, model_config, batch)[1])
    decode_fn = jax.jit(
        lambda params, prompts, resets: greedy_decode(params, model_config, prompts, resets, decode_steps)
    )
    return counts_fn, decode_fn


def evaluate(params: dict, eval_set: EvalSet, counts_fn, decode_fn, rows: int = 256, log=None) -> dict:
    """Teacher-forced character accuracy, loss and greedy exact match on `eval_set`.

    `log`, when given, gets a progress line with the rate and ETA every few seconds (long evaluations).
    """
    progress = Progress(len(eval_set.teacher) + math.ceil(len(eval_set.prompts_NxP) / rows), log)
    # every batch is dispatched first and fetched after: the device never waits on the host in between
    pending_counts = [counts_fn(params, batch) for batch in eval_set.teacher]
    pending_decoded = [
        decode_fn(params, eval_set.prompts_NxP[i : i + rows], eval_set.resets_NxP[i : i + rows])
        for i in range(0, len(eval_set.prompts_NxP), rows)
    ]
    total = {"nll_sum": 0.0, "correct": 0.0, "scored": 0.0}
    for counts in pending_counts:  # summed in float64, batch by batch, in order
        counts = jax.device_get(counts)
        total = {k: total[k] + float(counts[k]) for k in total}
        progress.tick()
    metrics = compute_metrics(total)
    decoded = []
    for predicted_rows in pending_decoded:
        decoded.append(np.asarray(predicted_rows))
        progress.tick()
    predicted = np.concatenate(decoded)
    hits = sum(decode(predicted[i, : len(t)]) == t for i, t in enumerate(eval_set.targets))
    metrics["exact_match"] = hits / len(eval_set.targets)
    return metrics


def predictions(params: dict, eval_set: EvalSet, decode_fn, rows: int = 256) -> list[str]:
    """The model's greedy answers (up to and including the first '.')."""
    out = []
    for i in range(0, len(eval_set.prompts_NxP), rows):
        for row in np.asarray(decode_fn(params, eval_set.prompts_NxP[i : i + rows], eval_set.resets_NxP[i : i + rows])):
            text = decode(row)
            out.append(text[: text.index(".") + 1] if "." in text else text)
    return out[: len(eval_set.targets)]


# ---------------------------------------------------------------- run folder
