"""Train / validation / test by Zaremba's string hash (`utils/utils.lua`, `str_hash`).

`str_hash(input .. output) % 3` is 0 for train, 1 for validation, 2 for test,
so the split of an example is a property of its text: no test program can
ever be trained on, whatever the seed.
"""

from __future__ import annotations

import numpy as np

from data_gen.errors import check_choice

SPLITS = ("train", "val", "test")
_MODULUS = 452930459


def str_hash(text: str) -> int:
    """The original hash, exact (Lua doubles hold every intermediate value exactly)."""
    data = text.encode("ascii")
    h = 1
    n = len(data)
    for i in range(0, n, 2):  # 0-based i is Lua's i - 1
        second = data[i + 1] if i + 1 < n else i + 1
        h = (h * 12345) % _MODULUS + data[i] * 67890 + second * 13579
    return h


def split_of(text: str) -> str:
    return SPLITS[str_hash(text) % 3]


def split_index(name: str) -> int:
    return SPLITS.index(check_choice("split", name, SPLITS))


def str_hash_many(texts: list[bytes]) -> np.ndarray:
    """`str_hash` of many byte strings at once (vectorised over strings), int64[len(texts)]."""
    count = len(texts)
    longest = max(map(len, texts), default=0)
    width = longest + (longest % 2)
    padded = np.zeros((count, width), dtype=np.int64)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=count)
    flat = np.frombuffer(b"".join(texts), dtype=np.uint8)
    rows = np.repeat(np.arange(count), lengths)
    starts = np.cumsum(lengths) - lengths
    cols = np.arange(flat.size) - np.repeat(starts, lengths)
    padded[rows, cols] = flat
    h = np.ones(count, dtype=np.int64)
    for i in range(0, width, 2):
        active = i < lengths
        second = np.where(i + 1 < lengths, padded[:, i + 1], i + 1)
        updated = (h * 12345) % _MODULUS + padded[:, i] * 67890 + second * 13579
        h = np.where(active, updated, h)
    return h
