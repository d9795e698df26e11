"""Feed a real Python program to a trained model and compare its answer with what Python prints."""

from __future__ import annotations

import ast

from data_gen.tasks import Example, apply_tricks, task_module
from data_gen.vocab import check_text
from lte.core.config import TrainConfig
from lte.core.data import build_eval_set, eval_layout
from lte.core.errors import LteError
from lte.core.train import make_eval_fns, predictions


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


# The generator's grammar (data_gen/programs.py, data_gen/tasks.py), and limits no generated program comes near
# (the longest possible one, length 20 and nesting 10, has under 5,000 characters and values under 10**40).
GRAMMAR = (
    "allowed: v=expr, for x in range(N):v+=expr or v-=expr, and one final print(expr); expressions of "
    "decimal integers, variables a-j and x, + - *, parentheses and (A if B<C else D) or with >"
)
VARIABLES = frozenset("abcdefghijx")
MAX_SOURCE_CHARACTERS = 20_000
MAX_DEPTH = 100  # how deep an expression may nest
MAX_ITERATIONS = 10_000  # the largest N of range(N)
MAX_DIGITS = 1000  # of any literal or value
MAX_STEPS = 1_000_000  # expression nodes evaluated in all
_TOO_LARGE = 10**MAX_DIGITS


def _refuse(what: str, node: ast.AST | None = None, hint: str = "") -> LteError:
    """'line 2: *= is not allowed (+= and -= only); allowed: ...' (one line)."""
    where = f"line {node.lineno}: " if getattr(node, "lineno", None) else ""
    return LteError(f"{where}{what} is not allowed{f' ({hint})' if hint else ''}; {GRAMMAR}")


def _over_limit(what: str, node: ast.AST | None = None) -> LteError:
    """'line 3: a value of more than 1000 digits: over lte predict's limit' (what no generated program needs)."""
    where = f"line {node.lineno}: " if getattr(node, "lineno", None) else ""
    return LteError(f"{where}{what}: over lte predict's limit (no generated program comes near it)")


def _describe(node: ast.AST) -> str:
    """A few words for an expression outside the grammar: 'a call to exec', 'an attribute (.real)'."""
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__.lower()
        return f"a call to {name}"
    if isinstance(node, ast.Attribute):
        return f"an attribute (.{node.attr})"
    if isinstance(node, ast.UnaryOp):
        symbol = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not ", ast.Invert: "~"}.get(type(node.op), "")
        return f"unary {symbol}".rstrip()
    if isinstance(node, ast.Compare):
        return "a comparison outside (A if B<C else D)"
    return f"a {type(node).__name__} ({ast.unparse(node)[:40]})"


_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}
_OTHER_OPERATORS = {
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.MatMult: "@",
}


