"""Feed a real Python program to a trained model and compare its answer with what Python prints."""

from __future__ import annotations

import subprocess
import sys

from data_gen.tasks import Example, apply_tricks
from data_gen.vocab import check_text
from lte.config import TrainConfig
from lte.data import build_eval_set, eval_layout
from lte.errors import LteError
from lte.train import make_eval_fns, predictions


def serialise(source: str) -> str:
    """Real Python -> the model's form, as the generator writes it.

    Statements are joined by '#', a loop body goes on its header's line, and an
    assignment ends in ';' unless a loop follows it (the original's `v=a;` of
    the variable operation versus the `v=a` that starts a small loop).
    """
    lines = [line.strip().rstrip(";") for line in source.replace("\\n", "\n").strip().splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise LteError("the program is empty")
    statements: list[str] = []
    for line in lines:
        if statements and statements[-1].endswith(":"):
            statements[-1] += line
        else:
            statements.append(line)
    for i, statement in enumerate(statements[:-1]):
        is_assignment = not statement.startswith(("for ", "print(")) and "=" in statement
        if is_assignment and not statements[i + 1].startswith("for "):
            statements[i] = statement + ";"
    return "#".join(statements)


def python_answer(source: str, timeout: float = 10.0) -> str:
    """What Python prints for `source` (run in a separate interpreter, with a time limit)."""
    try:
        done = subprocess.run([sys.executable, "-c", source.replace("\\n", "\n")], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"(no answer within {timeout:g} s)"
    return done.stdout.strip() if done.returncode == 0 else f"(error: {done.stderr.strip().splitlines()[-1]})"


def predict(params: dict, config: TrainConfig, source: str) -> dict:
    body = serialise(source)
    if config.task == "copy":
        body = body.removeprefix("print(").removesuffix(")")
    check_text(body)
    model_input = apply_tricks(body, config.invert, config.double)
    prompt_length, decode_steps = eval_layout(config)
    if len(model_input) > prompt_length:
        raise LteError(f"the program has {len(model_input)} characters; this model reads at most {prompt_length}")
    example = Example(task=config.task, input=model_input, target="", source=source, length=0, nesting=0,
                      operations=(), split="", canonical=body + "@")
    eval_set = build_eval_set("predict", [example], config.batch_size, config.resolved_row_length,
                              prompt_length, decode_steps)
    _, decode_fn = make_eval_fns(config.model_config(), decode_steps)
    answer = predictions(params, eval_set, decode_fn)[0]
    return {"input": model_input, "model": answer.removesuffix("."), "python": python_answer(source)}
