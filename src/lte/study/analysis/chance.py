"""The accuracy of guessing: always the most frequent answer character of the test set."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from data_gen.tasks import TaskSpec, sample_examples
from lte.core.data import TEST_SEED


@lru_cache(maxsize=64)
def chance_accuracy(task: str, length: int, nesting: int, test_size: int) -> float:
    """Teacher-forced character accuracy of the constant guess, on the run's own test set."""
    spec = TaskSpec(task=task, length=length, nesting=nesting, strategy="baseline")
    targets = "".join(e.target for e in sample_examples(spec, test_size, seed=TEST_SEED, split="test"))
    return Counter(targets).most_common(1)[0][1] / len(targets)


def chance_of(row) -> float:
    """`chance_accuracy` for a records row (its cfg_* columns)."""
    return chance_accuracy(row["cfg_task"], int(row["cfg_length"]), int(row["cfg_nesting"]), int(row["cfg_test_size"]))
