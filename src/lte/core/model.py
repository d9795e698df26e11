"""The character model: (embedding ->) stacked recurrent layers -> softmax readout.

Parameters are a plain pytree:
    {"embed": [V, H] (only with an embedding), "layers": [cell params, ...],
     "readout": {"W": [H, V], "b": [V]}}

With an embedding (Zaremba's LSTM) the first layer reads a learned vector per
character; without one (Le et al.'s IRNN) it reads the one-hot character, so
its input weights W [V, gates*H] are the input layer itself and the input
projection of a character is a row of W (a lookup, not a matmul). With an
embedding the same holds for the product embed @ W (`fold_embedding`).

Each layer's input projection is one matmul over all time steps, done outside
the `lax.scan`; the scan carries only the recurrence (`lte.core.recurrence`, whose
fused gradient computes dU as one matmul after the backward scan). The state is reset to
zero at every position flagged in `resets` (the first character of each
packed example), so examples sharing a row never see each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from data_gen.vocab import VOCAB_SIZE
from lte.core.cells import CELLS, get_cell, output_size
from lte.core.errors import LteError, check_finite_numbers, check_positive_ints
from lte.core.fields import setting
from lte.core.recurrence import GRADIENTS, scan_layer

EMBED_INIT_SCALE = 0.08
MAX_HIDDEN, MAX_LAYERS = 16_384, 64  # far beyond the study's 2 x 400; a larger net is a typo, not a run


@dataclass(frozen=True)
class ModelConfig:
    cell: str = setting("lstm", "the recurrent cell (or a flax cell of your own: module.path:ClassName)", tuple(CELLS))
    hidden: int = setting(128, "units per layer")
    layers: int = setting(2, "recurrent layers")
    vocab_size: int = setting(VOCAB_SIZE, "characters the model reads and writes")
    forget_bias: float = setting(0.0, "LSTM forget-gate bias (Jozefowicz et al.: 1)")
    identity_scale: float = setting(1.0, "IRNN: U = s * I at initialisation")
    input_scale: float | None = setting(
        None,
        "scale of the input weights W at initialisation (None: the cell's own; IRNN: standard deviation "
        "0.001 as Le et al., LSTM: U(-0.08, 0.08) half-width)",
    )
    projection: int | None = setting(None, "LSTMP: the recurrent projection's size (None: hidden // 2)")
    bptt_window: int | None = setting(None, "truncated BPTT window in time steps (None: full BPTT over the row)")
    dropout: float = setting(0.0, "dropout on non-recurrent connections, in training only (Zaremba et al. 2014)")
    gradient_norm_penalty: float = setting(
        0.0, "weight of Pascanu et al. 2013's gradient-norm regulariser (lte.methods.pascanu; 0: off)"
    )
    unroll: int = setting(1, "lax.scan unroll factor")
    gradient: str = setting(
        "fused",
        "fused (dU as one matmul after the backward scan), autodiff, or rtrl (real-time recurrent learning, "
        "small nets)",
        GRADIENTS,
    )
    embedding: bool | None = setting(None, "a learned input embedding (None: the cell's choice; LSTM yes, IRNN no)")

    def __post_init__(self) -> None:
        get_cell(self.cell)
        check_finite_numbers(self)
        if self.gradient not in GRADIENTS:
            raise LteError(f"unknown gradient {self.gradient!r}; allowed: {', '.join(GRADIENTS)}")
        check_positive_ints(self, ("projection", "bptt_window"), optional=True)
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise LteError(f"dropout must be a number in [0, 1), got {self.dropout!r}")
        penalty = self.gradient_norm_penalty
        if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or not penalty >= 0:
            raise LteError(f"gradient_norm_penalty must be a number >= 0, got {penalty!r}")
        check_positive_ints(self, ("hidden", "layers", "unroll"))
        if self.hidden > MAX_HIDDEN or self.layers > MAX_LAYERS:
            raise LteError(
                f"hidden {self.hidden} x layers {self.layers}: at most {MAX_HIDDEN} units and {MAX_LAYERS} layers"
            )
        self._check_combinations()
        scale = self.input_scale
        if scale is not None and (
            isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < float("inf")
        ):
            raise LteError(f"input_scale must be a positive number (or unset for the cell's own), got {scale!r}")

    def _check_combinations(self) -> None:
        """RTRL and the Pascanu regulariser compute their own gradient over the whole row, without truncation or
        dropout: a combination that one of them would silently ignore is refused."""
        rtrl, penalty = self.gradient == "rtrl", self.gradient_norm_penalty > 0
        if not (rtrl or penalty):
            return
        method = "gradient rtrl" if rtrl else "gradient_norm_penalty"
        ignored = [
            name
            for name, on in (
                ("gradient_norm_penalty", rtrl and penalty),
                ("bptt_window", self.bptt_window is not None),
                ("dropout", self.dropout > 0),
            )
            if on
        ]
        if ignored:
            raise LteError(
                f"{method} cannot be combined with {', '.join(ignored)}: it computes its own "
                "full-row gradient and would ignore them; use one training method at a time"
            )

    @property
    def uses_embedding(self) -> bool:
        return get_cell(self.cell).uses_embedding if self.embedding is None else self.embedding

    @property
    def cell_options(self) -> dict:
        return {"forget_bias": self.forget_bias, "identity_scale": self.identity_scale, "projection": self.projection}

    @property
    def output_size(self) -> int:
        """Units each layer passes on (the hidden size, or the LSTMP's projection)."""
        return output_size(get_cell(self.cell), self.hidden, self.cell_options)


def init_params(key: jax.Array, config: ModelConfig) -> dict:
    cell = get_cell(config.cell)  # each layer's draw: lte.core.flax_cell.Cell.init
    k_embed, k_out, *k_layers = jax.random.split(key, 2 + config.layers)
    uniform = lambda k, shape: jax.random.uniform(k, shape, jnp.float32, -EMBED_INIT_SCALE, EMBED_INIT_SCALE)
    first_input = config.hidden if config.uses_embedding else config.vocab_size
    layers = [
        cell.init(k, first_input if i == 0 else config.output_size, config.hidden, config.cell_options)
        for i, k in enumerate(k_layers)
    ]
    if config.input_scale is not None:
        # the cell's own draw, rescaled: a zero-centred normal or uniform stays one, at the new scale
        factor = config.input_scale / cell.input_scale
        layers = [{**layer, "W": layer["W"] * factor} for layer in layers]
    params = {
        "layers": layers,
        "readout": {
            "W": uniform(k_out, (config.output_size, config.vocab_size)),
            "b": jnp.zeros((config.vocab_size,), jnp.float32),
        },
    }
    if config.uses_embedding:
        params["embed"] = uniform(k_embed, (config.vocab_size, config.hidden))
    return params


def count_params(params: dict) -> int:
    return sum(x.size for x in jax.tree_util.tree_leaves(params))


def input_projection(params: dict, x) -> jax.Array:
    """W x + b for every position at once: a matmul of vectors, or a row lookup for int (one-hot) inputs."""
    if jnp.issubdtype(x.dtype, jnp.integer):
        return params["W"][x] + params["b"]
    return matmul_rows(x, params["W"]) + params["b"]


def matmul_rows(x_TxBxI: jax.Array, W_IxO: jax.Array) -> jax.Array:
    """x @ W with x flattened to 2-D, so the weight gradient is one plain matmul over T*B rows.

    (XLA's CPU dot is about 2x slower when the gradient contracts two axes at once.)
    """
    return (x_TxBxI.reshape(-1, x_TxBxI.shape[-1]) @ W_IxO).reshape(*x_TxBxI.shape[:-1], W_IxO.shape[-1])


def run_layer(
    cell, params: dict, x_TxBxI: jax.Array, resets_TxB: jax.Array, unroll: int = 1, carry=None, gradient: str = "fused"
):
    """One recurrent layer over a sequence (x: vectors [T, B, I] or character ids [T, B]).

    Returns (final carry, h_TxBxH).
    """
    T, B = resets_TxB.shape
    xw_TxBxG = input_projection(params, x_TxBxI)  # every time step's input projection at once
    keep_TxB = 1.0 - resets_TxB.astype(xw_TxBxG.dtype)
    carry = cell.zero_carry(params, B) if carry is None else carry
    return scan_layer(cell, params, xw_TxBxG, keep_TxB, carry, unroll, gradient)


def forward(
    params: dict,
    config: ModelConfig,
    inputs_BxT: jax.Array,
    resets_BxT: jax.Array,
    carries=None,
    dropout_key: jax.Array | None = None,
):
    """Logits [B, T, V] for next-character prediction, and each layer's final carry.

    Training options of `config`: `bptt_window` cuts the sequence into windows
    whose state is carried forward with its gradient stopped (truncated BPTT;
    the forward pass is unchanged). `dropout` (with a `dropout_key`) drops
    units of each layer's input and of the last layer's output, never the
    recurrent connections (Zaremba et al. 2014). Without a key there is no
    dropout (evaluation).
    """
    cell = get_cell(config.cell)
    T = inputs_BxT.shape[1]
    window = min(config.bptt_window or T, T)
    drop = config.dropout > 0 and dropout_key is not None
    if drop:  # the first layer's input must exist as vectors to drop units of it
        layers = params["layers"]
        first_input = (
            params["embed"][inputs_BxT.T]
            if "embed" in params
            else jax.nn.one_hot(inputs_BxT.T, config.vocab_size, dtype=jnp.float32)
        )
    else:
        layers, first_input = fold_embedding(params)["layers"], inputs_BxT.T  # time-major for the scan
    resets_TxB = resets_BxT.T
    outputs = []
    for w, start in enumerate(range(0, T, window)):
        if start > 0:  # truncated BPTT: the state goes on, its gradient does not
            carries = jax.tree_util.tree_map(jax.lax.stop_gradient, carries)
        x, finals = first_input[start : start + window], []
        for i, layer in enumerate(layers):
            if drop:
                x = _dropout(x, config.dropout, jax.random.fold_in(dropout_key, w * (len(layers) + 1) + i))
            carry, x = run_layer(
                cell,
                layer,
                x,
                resets_TxB[start : start + window],
                config.unroll,
                None if carries is None else carries[i],
                config.gradient,
            )
            finals.append(carry)
        if drop:
            x = _dropout(x, config.dropout, jax.random.fold_in(dropout_key, w * (len(layers) + 1) + len(layers)))
        outputs.append(x)
        carries = finals
    x = outputs[0] if len(outputs) == 1 else jnp.concatenate(outputs, axis=0)
    logits_TxBxV = matmul_rows(x, params["readout"]["W"]) + params["readout"]["b"]
    return jnp.transpose(logits_TxBxV, (1, 0, 2)), carries


def _dropout(x: jax.Array, rate: float, key: jax.Array) -> jax.Array:
    """Inverted dropout: units kept with probability 1 - rate are scaled by 1 / (1 - rate)."""
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


def fold_embedding(params: dict) -> dict:
    """The same model with the embedding folded into the first layer's input weights.

    embed[x] @ W = (embed @ W)[x]: a [V, G] table looked up per character
    instead of a [T*B, H] x [H, G] matmul (the same function and gradient;
    autodiff takes the gradient through the product). Idempotent.
    """
    if "embed" not in params:
        return params
    folded = {k: v for k, v in params.items() if k != "embed"}
    first = params["layers"][0]
    folded["layers"] = [{**first, "W": params["embed"] @ first["W"]}, *params["layers"][1:]]
    return folded


def step_all_layers(params: dict, config: ModelConfig, carries: list, token_B: jax.Array):
    """Feed one character to every layer (used by greedy decoding). Returns (carries, logits_BxV)."""
    cell = get_cell(config.cell)
    x = token_B
    new = []
    for layer, carry in zip(fold_embedding(params)["layers"], carries):
        carry = cell.step(layer, carry, input_projection(layer, x))
        new.append(carry)
        x = cell.output(carry)
    return new, x @ params["readout"]["W"] + params["readout"]["b"]
