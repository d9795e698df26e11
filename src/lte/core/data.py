"""From data_gen to what the train and eval steps take: batches, validation and test sets."""

from __future__ import annotations

import dataclasses
import functools
import math
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from data_gen.batches import Batch, Encoded, encode_examples, pack, training_batch
from data_gen.curriculum import Level, uses_level
from data_gen.pool import load_pool, pool_batch
from data_gen.tasks import Example, TaskSpec, length_bounds, sample_examples
from data_gen.vocab import PAD_ID, encode
from lte.core.config import TrainConfig

# Evaluation sets are the same for every model and seed (fixed seeds), so runs compare on one set.
TEST_SEED = 2_000_003
VAL_SEED = 1_000_003
DECODE_ROWS = 256
# A level whose validation split holds fewer distinct examples than this is validated on its
# training split instead (a deviation from the original, see make_validation_set).
MIN_DISTINCT_VALIDATION = 50


def as_arrays(batch: Batch) -> dict[str, np.ndarray]:
    return {
        "inputs": batch.inputs_BxT,
        "targets": batch.targets_BxT,
        "mask": batch.mask_BxT,
        "resets": batch.resets_BxT,
    }


@functools.lru_cache(maxsize=8)
def training_pool(spec: TaskSpec, level: Level) -> Encoded:
    """The training pool of `spec` at `level`, loaded once per process and shared by its runs."""
    return load_pool(spec, level, "train", workers=1)  # one process: sweeps already run one worker per core


class TrainingBatches:
    """Batch `index` at `level`: a pure function of (config, index, level), made ahead.

    A background thread builds the next batch (`get`) or the next chunk of
    batches (`chunk`) while the device trains on this one (JAX releases the
    GIL while it computes).
    """

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.spec = config.spec()
        self.rows = config.batch_size
        self.row_length = config.resolved_row_length
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lte-data")
        self._ahead: tuple[tuple, Future] | None = None

    def _make(self, index: int, level: Level) -> dict[str, np.ndarray]:
        if self.config.data == "pool":
            if not uses_level(self.spec.strategy):
                level = self.spec.target  # their examples do not depend on the level: one pool serves all
            batch = pool_batch(
                training_pool(self.spec, level), self.rows, self.row_length, seed=self.config.seed, index=index
            )
        else:
            batch = training_batch(self.spec, level, self.rows, self.row_length, seed=self.config.seed, index=index)
        return as_arrays(batch)

    def _make_chunk(self, start: int, count: int, level: Level) -> tuple[dict[str, np.ndarray], int]:
        """Batches start .. start + count - 1 stacked ([count, B, T] each), and their real characters."""
        batches = [self._make(index, level) for index in range(start, start + count)]
        stacked = {name: np.stack([b[name] for b in batches]) for name in batches[0]}
        if self.config.dropout > 0:  # masks: a pure function of (seed, step), so a resumed run draws the same
            stacked["dropout_seed"] = np.array([[self.config.seed, start + i] for i in range(count)], np.uint32)
        return stacked, int((stacked["inputs"] != PAD_ID).sum())

    def _take(self, key: tuple, make, *args):
        ahead = self._ahead
        if ahead is not None and ahead[0] == key:
            return ahead[1].result()
        return make(*args)

    def get(self, index: int, level: Level) -> dict[str, np.ndarray]:
        batch = self._take(("batch", index, level), self._make, index, level)
        self._ahead = (("batch", index + 1, level), self._executor.submit(self._make, index + 1, level))
        return batch

    def chunk(self, start: int, count: int, level: Level, next_count: int = 0) -> tuple[dict[str, np.ndarray], int]:
        """`_make_chunk(start, count, level)`; then starts making the `next_count` batches after it."""
        chunk = self._take(("chunk", start, count, level), self._make_chunk, start, count, level)
        self._ahead = None
        if next_count > 0:
            key = ("chunk", start + count, next_count, level)
            self._ahead = (key, self._executor.submit(self._make_chunk, start + count, next_count, level))
        return chunk

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


@dataclasses.dataclass
class EvalSet:
    """A fixed set of examples, laid out for both metrics.

    teacher: [B, T] packed batches of the training shape (the last one padded with empty rows);
    prompts_NxP / resets_NxP: each input right-aligned in P columns (for greedy decoding);
    targets: the answers, e.g. '25011.'.
    """

    name: str
    examples: list[Example]
    teacher: list[dict[str, np.ndarray]]
    prompts_NxP: np.ndarray
    resets_NxP: np.ndarray
    targets: list[str]
    decode_steps: int


