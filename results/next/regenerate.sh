#!/bin/bash
# Retrains every record at the run code of one commit into results/next/ (resumable: finished cells are skipped).
# Usage, from the main checkout (with its .venv made by `make install`):  bash results/next/regenerate.sh
# It runs from a worktree at that commit, so that later commits (analysis, docs) change nothing it computes.
set -e
COMMIT=8c9377b
MAIN=$(git rev-parse --show-toplevel)
TREE=$MAIN/../regen
[ -d "$TREE" ] || git -C "$MAIN" worktree add "$TREE" $COMMIT
cd "$TREE"
export PYTHONPATH=$TREE/src:$TREE
PY=$MAIN/.venv/bin/python
R=$MAIN/results/next
for P in default; do  # quick: done (its records are in results/runs/quick)
  for E in lr_selection program addition memorisation convergence; do
    echo "=== $(date -u +%H:%M:%S) $P $E"
    $PY -m lte sweep experiments/$E.toml --profile $P --results $R
    if [ $E = convergence ] && [ ! -f $R/runs/$P/convergence/step_times.json ]; then
      $PY -m lte step-times --profile $P --results $R; fi
  done
  echo "=== $(date -u +%H:%M:%S) $P adding_problem"
  $PY -m lte sweep experiments/adding_problem.toml --profile $P --results $R
done
echo "=== $(date -u +%H:%M:%S) default memorisation_length"
$PY -m lte sweep experiments/memorisation_length.toml --profile default --results $R
echo "=== $(date -u +%H:%M:%S) all done"
