"""Examples -> fixed-shape int32 arrays the model trains on.

A row is a sequence of `row_length` characters; examples are packed into it
back to back (the model's state is reset at each example's first character),
so little compute goes to padding. For one example `input + target` of n
characters starting at column s:

    inputs[s:s+n]      the characters
    targets[s:s+n-1]   the next character (the last position predicts nothing)
    mask[j] = 1        where targets[j] is an answer character ('.' included)
    resets[s] = 1      the example starts here

An example is never split over two rows; one that does not fit in what is
left of a row starts the next row.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import numpy as np

from data_gen.curriculum import Level
from data_gen.errors import DataGenError, check_int_range
from data_gen.splits import split_index, str_hash_many
from data_gen.tasks import END, TERMINATOR, Example, TaskSpec, apply_tricks, draw_raw
from data_gen.vocab import PAD_ID, encode


@dataclass(frozen=True)
class Batch:
    """Packed examples. Every array is int32 [rows, row_length] (B x T)."""

    inputs_BxT: np.ndarray
    targets_BxT: np.ndarray
    mask_BxT: np.ndarray
    resets_BxT: np.ndarray
    example_count: int

    @property
    def real_token_fraction(self) -> float:
        """Share of positions holding a real character (not padding)."""
        return float((self.inputs_BxT != PAD_ID).mean())


@dataclass(frozen=True)
class Encoded:
    """Many examples as one flat id array: example i is ids[starts[i]:starts[i]+lengths[i]]."""

    ids: np.ndarray  # int32, all examples' input+target characters back to back
    lengths: np.ndarray  # int64, characters per example
    input_lengths: np.ndarray  # int64, characters of the input ('@' included)

    @functools.cached_property
    def starts(self) -> np.ndarray:
        """Where each example begins in `ids` (kept: a pool is sampled from thousands of times)."""
        return np.cumsum(self.lengths) - self.lengths

    @functools.cached_property
    def mean_length(self) -> float:
        return float(self.lengths.mean())

    def __len__(self) -> int:
        return len(self.lengths)


def encode_texts(inputs: list[str], targets: list[str]) -> Encoded:
    """Encode (input, target) pairs in one vectorised pass."""
    input_lengths = np.fromiter(map(len, inputs), dtype=np.int64, count=len(inputs))
    target_lengths = np.fromiter(map(len, targets), dtype=np.int64, count=len(targets))
    ids = encode("".join(i + t for i, t in zip(inputs, targets)))
    return Encoded(ids, input_lengths + target_lengths, input_lengths)


def encode_examples(examples: list[Example]) -> Encoded:
    return encode_texts([e.input for e in examples], [e.target for e in examples])


def pack(encoded: Encoded, rows: int, row_length: int, *, fill: bool = True) -> tuple[Batch, int]:
    """Pack examples in order into a [rows, row_length] batch.

    Returns the batch and how many examples went in. With `fill`, packing stops
    at the first example that no longer fits (the batch is full); without, every
    example must fit (an error says how many rows are needed otherwise).
    """
    check_int_range("rows", rows, 1, 1 << 20)
    check_int_range("row_length", row_length, 2, 1 << 20)
    lengths = encoded.lengths
    if len(lengths) and lengths.max() > row_length:
        raise DataGenError(
            f"an example of {int(lengths.max())} characters does not fit in "
            f"row_length {row_length}; use a row_length of at least that"
        )
    row_of = np.empty(len(lengths), dtype=np.int64)
    col_of = np.empty(len(lengths), dtype=np.int64)
    row, col, count = 0, 0, 0
    for n in lengths.tolist():  # greedy placement; a Python loop over ints is cheap here
        if col + n > row_length:
            row, col = row + 1, 0
            if row == rows:
                break
        row_of[count], col_of[count] = row, col
        col += n
        count += 1
    if not fill and count < len(lengths):
        raise DataGenError(f"{len(lengths)} examples need more than {rows} rows of {row_length}")

    n_tok = int(lengths[:count].sum())
    ids = encoded.ids[:n_tok]
    example_of_token = np.repeat(np.arange(count), lengths[:count])
    offset = np.arange(n_tok) - np.repeat(encoded.starts[:count], lengths[:count])
    flat_pos = row_of[example_of_token] * row_length + col_of[example_of_token] + offset
    is_last = offset == lengths[:count][example_of_token] - 1
    next_ids = np.where(is_last, PAD_ID, np.roll(ids, -1))
    scored = (~is_last) & (offset + 1 >= encoded.input_lengths[:count][example_of_token])

    shape = (rows, row_length)
    inputs = np.zeros(rows * row_length, np.int32)
    targets = np.zeros(rows * row_length, np.int32)
    mask = np.zeros(rows * row_length, np.int32)
    resets = np.zeros(rows * row_length, np.int32)
    inputs[flat_pos] = ids
    targets[flat_pos] = next_ids
    mask[flat_pos] = scored
    resets[flat_pos[offset == 0]] = 1
    return Batch(
        inputs.reshape(shape), targets.reshape(shape), mask.reshape(shape), resets.reshape(shape), count
    ), count


def rows_needed(encoded: Encoded, row_length: int) -> int:
    """Rows the greedy packing of `pack` uses for all of `encoded`."""
    rows, col = 1, 0
    for n in encoded.lengths.tolist():
        if col + n > row_length:
            rows, col = rows + 1, 0
        col += n
    return rows


def batch_seed(seed: int, index: int, level: Level) -> str:
    """The seed of batch `index`: a batch is a pure function of (seed, index, level)."""
    return f"lte/{seed}/{index}/{level.length},{level.nesting}"


def generate_encoded(spec: TaskSpec, level: Level, split: str, rng: random.Random, count: int) -> Encoded:
    """About `count` examples of `split` (drawn 3x over, routed by the vectorised split hash)."""
    hardness = spec.curriculum(level).sampler(rng)
    want = split_index(split)
    task = spec.task
    bodies, answers = [], []
    for _ in range(3 * count):
        body, answer = draw_raw(task, rng, hardness)[:2]
        bodies.append(body)
        answers.append(answer)
    targets = [f"{a}{END}" for a in answers]
    canonical = [f"{b}{TERMINATOR}{t}".encode() for b, t in zip(bodies, targets)]
    keep = np.flatnonzero(str_hash_many(canonical) % 3 == want)
    inputs = [apply_tricks(bodies[i], spec.invert, spec.double) for i in keep]
    return encode_texts(inputs, [targets[i] for i in keep])


def concat(parts: list[Encoded]) -> Encoded:
    return Encoded(
        np.concatenate([p.ids for p in parts]),
        np.concatenate([p.lengths for p in parts]),
        np.concatenate([p.input_lengths for p in parts]),
    )


def training_batch(
    spec: TaskSpec, level: Level, rows: int, row_length: int, *, seed: int, index: int, split: str = "train"
) -> Batch:
    """Batch `index` of a training stream: fresh examples, the same for the same arguments."""
    rng = random.Random(batch_seed(seed, index, level))
    chunk = max(8, rows // 2)  # small chunks: at most one chunk is generated and not used
    parts: list[Encoded] = []
    have = 0
    while True:
        part = generate_encoded(spec, level, split, rng, count=chunk)
        if not len(part) and len(parts) > 100 and not have:
            raise DataGenError(
                f"no {split} example found at level {level}: the task has too few "
                f"distinct examples there; use a larger length"
            )
        parts.append(part)
        have += int(part.lengths.sum())
        if have >= rows * row_length:  # enough characters to fill every row, whatever the packing
            break
    batch, _ = pack(concat(parts), rows, row_length)
    return batch
