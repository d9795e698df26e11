"""A user's own flax cell trains through the project's path, chosen by name (`--model module:Class`)."""

import json
import textwrap

import pytest

USER_CELLS = textwrap.dedent('''
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    from lte.core.recurrence import Additive


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


    class ElmanCell(nn.RNNCellBase):
        """h' = tanh(xw + U h), declaring the additive form that the fused gradient needs."""
        features: int
        additive = Additive(recurrent_input=lambda h: h, update=lambda params, h, z: jnp.tanh(z))

        @nn.compact
        def __call__(self, h, xw):
            U = self.param("U", nn.initializers.orthogonal(), (h.shape[-1], self.features))
            h = jnp.tanh(xw + h @ U)
            return h, h

        def initialize_carry(self, rng, input_shape):
            return jnp.zeros((*input_shape[:-1], self.features))

        @staticmethod
        def output(h):
            return h

        @property
        def num_feature_axes(self):
            return 1


    class ClashingCell(ElmanCell):
        @nn.compact
        def __call__(self, h, xw):
            return super().__call__(h, xw @ self.param("W", nn.initializers.ones, (xw.shape[-1],) * 2))


    class NotACell:
        pass
''')


@pytest.fixture
def user_cells(tmp_path, monkeypatch):
    from lte.core.flax_cell import ALLOW_ENV

    (tmp_path / "user_cells.py").write_text(USER_CELLS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(ALLOW_ENV, "user_cells:LeakyCell,user_cells:ElmanCell")  # as `--model` names them
    yield "user_cells"


def test_a_user_flax_cell_trains_by_name(user_cells, tmp_path):
    from lte.cli import main

    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--out",
                str(out),
                "--model",
                "user_cells:LeakyCell",
                "--task",
                "copy",
                "--length",
                "2",
                "--hidden",
                "16",
                "--layers",
                "1",
                "--batch-size",
                "8",
                "--max-steps",
                "60",
                "--eval-every",
                "30",
                "--val-size",
                "20",
                "--test-size",
                "20",
                "--lr",
                "0.5",
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert json.loads((out / "config.json").read_text())["model"] == "user_cells:LeakyCell"


def test_the_user_cell_is_plain_autodiff_of_the_same_model(user_cells):
    """A user's cell trains by jax.grad of the model's loss (its parameters beside the layer's W and b): equal to
    finite differences."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from lte.core.metrics import masked_loss_and_counts
    from lte.core.model import ModelConfig, init_params

    config = ModelConfig(cell="user_cells:LeakyCell", hidden=3, layers=2)
    rng = np.random.default_rng(0)
    batch = {
        "inputs": jnp.asarray(rng.integers(1, 40, (2, 5)), jnp.int32),
        "targets": jnp.asarray(rng.integers(1, 40, (2, 5)), jnp.int32),
        "mask": jnp.ones((2, 5), jnp.int32),
        "resets": jnp.asarray([[1, 0, 0, 1, 0], [1, 0, 0, 0, 0]]),
    }
    with jax.enable_x64(True):
        params = jax.tree_util.tree_map(
            lambda a: jnp.asarray(a, jnp.float64), init_params(jax.random.PRNGKey(0), config)
        )
        loss = jax.jit(lambda p: masked_loss_and_counts(p, config, batch)[0])
        grads = jax.grad(loss)(params)
        kernel = params["layers"][1]["Dense_1"]["kernel"]
        eps = 1e-6
        for i, j in ((0, 0), (1, 2)):

            def shifted(delta):
                layers = list(params["layers"])
                layers[1] = {**layers[1], "Dense_1": {"kernel": kernel.at[i, j].add(delta)}}
                return float(loss({**params, "layers": layers}))

            numeric = (shifted(eps) - shifted(-eps)) / (2 * eps)
            assert abs(numeric - float(grads["layers"][1]["Dense_1"]["kernel"][i, j])) < 1e-7


def test_a_user_cell_that_declares_its_additive_form_gets_the_fused_gradient(user_cells):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from lte.core.cells import get_cell
    from lte.core.metrics import masked_loss_and_counts
    from lte.core.model import ModelConfig, init_params
    from lte.core.recurrence import is_additive

    assert is_additive(get_cell("user_cells:ElmanCell")) and not is_additive(get_cell("user_cells:LeakyCell"))
    rng = np.random.default_rng(1)
    batch = {
        "inputs": jnp.asarray(rng.integers(1, 40, (3, 6)), jnp.int32),
        "targets": jnp.asarray(rng.integers(1, 40, (3, 6)), jnp.int32),
        "mask": jnp.ones((3, 6), jnp.int32),
        "resets": jnp.asarray([[1, 0, 0, 1, 0, 0]] * 3),
    }
    grads = {}
    for gradient in ("fused", "autodiff"):
        config = ModelConfig(cell="user_cells:ElmanCell", hidden=5, layers=2, gradient=gradient)
        params = init_params(jax.random.PRNGKey(0), config)
        assert sorted(params["layers"][0]) == ["U", "W", "b"]
        grads[gradient] = jax.grad(lambda p: masked_loss_and_counts(p, config, batch)[0])(params)
    for a, b in zip(jax.tree_util.tree_leaves(grads["fused"]), jax.tree_util.tree_leaves(grads["autodiff"])):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "model, message",
    [
        ("user_cells:ClashingCell", "its parameters may not be named W or b"),
        ("user_cells:NotACell", "is not a flax.linen.RNNCellBase subclass"),
        ("user_cells:Missing", "is not a flax.linen.RNNCellBase subclass"),
        ("no_such_module_xyz:Cell", "cannot import no_such_module_xyz"),
        (":Cell", "a flax cell is named module.path:ClassName"),
    ],
)
def test_a_bad_flax_cell_name_is_one_clear_line(user_cells, tmp_path, capsys, model, message):
    from lte.cli import main

    assert main(["train", "--out", str(tmp_path / "run"), "--model", model, "--task", "copy", "--length", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
