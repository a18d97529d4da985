"""The notebook reads like a tutorial: machinery folded and titled, story visible, clean outputs."""

import json
import re

from tools.export_library import NOTEBOOK

CELLS = json.loads(NOTEBOOK.read_text())["cells"]
CODE = [cell for cell in CELLS if cell["cell_type"] == "code"]
# C++ log lines (glog/absl: E0000, W1123 12:00:00...), and the notice that they go to stderr.
LOG_LINE = re.compile(
    r"^(\S+ \S+: )?[EWIF]\d{4} |All log messages before absl::InitializeLog", re.M
)


def _source(cell):
    return "".join(cell["source"])


def _folded(cell):
    return cell["metadata"].get("jupyter", {}).get("source_hidden") is True


# The lesson stays in view: the network's layers and how it is compiled.
SHOWN = ("# @title build_model()", "# @title compile_model(): Adam with cosine decay")


def test_library_cells_are_titled_and_folded_but_the_model_is_shown():
    library = [cell for cell in CODE if "library" in cell["metadata"].get("tags", [])]
    assert library
    for cell in library:
        first_line = _source(cell).splitlines()[0]
        assert re.fullmatch(r"# @title \S.*", first_line), first_line  # Colab's form title
        shown = first_line in SHOWN
        # Colab folds forms
        assert (cell["metadata"].get("cellView") == "form") is not shown, first_line
        assert _folded(cell) is not shown, first_line  # JupyterLab
    shown_code = "".join(_source(cell) for cell in library if not _folded(cell))
    assert "keras.layers.Conv2D(" in shown_code and "model.compile(" in shown_code


def test_the_first_digit_grid_is_within_60_visible_code_lines():
    visible = 0
    for cell in CODE:
        if not _folded(cell):
            visible += len(_source(cell).splitlines())
        if "plot_digits(x_train" in _source(cell):
            break
    else:
        raise AssertionError("no cell plots the training digits")
    assert visible <= 60, visible


def test_every_step_has_a_visible_cell():
    """Folding is for machinery: each section still shows a cell that does its step."""
    section = None
    shown = {}  # section with code cells -> whether one of them is visible
    for cell in CELLS:
        if cell["cell_type"] == "markdown" and _source(cell).startswith("# "):
            section = _source(cell).splitlines()[0]
        elif cell["cell_type"] == "code":
            shown[section] = shown.get(section, False) or not _folded(cell)
    assert shown and all(shown.values()), [name for name, seen in shown.items() if not seen]


def test_committed_outputs_have_no_log_chatter():
    for cell in CODE:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", ""))
            assert not LOG_LINE.search(text), (_source(cell).splitlines()[0], text[:200])


def test_code_lines_fit_in_100_characters():
    long = [
        (_source(cell).splitlines()[0], line)
        for cell in CODE
        for line in _source(cell).splitlines()
        if len(line) > 100
    ]
    assert not long, long


def test_no_function_is_longer_than_40_lines():
    import ast

    source = "\n".join(_source(cell) for cell in CODE)
    # IPython magics (%pip) are not Python: an indented `pass` keeps the parse
    source = re.sub(r"^(\s*)%.*$", r"\1pass", source, flags=re.M)
    functions = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    assert len(functions) > 50
    long = {
        node.name: node.end_lineno - node.lineno + 1
        for node in functions
        if node.end_lineno - node.lineno >= 40
    }
    assert not long, long
