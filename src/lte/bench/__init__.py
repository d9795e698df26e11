"""`lte bench` / `make bench`: recurrent training speed on this machine, side by side with PyTorch.

For each cell at each (hidden, batch): compile time, median training-step time
(compile excluded), tokens/s, achieved FLOP/s and its fraction of this
device's float32 matmul peak measured in the same run, and peak memory. The
same shapes in PyTorch (nn.LSTM / nn.RNN) when PyTorch is installed. Cells
with the fused recurrent gradient (the default) are also timed with plain
autodiff (`autodiff` column), so the trick's gain is measured in the same run.
The steps compared in a row are timed in rotation, repeat by repeat, so that a
slow spell of the machine falls on all of them alike; the spread of the
per-repeat JAX / PyTorch ratios is recorded beside their medians' ratio.

FLOP counting rule (printed with the table): a training step costs about
3 x the forward pass, and the forward pass 2 FLOP per multiply-add, so
6 x (recurrent-layer weights that multiply a vector) x tokens; embedding and
one-hot lookups and the softmax readout are not counted.

One module per concern: `shapes` (what is timed), `steps` (the project's steps),
`references` (PyTorch's and cuDNN's), `timing` (how a step is timed), `device`
(the machine), `tables` and `ensemble_table` (the CSVs and their provenance),
`figure` and `goals` (what is read from the tables). The measurements
themselves live in `results/bench/`, with their provenance.
"""

from lte.bench.device import device_name, gpu_unused_warning, split_devices
from lte.bench.ensemble_table import (
    ensemble_seconds_as_in_sweeps,
    paired_speedups,
    run_ensemble_benchmark,
    shared_overhead_bound,
    with_layouts,
)
from lte.bench.figure import bench_figure, bench_plot, benchmark_tables
from lte.bench.goals import DEFAULT_RUN_MINUTES, goals_report
from lte.bench.references import TORCH_CELLS, cudnn_lstm_step, reference_lstm, torch_step
from lte.bench.shapes import (
    ENSEMBLE_MODELS,
    ENSEMBLE_MODELS_FULL,
    ENSEMBLE_SHAPE,
    PAPER_SHAPES,
    STUDY_CELLS,
    STUDY_SHAPES,
    TINY_SHAPES,
    Shape,
    parse_cells,
    parse_shape,
)
from lte.bench.steps import (
    COUNTING_RULE,
    SEEDS,
    _synthetic_batch,
    _train_state,
    compiled_memory_mb,
    counted_weights,
    ensemble_step,
    jax_step,
    single_model_step,
    split_step,
    timing_params,
)
from lte.bench.tables import (
    _bench_row,
    one_core_repeats,
    one_core_seconds,
    run_benchmark,
    timed_on_one_core,
    with_one_core_columns,
    write_csv,
)
from lte.bench.timing import MATMUL_PRECISION, interleaved_seconds, matmul_peak, per_step_seconds, warm_block

__all__ = [
    "COUNTING_RULE",
    "DEFAULT_RUN_MINUTES",
    "ENSEMBLE_MODELS",
    "ENSEMBLE_MODELS_FULL",
    "ENSEMBLE_SHAPE",
    "MATMUL_PRECISION",
    "PAPER_SHAPES",
    "SEEDS",
    "STUDY_CELLS",
    "STUDY_SHAPES",
    "TINY_SHAPES",
    "TORCH_CELLS",
    "Shape",
    "_bench_row",
    "_synthetic_batch",
    "_train_state",
    "bench_figure",
    "bench_plot",
    "benchmark_tables",
    "compiled_memory_mb",
    "counted_weights",
    "cudnn_lstm_step",
    "device_name",
    "ensemble_seconds_as_in_sweeps",
    "ensemble_step",
    "goals_report",
    "gpu_unused_warning",
    "interleaved_seconds",
    "jax_step",
    "matmul_peak",
    "one_core_repeats",
    "one_core_seconds",
    "paired_speedups",
    "parse_cells",
    "parse_shape",
    "per_step_seconds",
    "reference_lstm",
    "run_benchmark",
    "run_ensemble_benchmark",
    "shared_overhead_bound",
    "single_model_step",
    "split_devices",
    "split_step",
    "timed_on_one_core",
    "timing_params",
    "torch_step",
    "warm_block",
    "with_layouts",
    "with_one_core_columns",
    "write_csv",
]
