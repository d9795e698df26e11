"""Does the code as it stands still compute the committed records? Retrain a sample and compare, run by run.

Records of a long profile are trained over several sittings, so they carry
several commits. `spot_check` retrains the first run (in name order) of each
recorded commit, in the sweep's worker processes (one core each, as the sweeps
ran), into a scratch folder, and compares each with its committed record by
`lte.study.analysis.compare.compare_run`: with the same environment every one is
expected to be exact.

    python -m lte.study.analysis spot-check --profile default     # about 30 runs: 10-15 min on 2 cores
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from lte.study.analysis.compare import Run, compare_run
from lte.study.experiment import RESULTS

JUDGED = ("lr_selection", "program", "addition", "memorisation", "convergence")


def sample_by_commit(profile: str, results: Path = RESULTS) -> list[Path]:
    """The first finished run folder (in name order) of each commit recorded in the profile's summaries."""
    first: dict[str, Path] = {}
    for experiment in JUDGED:
        for summary in sorted((results / "runs" / profile / experiment).glob("*/summary.json")):
            commit = (json.loads(summary.read_text()).get("provenance") or {}).get("commit", "unknown")
            first.setdefault(commit, summary.parent)
    return [first[c] for c in sorted(first)]


def spot_check(profile: str, results: Path = RESULTS, scratch: Path | None = None, workers: int = 2,
               log=print) -> list:
    """Retrain `sample_by_commit` into `scratch` (a temporary folder by default); one RunComparison each."""
    from lte.study.sweep import _run_task, run_in_workers

    runs = sample_by_commit(profile, results)
    with tempfile.TemporaryDirectory(prefix="lte-spot-check-") as temporary:
        root = Path(scratch or temporary)
        fresh = [root / run.parent.name / run.name for run in runs]
        # each in as many slots as it was trained in: a run's bits depend on its step's models (lte.methods.ensemble)
        payloads = [(json.loads((run / "summary.json").read_text()).get("models_per_step", 1),
                     [("char", json.loads((run / "config.json").read_text()), str(out))])
                    for run, out in zip(runs, fresh)]
        log(f"retraining {len(runs)} committed runs of {profile}, one per recorded commit")
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
    log(f"{exact} of {len(results_)} sampled runs (one per recorded commit) retrained exactly with the code as "
        f"it stands")
    return results_
