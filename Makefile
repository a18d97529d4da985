# Two commands do everything on a fresh machine: `make run` (train: execute the notebook) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NOTEBOOK := Hand_Written_Digit_Classification.ipynb
DATA := data/mnist

.PHONY: run test data setup benchmark

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

data: setup
	$(PY) tools/fetch_mnist.py --out $(DATA)

# Execute the notebook headless, in place: trains, writes mnist_model.h5, mnist_metrics.json and images/.
run: data
	$(PY) -m jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=-1 $(NOTEBOOK)

# Unit tests first (they use the committed model), then nbval re-executes the whole notebook.
test: data
	$(PY) -m pytest tests $(NOTEBOOK) --nbval-lax --nbval-current-env

benchmark: data
	$(PY) tools/benchmark.py
