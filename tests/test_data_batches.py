"""The batch builder's packing, masks and resets; pools; the data command line."""

import json
import subprocess
import sys

import numpy as np
import pytest

from data_gen.batches import encode_examples, pack, rows_needed, training_batch
from data_gen.errors import DataGenError
from data_gen.pool import build_pool, load_pool, pool_batch
from data_gen.tasks import TaskSpec, sample_examples
from data_gen.vocab import PAD_ID, decode


def test_packing_masks_resets_and_next_characters():
    examples = sample_examples(TaskSpec("program", 3, 2, invert=True), 40, seed=0)
    encoded = encode_examples(examples)
    rows = rows_needed(encoded, 128)
    batch, count = pack(encoded, rows, 128, fill=False)
    assert count == 40 == batch.example_count
    for name in ("inputs_BxT", "targets_BxT", "mask_BxT", "resets_BxT"):
        array = getattr(batch, name)
        assert array.dtype == np.int32 and array.shape == (rows, 128)
    # the rows read back as the examples, in order, each starting with a reset
    texts = [e.input + e.target for e in examples]
    starts = np.argwhere(batch.resets_BxT == 1)
    assert len(starts) == 40
    for (row, col), text in zip(starts, texts):
        assert decode(batch.inputs_BxT[row, col : col + len(text)]) == text
        # next-character targets inside the example, nothing after its last character
        assert decode(batch.targets_BxT[row, col : col + len(text) - 1]) == text[1:]
        assert batch.targets_BxT[row, col + len(text) - 1] == PAD_ID
    # scored: exactly the positions whose next character is part of the answer ('.' included)
    for (row, col), example in zip(starts, examples):
        n_in, n_out = len(example.input), len(example.target)
        scored = batch.mask_BxT[row, col : col + n_in + n_out]
        assert scored.tolist() == [0] * (n_in - 1) + [1] * n_out + [0]
        picked = batch.targets_BxT[row, col : col + n_in + n_out][scored == 1]
        assert decode(picked) == example.target
    assert batch.mask_BxT.sum() == sum(len(e.target) for e in examples)
    assert batch.real_token_fraction == pytest.approx(sum(map(len, texts)) / (rows * 128))


def test_pack_refuses_an_example_longer_than_a_row():
    encoded = encode_examples(sample_examples(TaskSpec("program", 9, 4), 5, seed=0))
    with pytest.raises(DataGenError, match="does not fit in row_length 20"):
        pack(encoded, 4, 20)


def test_training_batches_are_full_reproducible_and_fresh():
    spec = TaskSpec("program", 6, 3)
    a = training_batch(spec, spec.target, 16, 256, seed=0, index=3)
    b = training_batch(spec, spec.target, 16, 256, seed=0, index=3)
    c = training_batch(spec, spec.target, 16, 256, seed=0, index=4)
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("inputs_BxT", "mask_BxT", "resets_BxT"))
    assert not np.array_equal(a.inputs_BxT, c.inputs_BxT)
    assert a.real_token_fraction > 0.8  # packing keeps padding low
    assert (a.resets_BxT[:, 0] == 1).all()  # every row starts with an example


def test_pool_is_the_same_for_any_number_of_workers_and_is_cached(tmp_path):
    spec = TaskSpec("addition", 3, 1)
    one = build_pool(spec, spec.target, "train", 5000, workers=1)
    two = build_pool(spec, spec.target, "train", 5000, workers=2)
    assert np.array_equal(one.ids, two.ids) and len(one) == 5000
    cached = load_pool(spec, spec.target, "train", 5000, cache_dir=tmp_path, workers=1)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    again = load_pool(spec, spec.target, "train", 5000, cache_dir=tmp_path, workers=1)
    assert np.array_equal(cached.ids, again.ids) and np.array_equal(cached.ids, one.ids)
    x = pool_batch(one, 8, 64, seed=1, index=0)
    y = pool_batch(one, 8, 64, seed=1, index=0)
    assert np.array_equal(x.inputs_BxT, y.inputs_BxT) and x.example_count > 8


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "data_gen", *args], capture_output=True, text=True)


def test_cli_sample_prints_json_lines():
    sample = "sample --task program --length 4 --nesting 3 --count 5 --seed 0 --split test --invert".split()
    result = run_cli(*sample)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 5
    for row in rows:
        assert {"source", "input", "target", "task", "length", "nesting", "split"} <= set(row)
        assert row["split"] == "test" and row["target"].endswith(".") and row["input"].endswith("@")
    again = run_cli(*sample)
    assert again.stdout == result.stdout


def test_cli_stats():
    result = run_cli("stats", "--task", "program", "--length", "4", "--nesting", "3", "--count", "2000")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert abs(sum(stats["operation_share"].values()) - 1) < 1e-9
    assert 0.5 < stats["real_token_fraction"] <= 1 and stats["size_max"] >= stats["size_mean"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["sample", "--length", "0"], "length must be an integer in [1, 20], got 0"),
        (["sample", "--nesting", "0"], "nesting must be an integer in [1, 10], got 0"),
        (["sample", "--task", "sort"], "unknown task 'sort'"),
        (["sample", "--strategy", "greedy"], "unknown strategy 'greedy'"),
        (["sample", "--split", "dev"], "unknown split 'dev'"),
        (["sample", "--level", "x"], "level must be 'LENGTH,NESTING'"),
        (["sample", "--count", "0"], "count must be at least 1 and at most 1,000,000"),
        (["sample", "--count", "1e7"], "count must be a whole number from 1 to 1,000,000, got '1e7'"),
        (["sample", "--count", "10000000"], "at most 1,000,000"),
        (["sample", "--count", "-1"], "got -1"),
        (["stats", "--count", "99999999999999999999"], "at most 1,000,000"),
        (["bench", "--seconds", "0"], "seconds must be more than 0 and at most 600, got 0.0"),
        (["bench", "--seconds", "-1"], "got -1.0"),
        (["bench", "--workers", "0"], "workers must be an integer from 1 to 256, got 0"),
    ],
)
def test_cli_bad_input_is_one_clear_line_and_status_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error:") and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_pools_that_the_committed_records_were_trained_on_are_unchanged():
    """Every committed run trains on pools (data = "pool"), and a pool's key seeds its generation: a change to
    the key or the generator changes every run, so it must be deliberate (then retrain every record and
    update these values). The values are those of the pools the committed records were trained on."""
    import hashlib

    from data_gen.curriculum import Level
    from data_gen.pool import build_pool, pool_key
    from data_gen.tasks import TaskSpec

    spec = TaskSpec(task="addition", length=2, nesting=1, strategy="mix")
    assert pool_key(spec, Level(2, 1), "train", 1000, 0) == "9735d515cce723783f2a"
    pool = build_pool(spec, Level(2, 1), "train", 1000, workers=1)
    assert hashlib.sha256(pool.ids.astype(np.int32).tobytes()).hexdigest()[:16] == "e2066396c28676e3"
