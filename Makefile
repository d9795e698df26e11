# Every target installs what it needs into .venv first (made here when missing).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-stamp
BENCH_STAMP := $(VENV)/.bench-stamp
comma := ,
# `make bench` adds PyTorch (the side-by-side columns) and, where an NVIDIA GPU is found, a CUDA build of JAX
BENCH_EXTRAS := bench$(if $(shell command -v nvidia-smi 2>/dev/null),$(comma)cuda)

.DEFAULT_GOAL := help
PROFILE ?= default
# where the sweeps write and the figures, tables and report read: the committed records unless told otherwise
RESULTS := results
# `make reproduce` retrains from scratch into this fresh folder (gitignored), then compares it with results/
FRESH    = reproduce/$(PROFILE)
LTE     := $(BIN)/lte
ANALYSIS := $(BIN)/python -m lte.study.analysis
# what `make lock-cuda` writes: the packages of pip's resolution report that constraints.txt does not pin
define LOCK_CUDA
import json
normal = lambda name: name.lower().replace("_", "-")
pinned = {normal(line.split("==")[0]) for line in open("constraints.txt") if "==" in line}
print("# The cuda extra's packages (JAX's CUDA plugin and the NVIDIA wheels), resolved for Linux x86-64")
print("# within constraints.txt by make lock-cuda; make install-cuda and make bench (with a GPU) use them.")
for item in json.load(open(".venv/cuda-report.json"))["install"]:
    meta = item["metadata"]
    if normal(meta["name"]) not in pinned and normal(meta["name"]) != "lte":
        print(f"{normal(meta['name'])}=={meta['version']}")
endef
export LOCK_CUDA

EXPERIMENTS := lr_selection strategy_selection question3_selection addition memorisation convergence program

.PHONY: help install dev install-cuda lock lock-cuda models test lint format spot-check reproduce reproduce-clean records compare sweeps figures tables report paper paper-check bench bench-data bench-figure profile-runs clean \
        $(addprefix sweep-,$(EXPERIMENTS)) sweep-adding_selection sweep-adding_problem $(addprefix fig-,$(EXPERIMENTS)) $(addprefix table-,$(EXPERIMENTS)) table-csv table-parameters

help:  ## list the targets
	@grep -E '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'
	@grep -E '^\$$\(addprefix [a-z]+-,.*## ' $(MAKEFILE_LIST) | sed -E 's/^\$$\(addprefix ([a-z]+-),[^#]*## (.*)/\1NAME\t\2/' | awk -F'\t' '{printf "  make %-20s %s\n", $$1, $$2}'

# constraints.txt pins every package to the versions the committed records were made with
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . -c constraints.txt
	touch $@
# the test tools, the linter and Ray (whose backend the tests cover): for `make test`, `make lint`, `make format`
$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints.txt
	touch $@

install: $(STAMP)  ## make .venv and install the package with what the study needs (versions pinned by constraints.txt)

dev: $(DEV_STAMP)  ## what make install installs, and the test tools, the linter and Ray (make test and make lint add them themselves)

lock: $(DEV_STAMP)  ## refresh constraints.txt from what .venv holds now (after upgrading a package on purpose)
	{ echo "# The exact versions the committed records were made with (Python 3.11, Linux x86-64)."; \
	  echo "# make install installs within these; make lock refreshes this file from the current .venv."; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed -E 's/\+[A-Za-z0-9.]+$$//'; } > constraints.txt

test: $(DEV_STAMP)  ## run the test suite
	$(BIN)/python -m pytest -n 2

lint: $(DEV_STAMP)  ## ruff: the linter (pyflakes, pycodestyle, import order, bugbear) and the formatter's check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)  ## ruff: sort imports and format the code in place
	$(BIN)/ruff check --select I --fix .
	$(BIN)/ruff format .

# Retrains everything from scratch into reproduce/$(PROFILE)/ (never into the committed results/); an
# interrupted run resumes where it stopped (finished cells are skipped, unfinished ones resume).
reproduce: $(STAMP)  ## retrain the study from scratch into reproduce/PROFILE/, build its figures, tables, report, compare with results/ (PROFILE=quick, default or paper)
	$(MAKE) sweeps PROFILE=$(PROFILE) RESULTS=$(FRESH)
	$(MAKE) figures tables report PROFILE=$(PROFILE) RESULTS=$(FRESH)
	$(ANALYSIS) compare --profile $(PROFILE) --committed results --fresh $(FRESH)

