"""Does the code as it stands still compute the committed records? Retrain a sample and compare, run by run.

Records of a long profile may be trained over several sittings, so they can
carry several commits. `spot_check` retrains the first run (in name order) of
each recorded commit, experiment and model, in the sweep's worker processes
(one core each, as the sweeps ran), into a scratch folder, and compares each
with its committed record by `lte.study.analysis.compare.compare_run`: on the
records' kind of CPU every one is expected to be exact. On another CPU (XLA
compiles for the CPU it runs on: AVX-512 or not changes float rounding, which
grows over training) they differ, so the sample is then retrained with the
records' own commit too: identical bits there show that the code still
computes what the records' code did.

Its outcome is written beside the records (`results/runs/<profile>/spot_check.json`:
the commit and machine that checked, each run's status against its record and
against the records' code), so that when the run code has changed since the
records' commit, the report can say whether the new code was shown to compute
the same records.

    python -m lte.study.analysis spot-check --profile default   # 10 runs, 10 min on 2 cores (20 on another CPU)
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from lte.study.analysis.compare import Run, RunComparison, compare_run
from lte.study.experiment import RESULTS

JUDGED = ("lr_selection", "program", "addition", "memorisation", "convergence")


def sample_by_commit(profile: str, results: Path = RESULTS) -> list[Path]:
    """The first finished run folder (in name order) of each recorded commit, experiment and model."""
    first: dict[tuple[str, str, str], Path] = {}
    for experiment in JUDGED:
        for summary in sorted((results / "runs" / profile / experiment).glob("*/summary.json")):
            commit = (json.loads(summary.read_text()).get("provenance") or {}).get("commit", "unknown")
            model = json.loads((summary.parent / "config.json").read_text()).get("model", "?")
            first.setdefault((commit, experiment, model), summary.parent)
    return [first[key] for key in sorted(first)]


def record_path(profile: str, results: Path = RESULTS) -> Path:
    return results / "runs" / profile / "spot_check.json"


def spot_check(
    profile: str,
    results: Path = RESULTS,
    scratch: Path | None = None,
    workers: int = 2,
    log=print,
    against_records_code: bool = True,
) -> list:
    """Retrain `sample_by_commit` into `scratch` (a temporary folder by default); one RunComparison each.

    Where a retrained run differs from its record, the sample is also retrained with the records' own code
    (their commit, checked out from git) on this machine, and the two retrainings are compared: identical
    bits there mean that what differs is the machine (XLA compiles for the CPU it runs on), not the code.
    """
    from lte.study.sweep import _run_task, run_in_workers

    start = time.perf_counter()
    runs = sample_by_commit(profile, results)
    labels = [f"{r.parent.name}/{r.name}" for r in runs]
    with tempfile.TemporaryDirectory(prefix="lte-spot-check-") as temporary:
        root = Path(scratch or temporary)
        fresh = [root / run.parent.name / run.name for run in runs]
        log(f"retraining {len(runs)} committed runs of {profile}, one per recorded commit, experiment and model")
        run_in_workers(_run_task, [_payload(run, out) for run, out in zip(runs, fresh)], labels, workers, log)
        checked = [_compare(run, out, log) for run, out in zip(runs, fresh)]
        code_checked = None
        if against_records_code and any(c.status != "exact" for c in checked):
            log(
                "some differ from their records: retraining the sample with the records' own code on this "
                "machine, to tell a change of code from a change of machine"
            )
            base = [Path(temporary) / "records-code" / run.parent.name / run.name for run in runs]
            retrain_with_records_code(runs, base, workers, log)
            code_checked = [
                _compare(run, out, log, against=b, label="against the records' code")
                for run, out, b in zip(runs, fresh, base)
            ]
    exact = sum(c.status == "exact" for c in checked)
    log(
        f"{exact} of {len(checked)} sampled runs (one per recorded commit, experiment and model) retrained "
        f"exactly with the code as it stands"
    )
    if code_checked is not None:
        same = sum(c.status == "exact" for c in code_checked)
        log(f"{same} of {len(code_checked)} retrained with the same bits as the records' own code on this machine")
    write_record(profile, results, checked, code_checked, time.perf_counter() - start)
    return checked


def _payload(run: Path, out: Path) -> tuple:
    # each in as many slots as it was trained in: a run's bits depend on its step's models (lte.methods.ensemble)
    return (
        json.loads((run / "summary.json").read_text()).get("models_per_step", 1),
        [("char", json.loads((run / "config.json").read_text()), str(out))],
    )


def _compare(run: Path, out: Path, log, against: Path | None = None, label: str = ""):
    load = lambda p: json.loads((p / "summary.json").read_text())  # noqa: E731
    reference = against or run
    if not (reference / "summary.json").exists():
        log(f"not retrained {label}: {run.parent.name}/{run.name}")
        return RunComparison(run.parent.name, run.name, "not retrained")
    comparison = compare_run(
        Run(run.parent.name, run.name, reference, load(reference)), Run(run.parent.name, run.name, out, load(out))
    )
    log(
        f"{comparison.status}{' ' + label if label else ''}: {run.parent.name}/{run.name}"
        + (f" (largest difference {comparison.largest} in {comparison.field})" if comparison.largest else "")
    )
    return comparison


def records_commit(run: Path) -> str | None:
    """The commit whose code trained `run`, when git can check it out (None for a '-dirty' or unknown one)."""
    commit = (json.loads((run / "summary.json").read_text()).get("provenance") or {}).get("commit") or ""
    return commit if commit and not commit.endswith("-dirty") else None


def retrain_with_records_code(runs: list[Path], outs: list[Path], workers: int, log) -> None:
    """Train each run into its `out` with the code of the commit that trained it: that commit checked out in a
    temporary git worktree, the runs in its own sweep workers (this environment's Python and libraries)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[4]
    by_commit: dict[str, list[int]] = {}
    for i, run in enumerate(runs):
        commit = records_commit(run)
        if commit is None:
            log(f"the records' code of {run.parent.name}/{run.name} is not a commit git can check out; skipped")
            continue
        by_commit.setdefault(commit, []).append(i)
    program = (
        "import json, sys\nfrom lte.study.sweep import _run_task, run_in_workers\n"
        "job = json.load(sys.stdin)\n"
        "run_in_workers(_run_task, job['payloads'], job['labels'], job['workers'], print)\n"
    )
    for commit, indices in by_commit.items():
        with tempfile.TemporaryDirectory(prefix="lte-records-code-") as tree:
            added = subprocess.run(
                ["git", "worktree", "add", "--detach", tree, commit], cwd=root, capture_output=True, text=True
            )
            if added.returncode != 0:
                log(
                    f"cannot check out the records' commit {commit[:12]} ({added.stderr.strip()}); "
                    f"{len(indices)} run(s) not retrained with it"
                )
                continue
            try:
                job = {
                    "payloads": [_payload(runs[i], outs[i]) for i in indices],
                    "labels": [f"{runs[i].parent.name}/{runs[i].name} at {commit[:7]}" for i in indices],
                    "workers": workers,
                }
                env = {**os.environ, "PYTHONPATH": os.pathsep.join([f"{tree}/src", tree])}
                with subprocess.Popen(
                    [sys.executable, "-c", program],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    cwd=tree,
                    env=env,
                ) as child:
                    child.stdin.write(json.dumps(job))
                    child.stdin.close()
                    for line in child.stdout:  # its progress lines, as they come
                        log(line.rstrip())
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=root, capture_output=True)


