"""Rebuild figures, tables and the report from the raw records, without training.

python -m lte.study.analysis all [--profile default]
python -m lte.study.analysis figure program|addition|memorisation|convergence|lr_selection|adding_problem|
    question1_forest|question3_forest
python -m lte.study.analysis table lr_selection|program|addition|memorisation|convergence|csv
python -m lte.study.analysis report
python -m lte.study.analysis compare --committed results --fresh reproduce/<profile>
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lte.core.errors import LteError
from lte.study.analysis import figures, forest, tables
from lte.study.analysis.report import write_report
from lte.study.experiment import outputs_dir

FIGURES = {
    "program": lambda p, r: figures.strategy_figure("program", p, r),
    "addition": lambda p, r: figures.strategy_figure("addition", p, r),
    "memorisation": lambda p, r: figures.tricks_figure(p, r),
    "convergence": lambda p, r: figures.convergence_figure(p, r),
    "lr_selection": lambda p, r: figures.lr_selection_figure(p, r),
    "adding_problem": lambda p, r: _adding_figure(p, r),
    "question1_forest": lambda p, r: forest.question1_forest(p, r),
    "question3_forest": lambda p, r: forest.question3_forest(p, r),
}


def _adding_figure(profile: str, results: Path) -> list[Path]:
    from lte.study.analysis.adding import adding_figure

    if not (results / "runs" / profile / "adding_problem").exists():
        return []  # not run (yet): the other figures do not need it
    return adding_figure(profile, results)


def _table(name: str, profile: str, results: Path) -> list[Path]:
    if name == "parameters":  # no runs needed: counted from freshly initialised models
        from lte.study.analysis.parameters import write_parameter_table

        return write_parameter_table(results / "tables")
    out = outputs_dir("tables", profile, results)
    if name == "csv":
        return [tables.aggregated_csv(profile, results)]
    if name == "lr_selection":
        return tables.write_table(
            tables.lr_table(profile, results),
            out / name,
            f"Hyperparameter selection: validation character accuracy, {tables.INTERVAL}",
        )
    if name == "question3_selection":  # question 3's table in the report judges these runs
        return []
    if name == "strategy_selection":
        if not (results / "runs" / profile / name).exists():
            return []  # records made before the per-strategy stage existed
        return tables.write_table(
            tables.lr_table(profile, results, name),
            out / name,
            f"Selection per strategy: validation character accuracy, {tables.INTERVAL}",
        )
    if name == "convergence":
        return tables.write_table(tables.convergence_table(profile, results), out / name, tables.CONVERGENCE_CAPTION)
    return tables.write_table(
        tables.strategy_table(name, profile, results),
        out / name,
        f"{name}: test accuracy at the target level, {tables.INTERVAL}",
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lte.study.analysis", description=__doc__.split("\n")[0])
    parser.add_argument(
        "what", choices=["all", "figure", "table", "report", "figures", "tables", "compare", "spot-check"]
    )
    parser.add_argument("name", nargs="?")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument(
        "--committed", type=Path, default=Path("results"), help="compare: the committed records (default: results)"
    )
    parser.add_argument(
        "--fresh", type=Path, default=None, help="compare: the freshly trained results (default: reproduce/<profile>)"
    )
    parser.add_argument(
        "--allow-user-cells",
        action="store_true",
        help="let records name a cell of your own (module.path:ClassName) and import it",
    )
    args = parser.parse_args(argv)
    if sys.path and sys.path[0] in ("", str(Path.cwd())):  # python -m puts the current folder first: records
        sys.path.pop(0)  # under it must never be importable as code
    if args.allow_user_cells:
        from lte.core.flax_cell import allow_user_cells

        allow_user_cells()
    if args.what == "spot-check":
        from lte.study.analysis.spot_check import spot_check

        checked = spot_check(args.profile, args.results)
        return 0 if all(c.status == "exact" for c in checked) else 1
    if args.what == "compare":
        from lte.study.analysis import compare_report

        return compare_report.main(args.profile, args.committed, args.fresh or Path("reproduce") / args.profile)
    try:
        written: list[Path] = []
        if args.what in ("figure", "all", "figures"):
            for name in [args.name] if args.what == "figure" else FIGURES:
                written += FIGURES[name](args.profile, args.results)
        if args.what in ("table", "all", "tables"):
            names = [args.name] if args.what == "table" else ["csv", "parameters", *tables.EXPERIMENTS]
            for name in names:
                written += _table(name, args.profile, args.results)
        if args.what in ("report", "all"):
            written.append(write_report(args.profile, args.results))
    except (FileNotFoundError, LteError) as error:  # missing or damaged records: one line, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
