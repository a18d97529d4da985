# Two commands do everything on a fresh machine: `make run` (train: execute the notebook) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The newest TensorFlow and Keras on PyPI, to check that the committed model files load there too.
# Built once and kept: `rm -rf .venv-latest` to take newer releases.
LATEST_VENV := .venv-latest
NOTEBOOK := Hand_Written_Digit_Classification.ipynb
DATA := data/mnist
# The repository's public GitHub path (owner/name), once it has one: `make badge` then puts
# "Open in Colab" badges in README.md and the notebook. Empty: upload instructions instead.
COLAB_REPO :=
# The tests run a test file per core (pytest-xdist; most of them use one core), then those marked
# `timing` (they assert wall-clock bounds) alone.
PER_CORE := --numprocesses logical --dist loadfile

.PHONY: run test test-fast lint data setup latest-env benchmark badge module

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

latest-env: $(LATEST_VENV)/.installed

$(LATEST_VENV)/.installed:
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/pip install --quiet --upgrade pip tensorflow keras h5py matplotlib scikit-learn scikit-image scipy pillow
	touch $@

data: setup
	$(PY) tools/fetch_mnist.py --out $(DATA)

# Execute the notebook headless, in place: trains, writes mnist_model.h5, mnist_metrics.json and images/.
run: data
	$(PY) -m jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=-1 $(NOTEBOOK)

# Ruff's linter and formatter check on the notebook, tools/ and tests/ (settings in pyproject.toml;
# `$(PY) -m ruff format .` and `$(PY) -m ruff check --fix .` fix most of what they report).
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The lint, the tests (they use the committed model), then nbval re-executes the whole notebook on a
# copy in a temporary folder, so that nothing committed is overwritten. The two environments install
# side by side (pip keeps about one core busy).
test:
	$(MAKE) --jobs=2 lint data latest-env
	@$(PY) -c "import gradio, keras, numpy, sys, tensorflow; print(f'Colab runtime pins: Python {sys.version.split()[0]},' \
	  f' tensorflow {tensorflow.__version__}, keras {keras.__version__}, numpy {numpy.__version__}, gradio {gradio.__version__}')"
	$(PY) -m pytest tests -m "not timing" $(PER_CORE)
	$(PY) -m pytest tests -m timing
	scratch=$$(mktemp -d) && cp $(NOTEBOOK) $$scratch/ && cd $$scratch && \
	  MNIST_DATA_DIR=$(CURDIR)/$(DATA) $(CURDIR)/$(PY) -m pytest $(NOTEBOOK) --nbval-lax --nbval-current-env \
	  -p no:cacheprovider; status=$$?; rm -rf $$scratch; exit $$status

# The inner loop: the tests not marked slow (no training, no notebook run, no browser), in a few minutes.
test-fast: data
	$(PY) -m pytest tests -m "not slow and not timing" $(PER_CORE)
	$(PY) -m pytest tests -m "not slow and timing"

# Regenerate digit_reader.py from the notebook's cells tagged `library` (after editing them).
module: setup
	$(PY) -m tools.export_library

benchmark: data
	$(PY) tools/benchmark.py

badge:
	$(PYTHON) tools/colab_badge.py $(COLAB_REPO)
