"""The generator's semantics, determinism, splits, tricks, vocabulary and curricula."""

import random
import re
from collections import Counter

import numpy as np
import pytest

from data_gen.curriculum import Curriculum, Level, hardness_sampler, naive_levels
from data_gen.errors import DataGenError
from data_gen.programs import OPERATIONS, generate_program
from data_gen.splits import SPLITS, split_of, str_hash, str_hash_many
from data_gen.tasks import TaskSpec, apply_tricks, length_bounds, max_example_length, sample_examples
from data_gen.vocab import CHARACTERS, VOCAB_SIZE, decode, encode


def lua_str_hash(text: str) -> int:
    """The original `str_hash` as Lua runs it: doubles and math.fmod, 1-based indices."""
    import math

    h = 1.0
    b = text.encode()
    for i in range(1, len(b) + 1, 2):
        first = b[i - 1]
        second = b[i] if i < len(b) else i
        h = math.fmod(h * 12345.0, 452930459.0) + first * 67890.0 + second * 13579.0
    return int(h)


def test_hash_equals_the_lua_arithmetic_and_the_vectorised_one():
    texts = [e.input + e.target for e in sample_examples(TaskSpec("program", 6, 3), 300, seed=0)]
    texts += ["", "a", "ab", "print(1)@1."]
    assert [str_hash(t) for t in texts] == [lua_str_hash(t) for t in texts]
    assert list(str_hash_many([t.encode() for t in texts])) == [str_hash(t) for t in texts]


def test_same_seed_same_examples_other_seed_other_examples():
    spec = TaskSpec("program", 4, 3, strategy="combined")
    a = sample_examples(spec, 50, seed=7, level=Level(2, 2))
    b = sample_examples(spec, 50, seed=7, level=Level(2, 2))
    c = sample_examples(spec, 50, seed=8, level=Level(2, 2))
    assert a == b
    assert [e.input for e in a] != [e.input for e in c]


def test_splits_are_disjoint_and_follow_the_hash():
    spec = TaskSpec("program", 2, 1)  # a small space, so collisions would show
    by_split = {s: {e.canonical + e.target for e in sample_examples(spec, 400, seed=1, split=s)} for s in SPLITS}
    for split, texts in by_split.items():
        assert all(split_of(t) == split for t in texts)
    assert not by_split["train"] & by_split["test"]
    assert not by_split["train"] & by_split["val"]
    assert not by_split["val"] & by_split["test"]


def test_split_ignores_the_tricks():
    plain = sample_examples(TaskSpec("copy", 5, 1), 50, seed=2, split="test")
    tricked = sample_examples(TaskSpec("copy", 5, 1, invert=True, double=True), 50, seed=2, split="test")
    assert [e.target for e in plain] == [e.target for e in tricked]


def test_tricks():
    assert apply_tricks("print(12)", invert=True, double=False) == ")21(tnirp@"
    assert apply_tricks("print(12)", invert=False, double=True) == "print(12)print(12)@"
    assert apply_tricks("ab", invert=True, double=True) == "baba@"
    for invert in (False, True):
        for double in (False, True):
            spec = TaskSpec("program", 3, 2, invert=invert, double=double)
            for e in sample_examples(spec, 30, seed=4):
                body = e.canonical[:-1]
                expected = body[::-1] if invert else body
                expected = expected * 2 if double else expected
                assert e.input == expected + "@"


def test_vocabulary_is_closed_and_has_42_characters():
    assert len(CHARACTERS) == 42 and VOCAB_SIZE == 43
    seen = set()
    for task, nesting in (("program", 4), ("addition", 1), ("copy", 1)):
        for e in sample_examples(TaskSpec(task, 9, nesting, strategy="mix"), 500, seed=5):
            seen |= set(e.input + e.target)
            assert decode(encode(e.input + e.target)) == e.input + e.target
    assert seen <= set(CHARACTERS)
    assert len(seen) >= 40  # the generator really uses (nearly) the whole vocabulary


def test_encode_rejects_characters_outside_the_vocabulary():
    with pytest.raises(DataGenError, match=r"outside the vocabulary: 'Z'"):
        encode("print(Z)")
    with pytest.raises(DataGenError, match="outside the vocabulary"):
        encode("x = 3 \u00e9")


def test_operations_literals_and_bounds_follow_the_original():
    rng = random.Random(0)
    ops, literals = Counter(), []
    for _ in range(3000):
        p = generate_program(rng, lambda: (2, 3))
        ops.update(p.operations)
        assert len(p.operations) == 3
        names = [line[0] for line in p.code if not line.startswith("for")]
        assert len(names) == len(set(names)) and set(names) <= set("abcdefghij")
        for line in p.code:
            if line.startswith("for"):
                assert 1 <= int(line[len("for x in range(") : line.index(")")]) <= 8
        literals += [int(t) for t in re.findall(r"\d+", p.serialised)]  # literals and small bounds
    assert set(ops) == set(OPERATIONS)
    assert all(abs(n / 9000 - 1 / 6) < 0.02 for n in ops.values())
    assert min(literals) == 1 and max(literals) == 100  # literals in [1, 10**2], bounds in [1, 8]


def test_hardness_is_drawn_for_every_operand():
    """Under mix, one program mixes literal lengths (the original's semantics)."""
    rng = random.Random(1)
    hardness = hardness_sampler("mix", Level(9, 1), Level(1, 1), rng)
    mixed = 0
    for _ in range(200):
        p = generate_program(rng, hardness)
        if p.operations[0] == "if_expression":
            numbers = p.expression.replace("(", " ").replace(")", " ").replace(">", " ").replace("<", " ").split()
            lengths = {len(n) for n in numbers if n.isdigit()}
            mixed += len(lengths) > 1
    assert mixed > 10


