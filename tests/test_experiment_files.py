"""Experiment files are checked against their schema: a typo, a wrong type, an empty axis, an unsafe name
or two identical cells is a clear LteError naming the key or value and what is allowed; every real
experiment file loads for every profile it defines."""

import re
from pathlib import Path

import pytest

from lte.core.errors import LteError
from lte.study.experiment import PROFILES, load_experiment
from tests.test_sweep import TINY, _selected


def _load(tmp_path, text, profile="quick"):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return load_experiment(path, profile, results=tmp_path)


def _error(tmp_path, text, pattern, profile="quick"):
    with pytest.raises(LteError, match=pattern) as info:
        _load(tmp_path, text, profile)
    return str(info.value)


def test_every_real_experiment_file_loads_for_every_profile_it_defines(tmp_path):
    import tomllib

    files = sorted(Path("experiments").glob("*.toml"))
    assert {f.stem for f in files} == {
        "adding_problem",
        "addition",
        "convergence",
        "lr_selection",
        "memorisation",
        "memorisation_length",
        "program",
        "pilot",
        "pilot_lstm_copy_rate",
        "strategy_selection",
        "adding_selection",
        "question3_selection",
    }
    loaded = 0
    for path in files:
        profiles = list(tomllib.loads(path.read_text()).get("profiles", {}))
        assert profiles and set(profiles) <= set(PROFILES), path
        for profile in profiles:
            results = _selected(tmp_path / profile, profile)
            _, cells = load_experiment(path, profile, results=results)
            assert cells and len({c.name for c in cells}) == len(cells), (path, profile)
            loaded += 1
    assert loaded == 9 * 3 + 3  # the design pilots define only the default profile


def test_an_unknown_top_level_table_is_an_error(tmp_path):
    message = _error(tmp_path, TINY.replace("[grid]", "[gird]"), r"unknown top-level table \[gird\]")
    assert "allowed: experiment, tasks, grid, variant, fixed, profiles" in message
    _error(tmp_path, 'name = "x"\n' + TINY, r"unknown top-level key 'name'")


@pytest.mark.parametrize(
    "where, text",
    [
        ("[fixed]", TINY.replace("nesting = 1\n", "nesting = 1\nhiden = 8\n")),
        ("[grid]", TINY.replace("seed = [0]", "seed = [0]\nhiden = [8]")),
        (r"[profiles.quick]", TINY.replace("layers = 1", "layers = 1\nhiden = 8")),
        (
            "[tasks.add]",
            TINY.replace('strategy = ["baseline"]', 'strategy = ["baseline"]\ntask = ["add"]')
            + '\n[tasks.add]\ntask = "addition"\nhiden = 8\n',
        ),
        ("[[variant]] 1", TINY + '\n[[variant]]\nlabel = "a"\nhiden = 8\n'),
        ("[profiles.quick.grid]", TINY + "\n[profiles.quick.grid]\nhiden = [8]\n"),
        (
            "[profiles.quick.tasks.add]",
            TINY.replace('strategy = ["baseline"]', 'strategy = ["baseline"]\ntask = ["add"]')
            + '\n[tasks.add]\ntask = "addition"\n\n[profiles.quick.tasks.add]\nhiden = 8\n',
        ),
    ],
)
def test_an_unknown_setting_is_an_error_naming_it_and_the_allowed_ones(tmp_path, where, text):
    message = _error(tmp_path, text, r"unknown setting 'hiden' in " + re.escape(where))
    assert "allowed:" in message and "hidden" in message and "learning_rate" in message


def test_an_unknown_profile_or_task_table_is_an_error(tmp_path):
    _error(
        tmp_path,
        TINY + "\n[profiles.defualt]\nhidden = 8\n",
        r"unknown profile \[profiles.defualt\]; allowed: quick, default, paper",
    )
    _error(
        tmp_path,
        TINY + "\n[profiles.quick.tasks.copy]\nlength = 3\n",
        r"\[profiles.quick.tasks.copy\]: no \[tasks.copy\] table",
    )


@pytest.mark.parametrize(
    "setting, pattern",
    [
        ('invert = "no"', r"invert in \[fixed\] must be a boolean \(true or false\), got 'no'"),
        ("invert = 0", r"invert in \[fixed\] must be a boolean"),
        ('hidden = "16"', r"hidden in \[fixed\] must be an integer, got '16'"),
        ("hidden = 16.0", r"hidden in \[fixed\] must be an integer, got 16.0"),
        ("hidden = true", r"hidden in \[fixed\] must be an integer, got True"),
        ('clip = "5"', r"clip in \[fixed\] must be a number or \"selected\" or \"selected-base\", got '5'"),
        ('dropout = "none"', r"dropout in \[fixed\] must be a number, got 'none'"),
        ("strategy = 3", r"strategy in \[fixed\] must be a string, got 3"),
        ('data = "selected"', r"unknown data source 'selected'"),  # "selected" is no data source
        ('schedule = "fast"', r"cell \{.*'seed': 0\}: unknown schedule 'fast'"),  # TrainConfig's value checks
        ("max_steps = [6]", r"max_steps in \[fixed\] must be an integer, got \[6\]"),
    ],
)
def test_a_setting_of_the_wrong_type_is_an_error(tmp_path, setting, pattern):
    _error(tmp_path, TINY.replace("[fixed]\n", f"[fixed]\n{setting}\n"), pattern)


