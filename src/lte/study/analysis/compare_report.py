"""A comparison of two record trees in words: its verdict line, comparison.md and the lines printed."""

from __future__ import annotations

from pathlib import Path

from lte.study.analysis.compare import (
    ENV_SHOWN,
    MSE_TOLERANCE,
    STATUSES,
    TIMING_FIELDS,
    TOLERANCE,
    CompareError,
    Comparison,
    _env_key_compared,
    compare,
)


def _tolerance_words() -> str:
    return f"{TOLERANCE:g} in character accuracy and exact match, {MSE_TOLERANCE:g} in adding-problem MSE"


def verdict(comparison: Comparison) -> str:
    """The one-paragraph message: what the environments say to expect, and whether it held."""
    n, exact = len(comparison.runs), comparison.count("exact")
    differ = comparison.count("differs")
    if not comparison.env_known:
        env = "The environments could not be compared (a tree has no finished run with its provenance)"
        expect = f"runs are compared within a tolerance ({_tolerance_words()})"
    elif comparison.env_match:
        env = "The environments match (same library versions, Python and device)"
        expect = "so every run is expected to match the committed one exactly"
    else:
        diffs = ", ".join(comparison.env_differences)
        env = f"The environments differ ({diffs})"
        expect = f"so floating-point results may differ and runs are compared within a tolerance ({_tolerance_words()})"
    if n == 0:
        outcome = "no run has finished in both trees yet."
    elif comparison.env_match:
        outcome = (
            f"all {n} did."
            if exact == n
            else f"{exact} of {n} did; {comparison.count('within tolerance')} are within tolerance and "
            f"{differ} differ beyond it."
        )
    else:
        outcome = f"{n - differ} of {n} are within it ({exact} exactly the same)" + (
            f"; {differ} differ beyond it." if differ else "."
        )
    return f"{env}, {expect}: {outcome}"


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _values(values: list[str] | None) -> str:
    if not values:
        return "—"
    return ", ".join(values[:4]) + (f" (+{len(values) - 4} more)" if len(values) > 4 else "")