def test_naive_level_sequence():
    curriculum = Curriculum("naive", Level(3, 2))
    visited = [curriculum.level]
    while curriculum.advance():
        visited.append(curriculum.level)
    assert visited == [Level(1, 1), Level(2, 1), Level(3, 1), Level(1, 2), Level(2, 2), Level(3, 2)]
    assert visited == naive_levels(Level(3, 2))
    assert curriculum.at_target and not curriculum.advance()


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_combined_mix_share(p):
    """At level (1, 1) with target (9, 4), a mix draw differs from (1, 1) with probability 35/36."""
    rng = random.Random(2)
    draw = Curriculum("combined", Level(9, 4), mix_probability=p).sampler(rng)
    n = 200_000
    off_level = sum(draw() != (1, 1) for _ in range(n))
    share = off_level / n * 36 / 35
    sigma = (p * (1 - p) / n) ** 0.5
    assert abs(share - p) < 5 * sigma  # about 0.0045 at p = 0.2: 0.25 or 0.15 would fail


def test_baseline_naive_mix_draws():
    rng = random.Random(3)
    target, level = Level(5, 3), Level(2, 1)
    assert {hardness_sampler("baseline", target, level, rng)() for _ in range(100)} == {(5, 3)}
    assert {hardness_sampler("naive", target, level, rng)() for _ in range(100)} == {(2, 1)}
    mix = hardness_sampler("mix", target, level, rng)
    assert {mix() for _ in range(3000)} == {(a, b) for a in range(1, 6) for b in range(1, 4)}


def test_mean_sizes_agree_with_the_original_generator():
    for (length, nesting), mean in {(4, 3): 57, (6, 3): 67}.items():
        sizes = [
            len(e.input) + len(e.target) for e in sample_examples(TaskSpec("program", length, nesting), 4000, seed=0)
        ]
        assert abs(np.mean(sizes) / mean - 1) < 0.10


@pytest.mark.parametrize(
    "task,length,nesting", [("program", 4, 3), ("program", 9, 4), ("program", 1, 1), ("addition", 9, 1), ("copy", 9, 1)]
)
def test_max_example_length_is_an_upper_bound(task, length, nesting):
    spec = TaskSpec(task, length, nesting, strategy="mix", double=True)
    examples = sample_examples(spec, 2000, seed=9)
    assert max(len(e.input) + len(e.target) for e in examples) <= max_example_length(spec)
    input_bound, target_bound = length_bounds(spec)
    assert max(len(e.input) for e in examples) <= input_bound
    assert max(len(e.target) for e in examples) <= target_bound


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"length": 0}, r"length must be an integer in \[1, 20\], got 0"),
        ({"nesting": 11}, r"nesting must be an integer in \[1, 10\], got 11"),
        ({"task": "sort"}, "unknown task 'sort'; allowed: program, addition, copy"),
        ({"strategy": "greedy"}, "unknown strategy 'greedy'; allowed: baseline, naive, mix, combined"),
        ({"task": "copy", "nesting": 2}, "nesting 1 only"),
        ({"mix_probability": 1.5}, r"mix probability must be in \[0, 1\]"),
    ],
)
def test_bad_specs_give_clear_errors(kwargs, message):
    with pytest.raises(DataGenError, match=message):
        TaskSpec(**kwargs)


def test_a_new_task_is_one_module(tmp_path, monkeypatch):
    """A module dropped into a tasks package is registered by its file name; helpers opt out; a module lacking a
    part is a clear error naming it."""
    from data_gen.errors import DataGenError
    from data_gen.tasks import register

    package = tmp_path / "extra_tasks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "negate.py").write_text(
        "from data_gen.tasks.copy import *  # noqa: F401,F403\n"
        "def draw(rng, hardness):\n"
        "    n = rng.randrange(1, 10 ** hardness()[0])\n"
        "    return f'print(-{n})', -n, hardness()[0], 1, ('negate',)\n"
    )
    (package / "helpers.py").write_text("REGISTERED = False\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    tasks = register([str(package)], "extra_tasks")
    assert list(tasks) == ["negate"] and tasks["negate"].FIXED_NESTING == 1
    (package / "broken.py").write_text("def draw(rng, hardness):\n    pass\n")
    with pytest.raises(DataGenError, match=r"task module extra_tasks.broken lacks source, body_from_source, bounds"):
        register([str(package)], "extra_tasks")


def test_every_task_has_a_default_nesting_valid_for_it():
    from data_gen.tasks import TASKS, TaskSpec, default_nesting

    assert TASKS[:3] == ("program", "addition", "copy")
    for task in TASKS:
        TaskSpec(task=task, length=2, nesting=default_nesting(task))  # valid: no error
    assert default_nesting("program") == 3 and default_nesting("copy") == 1


def test_the_strategies_are_the_files_of_data_gen_strategies_in_the_studys_order():
    from data_gen.curriculum import STRATEGIES, uses_level
    from data_gen.strategies import strategy_module

    assert STRATEGIES == ("baseline", "naive", "mix", "combined")
    assert [s for s in STRATEGIES if uses_level(s)] == ["naive", "combined"]  # the others ignore the level
    for name in STRATEGIES:
        assert callable(strategy_module(name).sampler)
