"""The notebook can be run all the way through twice in one kernel, and the second run repeats the
first."""

import json

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import DATA_DIR
from notebook_runs import NOTEBOOK, REDUCED


@pytest.mark.slow
def test_run_all_twice_in_the_same_kernel(tmp_path, monkeypatch):
    for name, value in {
        **REDUCED,
        "MNIST_DATA_DIR": str(DATA_DIR),
        "MNIST_OWN_DIGITS_DIR": str(tmp_path / "none"),
    }.items():
        monkeypatch.setenv(name, value)  # a reduced run, writing only into tmp_path
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    runs = []
    with client.setup_kernel():
        for _ in range(2):
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
            metrics = json.loads((tmp_path / "mnist_metrics.json").read_text())
            metrics.pop("training_seconds")
            checked = [
                cell.outputs
                for cell in notebook.cells
                if "nbval-check-output" in cell.metadata.get("tags", [])
            ]
            runs.append((metrics, checked))
    assert runs[0] == runs[1]
    assert runs[0][0]["train_images"] == 1800 and runs[0][0]["deterministic"] is True
    assert (tmp_path / "mnist_model.h5").is_file() and (
        tmp_path / "images" / "confusion_matrix.png"
    ).is_file()