def _check_expression(node: ast.expr, source: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _over_limit(f"an expression nested deeper than {MAX_DEPTH} levels", node)
    if isinstance(node, ast.Constant):
        text = ast.get_source_segment(source, node) or ""
        if type(node.value) is not int or not text.isdigit():
            raise _refuse(f"the literal {text or repr(node.value)}", node, "decimal integers only")
        if len(text) > MAX_DIGITS:
            raise _over_limit(f"a literal of {len(text)} digits (at most {MAX_DIGITS})", node)
    elif isinstance(node, ast.Name):
        if node.id not in VARIABLES:
            raise _refuse(f"the variable {node.id}", node, "a-j and x only")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _OPERATORS:
            raise _refuse(f"operator {_OTHER_OPERATORS.get(type(node.op), type(node.op).__name__)}", node)
        _check_expression(node.left, source, depth + 1)
        _check_expression(node.right, source, depth + 1)
    elif isinstance(node, ast.IfExp):
        test = node.test
        if not isinstance(test, ast.Compare):
            raise _refuse(f"the condition {ast.unparse(test)[:40]}", test, "A<B or A>B only")
        if len(test.ops) != 1:
            raise _refuse("a chained comparison", test)
        if type(test.ops[0]) not in (ast.Lt, ast.Gt):
            symbols = {
                ast.Eq: "==",
                ast.NotEq: "!=",
                ast.LtE: "<=",
                ast.GtE: ">=",
                ast.Is: "is",
                ast.IsNot: "is not",
                ast.In: "in",
                ast.NotIn: "not in",
            }
            raise _refuse(f"the comparison {symbols.get(type(test.ops[0]), '?')}", test, "< and > only")
        for part in (test.left, test.comparators[0], node.body, node.orelse):
            _check_expression(part, source, depth + 1)
    else:
        raise _refuse(_describe(node), node)


def _check_statement(node: ast.stmt, source: str, last: bool) -> None:
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "print"
    ):
        call = node.value
        if not last:
            raise _refuse("a print before the end", node, "one print, as the last statement")
        if len(call.args) != 1 or call.keywords or isinstance(call.args[0], ast.Starred):
            raise _refuse("print with other than one argument", node)
        _check_expression(call.args[0], source)
        return
    if last:
        if isinstance(node, (ast.Assign, ast.For)):
            raise LteError(
                f"line {node.lineno}: the program must end in one print(expr), not "
                f"{_describe_statement(node)}; {GRAMMAR}"
            )
        raise _refuse(_describe_statement(node), node)
    if isinstance(node, ast.Assign):
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            raise _refuse("an assignment with other than one target variable", node)
        if node.targets[0].id not in VARIABLES:
            raise _refuse(f"the variable {node.targets[0].id}", node, "a-j and x only")
        _check_expression(node.value, source)
    elif isinstance(node, ast.For):
        if not isinstance(node.target, ast.Name) or node.target.id != "x":
            raise _refuse(f"the loop variable {ast.unparse(node.target)}", node, "the loop variable is x")
        it = node.iter
        if not (
            isinstance(it, ast.Call)
            and isinstance(it.func, ast.Name)
            and it.func.id == "range"
            and len(it.args) == 1
            and not it.keywords
            and isinstance(it.args[0], ast.Constant)
        ):
            raise _refuse(f"the loop over {ast.unparse(it)[:40]}", node, "range(N) of a decimal integer N only")
        _check_expression(it.args[0], source)
        if it.args[0].value > MAX_ITERATIONS:
            raise _over_limit(f"range({it.args[0].value}) (at most {MAX_ITERATIONS} iterations a loop)", node)
        if node.orelse:
            raise _refuse("for ... else", node)
        if len(node.body) != 1:
            raise _refuse(f"a loop body of {len(node.body)} statements", node, "one statement, v+=expr or v-=expr")
        body = node.body[0]
        if not isinstance(body, ast.AugAssign):
            raise _refuse(f"{_describe_statement(body)} in a loop body", body, "v+=expr or v-=expr only")
        if type(body.op) not in (ast.Add, ast.Sub):
            symbol = {**_OPERATORS, **_OTHER_OPERATORS}.get(type(body.op), "?")
            raise _refuse(f"{symbol}=", body, "+= and -= only")
        if not isinstance(body.target, ast.Name) or body.target.id not in VARIABLES:
            raise _refuse(f"the variable {ast.unparse(body.target)}", body, "a-j and x only")
        _check_expression(body.value, source)
    elif isinstance(node, ast.AugAssign):
        raise _refuse(f"{_OPERATORS.get(type(node.op), '?')}= outside a for loop", node)
    else:
        raise _refuse(_describe_statement(node), node)


def _describe_statement(node: ast.stmt) -> str:
    if isinstance(node, ast.Expr):
        return _describe(node.value)
    if isinstance(node, ast.Assign):
        return "an assignment"
    if isinstance(node, ast.For):
        return "a for loop"
    if isinstance(node, ast.AugAssign):
        return "an augmented assignment"
    words = ast.unparse(node).split(maxsplit=1)  # 'import os' -> 'an import statement'
    keyword = words[0].rstrip(":")[:20] if words else type(node).__name__
    return f"{'an' if keyword[0] in 'aeiou' else 'a'} {keyword} statement"


def parse_program(source: str) -> ast.Module:
    """The AST of `source` if it is in the generator's grammar (and its characters in the vocabulary), else
    an LteError naming what is not allowed. Nothing of `source` is run."""
    if len(source) > MAX_SOURCE_CHARACTERS:
        raise LteError(f"the program has {len(source)} characters; at most {MAX_SOURCE_CHARACTERS} are accepted")
    check_text(serialise(source))
    text = source.replace("\\n", "\n")
    try:
        tree = ast.parse(text, mode="exec")
    except SyntaxError as error:
        raise LteError(f"the program is not valid Python (syntax error: {error.msg}, line {error.lineno})") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise LteError(f"the program cannot be parsed: {type(error).__name__} {error}".strip()) from None
    if not tree.body:
        raise LteError("the program is empty")
    try:
        for i, statement in enumerate(tree.body):
            _check_statement(statement, text, last=i == len(tree.body) - 1)
    except RecursionError:
        raise _over_limit(f"an expression nested deeper than {MAX_DEPTH} levels") from None
    return tree


