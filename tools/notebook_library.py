"""Load the functions the notebook defines in its cells tagged `library`, without running the rest.

Tests and benchmarks use this so they exercise the notebook's own code, not a copy:

    from tools.notebook_library import load_notebook_library
    nb = load_notebook_library()
    model = nb.build_model()
"""
import json
import types
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent.parent / "Hand_Written_Digit_Classification.ipynb"


def library_source(notebook=NOTEBOOK) -> str:
    """The source of the notebook's `library` cells, in order, as one Python program."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    return "\n\n".join(
        "".join(cell["source"])
        for cell in cells
        if cell["cell_type"] == "code" and "library" in cell.get("metadata", {}).get("tags", [])
    )


def load_notebook_library(notebook=NOTEBOOK) -> types.ModuleType:
    """Run the `library` cells in a fresh module and return it."""
    module = types.ModuleType("notebook_library")
    module.__file__ = str(notebook)
    exec(compile(library_source(notebook), f"{Path(notebook).name}[library]", "exec"), module.__dict__)
    return module