def build_eval_set(
    name: str, examples: list[Example], rows: int, row_length: int, prompt_length: int, decode_steps: int
) -> EvalSet:
    encoded = encode_examples(examples)
    teacher, start = [], 0
    while start < len(examples):
        # pack what fits into one [rows, row_length] batch, then go on with the rest
        sub = dataclasses.replace(
            encoded,
            ids=encoded.ids[int(encoded.lengths[:start].sum()) :],
            lengths=encoded.lengths[start:],
            input_lengths=encoded.input_lengths[start:],
        )
        batch, count = pack(sub, rows, row_length)
        teacher.append(as_arrays(batch))
        start += count
    n = len(examples)
    padded_n = DECODE_ROWS * math.ceil(n / DECODE_ROWS)
    prompts = np.full((padded_n, prompt_length), PAD_ID, np.int32)
    resets = np.zeros((padded_n, prompt_length), np.int32)
    for i, example in enumerate(examples):
        ids = encode(example.input)
        prompts[i, prompt_length - len(ids) :] = ids
        resets[i, prompt_length - len(ids)] = 1
    resets[n:, 0] = 1
    return EvalSet(name, examples, teacher, prompts, resets, [e.target for e in examples], decode_steps)


def eval_layout(config: TrainConfig) -> tuple[int, int]:
    """(prompt length, decode steps): bounds on any input and target, fixed per run so decoding compiles once."""
    return length_bounds(config.spec())


# Evaluation sets depend on the task and sizes only, never on the model or seed: a process (a sweep worker)
# builds each once and shares it between its runs (they are read, never changed).
EVAL_SET_CACHE = 32


def _layout(config: TrainConfig) -> tuple[int, int, int, int]:
    return (config.batch_size, config.resolved_row_length, *eval_layout(config))


def make_test_set(config: TrainConfig, size: int | None = None, seed: int = TEST_SEED) -> EvalSet:
    """The test split at the target level (every draw at the target, as the original's test set)."""
    return _test_set(config.spec(), size or config.test_size, seed, _layout(config))


@functools.lru_cache(maxsize=EVAL_SET_CACHE)
def _test_set(spec: TaskSpec, size: int, seed: int, layout: tuple[int, int, int, int]) -> EvalSet:
    examples = sample_examples(dataclasses.replace(spec, strategy="baseline"), size, seed=seed, split="test")
    return build_eval_set("test", examples, *layout)


def make_validation_set(config: TrainConfig, level: Level) -> EvalSet:
    """The examples the curriculum judges `level` by (the original's `current_hardness`).

    Normally the validation split at that level. Deviation from the original:
    at the easiest levels the hash split leaves only a handful of distinct
    examples per split (copy at length 1: 3 numbers to train on, 4 others to
    validate on), so a model can only memorise its training split and the
    level's validation accuracy can never pass the threshold: the naive
    curriculum would stay at (1, 1) for the whole run. With the amended
    schedule (the default, `lte.core.schedule`), when the validation
    split holds fewer than MIN_DISTINCT_VALIDATION distinct examples at the
    level, the level is judged on examples of its training split, i.e. on
    whether the model has learned what it is trained on there. The set's
    `name` says which ("val" or "val-from-train"). Model selection always
    uses the validation split at the target level.
    """
    return _validation_set(config.spec(), config.val_size, level, config.schedule != "original", _layout(config))


@functools.lru_cache(maxsize=EVAL_SET_CACHE)
def _validation_set(
    spec: TaskSpec, size: int, level: Level, amended: bool, layout: tuple[int, int, int, int]
) -> EvalSet:
    spec = dataclasses.replace(spec, strategy="naive")
    seed = VAL_SEED + 100 * level.length + level.nesting
    examples = sample_examples(spec, size, seed=seed, split="val", level=level)
    name = "val"
    distinct = len({(e.input, e.target) for e in examples})
    if amended and distinct < MIN_DISTINCT_VALIDATION:
        examples = sample_examples(spec, size, seed=seed, split="train", level=level)
        name = "val-from-train"
    return build_eval_set(name, examples, *layout)


def make_target_validation_set(config: TrainConfig) -> EvalSet:
    """The validation split at the target level: what model selection is judged on (never the test split)."""
    return _target_validation_set(config.spec(), config.val_size, _layout(config))


@functools.lru_cache(maxsize=EVAL_SET_CACHE)
def _target_validation_set(spec: TaskSpec, size: int, layout: tuple[int, int, int, int]) -> EvalSet:
    spec = dataclasses.replace(spec, strategy="baseline")
    target = spec.target
    seed = VAL_SEED + 100 * target.length + target.nesting
    examples = sample_examples(spec, size, seed=seed, split="val", level=target)
    return build_eval_set("val", examples, *layout)
