"""The fixed character vocabulary shared by inputs and targets.

42 characters (every character any task can emit) plus padding at id 0.
"""

import numpy as np

from data_gen.errors import DataGenError

# Order is part of the data format: changing it changes every encoded array.
CHARACTERS = "0123456789abcdefghijlnoprstx()+-*=;#@.:<> "
PAD_ID = 0
VOCAB_SIZE = len(CHARACTERS) + 1  # 43: the 42 characters and padding

assert len(CHARACTERS) == 42 and len(set(CHARACTERS)) == 42

# byte -> id lookup table; 255 marks "not in the vocabulary".
_UNKNOWN = 255
_BYTE_TO_ID = np.full(256, _UNKNOWN, dtype=np.uint8)
for _i, _c in enumerate(CHARACTERS):
    _BYTE_TO_ID[ord(_c)] = _i + 1
_ID_TO_CHAR = np.array(["\0", *CHARACTERS])


def check_text(text: str) -> str:
    """Return `text` if every character is in the vocabulary, else raise a clear error."""
    bad = sorted({c for c in text if c not in CHARACTERS})
    if bad:
        raise DataGenError(f"characters outside the vocabulary: {''.join(bad)!r} in {text!r}; allowed: {CHARACTERS!r}")
    return text


def encode(text: str) -> np.ndarray:
    """Characters -> int32 ids (1..42). Raises DataGenError on a character outside the vocabulary."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        check_text(text)
        raise
    ids = _BYTE_TO_ID[np.frombuffer(raw, dtype=np.uint8)]
    if (ids == _UNKNOWN).any():
        check_text(text)
    return ids.astype(np.int32)


def decode(ids) -> str:
    """int ids -> characters; padding is dropped."""
    ids = np.asarray(ids)
    return "".join(_ID_TO_CHAR[ids[ids != PAD_ID]])
