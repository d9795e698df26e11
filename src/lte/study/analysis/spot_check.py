"""Does the code as it stands still compute the committed records? Retrain a sample and compare, run by run.

Records of a long profile may be trained over several sittings, so they can
carry several commits. `spot_check` retrains the first run (in name order) of
each recorded commit, experiment and model, in the sweep's worker processes
(one core each, as the sweeps ran), into a scratch folder, and compares each
with its committed record by `lte.study.analysis.compare.compare_run`: with the
same environment every one is expected to be exact.

Its outcome is written beside the records (`results/runs/<profile>/spot_check.json`:
the commit whose code was checked, each run's status), so that when the run
code has changed since the records' commit, the report can say whether the new
code was shown to compute the same records.

    python -m lte.study.analysis spot-check --profile default     # 10 runs: about 10 min on 2 cores
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from lte.study.analysis.compare import Run, compare_run
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


def spot_check(profile: str, results: Path = RESULTS, scratch: Path | None = None, workers: int = 2,
               log=print) -> list:
    """Retrain `sample_by_commit` into `scratch` (a temporary folder by default); one RunComparison each."""
    from lte.study.sweep import _run_task, run_in_workers

    start = time.perf_counter()
    runs = sample_by_commit(profile, results)
    with tempfile.TemporaryDirectory(prefix="lte-spot-check-") as temporary:
        root = Path(scratch or temporary)
        fresh = [root / run.parent.name / run.name for run in runs]
        # each in as many slots as it was trained in: a run's bits depend on its step's models (lte.methods.ensemble)
        payloads = [(json.loads((run / "summary.json").read_text()).get("models_per_step", 1),
                     [("char", json.loads((run / "config.json").read_text()), str(out))])
                    for run, out in zip(runs, fresh)]
        log(f"retraining {len(runs)} committed runs of {profile}, one per recorded commit, experiment and model")
        run_in_workers(_run_task, payloads, [f"{r.parent.name}/{r.name}" for r in runs], workers, log)
        results_ = []
        for run, out in zip(runs, fresh):
            load = lambda p: json.loads((p / "summary.json").read_text())  # noqa: E731
            comparison = compare_run(Run(run.parent.name, run.name, run, load(run)),
                                     Run(run.parent.name, run.name, out, load(out)))
            results_.append(comparison)
            log(f"{comparison.status}: {run.parent.name}/{run.name}"
                + (f" (largest difference {comparison.largest} in {comparison.field})" if comparison.largest else ""))
    exact = sum(c.status == "exact" for c in results_)
    log(f"{exact} of {len(results_)} sampled runs (one per recorded commit, experiment and model) retrained "
        f"exactly with the code as it stands")
    write_record(profile, results, results_, time.perf_counter() - start)
    return results_


def write_record(profile: str, results: Path, checked: list, wall_seconds: float) -> Path:
    """The spot-check's outcome beside the records it checked, with the commit and machine that checked them."""
    from lte.core.provenance import provenance

    prov = provenance()
    record = {"profile": profile, "commit": prov["commit"], "device": prov.get("device"),
              "versions": prov.get("versions"), "wall_s": round(wall_seconds, 1),
              "exact": sum(c.status == "exact" for c in checked), "checked": len(checked),
              "runs": [{"run": f"{c.experiment}/{c.name}", "status": c.status, "largest": c.largest,
                        "field": c.field} for c in checked]}
    path = record_path(profile, results)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def verified_at(profile: str, results: Path = RESULTS) -> dict | None:
    """The committed spot-check record if it found every sampled run exact, else None."""
    path = record_path(profile, results)
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    return record if record.get("checked") and record.get("exact") == record["checked"] else None
