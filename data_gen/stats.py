"""Statistics of generated examples: sizes, operation shares, packing efficiency."""

from __future__ import annotations

from collections import Counter

import numpy as np

from data_gen.batches import encode_examples, pack, rows_needed
from data_gen.curriculum import Level
from data_gen.tasks import TaskSpec, sample_examples


def example_stats(
    spec: TaskSpec, count: int, *, seed: int, split: str = "train", level: Level | None = None, row_length: int = 256
) -> dict:
    """Sizes (input and target characters together), operation shares and the real-token fraction."""
    examples = sample_examples(spec, count, seed=seed, split=split, level=level)
    sizes = np.array([len(e.input) + len(e.target) for e in examples])
    ops = Counter(op for e in examples for op in e.operations)
    total_ops = sum(ops.values())
    encoded = encode_examples(examples)
    rows = rows_needed(encoded, row_length)
    batch, _ = pack(encoded, rows, row_length, fill=False)
    return {
        "task": spec.task,
        "length": spec.length,
        "nesting": spec.nesting,
        "strategy": spec.strategy,
        "count": count,
        "size_mean": float(sizes.mean()),
        "size_max": int(sizes.max()),
        "size_percentiles": {str(q): float(np.percentile(sizes, q)) for q in (5, 50, 95)},
        "operation_share": {op: n / total_ops for op, n in sorted(ops.items())},
        "row_length": row_length,
        "real_token_fraction": batch.real_token_fraction,
    }
