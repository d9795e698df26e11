"""`lte sweep --backend ray`: the sweep's tasks as Ray tasks, on a cluster or on a local Ray instance.

Each task (one cell, or K cells of one shape with `--ensemble K`) is a Ray
task asking for one CPU, or one GPU when the driver sees GPUs. It writes the
same run folders as the local runner, so the results folder must be on a
filesystem every node sees (NFS, a mounted bucket). A task whose worker dies
is retried by Ray (`MAX_RETRIES`); it resumes from the run folder's last
checkpoint and truncates metrics.jsonl to it, so nothing is lost or written
twice. Finished cells were already skipped by the caller.

Ray is an optional extra (`pip install -e '.[ray]'`).
"""

from __future__ import annotations

import os
import time

from lte.core.errors import LteError
from lte.core.flax_cell import ALLOW_ENV

MAX_RETRIES = 3


def _import_ray():
    try:
        import ray
    except ImportError:
        raise LteError("the Ray backend needs Ray: pip install -e '.[ray]' (or pip install ray)") from None
    return ray


def run_tasks_on_ray(function, payloads: list, names: list[str], workers: int | None, address: str | None, log) -> None:
    """`function(payload)` for every payload as a Ray task (a sweep's: `lte.study.sweep.task_payload`); raise if any
    failed for good."""
    from lte.core.console import progress_line
    from lte.core.errors import raise_failures
    from lte.core.runtime import single_threaded_cpu_env

    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        # no address: a local instance with `workers` CPUs, listening on this machine only (127.0.0.1);
        # with one: join that cluster. The workers inherit the user cells allowed here (lte.core.flax_cell).
        env = {**single_threaded_cpu_env(), **{k: v for k, v in os.environ.items() if k == ALLOW_ENV}}
        local = {} if address else {"_node_ip_address": "127.0.0.1"}
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": env},
            **local,
        )
    gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
    remote = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=MAX_RETRIES, retry_exceptions=False)(function)
    start, failures = time.perf_counter(), []
    try:
        pending = {remote.remote(payload): name for payload, name in zip(payloads, names)}
        done = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            name = pending.pop(ready[0])
            done += 1
            try:
                status = f"{ray.get(ready[0]):6.1f} s"
            except Exception as error:  # a task that failed for good; the others go on
                failures.append((name, error))
                status = f"FAILED: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            log(progress_line(done, len(payloads), name, status, time.perf_counter() - start))
    finally:
        if started_here:
            ray.shutdown()
    raise_failures(failures)
