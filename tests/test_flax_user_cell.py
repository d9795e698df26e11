"""A user's own flax cell trains through the project's path, chosen by name (`--model module:Class`)."""

import json
import textwrap

import pytest

USER_CELLS = textwrap.dedent('''
    import flax.linen as nn
    import jax
    import jax.numpy as jnp


    class LeakyCell(nn.RNNCellBase):
        """h' = (1 - a) h + a tanh(W x + U h + b): a leaky tanh RNN, written by a user."""
        features: int
        leak: float = 0.5

        @nn.compact
        def __call__(self, h, x):
            z = nn.Dense(self.features)(x) + nn.Dense(self.features, use_bias=False)(h)
            h = (1 - self.leak) * h + self.leak * jnp.tanh(z)
            return h, h

        def initialize_carry(self, rng, input_shape):
            return jnp.zeros((*input_shape[:-1], self.features))

        @property
        def num_feature_axes(self):
            return 1


    class NotACell:
        pass
''')


@pytest.fixture
def user_cells(tmp_path, monkeypatch):
    (tmp_path / "user_cells.py").write_text(USER_CELLS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "user_cells"


def test_a_user_flax_cell_trains_by_name(user_cells, tmp_path):
    from lte.cli import main

    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--model", "user_cells:LeakyCell", "--task", "copy", "--length", "2",
                 "--hidden", "16", "--layers", "1", "--batch-size", "8", "--max-steps", "60", "--eval-every", "30",
                 "--val-size", "20", "--test-size", "20", "--lr", "0.5"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert json.loads((out / "config.json").read_text())["model"] == "user_cells:LeakyCell"


def test_the_user_cell_is_plain_autodiff_of_the_same_model(user_cells):
    """The adapter's gradients are jax.grad of the model's loss: equal to finite differences."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from lte.core.metrics import masked_loss_and_counts
    from lte.core.model import ModelConfig, init_params

    config = ModelConfig(cell="user_cells:LeakyCell", hidden=3, layers=2)
    rng = np.random.default_rng(0)
    batch = {"inputs": jnp.asarray(rng.integers(1, 40, (2, 5)), jnp.int32),
             "targets": jnp.asarray(rng.integers(1, 40, (2, 5)), jnp.int32),
             "mask": jnp.ones((2, 5), jnp.int32), "resets": jnp.asarray([[1, 0, 0, 1, 0], [1, 0, 0, 0, 0]])}
    with jax.enable_x64(True):
        params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64),
                                        init_params(jax.random.PRNGKey(0), config))
        loss = jax.jit(lambda p: masked_loss_and_counts(p, config, batch)[0])
        grads = jax.grad(loss)(params)
        kernel = params["layers"][1]["flax"]["Dense_1"]["kernel"]
        eps = 1e-6
        for i, j in ((0, 0), (1, 2)):
            def shifted(delta):
                layers = list(params["layers"])
                flax = {**layers[1]["flax"], "Dense_1": {"kernel": kernel.at[i, j].add(delta)}}
                layers[1] = {**layers[1], "flax": flax}
                return float(loss({**params, "layers": layers}))
            numeric = (shifted(eps) - shifted(-eps)) / (2 * eps)
            assert abs(numeric - float(grads["layers"][1]["flax"]["Dense_1"]["kernel"][i, j])) < 1e-7


@pytest.mark.parametrize("model, message", [
    ("user_cells:NotACell", "is not a flax.linen.RNNCellBase subclass"),
    ("user_cells:Missing", "is not a flax.linen.RNNCellBase subclass"),
    ("no_such_module_xyz:Cell", "cannot import no_such_module_xyz"),
    (":Cell", "a flax cell is named module.path:ClassName"),
])
def test_a_bad_flax_cell_name_is_one_clear_line(user_cells, tmp_path, capsys, model, message):
    from lte.cli import main

    assert main(["train", "--out", str(tmp_path / "run"), "--model", model, "--task", "copy", "--length", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
