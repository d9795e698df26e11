"""Compare a freshly trained results tree with the committed records, run by run.

    python -m lte.study.analysis compare --profile default --committed results --fresh reproduce/default

Runs are matched by experiment and cell name (a cell's name carries a digest of its full configuration, so
equal names mean equal configurations). For every run finished in both trees, the non-timing content of
metrics.jsonl (every row, every field but the timing ones) and of summary.json (all but wall_time and
provenance) is compared: "exact" when identical; otherwise the largest absolute difference of the score
fields decides: "within tolerance" when at most TOLERANCE (accuracy and exact-match fields) or MSE_TOLERANCE
(the adding problem's mean squared errors), else "differs". The environments (library versions, Python,
device) of the two trees are compared too: with the same environment, every run is expected to match exactly.

Writes <fresh>/comparison.md and prints a short summary. The exit status is 0 whatever the runs show (so that
`make reproduce` finishes), 2 when a tree to compare is missing.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

TOLERANCE = 0.02  # largest absolute difference in character accuracy (and exact match) still "within tolerance"
MSE_TOLERANCE = 0.005  # the same for the adding problem's test MSE (its chance baseline is 1/6)

# fields that measure time, not results: never compared
TIMING_FIELDS = frozenset(
    {"wall_time", "steps_per_second", "tokens_per_second", "examples_per_second", "seconds", "elapsed", "time"}
)
TIMING_SUFFIXES = ("_per_second", "_seconds", "_wall_time", "_time")
SUMMARY_IGNORED = frozenset({"wall_time", "provenance"})

# the experiments in the order the study runs them; any others follow alphabetically
ORDER = ("lr_selection", "program", "addition", "memorisation", "convergence", "adding_problem")

# provenance fields that decide whether two environments are the same, and those only shown
ENV_COMPARED = ("python", "device")
ENV_SHOWN = ("cpu_count", "device_count", "platform", "commit")

STATUSES = ("exact", "within tolerance", "differs")


class CompareError(Exception):
    """An input to compare is missing."""


def is_timing(name: str) -> bool:
    return name in TIMING_FIELDS or name.endswith(TIMING_SUFFIXES)


def tolerance_for(name: str) -> float | None:
    """The tolerance of a score field (by its last name component), None for other fields."""
    if "accuracy" in name or "exact_match" in name:
        return TOLERANCE
    if name.endswith("mse"):
        return MSE_TOLERANCE
    return None


def strip_timing(value):
    if isinstance(value, dict):
        return {k: strip_timing(v) for k, v in value.items() if not is_timing(k)}
    if isinstance(value, list):
        return [strip_timing(v) for v in value]
    return value


def flatten(value, prefix: str = "") -> dict:
    """{dotted.path: leaf}; lists are leaves (levels like [2, 1])."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _read_json(path: Path):
    """The parsed file, or None when it is missing or torn (cut short by a kill)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_jsonl(path: Path) -> tuple[list[dict], bool]:
    """(rows, torn): the rows up to the first unreadable line, and whether there was one."""
    try:
        text = path.read_text()
    except OSError:
        return [], False
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            return rows, True
    return rows, False


@dataclass
class Run:
    experiment: str
    name: str
    path: Path
    summary: dict | None  # None: unfinished (no summary.json, or a torn one)

    @property
    def finished(self) -> bool:
        return isinstance(self.summary, dict)

    def metrics(self) -> tuple[list[dict], bool]:
        return _read_jsonl(self.path / "metrics.jsonl")


@dataclass
class RunComparison:
    experiment: str
    name: str
    status: str
    largest: float | None = None  # the largest absolute difference of a score field
    field: str | None = None  # where it is
    tolerance: float | None = None  # the tolerance that applies to that field
    other: list[str] = dataclasses.field(default_factory=list)  # differences in fields that are not scores


@dataclass
class Comparison:
    profile: str
    committed: Path
    fresh: Path
    runs: list[RunComparison]
    missing: list[tuple[str, str]]  # finished in the committed records, absent from the fresh tree
    extra: list[tuple[str, str]]  # in the fresh tree, not finished in the committed records
    unfinished: list[tuple[str, str]]  # finished in the committed records, unfinished in the fresh tree
    environments: dict  # {"committed": {key: [values]}, "fresh": {...}}
    lr_notes: list[str]
    experiments: list[str]

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.runs)

    @property
    def env_differences(self) -> list[str]:
        c, f = self.environments["committed"], self.environments["fresh"]
        return [k for k in sorted(set(c) | set(f)) if _env_key_compared(k) and c.get(k) != f.get(k)]

    @property
    def env_known(self) -> bool:
        return bool(self.environments["committed"]) and bool(self.environments["fresh"])

    @property
    def env_match(self) -> bool:
        return self.env_known and not self.env_differences


def _env_key_compared(key: str) -> bool:
    return key in ENV_COMPARED or key.startswith("versions.")


def _experiment_runs(root: Path, experiment: str) -> dict[str, Run]:
    """The runs an experiment lists now (its cells.json index), or every run folder when it has none."""
    folder = root / experiment
    index = _read_json(folder / "cells.json")
    names: list[str] = []
    if isinstance(index, dict):
        if isinstance(index.get("cells"), list):  # character-task sweeps
            names = [c["name"] for c in index["cells"] if isinstance(c, dict) and "name" in c]
        elif isinstance(index.get("runs"), list):  # the adding problem
            names = [n for n in index["runs"] if isinstance(n, str)]
    if not names:
        names = sorted(
            p.name
            for p in folder.iterdir()
            if p.is_dir() and any((p / f).exists() for f in ("config.json", "metrics.jsonl", "summary.json"))
        )
    runs = {}
    for name in names:
        summary = _read_json(folder / name / "summary.json")
        runs[name] = Run(experiment, name, folder / name, summary if isinstance(summary, dict) else None)
    return runs


def _experiments(*roots: Path) -> list[str]:
    found = {p.name for root in roots if root.is_dir() for p in root.iterdir() if p.is_dir()}
    return [e for e in ORDER if e in found] + sorted(found - set(ORDER))


def _row_key(rows: list[dict]) -> dict:
    """Rows keyed by (step, occurrence), so that rows pair up by step even when one run has more."""
    keyed, seen = {}, {}
    for i, row in enumerate(rows):
        step = row.get("step", f"row {i}") if isinstance(row, dict) else f"row {i}"
        n = seen.get(step, 0)
        seen[step] = n + 1
        keyed[(step, n)] = row
    return keyed


def _comparable_summary(summary: dict) -> dict:
    """The summary's compared fields. Fields that older records lack are derived where they can be: `diverged`
    from the stop reason, the adding problem's stop reason from its having run to the end, a char run's models
    per step (older ones trained one model per step)."""
    out = {k: v for k, v in summary.items() if k not in SUMMARY_IGNORED}
    if "final_val_target" in summary:
        out.setdefault("models_per_step", 1)
    if "baseline_mse" in summary:  # the adding problem's: older ones ran to max_steps, with no stop reason
        out.setdefault("stop_reason", "max_steps")
    if "stop_reason" in out:
        out.setdefault("diverged", out["stop_reason"] == "diverged")
    return out


def compare_run(committed: Run, fresh: Run) -> RunComparison:
    """One run finished in both trees."""
    c_rows, c_torn = committed.metrics()
    f_rows, f_torn = fresh.metrics()
    pairs: list[tuple[str, str, object, object]] = []  # (label, field name, committed value, fresh value)
    other: list[str] = []

    def add(where: str, a: dict, b: dict) -> None:
        fa, fb = flatten(strip_timing(a)), flatten(strip_timing(b))
        for key in sorted(set(fa) | set(fb)):
            label = f"summary.{key}" if where == "summary" else f"{key} at step {where}"
            if key not in fa or key not in fb:
                other.append(f"{label} only in the {'committed' if key in fa else 'fresh'} run")
                continue
            pairs.append((label, key, fa[key], fb[key]))

    add("summary", _comparable_summary(committed.summary), _comparable_summary(fresh.summary))
    ck, fk = _row_key(c_rows), _row_key(f_rows)
    for key in ck:
        if key in fk:
            a, b = ck[key], fk[key]
            add(str(key[0]), a if isinstance(a, dict) else {"row": a}, b if isinstance(b, dict) else {"row": b})
    if set(ck) != set(fk):
        other.append(
            f"metrics rows: {len(c_rows)} committed, {len(f_rows)} fresh, {len(set(ck) & set(fk))} at the same steps"
        )
    for torn, which in ((c_torn, "committed"), (f_torn, "fresh")):
        if torn:
            other.append(f"the {which} metrics.jsonl has an unreadable (torn) line")

    worst: tuple[float, float, str, float] | None = None  # (difference / tolerance, difference, field, tolerance)
    float_diffs: dict[str, float] = {}
    for label, key, a, b in pairs:
        if _same(a, b):
            continue
        tolerance = tolerance_for(key.rsplit(".", 1)[-1])
        if _number(a) and _number(b):
            diff = abs(float(a) - float(b))
            diff = math.inf if math.isnan(diff) else diff
            if tolerance is not None:
                if worst is None or diff / tolerance > worst[0]:
                    worst = (diff / tolerance, diff, label, tolerance)
                continue
            if isinstance(a, float) or isinstance(b, float):  # losses, learning rates: noted, not judged
                float_diffs[key] = max(float_diffs.get(key, 0.0), diff)
                continue
        elif tolerance is not None:  # a score that is missing (None) or not a number in one run
            worst = (math.inf, math.inf, label, tolerance)
            continue
        other.append(f"{label}: {a!r} committed, {b!r} fresh")

    for key, diff in sorted(float_diffs.items(), key=lambda kv: -kv[1]):
        other.append(f"{key} (largest difference {diff:.3g})")
    if worst is None and not other:
        return RunComparison(committed.experiment, committed.name, "exact")
    if worst is None:  # only non-score fields differ (losses, steps, levels...): the scores are identical
        return RunComparison(committed.experiment, committed.name, "within tolerance", 0.0, None, None, other)
    _, diff, label, tolerance = worst
    status = "within tolerance" if diff <= tolerance else "differs"
    return RunComparison(committed.experiment, committed.name, status, diff, label, tolerance, other)


def _environment(runs: list[Run]) -> dict[str, list[str]]:
    """{provenance field: its distinct values} over the finished runs of a tree."""
    values: dict[str, set] = {}
    for run in runs:
        prov = run.summary.get("provenance") if run.finished else None
        if not isinstance(prov, dict):
            continue
        flat = flatten({k: v for k, v in prov.items() if k != "time"})
        for key, value in flat.items():
            if key == "commit" and isinstance(value, str):
                value = value[:12] + ("-dirty" if value.endswith("-dirty") else "")
            values.setdefault(key, set()).add(json.dumps(value) if not isinstance(value, str) else value)
    return {k: sorted(v) for k, v in values.items()}


def _lr_notes(profile: str, committed: Path, fresh: Path) -> list[str]:
    """Differences between the learning rates each tree's selection chose (they name the later cells)."""
    c = _read_json(committed / "lr_selection" / f"selected_{profile}.json")
    f = _read_json(fresh / "lr_selection" / f"selected_{profile}.json")
    if not isinstance(c, dict) or not isinstance(f, dict):
        return []
    notes = []
    for key in sorted(set(c) | set(f)):
        a = (c.get(key) or {}).get("learning_rate") if isinstance(c.get(key), dict) else None
        b = (f.get(key) or {}).get("learning_rate") if isinstance(f.get(key), dict) else None
        if a != b:
            notes.append(f"{key}: {a} committed, {b} fresh")
    return notes


