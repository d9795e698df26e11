"""Training methods other than plain BPTT, found by name in `lte.methods` (as cells and tasks are found).

A method is a module `lte.methods.<name>` with `loss_gradient(params, model_config, batch) -> (grads, counts)`,
the same contract as `lte.core.train.loss_gradient`; the core never imports one by hand, so a new method is
one file there plus the rule below that says when a config asks for it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from lte.core.model import ModelConfig

METHODS_PACKAGE = "lte.methods"


def method_name(model_config: ModelConfig) -> str | None:
    """The training method `model_config` asks for, or None for plain BPTT (fused or autodiff)."""
    if model_config.gradient == "rtrl":
        return "rtrl"
    if model_config.gradient_norm_penalty > 0:
        return "pascanu"
    return None


def gradient_method(model_config: ModelConfig) -> Callable | None:
    """The named method's `loss_gradient`, or None for plain BPTT."""
    name = method_name(model_config)
    return None if name is None else importlib.import_module(f"{METHODS_PACKAGE}.{name}").loss_gradient