def test_selected_is_allowed_only_where_documented(tmp_path):
    text = TINY.replace("learning_rate = 0.5", 'learning_rate = "selected"\nclip = "selected"')
    _selected(tmp_path)
    _, cells = _load(tmp_path, text)
    assert len(cells) == 2
    _error(
        tmp_path,
        TINY.replace("learning_rate = 0.5", 'learning_rate = "best"'),
        r"learning_rate in \[fixed\] must be a number or \"selected\" or \"selected-base\", got 'best'",
    )
    _error(
        tmp_path, TINY.replace("learning_rate = 0.5", 'hidden = "selected"'), r"hidden in \[fixed\] must be an integer"
    )


def test_grid_values_are_typed_and_axes_are_non_empty_lists(tmp_path):
    _error(tmp_path, TINY.replace("seed = [0]", "seed = []"), r"grid axis 'seed' in \[grid\] is empty")
    _error(tmp_path, TINY.replace("seed = [0]", "seed = 0"), r"grid axis 'seed' in \[grid\] must be a list")
    _error(tmp_path, TINY.replace("seed = [0]", 'seed = [0, "1"]'), r"seed in \[grid\] must be an integer, got '1'")
    _error(
        tmp_path, TINY + "\n[profiles.quick.grid]\nseed = []\n", r"grid axis 'seed' in \[profiles.quick.grid\] is empty"
    )
    _error(
        tmp_path,
        TINY.replace('strategy = ["baseline"]', 'strategy = ["baseline"]\ninvert = ["no"]'),
        r"invert in \[grid\] must be a boolean",
    )


def test_a_per_model_axis_must_cover_every_model_of_the_grid(tmp_path):
    per_model = TINY.replace("learning_rate = 0.5\n", "") + "\n[grid.learning_rate]\nlstm = [0.5, 1.0]\n"
    message = _error(tmp_path, per_model, r"\[grid.learning_rate\] has no values for model 'irnn'")
    assert "it has lstm" in message
    _, cells = _load(tmp_path, per_model + "irnn = [0.01]\n")
    assert sorted((c.config.model, c.config.learning_rate) for c in cells) == [
        ("irnn", 0.01),
        ("lstm", 0.5),
        ("lstm", 1.0),
    ]
    _error(tmp_path, per_model + "irnn = []\n", r"grid axis 'learning_rate' in \[grid\] is empty for model 'irnn'")
    _error(tmp_path, per_model + "irnn = [0.01]\ngru9 = [0.1]\n", r"\[grid.learning_rate\]: unknown model 'gru9'")
    _error(
        tmp_path,
        TINY.replace('model = ["lstm", "irnn"]', "model = { lstm = [1] }"),
        r"grid axis 'model' in \[grid\] must be a list",
    )


@pytest.mark.parametrize("name", ["../outside", "a/b", "/abs", "..", "a b", "", "x\\\\y", "ok."])
def test_the_experiment_name_must_be_a_plain_name(tmp_path, name):
    text = TINY.replace('name = "addition"', f'name = "{name}"')
    _error(tmp_path, text, r"experiment name .* must be a plain name \(letters, digits, _ and -\)")


def test_a_variant_id_must_be_a_plain_name(tmp_path):
    variant = TINY + '\n[[variant]]\nlabel = "Equal units"\nid = "../up"\n'
    _error(tmp_path, variant, r"variant id '../up' must be a plain name")
    _error(
        tmp_path,
        TINY + '\n[[variant]]\nlabel = "a/b"\n',
        r"variant id 'a/b' \(its label, as it has no id.*must be a plain name",
    )
    _, cells = _load(tmp_path, TINY + '\n[[variant]]\nlabel = "Equal units"\nid = "units"\nhidden_scale = 2\n')
    assert {c.labels["variant"] for c in cells} == {"Equal units"} and {c.config.hidden for c in cells} == {32}
    _error(
        tmp_path,
        TINY + '\n[[variant]]\nlabel = "a"\nhidden_scale = "2"\n',
        r"hidden_scale in \[\[variant\]\] 1 must be a positive number, got '2'",
    )


def test_duplicate_cells_are_an_error_naming_the_duplicate(tmp_path):
    message = _error(tmp_path, TINY.replace("seed = [0]", "seed = [0, 0]"), r"duplicate cell lstm-h16x1-addition2x1")
    assert "seed" in message or "same settings" in message
    _error(tmp_path, TINY.replace('model = ["lstm", "irnn"]', 'model = ["lstm", "lstm"]'), r"duplicate cell")


