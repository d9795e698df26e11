"""Command line of the data side.

python -m data_gen sample --task program --length 4 --nesting 3 --count 5 --seed 0
python -m data_gen stats --task program --length 6 --nesting 3
python -m data_gen bench
"""

from __future__ import annotations

import argparse
import json
import sys

from data_gen.curriculum import STRATEGIES, parse_level
from data_gen.errors import DataGenError
from data_gen.splits import SPLITS
from data_gen.tasks import TASKS, TaskSpec, default_nesting, sample_examples

MAX_COUNT = 1_000_000  # examples of one sample or stats call: all are generated and held in memory at once
MAX_SECONDS = 600.0  # time per benchmark measurement (three are timed)
MAX_WORKERS = 256  # processes building the benchmark's pool


def _add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="program", help=f"one of {', '.join(TASKS)}")
    parser.add_argument("--length", type=int, default=4, help="digits per literal (target)")
    parser.add_argument(
        "--nesting", type=int, default=None, help="chained operations (target; programs only, default 3, else 1)"
    )
    parser.add_argument("--strategy", default="baseline", help=f"one of {', '.join(STRATEGIES)}")
    parser.add_argument("--level", default=None, help="current level 'L,N' for naive / combined")
    parser.add_argument("--mix-probability", type=float, default=0.2, help="combined's share of mix draws")
    parser.add_argument("--invert", action="store_true", help="feed the input reversed")
    parser.add_argument("--double", action="store_true", help="feed the input twice")
    parser.add_argument("--split", default="train", help=f"one of {', '.join(SPLITS)}")
    parser.add_argument("--seed", type=int, default=0)


def _spec(args: argparse.Namespace) -> TaskSpec:
    nesting = args.nesting if args.nesting is not None else default_nesting(args.task)
    return TaskSpec(
        task=args.task,
        length=args.length,
        nesting=nesting,
        strategy=args.strategy,
        invert=args.invert,
        double=args.double,
        mix_probability=args.mix_probability,
    )


def _sample(args: argparse.Namespace) -> None:
    level = parse_level(args.level) if args.level else None
    for example in sample_examples(_spec(args), args.count, seed=args.seed, split=args.split, level=level):
        print(json.dumps(example.to_json()))


def _stats(args: argparse.Namespace) -> None:
    from data_gen.stats import example_stats

    level = parse_level(args.level) if args.level else None
    print(
        json.dumps(
            example_stats(
                _spec(args), args.count, seed=args.seed, split=args.split, level=level, row_length=args.row_length
            ),
            indent=2,
        )
    )


def _bench(args: argparse.Namespace) -> None:
    from data_gen.bench import run_benchmark

    run_benchmark(seconds=args.seconds, workers=args.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data_gen", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="print examples as JSON Lines")
    _add_spec_arguments(sample)
    sample.add_argument("--count", default="5", help=f"examples to print, 1 to {MAX_COUNT:,} (default 5)")
    sample.set_defaults(run=_sample)
    stats = commands.add_parser("stats", help="sizes, operation shares, packing efficiency")
    _add_spec_arguments(stats)
    stats.add_argument("--count", default="10000", help=f"examples, 1 to {MAX_COUNT:,} (default 10000)")
    stats.add_argument("--row-length", type=int, default=256)
    stats.set_defaults(run=_stats)
    bench = commands.add_parser("bench", help="encoded examples per second of each data path")
    bench.add_argument(
        "--seconds",
        type=float,
        default=3.0,
        help=f"time per measurement, more than 0 and at most {MAX_SECONDS:g} (default 3)",
    )
    bench.add_argument(
        "--workers", type=int, default=None, help=f"processes building pools, 1 to {MAX_WORKERS} (default: all cores)"
    )
    bench.set_defaults(run=_bench)
    return parser


def check_arguments(args: argparse.Namespace) -> None:
    """The sizes the flags ask for, within their stated caps (checked before any work), else a DataGenError."""
    if hasattr(args, "count"):
        try:
            args.count = int(args.count)
        except ValueError:
            raise DataGenError(f"count must be a whole number from 1 to {MAX_COUNT:,}, got {args.count!r}") from None
        if not 1 <= args.count <= MAX_COUNT:
            raise DataGenError(
                f"count must be at least 1 and at most {MAX_COUNT:,} (the examples are held in "
                f"memory), got {args.count}"
            )
    if hasattr(args, "seconds") and not 0 < args.seconds <= MAX_SECONDS:  # NaN fails too
        raise DataGenError(f"seconds must be more than 0 and at most {MAX_SECONDS:g}, got {args.seconds}")
    if getattr(args, "workers", None) is not None and not 1 <= args.workers <= MAX_WORKERS:
        raise DataGenError(f"workers must be an integer from 1 to {MAX_WORKERS}, got {args.workers}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_arguments(args)
        args.run(args)
    except DataGenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `| head`
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
