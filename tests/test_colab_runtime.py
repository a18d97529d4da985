"""Colab's runtime: the notebook uploaded alone (with a stand-in `google.colab`) and run twice, the
notebook on Keras' JAX backend with no TensorFlow (Colab's TPU runtime), and model files that load
in Colab's Keras and the newest."""

import json
import os
import subprocess
import zipfile

import numpy as np
import pytest

from conftest import DATA_DIR, MODEL_PATH, PROGRAMS, ROOT
from notebook_runs import cell_text, execute_copy

pytestmark = pytest.mark.slow

KERAS_MODEL_PATH = ROOT / "mnist_model.keras"
METRICS = json.loads((ROOT / "mnist_metrics.json").read_text())
# `make latest-env`: the newest TensorFlow and Keras
LATEST_PYTHON = ROOT / ".venv-latest" / "bin" / "python"


def python_path(folder):
    """PYTHONPATH with `folder` first."""
    return os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))


@pytest.fixture(scope="module")
def mnist_zip(tmp_path_factory):
    """MNIST's four IDX files in one .zip, as a user would keep them on Google Drive."""
    archive = tmp_path_factory.mktemp("drive") / "mnist.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted(DATA_DIR.iterdir()):
            zipped.write(file, f"mnist/{file.name}")
    return archive


def test_notebook_alone_in_colab_runs_twice_alike(tmp_path, monkeypatch, mnist_zip):
    ipython_dir = tmp_path / "ipython"
    (ipython_dir / "profile_default" / "startup").mkdir(parents=True)
    # Colab's kernel has google.colab imported before the first cell runs.
    (ipython_dir / "profile_default" / "startup" / "00-colab.py").write_text(
        "import google.colab\n"
    )
    log, drive = tmp_path / "colab_calls.jsonl", tmp_path / "drive"
    folder = tmp_path / "content"
    notebook, runs = execute_copy(
        folder,
        monkeypatch,
        {
            "PYTHONPATH": python_path(ROOT / "tests" / "colab_standin"),
            "IPYTHONDIR": ipython_dir,
            "COLAB_STANDIN_LOG": log,
            "MNIST_IDX_PATH": mnist_zip,
            "MNIST_BACKUP_TO_DRIVE": "true",
            "MNIST_DRIVE_DIR": drive,
            "MNIST_UPLOAD_OWN_DIGITS": "true",
        },
        runs=2,  # "Run all" again in the same kernel repeats the first run
    )
    assert runs[0] == runs[1]

    assert cell_text(notebook, "from importlib.metadata").strip().endswith("True"), (
        "the notebook saw no Colab"
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert ["drive.mount", str(drive)] in calls
    assert ["files.upload"] in calls
    assert ["files.download", "mnist_model.h5"] in calls
    assert (drive / "MyDrive").is_dir()
    assert not (drive / "MyDrive" / "mnist_training_backup" / "mnist_cnn").exists(), (
        "finished runs delete the backup"
    )
    metrics = runs[0][0]
    assert metrics["preset"] == "cpu" and metrics["train_images"] == 1800
    assert metrics["deterministic"] is True
    assert all(
        (folder / name).is_file()
        for name in ["mnist_model.h5", "images/own_digits.png", "images/confusion_matrix.png"]
    )


def test_notebook_on_jax_without_tensorflow(tmp_path, monkeypatch, mnist_zip, library, mnist_test):
    folder = tmp_path / "content"
    notebook, _ = execute_copy(
        folder,
        monkeypatch,
        {
            "KERAS_BACKEND": "jax",
            "MNIST_IDX_PATH": mnist_zip,
            "PYTHONPATH": python_path(ROOT / "tests" / "no_tensorflow"),
        },
    )

    assert ", jax " in cell_text(notebook, 'print(f"Python')
    assert "Op determinism skipped" in cell_text(notebook, "fix_seeds(SEED, DETERMINISTIC)")
    assert "export skipped" in cell_text(
        notebook, 'if BACKEND == "tensorflow":\n    export_savedmodel'
    )
    metrics = json.loads((folder / "mnist_metrics.json").read_text())
    assert metrics["backend"].startswith("jax ")
    # The model trained and saved on JAX loads here, on TensorFlow, and reads the test set the same
    # way.
    import keras

    x_test, y_test = mnist_test
    model = keras.models.load_model(folder / "mnist_model.h5")
    accuracy = np.mean(
        model.predict(library.prepare_images(x_test), verbose=0).argmax(axis=1) == y_test
    )
    assert abs(accuracy - metrics["test_accuracy"]) <= 2e-4


def run_in_latest_keras(program, *args):
    """Run tests/programs/`program` with `args` in the environment with the newest TensorFlow and
    Keras; return the JSON lines it printed."""
    if not LATEST_PYTHON.exists():
        pytest.fail(
            "no environment with the newest TensorFlow and Keras: "
            "run `make latest-env` (or `make test`)"
        )
    out = subprocess.run(
        [str(LATEST_PYTHON), str(PROGRAMS / program), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def test_committed_model_files_load_in_the_newest_keras(tmp_path, library, mnist_test):
    x_test, y_test = mnist_test
    np.save(tmp_path / "x.npy", library.prepare_images(x_test))
    np.save(tmp_path / "y.npy", y_test)
    results = run_in_latest_keras(
        "evaluate_in_newest_keras.py",
        tmp_path / "x.npy",
        tmp_path / "y.npy",
        MODEL_PATH,
        KERAS_MODEL_PATH,
    )
    print("newest Keras:", results[0]["keras"])
    assert len(results) == 4
    assert all(result["accuracy"] == METRICS["test_accuracy"] for result in results), results


def test_model_saved_by_the_newest_keras_loads_in_colabs(tmp_path):
    import keras

    results = run_in_latest_keras("save_in_newest_keras.py", tmp_path)
    print(f"saved by Keras {results[0]['keras']}, loaded by Keras {keras.__version__}")
    images, expected = np.load(tmp_path / "images.npy"), np.load(tmp_path / "expected.npy")
    for name in ("model.h5", "model.keras"):
        for compile in (True, False):
            model = keras.models.load_model(tmp_path / name, compile=compile)
            np.testing.assert_allclose(model.predict(images, verbose=0), expected, atol=1e-6)
