"""Load the functions the notebook defines in its cells tagged `library`, and the settings of its
Parameters cell, without running the rest.

Tests and benchmarks use this so they exercise the notebook's own code, not a copy:

    from tools.notebook_library import load_notebook_library
    nb = load_notebook_library()
    model = nb.build_model(**nb.ARCHITECTURE)
"""
import json
import linecache
import sys
import types
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent.parent / "Hand_Written_Digit_Classification.ipynb"


def tagged_source(notebook=NOTEBOOK, tags=("library",)) -> str:
    """The source of the notebook's code cells carrying any of `tags`, in order, as one Python program."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    return "\n\n".join(
        "".join(cell["source"])
        for cell in cells
        if cell["cell_type"] == "code" and set(tags) & set(cell.get("metadata", {}).get("tags", []))
    )


def load_notebook_library(notebook=NOTEBOOK, tags=("library", "parameters")) -> types.ModuleType:
    """Run the `library` cells and the Parameters cell (MNIST_<NAME> overrides apply) in a fresh module;
    tags=("library",): the functions alone."""
    source, filename = tagged_source(notebook, tags), f"{Path(notebook).name}{list(tags)}"
    # AutoGraph converts functions by reading their source and module: make both findable.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = sys.modules["notebook_library"] = types.ModuleType("notebook_library")
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)
    return module