models: $(STAMP)  ## retrain the study's best model per model and task (chosen on validation) from its record into results/models/PROFILE/, keeping its final parameters for lte predict
	$(LTE) ship-models --profile $(PROFILE) --results $(RESULTS)

spot-check: $(STAMP)  ## retrain the first committed run of each recorded commit, experiment and model (PROFILE) and compare: does the code as it stands still compute the records? (writes results/runs/PROFILE/spot_check.json)
	$(ANALYSIS) spot-check --profile $(PROFILE) --results $(RESULTS)

compare: $(STAMP)  ## compare reproduce/PROFILE/ with the committed records, run by run (writes reproduce/PROFILE/comparison.md)
	$(ANALYSIS) compare --profile $(PROFILE) --committed results --fresh $(FRESH)

reproduce-clean:  ## remove reproduce/PROFILE/, so that the next make reproduce starts over
	rm -rf $(FRESH)

records: $(STAMP)  ## maintainers: (re)train the committed records in results/ (skips finished cells), then figures, tables, report
	$(MAKE) sweeps PROFILE=$(PROFILE) RESULTS=results
	$(MAKE) figures tables report PROFILE=$(PROFILE) RESULTS=results

# run in this order (lr_selection first, the adding problem last) by a plain (serial) make
sweeps: $(addprefix sweep-,$(EXPERIMENTS)) sweep-adding_problem  ## train every cell of every experiment into RESULTS (default results/; skips finished cells)

# the learning rates are chosen first: every other experiment uses them
sweep-lr_selection: $(STAMP)
	$(LTE) sweep experiments/lr_selection.toml --profile $(PROFILE) --results $(RESULTS)
# then each strategy's rate (stage 2 of the selection), around stage 1's winners
sweep-strategy_selection: $(STAMP) sweep-lr_selection
	$(LTE) sweep experiments/strategy_selection.toml --profile $(PROFILE) --results $(RESULTS)
sweep-question3_selection sweep-program sweep-addition sweep-memorisation sweep-convergence: sweep-%: $(STAMP) sweep-strategy_selection
	$(LTE) sweep experiments/$*.toml --profile $(PROFILE) --results $(RESULTS)
	@if [ "$*" = convergence ] && [ ! -f $(RESULTS)/runs/$(PROFILE)/convergence/step_times.json ]; then \
	  $(LTE) step-times --profile $(PROFILE) --results $(RESULTS); fi

sweep-adding_selection: $(STAMP)
	$(LTE) sweep experiments/adding_selection.toml --profile $(PROFILE) --results $(RESULTS)
sweep-adding_problem: $(STAMP) sweep-adding_selection  ## the adding problem (IRNN vs LSTM vs tanh RNN; rate and clip selected first); its figure: make fig-adding_problem
	$(LTE) sweep experiments/adding_problem.toml --profile $(PROFILE) --results $(RESULTS)

figures: $(STAMP)  ## rebuild every figure from the raw records in RESULTS (default results/; no training)
	$(ANALYSIS) figures --profile $(PROFILE) --results $(RESULTS)
# static pattern rules: make skips the implicit-rule search for phony targets, so a plain fig-% would do nothing
FIGURE_NAMES := $(filter-out strategy_selection question3_selection,$(EXPERIMENTS)) adding_problem question1_forest question3_forest
TABLE_NAMES  := $(filter-out question3_selection,$(EXPERIMENTS)) csv parameters
$(addprefix fig-,$(FIGURE_NAMES)): fig-%: $(STAMP)  ## one figure, e.g. make fig-addition
	$(ANALYSIS) figure $* --profile $(PROFILE) --results $(RESULTS)

tables: $(STAMP)  ## rebuild every table and runs.csv from the raw records
	$(ANALYSIS) tables --profile $(PROFILE) --results $(RESULTS)
$(addprefix table-,$(TABLE_NAMES)): table-%: $(STAMP)  ## one table, e.g. make table-memorisation
	$(ANALYSIS) table $* --profile $(PROFILE) --results $(RESULTS)

report: $(STAMP)  ## the results README and the paper's numbers, with the verdicts
	$(ANALYSIS) report --profile $(PROFILE) --results $(RESULTS)

