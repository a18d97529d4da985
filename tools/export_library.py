"""Generate digit_reader.py from the notebook's cells tagged `library`, or check that it is current.

    python -m tools.export_library           # (re)writes digit_reader.py
    python -m tools.export_library --check   # exit status 1 when the module and the notebook differ

The notebook stays the one source: the module is its `library` cells, in order, under a header, and
a test fails when the two differ. notebook_parameters() gives the settings of the notebook's
Parameters cell (with MNIST_<NAME> overrides), for the tests and benchmarks that reproduce the
notebook's run.
"""

import argparse
import json
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "Hand_Written_Digit_Classification.ipynb"
MODULE = ROOT / "digit_reader.py"
# (A backslash at a line's end joins the next line to it: the module's first line is one line.)
HEADER = '''"""Read handwritten digits and numbers with the model \
Hand_Written_Digit_Classification.ipynb trains.

    from digit_reader import load_digit_model, read_number

    model = load_digit_model("mnist_model.h5")
    print(read_number(model, "my_number.jpg").text)

Generated from the notebook's cells tagged `library` by tools/export_library.py: edit the notebook,
then run `python -m tools.export_library`. Importing it trains nothing, downloads nothing and starts
no server; the settings it needs have defaults and functions take them as arguments.
"""
'''


def tagged_cells(notebook, tag):
    """The sources of the notebook's code cells tagged `tag`, in order."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    return [
        "".join(cell["source"])
        for cell in cells
        if cell["cell_type"] == "code" and tag in cell.get("metadata", {}).get("tags", [])
    ]


def module_source(notebook=NOTEBOOK) -> str:
    """The module's text: the header, then the notebook's `library` cells in order."""
    return "\n\n\n".join([HEADER.rstrip("\n"), *tagged_cells(notebook, "library")]) + "\n"


def notebook_parameters(notebook=NOTEBOOK) -> types.SimpleNamespace:
    """The settings the notebook's Parameters cell defines (MNIST_<NAME> overrides apply), computed
    with digit_reader's functions."""
    import digit_reader

    library = vars(digit_reader)
    # The Setup cell that defines ACCELERATORS is not a library cell.
    namespace = dict(library, ACCELERATORS=digit_reader.list_accelerators())
    (source,) = tagged_cells(notebook, "parameters")
    exec(compile(source, f"{Path(notebook).name}[parameters]", "exec"), namespace)
    settings = {
        name: value
        for name, value in namespace.items()
        if name.isupper() and (name not in library or library[name] is not value)
    }
    return types.SimpleNamespace(**settings)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only check that the module is current"
    )
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK)
    parser.add_argument("--module", type=Path, default=MODULE)
    args = parser.parse_args(argv)
    source = module_source(args.notebook)
    if not args.check:
        args.module.write_text(source)
        return 0
    if args.module.exists() and args.module.read_text() == source:
        return 0
    print(
        f"{args.module.name} differs from {args.notebook.name}'s library cells: "
        "edit the notebook, then run `python -m tools.export_library`",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
