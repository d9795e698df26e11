"""Every generated target is what Python prints when it runs the program."""

import contextlib
import io
import subprocess
import sys

import pytest

from data_gen.curriculum import STRATEGIES, Level
from data_gen.tasks import TASKS, TaskSpec, sample_examples


def python_prints(source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<program>", "exec"), {})
    return out.getvalue()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_program_targets_match_python(strategy):
    mismatches, checked = [], 0
    for length in range(1, 10):
        for nesting in range(1, 5):
            spec = TaskSpec("program", length, nesting, strategy=strategy)
            level = Level(max(1, length // 2), max(1, nesting - 1))  # for naive / combined
            for split in ("train", "test"):
                for example in sample_examples(spec, 20, seed=length * 10 + nesting, split=split, level=level):
                    checked += 1
                    if python_prints(example.source) != example.target[:-1] + "\n":
                        mismatches.append(example)
    assert checked == 9 * 4 * 2 * 20
    assert mismatches == []


def test_serialised_program_runs_as_python_too():
    """The '#'-separated form the model reads is itself Python, line for line."""
    for example in sample_examples(TaskSpec("program", 5, 4, strategy="mix"), 300, seed=3):
        code = example.input[:-1].replace("#", "\n")
        assert python_prints(code) == example.target[:-1] + "\n"


def test_programs_checked_by_a_separate_interpreter(tmp_path):
    examples = sample_examples(TaskSpec("program", 9, 4, strategy="mix"), 200, seed=11)
    for i, example in enumerate(examples):
        (tmp_path / f"p{i}.py").write_text(example.source)
    runner = "import runpy,sys\nfor p in sys.argv[1:]: runpy.run_path(p)\n"
    paths = [str(tmp_path / f"p{i}.py") for i in range(len(examples))]
    printed = subprocess.run(
        [sys.executable, "-c", runner, *paths], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert printed == [e.target[:-1] for e in examples]


@pytest.mark.parametrize("task", [t for t in TASKS if t != "program"])  # every registered task
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_addition_and_copy_targets_match_python(task, strategy):
    for length in range(1, 10):
        spec = TaskSpec(task, length, 1, strategy=strategy)
        for example in sample_examples(spec, 30, seed=length, level=Level(max(1, length - 1), 1)):
            assert python_prints(example.source) == example.target[:-1] + "\n"
            if strategy == "baseline":
                numbers = example.source[len("print(") : -2].split("+")
                assert all(len(n) == length for n in numbers)
