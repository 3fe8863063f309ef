# Every target sets itself up: `make sweep` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch; set TORCH_SPEC="torch" (or a CUDA index) on a GPU machine.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install train sweep report report-path digits-transfer bench evaluate test test-fast lint tensorboard screenshots explore clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv and install the project (editable, with its dev extra)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The explorer page's extras (Gradio; Playwright for its browser test), beside the main install.
EXPLORE_STAMP := $(VENV)/.explore-installed
$(EXPLORE_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,explore,browser]"
	touch $(EXPLORE_STAMP)

train: $(STAMP) ## one run with the report's defaults (2x2 patch masking, 4x4 random images)
	$(BIN)/python train.py

sweep: $(STAMP) ## the report's ablation: single-pixel vs 2x2-patch masking, as a Hydra multirun
	$(BIN)/python train.py masking=pixel,patch2x2 -m

report: $(STAMP) ## (re)write the report of the latest sweep: report.md and figures in its folder
	@latest=$$(ls -d outputs/multiruns/*/ 2>/dev/null | sort | tail -n 1); \
	if [ -z "$$latest" ]; then echo "no sweep under outputs/multiruns: run make sweep first" >&2; exit 2; fi; \
	$(BIN)/python -m vit_inpaint.cli.report "$$latest"

# Two-stage experiments (docs/classification.md, "Pretraining, then fine-tuning"): stage 1's sweep into
# $(DIR)/pretrain, stage 2's into $(DIR)/finetune (its runs start from stage 1's checkpoints),
# then one report of both in $(DIR). A $(DIR) that holds them already is refused, not overwritten:
# give another, e.g. make report-path REPORT_PATH_DIR=outputs/report_path_2.
REPORT_PATH_DIR ?= outputs/report_path
DIGITS_TRANSFER_DIR ?= outputs/digits_transfer
# Two jobs of a sweep at a time, one torch thread each: both cores of a 2-core machine.
TWO_JOBS = hydra/launcher=joblib hydra.launcher.n_jobs=2 threads=1
report-path: $(STAMP) ## classifier <-> inpainter on Gaussian fields, fine-tuned vs from scratch (~11 min)
	$(BIN)/python train.py experiment=report_path threads=1 hydra.sweep.dir=$(REPORT_PATH_DIR)/pretrain -m
	$(BIN)/python train.py experiment=report_path_finetune threads=1 \
		pretrained.sweep=$(REPORT_PATH_DIR)/pretrain hydra.sweep.dir=$(REPORT_PATH_DIR)/finetune -m
	$(BIN)/python -m vit_inpaint.cli.report $(REPORT_PATH_DIR)

digits-transfer: $(STAMP) ## digits: pretraining on 100-1077 unlabelled images, fine-tuning with 3-30 labels a class (~45 min)
	$(BIN)/python train.py experiment=digits_transfer $(TWO_JOBS) hydra.sweep.dir=$(DIGITS_TRANSFER_DIR)/pretrain -m
	$(BIN)/python train.py experiment=digits_transfer_finetune $(TWO_JOBS) \
		pretrained.sweep=$(DIGITS_TRANSFER_DIR)/pretrain hydra.sweep.dir=$(DIGITS_TRANSFER_DIR)/finetune -m
	$(BIN)/python train.py experiment=digits_transfer_finetune $(TWO_JOBS) \
		transfer=finetune_layer_decay data.labels_per_class=3,10 pretrained.run.classify=n100,n300 \
		pretrained.sweep=$(DIGITS_TRANSFER_DIR)/pretrain hydra.sweep.dir=$(DIGITS_TRANSFER_DIR)/fewer_images -m
	$(BIN)/python train.py experiment=digits_transfer_finetune $(TWO_JOBS) \
		transfer=linear_probe optimizer.lr=0.01 data.labels_per_class=10 \
		pretrained.sweep=$(DIGITS_TRANSFER_DIR)/pretrain hydra.sweep.dir=$(DIGITS_TRANSFER_DIR)/probe -m
	$(BIN)/python scripts/pretraining_gain.py $(DIGITS_TRANSFER_DIR)/finetune \
		$(DIGITS_TRANSFER_DIR)/fewer_images $(DIGITS_TRANSFER_DIR)/probe --out $(DIGITS_TRANSFER_DIR)/pretraining_gain.png
	$(BIN)/python -m vit_inpaint.cli.report $(DIGITS_TRANSFER_DIR)

bench: $(STAMP) ## training epochs: plain PyTorch vs this model vs the Trainer; model=mae vs vit
	$(BIN)/python -m vit_inpaint.cli.bench --scaling
	$(BIN)/python -m vit_inpaint.cli.bench --image-size 16 --batch-sizes 128 --num-train 4096
	$(BIN)/python -m vit_inpaint.cli.bench --image-size 32 --batch-sizes 128 --num-train 2048
	$(BIN)/python -m vit_inpaint.cli.bench_mae --depth 2 --epochs 15
	$(BIN)/python -m vit_inpaint.cli.bench_mae --depth 4 --epochs 15
	# The whole `python train.py` process against a plain-PyTorch loop doing the same training.
	$(BIN)/python scripts/bench_process.py --rounds 3

evaluate: $(STAMP) ## the shipped inpainter against biharmonic, Telea, Navier-Stokes on the test photos
	$(BIN)/python -m vit_inpaint.cli.evaluate --out-dir outputs/evaluation

# One pytest worker per core (pytest-xdist); each test file runs on one worker (--dist loadfile),
# so a model or sweep a file trains once for its tests is trained once.
test: $(STAMP) $(EXPLORE_STAMP) ## run the whole test suite (CPU, about 10 minutes on 2 cores)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

test-fast: $(STAMP) ## the tests that train nothing and start no subprocess (about 2 minutes)
	$(BIN)/python -m pytest -q -m "not slow" -n auto

lint: $(STAMP) ## ruff checks, and no import back up a layer of the package
	$(BIN)/python -m ruff check .
	$(BIN)/python scripts/check_layers.py

# The latest sweep (SWEEP=<folder> for another): its runs are then named by what differs,
# masking=pixel and masking=patch2x2, not by their whole path.
SWEEP ?= $(lastword $(sort $(wildcard outputs/multiruns/*/)))
tensorboard: $(STAMP) ## serve the latest sweep (SWEEP=<folder>, or SWEEP=outputs for every run) on :6006
	@test -n "$(SWEEP)" || { echo "no sweep under outputs/multiruns: run make sweep first, or give SWEEP=<folder>" >&2; exit 2; }
	$(BIN)/tensorboard --logdir "$(SWEEP)" --port 6006

screenshots: $(STAMP) $(EXPLORE_STAMP) ## the explorer's tabs, TensorBoard's first views and the latest sweep's figures -> docs/screenshots/
	@command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null || \
		{ apt-get update -q && apt-get install -y -q chromium-headless-shell; }
	$(BIN)/python scripts/explore_screenshots.py
	$(BIN)/python scripts/screenshots.py $(SWEEP)

# The explorer page: the shipped small models, or your own run beside them (RUN=<run folder>).
PORT ?= 7860
RUN ?=
explore: $(EXPLORE_STAMP) ## the explorer page on http://localhost:7860 (PORT=, RUN=outputs/runs/<time>)
	$(BIN)/python -m vit_inpaint.explore --port $(PORT) $(if $(RUN),--run "$(RUN)")

clean: ## remove run outputs and caches (keeps .venv)
	find outputs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache lightning_logs multirun
	find . -name __pycache__ -not -path './$(VENV)/*' -exec rm -rf {} +
