"""Run kinds: what a sweep can train. A kind registers its config class, its train function, how its run
folders are named and how its records are read; `lte sweep`, run folders, resume, cells.json, `lte
migrate-names` and the analysis (`lte.study.analysis.records.load_runs`) serve every kind through this one
interface.

- `char`: the study's character-level training (lte.core.train, TrainConfig);
- `adding`: Le et al.'s adding problem (lte.kinds.adding, AddingConfig);
- `seq2seq`: the encoder-decoder with a bidirectional encoder (lte.kinds.seq2seq, Seq2SeqConfig);
- `esn`: the echo state network, its readout fitted in one shot (lte.kinds.esn, ESNConfig).

A new kind is one `register(RunKind(...))` call: a frozen dataclass config with `to_json()` and
`from_json(dict)`, a `train(config, out_dir, *, log) -> summary` that resumes a half-finished folder, a
`folder_name(config, labels) -> str` and, optionally, a `summary_row(summary.json path) -> dict` of the
columns its analysis reads (by default `lte.study.analysis.records.generic_summary_row`: steps, time, stop
reason, provenance and every number of the summary's `final` row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lte.core.errors import LteError


@dataclass(frozen=True)
class RunKind:
    name: str
    config_class: type
    train: Callable  # (config, out: Path, *, log) -> summary dict
    folder_name: Callable  # (config, labels: dict) -> str
    ensembles: bool = False  # whether cells of one shape may train together in one compiled step (lte.methods.ensemble)
    summary_row: Callable | None = None  # (summary.json path) -> dict of result columns; None: the generic one

    def read_summary(self, path) -> dict:
        """A finished run's result columns (what `lte.study.analysis.records.load_runs` puts in its row)."""
        from lte.study.analysis import records

        return (self.summary_row or records.generic_summary_row)(path)


KINDS: dict[str, RunKind] = {}


def register(kind: RunKind) -> RunKind:
    KINDS[kind.name] = kind
    return kind


_builtin_registered = False


def get_kind(name: str) -> RunKind:
    """The kind registered as `name` (the built-in kinds are registered on first use, beside any registered
    before; a user's kind of a built-in name replaces it)."""
    global _builtin_registered
    if not _builtin_registered:
        _builtin_registered = True
        user_kinds = dict(KINDS)
        _register_builtin()
        KINDS.update(user_kinds)
    if name not in KINDS:
        raise LteError(f"unknown run kind {name!r}; allowed: {', '.join(KINDS)}")
    return KINDS[name]


def _register_builtin() -> None:
    from lte.core.config import TrainConfig
    from lte.core.train import train
    from lte.kinds import adding, esn, seq2seq
    from lte.study.experiment import char_folder_name

    register(
        RunKind(
            "char",
            TrainConfig,
            train,
            char_folder_name,
            ensembles=True,
            summary_row=_later("lte.study.analysis.records", "char_summary_row"),
        )
    )
    register(
        RunKind(
            "adding",
            adding.AddingConfig,
            adding.train_adding,
            adding.run_name,
            summary_row=_later("lte.study.analysis.adding", "adding_summary_row"),
        )
    )
    register(RunKind("seq2seq", seq2seq.Seq2SeqConfig, seq2seq.train_seq2seq, seq2seq.run_name))
    register(RunKind("esn", esn.ESNConfig, esn.train_esn, esn.run_name))


def _later(module: str, name: str) -> Callable:
    """`module.name`, imported when first called (the analysis and pandas stay out of training workers)."""

    def call(*args, **kwargs):
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return call
