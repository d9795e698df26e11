"""The steps `lte bench` sets beside the project's: PyTorch's fused recurrent layers, and on a GPU JAX's cuDNN
LSTM."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

import jax
import jax.numpy as jnp
import optax

from data_gen.vocab import VOCAB_SIZE
from lte.bench.shapes import Shape
from lte.bench.steps import _synthetic_batch
from lte.bench.timing import MATMUL_PRECISION
from lte.core.model import ModelConfig
from lte.core.train import make_optimizer

TORCH_CELLS = {
    "lstm": ("LSTM", None),
    "irnn": ("RNN", "relu"),
    "rnn": ("RNN", "tanh"),
    "gru_reset_after": ("GRU", None),
    "lstmp": ("LSTM", None),
}


def torch_version() -> str | None:
    """The installed PyTorch's version; None without PyTorch."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


def torch_threads() -> int | None:
    """The threads PyTorch's steps run on; None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def torch_step(cell: str, shape: Shape, log=print) -> Callable[[], None] | None:
    """The same shape with PyTorch's fused recurrent layers, on JAX's device (cuDNN on a GPU), in full float32,
    run once; None without PyTorch, without a PyTorch counterpart of `cell`, or without PyTorch on JAX's device."""
    try:
        import torch
    except ImportError:
        return None
    if cell not in TORCH_CELLS:
        return None
    device = "cuda" if jax.default_backend() == "gpu" else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        log("PyTorch has no CUDA here while JAX runs on the GPU: no PyTorch column")
        return None
    torch.set_float32_matmul_precision(MATMUL_PRECISION)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    kind, nonlinearity = TORCH_CELLS[cell]
    torch.manual_seed(0)
    kwargs = {"nonlinearity": nonlinearity} if nonlinearity else {}
    out_size = ModelConfig(cell=cell, hidden=shape.hidden).output_size
    if out_size != shape.hidden:
        kwargs["proj_size"] = out_size  # the LSTMP
    embed = torch.nn.Embedding(VOCAB_SIZE, shape.hidden).to(device)
    rnn = getattr(torch.nn, kind)(shape.hidden, shape.hidden, num_layers=shape.layers, **kwargs).to(device)
    readout = torch.nn.Linear(out_size, VOCAB_SIZE).to(device)
    parameters = [*embed.parameters(), *rnn.parameters(), *readout.parameters()]
    optimizer = torch.optim.SGD(parameters, lr=0.01)
    tokens = torch.randint(1, VOCAB_SIZE, (shape.steps, shape.batch), device=device)
    targets = torch.roll(tokens, -1, 0)

    def one():
        optimizer.zero_grad(set_to_none=True)
        out, _ = rnn(embed(tokens))
        loss = torch.nn.functional.cross_entropy(readout(out).reshape(-1, VOCAB_SIZE), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 5.0)
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    one()
    return one


def reference_lstm(x, h_0, c_0, weights, seq_lengths, input_size, hidden_size, num_layers, dropout, bidirectional):
    """jax.experimental.rnn.lstm's pure-JAX reference with lstm's signature (the cuDNN step's path on a CPU)."""
    from jax.experimental import rnn

    W_ih, W_hh, b_ih, b_hh = rnn.unpack_lstm_weights(weights, input_size, hidden_size, num_layers, bidirectional)
    return rnn.lstm_ref(
        x, h_0, c_0, W_ih, W_hh, b_ih, b_hh, seq_lengths, input_size, hidden_size, num_layers, dropout, bidirectional
    )


def cudnn_lstm_step(shape: Shape, lstm_fn=None) -> Callable[[], float]:
    """A training step of JAX's cuDNN LSTM (jax.experimental.rnn.lstm; GPUs only) with the benchmark's embedding,
    readout, loss, clip and SGD, compiled and run once; each call returns its loss. `lstm_fn` replaces the cuDNN
    call (tests: reference_lstm)."""
    from jax.experimental import rnn

    lstm_fn = lstm_fn or rnn.lstm
    h, n = shape.hidden, shape.layers
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    params = {
        "embed": 0.08 * jax.random.normal(keys[0], (VOCAB_SIZE, h)),
        "lstm": rnn.init_lstm_weight(keys[1], h, h, n, False),
        "readout": 0.08 * jax.random.normal(keys[2], (h, VOCAB_SIZE)),
        "bias": jnp.zeros(VOCAB_SIZE),
    }
    batch = _synthetic_batch(shape)
    tokens, targets = jnp.asarray(batch["inputs"]), jnp.asarray(batch["targets"])
    optimizer = make_optimizer(5.0, 0.01)
    zeros = jnp.zeros((n, shape.batch, h))
    lengths = jnp.full((shape.batch,), shape.steps, jnp.int32)

    def loss(p):
        y, _, _ = lstm_fn(
            p["embed"][tokens],
            zeros,
            zeros,
            p["lstm"],
            lengths,
            input_size=h,
            hidden_size=h,
            num_layers=n,
            dropout=0.0,
            bidirectional=False,
        )
        logits = y @ p["readout"] + p["bias"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), targets[..., None], -1))

    @jax.jit
    def step(p, opt_state):
        value, grads = jax.value_and_grad(loss)(p)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, value

    holder = {"state": (params, optimizer.init(params))}

    def one() -> float:
        *state, value = step(*holder["state"])
        holder["state"] = tuple(state)
        return float(value)  # waits for the step

    one()
    return one