def markdown(comparison: Comparison) -> str:
    c = comparison
    lines = [
        f"# Reproduction check: profile `{c.profile}`",
        "",
        f"Fresh records `{c.fresh}/runs/{c.profile}/` compared with the committed records "
        f"`{c.committed}/runs/{c.profile}/`, run by run, matched by experiment and cell name (a cell's name "
        "carries a digest of its full configuration). Every row of metrics.jsonl and summary.json is "
        "compared except timing fields (" + ", ".join(sorted(TIMING_FIELDS)) + ", any `*_per_second`, "
        "`*_seconds`, `*_time`) and the summary's provenance. Tolerance: "
        f"{_tolerance_words()} (largest absolute difference over every evaluation and the summary).",
        "",
        "| runs | count |",
        "|---|---|",
        f"| compared (finished in both trees) | {len(c.runs)} |",
        f"| exact | {c.count('exact')} |",
        f"| within tolerance | {c.count('within tolerance')} |",
        f"| differ beyond tolerance | {c.count('differs')} |",
        f"| unfinished in the fresh tree | {len(c.unfinished)} |",
        f"| missing from the fresh tree | {len(c.missing)} |",
        f"| extra in the fresh tree (not in the committed records) | {len(c.extra)} |",
        "",
        f"**{verdict(c)}**",
        "",
    ]
    if c.count("differs"):
        lines += [f"**Warning: {c.count('differs')} run(s) differ beyond the tolerance.**", ""]
    lines += [
        "| experiment | compared | exact | within tolerance | differ | unfinished | missing | extra |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in c.experiments:
        runs = [r for r in c.runs if r.experiment == e]
        lines.append(
            f"| {e} | {len(runs)} | "
            + " | ".join(str(sum(r.status == s for r in runs)) for s in STATUSES)
            + " | "
            + " | ".join(str(sum(x == e for x, _ in group)) for group in (c.unfinished, c.missing, c.extra))
            + " |"
        )
    lines += [
        "",
        "## Environment",
        "",
        "From the provenance of every finished run in each tree (time excluded). Library versions, Python "
        "and device decide whether the environments are the same; the other rows are for information.",
        "",
        "| | committed | fresh | same |",
        "|---|---|---|---|",
    ]
    ce, fe = c.environments["committed"], c.environments["fresh"]
    keys = sorted(
        (k for k in set(ce) | set(fe) if _env_key_compared(k)), key=lambda k: (not k.startswith("versions."), k)
    )
    keys += [k for k in ENV_SHOWN if k in ce or k in fe]
    for key in keys:
        same = ("yes" if ce.get(key) == fe.get(key) else "**no**") if _env_key_compared(key) else "(not compared)"
        lines.append(f"| {key} | {_md_cell(_values(ce.get(key)))} | {_md_cell(_values(fe.get(key)))} | {same} |")
    if c.lr_notes:
        lines += [
            "",
            "The learning-rate selections differ (so the later experiments' cells differ in name): "
            + "; ".join(c.lr_notes)
            + ".",
        ]
    lines += ["", "## Runs that are not exact", ""]
    inexact = [r for r in c.runs if r.status != "exact"]
    if inexact:
        lines += [
            "| experiment | run | status | largest difference | field | other differences |",
            "|---|---|---|---|---|---|",
        ]
        order = {s: i for i, s in enumerate(reversed(STATUSES))}
        for r in sorted(inexact, key=lambda r: (order[r.status], -(r.largest or 0.0))):
            other = "; ".join(r.other[:4]) + (f"; (+{len(r.other) - 4} more)" if len(r.other) > 4 else "")
            lines.append(
                f"| {r.experiment} | {r.name} | {r.status} | "
                f"{'—' if r.largest is None else f'{r.largest:.4g}'} | {_md_cell(r.field or '—')} | "
                f"{_md_cell(other or '—')} |"
            )
    else:
        lines.append("None." if c.runs else "No run was compared.")
    for title, group in (
        ("Unfinished in the fresh tree", c.unfinished),
        ("Missing from the fresh tree", c.missing),
        ("Extra in the fresh tree", c.extra),
    ):
        if group:
            lines += ["", f"## {title}", ""] + [f"- {e}/{n}" for e, n in group]
    return "\n".join(lines) + "\n"


def summary_text(comparison: Comparison, path: Path | None) -> list[str]:
    c = comparison
    lines = [
        f"compare ({c.profile}): {len(c.runs)} runs compared: {c.count('exact')} exact, "
        f"{c.count('within tolerance')} within tolerance ({_tolerance_words()}), {c.count('differs')} differ; "
        f"{len(c.unfinished)} unfinished, {len(c.missing)} missing, {len(c.extra)} extra",
        verdict(c),
    ]
    if path is not None:
        lines.append(f"written: {path}")
    if c.count("differs"):
        worst = max((r for r in c.runs if r.status == "differs"), key=lambda r: r.largest or 0.0)
        lines.append(
            f"WARNING: {c.count('differs')} run(s) differ beyond tolerance (largest: {worst.largest:.4g} in "
            f"{worst.field} of {worst.experiment}/{worst.name}); see {path or 'the comparison'}"
        )
    elif c.env_match and c.count("within tolerance"):
        lines.append(f"note: the environments match but {c.count('within tolerance')} run(s) are not bit-identical")
    if c.unfinished or c.missing:
        lines.append(
            f"note: {len(c.unfinished) + len(c.missing)} committed run(s) have no finished fresh "
            "counterpart; run `make reproduce` again to finish them"
        )
    return lines


def main(profile: str, committed: Path, fresh: Path, out: Path | None = None) -> int:
    import sys

    try:
        comparison = compare(profile, committed, fresh)
    except CompareError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    path = Path(out) if out is not None else Path(fresh) / "comparison.md"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown(comparison))
    except OSError as error:
        print(f"warning: could not write {path}: {error}", file=sys.stderr)
        path = None
    for line in summary_text(comparison, path):
        print(line)
    return 0
