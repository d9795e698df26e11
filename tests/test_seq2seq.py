"""The encoder-decoder with a bidirectional encoder."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lte.core.cells import get_cell
from lte.core.errors import LteError
from lte.core.model import run_layer
from lte.kinds.seq2seq import (
    Seq2SeqConfig,
    encode_pairs,
    encode_source,
    init_params,
    reverse_within_length,
    train_seq2seq,
)


@pytest.mark.parametrize("model", ["lstm", "irnn"])
def test_encoder_outputs_are_the_forward_pass_joined_with_the_reversed_pass_of_the_reversed_input(model):
    config = Seq2SeqConfig(model=model, hidden=6)
    params = init_params(jax.random.PRNGKey(0), config)
    rng = np.random.default_rng(0)
    lengths = np.array([7, 4, 1])
    sources = np.zeros((3, 7), np.int32)
    for i, n in enumerate(lengths):
        sources[i, :n] = rng.integers(1, 43, n)
    outputs, summary = encode_source(params, config, jnp.asarray(sources), jnp.asarray(lengths))
    cell = get_cell(model)
    for i, n in enumerate(lengths):  # each row alone, unpadded, with plain numpy flips
        x = sources[i : i + 1, :n]
        _, fwd = run_layer(cell, params["forward"], params["embed"][x.T], jnp.zeros((n, 1)))
        _, bwd = run_layer(cell, params["backward"], params["embed"][np.flip(x, 1).T], jnp.zeros((n, 1)))
        expected = np.concatenate([np.asarray(fwd)[:, 0], np.flip(np.asarray(bwd)[:, 0], 0)], axis=-1)
        np.testing.assert_allclose(np.asarray(outputs[i, :n]), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            np.asarray(summary[i]), np.concatenate([expected[-1, :6], expected[0, 6:]]), rtol=1e-5, atol=1e-6
        )


def test_reversing_within_length_leaves_padding_and_is_its_own_inverse():
    x = jnp.asarray([[1, 2, 3, 0], [4, 5, 0, 0]])
    lengths = jnp.asarray([3, 2])
    np.testing.assert_array_equal(reverse_within_length(x, lengths), [[3, 2, 1, 0], [5, 4, 0, 0]])
    np.testing.assert_array_equal(reverse_within_length(reverse_within_length(x, lengths), lengths), x)


def test_pairs_split_at_the_question_mark_and_the_decoder_starts_from_it():
    from data_gen.tasks import TaskSpec, sample_examples
    from data_gen.vocab import decode

    examples = sample_examples(TaskSpec(task="addition", length=2, nesting=1), 4, seed=0)
    pairs = encode_pairs(examples)
    for i, e in enumerate(examples):
        assert decode(pairs["sources"][i]) + "@" == e.input
        assert decode(pairs["targets"][i]) == e.target
        assert decode(pairs["decoder_inputs"][i]) == "@" + e.target[:-1]


def test_gradients_reach_both_encoder_directions_and_a_fixed_batch_is_learned():
    from data_gen.tasks import sample_examples
    from lte.kinds.seq2seq import loss_and_counts

    config = Seq2SeqConfig(task="addition", length=2, model="lstm", hidden=16)
    params = init_params(jax.random.PRNGKey(1), config)
    batch = {k: jnp.asarray(v) for k, v in encode_pairs(sample_examples(config.spec(), 8, seed=1)).items()}
    grad = jax.jit(jax.grad(lambda p: loss_and_counts(p, config, batch)[0]))
    g = grad(params)
    for part in ("forward", "backward", "decoder"):
        assert float(jnp.abs(g[part]["U"]).max()) > 0, part
    first = float(loss_and_counts(params, config, batch)[0])
    for _ in range(150):
        params = jax.tree_util.tree_map(lambda p, d: p - 1.0 * d, params, grad(params))
    assert float(loss_and_counts(params, config, batch)[0]) < 0.5 * first


def test_a_training_run_writes_a_run_folder_with_the_study_metrics(tmp_path):
    import json

    from lte.core.run_folder import damage, read_metrics

    config = Seq2SeqConfig(
        task="copy", length=2, model="irnn", hidden=16, steps=4, eval_every=2, test_size=20, learning_rate=0.05
    )
    summary = train_seq2seq(config, tmp_path, log=lambda _: None)
    metrics = summary["final"]
    assert metrics["step"] == 4 and 0 <= metrics["test_char_accuracy"] <= 1 and 0 <= metrics["test_exact_match"] <= 1
    assert [r["step"] for r in read_metrics(tmp_path)] == [2, 4] and damage(tmp_path) is None
    assert Seq2SeqConfig.from_json(json.loads((tmp_path / "config.json").read_text())) == config
    assert summary["provenance"]["commit"] and summary["steps"] == 4
    with pytest.raises(LteError, match="unknown model 'bilstm'"):
        Seq2SeqConfig(model="bilstm")
    with pytest.raises(LteError, match="clip must be a positive number, got 0"):
        Seq2SeqConfig(clip=0)
    with pytest.raises(LteError, match="learning_rate must be a positive number, got -1"):
        Seq2SeqConfig(learning_rate=-1)
    with pytest.raises(LteError, match="steps must be a positive integer, got 2.5"):
        Seq2SeqConfig(steps=2.5)


def test_the_test_set_is_the_same_for_every_seed():
    """As on the main path (lte.core.data.TEST_SEED): seeds change the model and its batches, never the test set."""
    from lte.kinds.seq2seq import Seq2SeqConfig, seq2seq_test_examples

    first = seq2seq_test_examples(Seq2SeqConfig(task="addition", length=2, test_size=20, seed=0))
    other = seq2seq_test_examples(Seq2SeqConfig(task="addition", length=2, test_size=20, seed=7))
    assert [e.input for e in first] == [e.input for e in other] and all(e.split == "test" for e in first)