def write_record(profile: str, results: Path, checked: list, code_checked: list | None, wall_seconds: float) -> Path:
    """The spot-check's outcome beside the records it checked, with the commit and machine that checked them:
    each run against its record, and (where retrained) against the records' own code on this machine."""
    from lte.core.provenance import provenance, vector_extension

    prov = provenance()
    runs = sample_by_commit(profile, results)
    records_devices = sorted(
        {
            (json.loads((r / "summary.json").read_text()).get("provenance") or {}).get("device") or "unknown"
            for r in runs
        }
    )
    record = {
        "profile": profile,
        "commit": prov["commit"],
        "device": prov.get("device"),
        "vector_extension": vector_extension(),
        "records_devices": records_devices,
        "versions": prov.get("versions"),
        "wall_s": round(wall_seconds, 1),
        "exact": sum(c.status == "exact" for c in checked),
        "checked": len(checked),
        "exact_against_records_code": (
            None if code_checked is None else sum(c.status == "exact" for c in code_checked)
        ),
        "runs": [
            {
                "run": f"{c.experiment}/{c.name}",
                "status": c.status,
                "largest": c.largest,
                "field": c.field,
                "against_records_code": None if code_checked is None else code_checked[i].status,
            }
            for i, c in enumerate(checked)
        ],
    }
    path = record_path(profile, results)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def verified_at(profile: str, results: Path = RESULTS) -> dict | None:
    """The committed spot-check record if every sampled run came out exact, against its record or against the
    records' own code on the checking machine; else None."""
    path = record_path(profile, results)
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    n = record.get("checked")
    return record if n and n in (record.get("exact"), record.get("exact_against_records_code")) else None