# The paper needs latexmk, pdflatex and bibtex, and these LaTeX files (Debian/Ubuntu package in brackets):
# apt-get install latexmk texlive-latex-recommended (texlive-latex-extra also has them).
PAPER_TEX := geometry.sty:texlive-latex-base graphicx.sty:texlive-latex-base amsmath.sty:texlive-latex-base \
             natbib.sty:texlive-latex-base plainnat.bst:texlive-latex-base hyperref.sty:texlive-latex-base \
             booktabs.sty:texlive-latex-recommended caption.sty:texlive-latex-recommended \
             microtype.sty:texlive-latex-recommended
# the default profile's paper is paper/main.pdf (committed); another profile's is paper/main-PROFILE.pdf
PAPER_JOB = $(if $(filter default,$(PROFILE)),main,main-$(PROFILE))

paper-check:  ## check that the LaTeX tools and packages the paper needs are installed
	@missing=""; for tool in latexmk:latexmk pdflatex:texlive-latex-base bibtex:texlive-binaries kpsewhich:texlive-binaries; do \
	  command -v $${tool%%:*} >/dev/null 2>&1 || missing="$$missing $${tool%%:*} ($${tool##*:})"; done; \
	if command -v kpsewhich >/dev/null 2>&1; then for f in $(PAPER_TEX); do \
	  [ -n "$$(kpsewhich $${f%%:*})" ] || missing="$$missing $${f%%:*} ($${f##*:})"; done; fi; \
	if [ -n "$$missing" ]; then echo "make paper needs LaTeX; missing:$$missing."; \
	  echo "Install (Debian/Ubuntu): sudo apt-get install latexmk texlive-latex-recommended; macOS: brew install --cask mactex"; exit 1; fi

paper: paper-check report  ## paper/main.pdf from the records in RESULTS (PROFILE=quick: paper/main-quick.pdf; needs LaTeX, see paper-check)
	cd paper && latexmk -pdf -interaction=nonstopmode -halt-on-error -jobname=$(PAPER_JOB) \
	  -usepretex='\def\LteProfile{$(PROFILE)}' main.tex

bench-data: $(STAMP)  ## how many encoded examples/s each data path delivers
	$(BIN)/python -m data_gen bench

# PyPI's Linux torch wheel is the CUDA build (gigabytes of NVIDIA libraries): without a GPU, PyTorch's own CPU
# index is searched too (its X+cpu wheel satisfies constraints.txt's torch==X and ranks above it)
TORCH_CPU_INDEX := $(if $(shell command -v nvidia-smi 2>/dev/null),,--extra-index-url https://download.pytorch.org/whl/cpu)
CUDA_CONSTRAINTS := $(if $(findstring cuda,$(BENCH_EXTRAS)),-c constraints-cuda.txt)
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[$(BENCH_EXTRAS)]' -c constraints.txt $(CUDA_CONSTRAINTS) $(TORCH_CPU_INDEX)
	touch $@

install-cuda: $(STAMP)  ## JAX on an NVIDIA GPU: the cuda extra, its NVIDIA wheels pinned by constraints-cuda.txt
	$(BIN)/python -m pip install --quiet -e '.[cuda]' -c constraints.txt -c constraints-cuda.txt

lock-cuda: $(STAMP)  ## refresh constraints-cuda.txt: the cuda extra resolved within constraints.txt (installs nothing)
	$(BIN)/python -m pip install --quiet --dry-run --ignore-installed --report $(VENV)/cuda-report.json \
	  -e '.[cuda]' -c constraints.txt
	$(BIN)/python -c "$$LOCK_CUDA" > constraints-cuda.txt

bench: bench-data $(BENCH_STAMP)  ## the data path, training steps of LSTM and IRNN at the study's shapes beside PyTorch, and a run's cost over its steps per study shape (a few minutes; lte bench --full for every cell and 2 x 400)
	$(LTE) bench
	$(LTE) profile-runs --steps 1000 --label bench-1000-steps

bench-figure: $(STAMP)  ## redraw the figure of every benchmark table in results/bench from its CSVs (times nothing)
	$(LTE) bench --figures-only

profile-runs: $(STAMP)  ## where a study run's time goes, per shape of the default profile, at the cells' own budgets (about 5 min; results/bench/run_profile/)
	$(LTE) profile-runs --profile default --results $(RESULTS)

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache src/*.egg-info