def test_an_adding_problem_file_is_checked_against_its_own_config(tmp_path):
    """`kind = "adding"`: the same schema, generated from AddingConfig's fields; an unknown kind is named."""
    base = (
        '[experiment]\nname = "adding_problem"\nkind = "adding"\n\n[grid]\nmodel = ["irnn", "lstm"]\n\n'
        "[profiles.quick]\nhidden = 8\n"
    )
    _, cells = _load(tmp_path, base + "grid = { sequence_length = [10], seed = [0] }\n")
    assert [c.config.model for c in cells] == ["irnn", "lstm"] and {c.kind for c in cells} == {"adding"}
    assert cells[0].name.startswith("irnn_T10_seed0-")  # the adding kind's folder names
    _error(
        tmp_path,
        base + "grid = { sequence_length = [], seed = [0] }\n",
        r"grid axis 'sequence_length' in \[profiles.quick.grid\] is empty",
    )
    _error(
        tmp_path,
        base.replace('"adding_problem"', '"../x"') + "grid = { sequence_length = [10] }\n",
        r"experiment name '../x' in \[experiment\] must be a plain name",
    )
    _error(tmp_path, base + "grid = { sequence_length = [10], seed = [0, 0] }\n", r"duplicate cell irnn_T10_seed0-")
    _error(
        tmp_path,
        base + "grid = { sequence_length = [10] }\n[grid.forget_bias]\nlstm = [1.0]\n",
        r"\[grid.forget_bias\] has no values for model 'irnn'",
    )
    message = _error(tmp_path, base + 'strategy = "mix"\n', r"unknown setting 'strategy' in \[profiles.quick\]")
    assert "allowed: model, hidden, sequence_length" in message and "invert" not in message
    _error(
        tmp_path,
        base.replace('"adding"', '"addng"'),
        r"unknown run kind 'addng' in \[experiment\]; allowed: char, adding",
    )


def test_a_task_may_replace_grid_axes_for_its_own_cells(tmp_path):
    text = TINY.replace('task = "addition"\n', "").replace(
        'model = ["lstm", "irnn"]', 'model = ["lstm"]\ntask = ["add", "copy"]'
    )
    text = (
        text.replace("learning_rate = 0.5\n", "")
        + """
[grid.learning_rate]
lstm = [0.5, 1.0, 2.0]

[tasks.add]
task = "addition"

[tasks.copy]
task = "copy"
grid = { learning_rate = { lstm = [3.0] }, clip = [2.0] }
"""
    )
    _, cells = _load(tmp_path, text)
    settings = sorted((c.config.task, c.config.learning_rate, c.config.clip) for c in cells)
    default_clip = next(c.config.clip for c in cells if c.config.task == "addition")
    assert settings == [
        ("addition", 0.5, default_clip),
        ("addition", 1.0, default_clip),
        ("addition", 2.0, default_clip),
        ("copy", 3.0, 2.0),
    ]
    _error(tmp_path, text.replace("clip = [2.0]", "clipp = [2.0]"), r"unknown setting 'clipp' in \[tasks.copy.grid\]")
    _error(tmp_path, text.replace("clip = [2.0]", 'task = ["add"]'), r"\[tasks.copy.grid\] .* cannot have a task axis")


def test_an_equal_parameters_variant_takes_the_width_nearest_the_reference_models_count(tmp_path):
    from lte.study.analysis.question2 import equal_parameter_irnn_width

    text = TINY.replace('model = ["lstm", "irnn"]', 'model = ["irnn"]') + (
        '\n[[variant]]\nlabel = "equal parameters"\nid = "params"\nparameters_of = "lstm"\n'
    )
    _, cells = _load(tmp_path, text)
    (cell,) = cells
    assert cell.config.hidden == equal_parameter_irnn_width(16, 1) != 16
    _error(
        tmp_path,
        text.replace('parameters_of = "lstm"', 'parameters_of = "lstm9"'),
        r"parameters_of in \[\[variant\]\] 1 must name a model",
    )


def test_a_variant_may_run_on_named_cells_and_profiles_only(tmp_path):
    base = TINY + '\n[[variant]]\nlabel = "rate"\nid = "same"\n'
    widened = base + '\n[[variant]]\nlabel = "rate x 9"\nid = "ninefold"\nlearning_rate_scale = 9\n'
    _, cells = _load(tmp_path, widened + 'only = [{ model = "irnn", strategy = "baseline" }]\n')
    assert sorted((c.labels["variant_id"], c.config.model, c.config.learning_rate) for c in cells) == [
        ("ninefold", "irnn", 4.5),
        ("same", "irnn", 0.5),
        ("same", "lstm", 0.5),
    ]
    _, cells = _load(tmp_path, widened + 'profiles = ["default"]\n')  # not this profile's: left out
    assert {c.labels["variant_id"] for c in cells} == {"same"}
    _, cells = _load(tmp_path, widened + 'only = [{ model = "gru" }]\n')  # matches no cell
    assert {c.labels["variant_id"] for c in cells} == {"same"}
    _error(tmp_path, widened + 'only = { model = "irnn" }\n', r"only in \[\[variant\]\] 2 must be a non-empty list")
    _error(tmp_path, widened + 'profiles = "default"\n', r"profiles in \[\[variant\]\] 2 must be a list of profile")
