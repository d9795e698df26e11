"""`lte predict` never runs the user's text as code: only the generator's grammar is accepted, and it is
evaluated by a small interpreter over the AST. What it prints is checked against real Python on generated
(known-safe) programs, in a subprocess, in this test only."""

import json
import subprocess
import sys

import pytest

from data_gen.errors import DataGenError
from data_gen.tasks import TaskSpec, sample_examples
from lte.cli import main
from lte.core.config import TrainConfig
from lte.core.errors import LteError
from lte.core.predict import check_program, predict, python_answer

# `open('p','w')` spelled in vocabulary characters only: passes the vocabulary check, creates a file if run
EXEC_PROGRAM = "exec(" + "+".join(f"chr({ord(c)})" for c in "open('p','w')") + ")"


def real_python(sources: list[str]) -> list[str]:
    """What real Python prints for each source (generated programs only: they are known to be safe)."""
    script = (
        "import contextlib, io, json, sys\n"
        "out = []\n"
        "for source in json.load(sys.stdin):\n"
        "    buffer = io.StringIO()\n"
        "    try:\n"
        "        with contextlib.redirect_stdout(buffer):\n"
        "            exec(source, {})\n"
        "        out.append(buffer.getvalue().strip())\n"
        "    except Exception as error:\n"
        "        out.append(f'(error: {type(error).__name__}: {error})')\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout)


def generated_sources() -> list[str]:
    specs = [
        TaskSpec("program", 4, 3, strategy="mix"),
        TaskSpec("program", 6, 6, strategy="combined"),
        TaskSpec("program", 20, 10, strategy="baseline"),
        TaskSpec("program", 2, 10, strategy="naive"),
        TaskSpec("addition", 5, 1, strategy="mix"),
        TaskSpec("addition", 20, 1, strategy="baseline"),
        TaskSpec("copy", 8, 1, strategy="mix"),
        TaskSpec("copy", 20, 1, strategy="baseline"),
    ]
    sources = []
    for i, spec in enumerate(specs):
        for split in ("train", "test"):
            sources += [e.source for e in sample_examples(spec, 250, seed=i, split=split, level=spec.target)]
    return sources


def test_generated_programs_print_what_python_prints():
    sources = generated_sources()
    assert len(sources) == 4000
    expected = real_python(sources)
    assert [python_answer(s) for s in sources] == expected


HAND_WRITTEN = [
    "print(1)",
    "print(12+34)",
    "a=5\nprint(a-9)",
    "a=5;\nprint(a*3-a)",
    "b=7\nfor x in range(4):b-=(x*2)\nprint(b)",
    "c=1\nfor x in range(3):\n    c+=x\nprint((c+x))",
    "d=2\nfor x in range(0):d+=1\nprint(d)",
    "print((1 if 2<3 else j))",  # the branch not taken is not evaluated
    "print((5 if 2>3 else 6*7))",
    "e=3\nprint(((e+1) if (e*2)>5 else (e-1)))",
    "print(a)",  # a NameError, as Python reports it
    "for x in range(0):a+=1\nprint(x)",
    "for x in range(2):f+=1\nprint(f)",
    "a=3\nb=a\na=4\nprint((a*b))",
]


def test_hand_written_programs_print_what_python_prints():
    assert [python_answer(s) for s in HAND_WRITTEN] == real_python(HAND_WRITTEN)


def test_the_model_form_with_literal_backslash_n_is_accepted():
    assert python_answer("a=3\\nprint(a+4)") == "7"


@pytest.mark.parametrize(
    "source, names",
    [
        (EXEC_PROGRAM, "call to exec"),
        ("print(chr(112))", "call to chr"),
        ("assert 1\nprint(1)", "an assert statement"),
        ("del a\nprint(1)", "a del statement"),
        ("print(2**10)", "operator **"),
        ("print(-3)", "unary -"),
        ("print(0x10)", "0x10"),
        ("print(a==b)", "comparison"),
        ("print((1 if a==b else 2))", "=="),
        ("print((1 if a<b<c else 2))", "chained comparison"),
        ("print(l)", "variable l"),
        ("print(print)", "variable print"),
        ("a=1\na+=2\nprint(a)", "+= outside a for loop"),
        ("a=1\nfor x in range(3):a*=2\nprint(a)", "*="),
        ("a=1\nfor i in range(3):a+=2\nprint(a)", "loop variable i"),
        ("a=1\nfor x in range(a):a+=2\nprint(a)", "range(a)"),
        ("a=1\nfor x in range(3):\n  a+=1\n  a+=2\nprint(a)", "one statement"),
        ("a=b=1\nprint(a)", "one target"),
        ("print(1)\nprint(2)", "print"),
        ("a=1", "print"),
        ("print(*a)", "one argument"),
        ("print()", "one argument"),
        ("print(a.real)", "attribute"),
        ("print(1+", "syntax"),
        ("print(" + "(1+" * 150 + "1" + ")" * 150 + ")", "nested"),
        ("print(" + "+".join(["1"] * 300) + ")", "nested"),
        ("a=0\n" + "for x in range(9999):a+=1\n" * 120 + "print(a)", "steps"),
        ("print(" + "9" * 1001 + ")", "digits"),
        ("a=1\nfor x in range(99999999):a+=1\nprint(a)", "range"),
        ("a=9\nfor x in range(20):a+=(a*a)\nprint(a)", "digits"),
    ],
)
def test_anything_outside_the_grammar_is_refused_naming_it(source, names):
    with pytest.raises(LteError) as caught:
        check_program(source)
    message = str(caught.value)
    assert names in message and "\n" not in message


def test_characters_outside_the_vocabulary_are_refused_first():
    with pytest.raises(DataGenError, match="outside the vocabulary: 'm'"):
        check_program("import os\nprint(1)")


def test_predict_refuses_exec_without_running_it(tmp_path, monkeypatch):
    from lte.core.train import init_train_state

    monkeypatch.chdir(tmp_path)
    config = TrainConfig(task="program", length=4, nesting=3, model="lstm", hidden=8, layers=1)
    params = init_train_state(config).params
    with pytest.raises(LteError, match="call to exec"):
        predict(params, config, EXEC_PROGRAM)
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_refuses_exec_with_exit_2_and_creates_nothing(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(TrainConfig(task="program", hidden=8, layers=1).to_json()))
    monkeypatch.chdir(tmp_path)
    assert main(["predict", str(run), EXEC_PROGRAM]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and "call to exec" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"] and sorted(p.name for p in run.iterdir()) == [
        "config.json"
    ]