def compare(profile: str, committed: Path, fresh: Path) -> Comparison:
    committed, fresh = Path(committed), Path(fresh)
    c_root, f_root = committed / "runs" / profile, fresh / "runs" / profile
    for root, what in ((c_root, "committed records"), (f_root, "fresh results")):
        if not root.is_dir():
            raise CompareError(f"no {what} for profile {profile!r}: {root} does not exist")
    experiments = _experiments(c_root, f_root)
    results, missing, extra, unfinished = [], [], [], []
    c_all, f_all = [], []
    for experiment in experiments:
        c_runs = _experiment_runs(c_root, experiment) if (c_root / experiment).is_dir() else {}
        f_runs = _experiment_runs(f_root, experiment) if (f_root / experiment).is_dir() else {}
        c_all += c_runs.values()
        f_all += f_runs.values()
        for name, run in c_runs.items():
            if not run.finished:
                continue  # an unfinished committed run is nothing to compare with
            if name not in f_runs:
                missing.append((experiment, name))
            elif not f_runs[name].finished:
                unfinished.append((experiment, name))
            else:
                results.append(compare_run(run, f_runs[name]))
        for name in f_runs:
            if name not in c_runs or not c_runs[name].finished:
                extra.append((experiment, name))
    environments = {"committed": _environment(c_all), "fresh": _environment(f_all)}
    return Comparison(
        profile,
        committed,
        fresh,
        results,
        missing,
        extra,
        unfinished,
        environments,
        _lr_notes(profile, committed, fresh),
        experiments,
    )
