import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from tools.notebook_library import load_notebook_library  # noqa: E402

MODEL_PATH = ROOT / "mnist_model.h5"
DATA_DIR = ROOT / "data" / "mnist"


@pytest.fixture(scope="session")
def library():
    """The functions defined in the notebook's `library` cells, and the settings of its Parameters cell."""
    return load_notebook_library()


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
