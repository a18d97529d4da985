"""Execute the notebook in a kernel, the way Colab or Jupyter would, on a copy in a folder of the
test's own."""

import re
import shutil

import nbformat
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOK = ROOT / "Hand_Written_Digit_Classification.ipynb"
# A quick run of the whole notebook: one epoch on 2,000 digits, 300 pictures of each evaluation set.
REDUCED = {"MNIST_EPOCHS": "1", "MNIST_TRAIN_LIMIT": "2000", "MNIST_READ_LIMIT": "300"}


def execute_copy(folder, monkeypatch, env):
    """Copy the notebook alone into `folder`, set the environment variables `env` (on top of a
    reduced run) for its kernel, execute every cell there and return the executed notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = shutil.copy(NOTEBOOK, folder)
    for name, value in {**REDUCED, **env}.items():
        monkeypatch.setenv(name, str(value))
    notebook = nbformat.read(copy, as_version=4)
    NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return notebook


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