class _NameError(Exception):
    pass


class _Interpreter:
    """Evaluates a checked program: integers only, with budgets on steps and digits."""

    def __init__(self) -> None:
        self.variables: dict[str, int] = {}
        self.steps = 0

    def value(self, node: ast.expr) -> int:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _over_limit(f"the program takes more than {MAX_STEPS} evaluation steps")
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in self.variables:
                raise _NameError(node.id)
            return self.variables[node.id]
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left), self.value(node.right)
            op = type(node.op)
            return self.bounded(
                left + right if op is ast.Add else left - right if op is ast.Sub else left * right, node
            )
        if isinstance(node, ast.IfExp):
            left, right = self.value(node.test.left), self.value(node.test.comparators[0])
            holds = left < right if isinstance(node.test.ops[0], ast.Lt) else left > right
            return self.value(node.body if holds else node.orelse)
        raise _refuse(_describe(node), node)  # unreachable for a checked tree

    @staticmethod
    def bounded(value: int, node: ast.AST) -> int:
        if abs(value) >= _TOO_LARGE:
            raise _over_limit(f"a value of more than {MAX_DIGITS} digits", node)
        return value

    def run(self, tree: ast.Module) -> str:
        for node in tree.body:
            if isinstance(node, ast.Assign):
                self.variables[node.targets[0].id] = self.value(node.value)
            elif isinstance(node, ast.For):
                body = node.body[0]
                for i in range(node.iter.args[0].value):
                    self.variables["x"] = i
                    if body.target.id not in self.variables:
                        raise _NameError(body.target.id)
                    current, step = self.variables[body.target.id], self.value(body.value)
                    self.variables[body.target.id] = self.bounded(
                        current + step if isinstance(body.op, ast.Add) else current - step, body
                    )
            else:  # the final print
                return str(self.value(node.value.args[0]))
        raise AssertionError("a checked program ends in print")


def check_program(source: str) -> str:
    """What Python prints for `source`, computed without running it: the program is parsed, checked against the
    generator's grammar and evaluated over its AST. LteError (one line) for anything outside the grammar or
    over the limits. A name used before it is assigned gives Python's NameError line, as Python would."""
    tree = parse_program(source)
    try:
        return _Interpreter().run(tree)
    except _NameError as error:
        return f"(error: NameError: name '{error.args[0]}' is not defined)"


def python_answer(source: str) -> str:
    """What Python prints for `source` (a program of the generator's grammar; LteError for anything else)."""
    return check_program(source)


def predict(params: dict, config: TrainConfig, source: str) -> dict:
    python = check_program(source)  # before anything else: refuses what is outside the generator's grammar
    body = serialise(source)
    body = task_module(config.task).body_from_source(body)
    check_text(body)
    model_input = apply_tricks(body, config.invert, config.double)
    prompt_length, decode_steps = eval_layout(config)
    if len(model_input) > prompt_length:
        raise LteError(f"the program has {len(model_input)} characters; this model reads at most {prompt_length}")
    example = Example(
        task=config.task,
        input=model_input,
        target="",
        source=source,
        length=0,
        nesting=0,
        operations=(),
        split="",
        canonical=body + "@",
    )
    eval_set = build_eval_set(
        "predict", [example], config.batch_size, config.resolved_row_length, prompt_length, decode_steps
    )
    _, decode_fn = make_eval_fns(config.model_config(), decode_steps)
    answer = predictions(params, eval_set, decode_fn)[0]
    out = {"input": model_input, "model": answer.removesuffix("."), "python": python}
    largest = largest_literal(source)
    if largest > 10**config.length:  # the generator draws literals from [1, 10**length]
        out["note"] = (
            f"the program's largest number, {largest}, is above {10**config.length:,}, the largest this model was "
            f"trained on (its target level, length {config.length}): the question lies outside what it learned"
        )
    return out


def largest_literal(source: str) -> int:
    """The program's largest integer literal, in absolute value; 0 when it has none."""
    return max(
        (abs(node.value) for node in ast.walk(parse_program(source)) if isinstance(node, ast.Constant)),
        default=0,
    )
