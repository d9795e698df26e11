"""Run configs composed of parts: each field declared once, defaults valid, committed config.json read whole."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from data_gen.tasks import TaskSpec
from lte.core.config import Budget, Data, Evaluation, Optimiser, Schedule, TrainConfig
from lte.core.errors import LteError
from lte.core.fields import Part, compose
from lte.core.model import ModelConfig
from lte.kinds.adding import AddingConfig, AddingSequences
from lte.kinds.esn import ESNConfig, Reservoir
from lte.kinds.seq2seq import Seq2SeqConfig, Seq2SeqSteps

PARTS = (TaskSpec, ModelConfig, Optimiser, Schedule, Budget, Evaluation, Data, Seq2SeqSteps, AddingSequences, Reservoir)
CONFIGS = (TrainConfig, Seq2SeqConfig, AddingConfig, ESNConfig)
ROOT = Path(__file__).resolve().parents[1]


def test_each_field_is_declared_in_one_part_only():
    owners: dict[str, list[str]] = {}
    for part in PARTS:
        for f in dataclasses.fields(part):
            owners.setdefault(f.name, []).append(part.__name__)
    assert {name: parts for name, parts in owners.items() if len(parts) > 1} == {}


@pytest.mark.parametrize("config_class", CONFIGS, ids=lambda c: c.__name__)
def test_every_config_field_comes_from_a_part_with_help(config_class):
    from_parts = {name for names in config_class.PARTS.values() for name in names}
    fields = dataclasses.fields(config_class)
    assert {f.name for f in fields} == from_parts
    assert set(config_class.PARTS) <= set(PARTS)
    assert all(f.metadata["help"] and f.metadata["group"] for f in fields)


@pytest.mark.parametrize("config_class", CONFIGS, ids=lambda c: c.__name__)
def test_defaults_are_valid_and_build_every_part(config_class):
    config = config_class()
    for part, names in config_class.PARTS.items():
        built = config.part(part)
        assert all(getattr(built, part_name) == getattr(config, name) for name, part_name in names.items())


def test_nesting_is_resolved_by_the_task_in_every_kind():
    assert TrainConfig(task="addition").nesting == 1 and TrainConfig(task="program").nesting == 3
    assert Seq2SeqConfig(task="program").nesting == 3 and ESNConfig(task="addition").nesting == 1


def test_a_part_checks_its_fields_in_every_kind_that_holds_them():
    for config_class in CONFIGS:
        with pytest.raises(LteError, match="seed -1: a seed must be an integer"):
            config_class(seed=-1)
    for config_class in (TrainConfig, Seq2SeqConfig, AddingConfig):
        with pytest.raises(LteError, match="clip must be a positive number, got 0"):
            config_class(clip=0)


def test_a_field_composed_twice_or_a_default_for_no_field_is_refused():
    with pytest.raises(TypeError, match="'seed' is composed twice"):
        compose("Twice", [Part(Data), Part(Data, names=("seed",))])
    with pytest.raises(TypeError, match=r"does not have: \['hidden'\]"):
        compose("Stray", [Part(Data)], defaults={"hidden": 3})


def test_committed_flat_config_json_reads_back_to_itself_and_its_parts():
    paths = sorted((ROOT / "results" / "runs").glob("*/*/*/config.json"))
    train_configs = [p for p in paths if "adding" not in p.parts[-3]]
    assert len(train_configs) > 100
    for path in train_configs[::25]:
        data = json.loads(path.read_text())
        config = TrainConfig.from_json(data)
        assert config.to_json() == data, path
        assert config.spec() == TaskSpec(
            **{k: data[k] for k in ("task", "length", "nesting", "strategy", "invert", "double", "mix_probability")}
        )
        assert config.model_config().cell == data["model"] and config.model_config().hidden == data["hidden"]
    for path in [p for p in paths if p.parts[-3] == "adding_problem"][:5]:
        data = json.loads(path.read_text())
        assert AddingConfig.from_json(data).to_json() == data, path
