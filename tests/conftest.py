import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from tools.export_library import notebook_parameters  # noqa: E402

MODEL_PATH = ROOT / "mnist_model.h5"
DATA_DIR = ROOT / "data" / "mnist"
# Python programs that tests run in a process of their own.
PROGRAMS = ROOT / "tests" / "programs"


@pytest.fixture(scope="session")
def library():
    """digit_reader: the module generated from the notebook's `library` cells
    (tests/test_digit_reader.py checks that it is current)."""
    import digit_reader

    return digit_reader


@pytest.fixture(scope="session")
def parameters():
    """The settings of the notebook's Parameters cell."""
    return notebook_parameters()


@pytest.fixture(scope="session")
def trained_model(library):
    """The committed, trained model."""
    import keras

    return keras.models.load_model(MODEL_PATH)


@pytest.fixture(scope="session")
def mnist(library):
    """Real MNIST, from the offline copy that `make data` writes."""
    return library.read_idx_files(DATA_DIR)


@pytest.fixture(scope="session")
def mnist_test(mnist):
    return mnist[1]


def over_read_shifts(library, outputs, fields):
    """The reference for reading over shifts: `outputs` (a function of a batch) for `fields` shifted
    by each of READ_SHIFTS, averaged."""
    shifted = [np.roll(fields, shift, axis=(1, 2)) for shift in library.READ_SHIFTS]
    return np.mean([outputs(x) for x in shifted], axis=0)
