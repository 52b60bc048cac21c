# Two set-up commands (README "Quick start"):
#   make run   - create .venv and open the viewer on the bundled demo study
#   make test  - create .venv and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv lint bench model experiments clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned: the local CPU wheel, never a multi-GB CUDA build. Where pip would find the CUDA build
	# (plain PyPI on Linux), name the CPU index: make TORCH_INDEX=https://download.pytorch.org/whl/cpu
	$(BIN)/python -m pip install -q torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -q -e ".[test,dev]"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/mammoview view resources/demo

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check mammoview tests benchmarks models docs
	$(BIN)/ruff format --check mammoview tests benchmarks models docs
	$(BIN)/mypy mammoview
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_cad.py
	$(BIN)/python benchmarks/bench_export.py
	$(BIN)/python benchmarks/bench_gc.py
	$(BIN)/python benchmarks/bench_training.py

# Training needs ../shared/data (or MAMMOVIEW_DATA); see models/MODEL_CARD.md.
model: $(STAMP)
	MV=$(BIN)/mammoview PY=$(BIN)/python bash models/reproduce.sh

experiments: $(STAMP)
	MV=$(BIN)/mammoview bash models/experiments.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
