"""Execute the notebook in a kernel, the way Colab or Jupyter would, on a copy in a folder of the
test's own."""

import json
import re
import shutil

import nbformat
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOK = ROOT / "Hand_Written_Digit_Classification.ipynb"
# A quick run of the whole notebook: one epoch on 2,000 digits, 300 pictures of each evaluation set.
REDUCED = {"MNIST_EPOCHS": "1", "MNIST_TRAIN_LIMIT": "2000", "MNIST_READ_LIMIT": "300"}


def execute_copy(folder, monkeypatch, env, runs=1):
    """Copy the notebook alone into `folder`, set the environment variables `env` (on top of a
    reduced run) for its kernel and execute every cell there `runs` times in the same kernel, as
    "Run all" again would. Return the executed notebook and, for each run, what must repeat: the
    metrics it wrote (less the training time) and the outputs of the cells nbval checks."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = shutil.copy(NOTEBOOK, folder)
    for name, value in {**REDUCED, **env}.items():
        monkeypatch.setenv(name, str(value))
    notebook = nbformat.read(copy, as_version=4)
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    repeated = []
    with client.setup_kernel():
        for _ in range(runs):
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
            metrics = json.loads((folder / "mnist_metrics.json").read_text())
            metrics.pop("training_seconds")
            checked = [
                cell.outputs
                for cell in notebook.cells
                if "nbval-check-output" in cell.metadata.get("tags", [])
            ]
            repeated.append((metrics, checked))
    return notebook, repeated


def cell_text(notebook, source_start):
    """All text output of the one code cell whose source starts with `source_start` (after its
    `# @title` line, if it has one)."""

    def code(cell):
        return re.sub(r"\A# @title .*\n", "", cell.source)

    [cell] = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and code(cell).startswith(source_start)
    ]
    return "".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "")
        for output in cell.outputs
    )
