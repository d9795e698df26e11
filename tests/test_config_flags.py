"""`lte train`'s flags are generated from TrainConfig's fields: each field declared once, with its help."""

import argparse
import dataclasses

import pytest

from lte.cli import FLAG_NAMES, add_config_arguments, build_parser, config_from_arguments
from lte.core.config import TrainConfig, setting


def _commands():
    from lte.kinds.esn import ESNConfig
    from lte.kinds.seq2seq import Seq2SeqConfig

    return [("train", TrainConfig), ("seq2seq", Seq2SeqConfig), ("esn", ESNConfig)]


@pytest.mark.parametrize("command, config_class", _commands())
def test_every_config_field_has_a_flag_with_help_and_default(command, config_class):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    flags = {action.dest: action for action in sub._actions}
    for f in dataclasses.fields(config_class):
        assert f.name in flags, f.name
        assert f.metadata["help"] and flags[f.name].help.startswith(f.metadata["help"])
        if f.metadata["choices"]:
            assert "one of " + ", ".join(map(str, f.metadata["choices"])) in flags[f.name].help
    if "learning_rate" in flags:
        assert "--lr" in flags["learning_rate"].option_strings and FLAG_NAMES == {"learning_rate": "lr"}


def test_a_new_field_gets_its_flag_without_touching_the_cli():
    @dataclasses.dataclass(frozen=True)
    class Config:
        width: int = setting(3, "how wide")
        rate: float | None = setting(None, "a rate")
        mode: str = setting("a", "the mode", ("a", "b"))
        loud: bool = setting(False, "shout")
        tied: bool | None = setting(None, "tie weights")

    parser = argparse.ArgumentParser()
    add_config_arguments(parser, Config)
    args = parser.parse_args(["--width", "5", "--rate", "0.5", "--mode", "b", "--loud", "--tied", "false"])
    assert config_from_arguments(args, Config) == Config(width=5, rate=0.5, mode="b", loud=True, tied=False)
    assert config_from_arguments(parser.parse_args([]), Config) == Config()
    assert "how wide (default: 3)" in parser.format_help() and "one of a, b" in parser.format_help()


def test_the_flags_build_the_same_config_as_the_fields(tmp_path):
    args = build_parser().parse_args(
        [
            "train",
            "--out",
            str(tmp_path),
            "--task",
            "copy",
            "--length",
            "3",
            "--nesting",
            "1",
            "--lr",
            "0.3",
            "--embedding",
            "yes",
            "--unroll",
            "2",
        ]
    )
    config = config_from_arguments(args, TrainConfig)
    assert config == dataclasses.replace(
        TrainConfig(task="copy", length=3, nesting=1), learning_rate=0.3, embedding=True, unroll=2
    )


def test_a_bad_boolean_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--out", "x", "--embedding", "maybe"])
    assert "'maybe': expected true or false" in capsys.readouterr().err


def _parsers(parser: argparse.ArgumentParser):
    """The parser and every command's parser under it."""
    yield "lte", parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def test_every_argument_of_every_command_has_help_and_states_its_default():
    for command, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            where = f"lte {command} {'/'.join(action.option_strings) or action.dest}"
            assert action.help, where
            default = action.default
            if action.option_strings and default not in (None, False, argparse.SUPPRESS):
                assert "default" in action.help, where


def test_train_arguments_come_in_groups():
    train = dict(_parsers(build_parser()))["train"]
    groups = {g.title: {a.dest for a in g._group_actions} for g in train._action_groups}
    assert {"task", "model", "optimiser", "schedule", "budget", "evaluation"} <= set(groups)
    assert {"out", "from_run"} <= groups["run folder and devices"]
    assert "strategy" in groups["task"] and "hidden" in groups["model"] and "max_steps" in groups["budget"]
    assert {a.dest for a in train._action_groups[1]._group_actions} <= {"help"}  # nothing left ungrouped


def test_train_from_a_committed_run_reproduces_its_config_and_takes_overrides(tmp_path):
    from pathlib import Path

    from lte.cli_arguments import load_run_config

    run = next(Path("results/runs/quick/addition").glob("*/config.json")).parent
    committed = load_run_config(run)
    args = build_parser().parse_args(["train", "--out", str(tmp_path), "--from", str(run)])
    assert config_from_arguments(args, TrainConfig, load_run_config(args.from_run)) == committed
    args = build_parser().parse_args(["train", "--out", str(tmp_path), "--from", str(run), "--seed", "9"])
    assert config_from_arguments(args, TrainConfig, committed) == dataclasses.replace(committed, seed=9)
    args = build_parser().parse_args(["train", "--out", str(tmp_path), "--from", str(run), "--task", "program"])
    other = config_from_arguments(args, TrainConfig, committed)  # the task's own nesting and rows
    assert (other.task, other.nesting, other.hidden) == ("program", 3, committed.hidden)
    assert other.resolved_row_length >= other.longest_example
