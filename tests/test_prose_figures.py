"""Figures in the README and in the notebook's prose that describe the committed run agree with
`mnist_metrics.json` and the Parameters cell, so that they cannot go stale."""

import json
import re

import pytest

from conftest import ROOT
from tools.export_library import NOTEBOOK

METRICS = json.loads((ROOT / "mnist_metrics.json").read_text())


def percent(fraction):
    """As the prose writes it, without the % sign: 0.9959 -> "99.59"."""
    return f"{fraction * 100:.2f}"


def expected_figures(metrics, parameters):
    """Each phrasing of a committed-run figure, and the values it may take."""
    wrong = round((1 - metrics["test_accuracy"]) * 10_000)
    return {
        r"(\d+\.\d+)% test accuracy": {
            percent(metrics["test_accuracy"]),
            percent(parameters.ACCURACY_BAR),
        },
        r"test accuracy \| (\d+\.\d+)%": {percent(metrics["test_accuracy"])},
        r"test accuracy >= (\d+\.\d+)%": {percent(parameters.ACCURACY_BAR)},
        r"([\d,]+) of 10,000 digits wrong": {f"{wrong:,}"},
        r"calibration error (\d+\.\d+)%": {percent(metrics["test_ece"])},
        r"(\d+\.\d+)% before temperature scaling": {percent(metrics["test_ece_uncalibrated"])},
        r"(\d+) epochs, \d+ s": {str(metrics["epochs"])},
        r"\d+ epochs, (\d+) s": {f"{metrics['training_seconds']:.0f}"},
        r"\d+ epochs, \d+ s, (\w+)": {metrics["training_precision"]},
        r"parameters \| ([\d,]+)": {f"{metrics['parameters']:,}"},
    }


def prose():
    """The README and the notebook's markdown cells, by where they come from."""
    notebook = json.loads(NOTEBOOK.read_text())
    texts = {"README.md": (ROOT / "README.md").read_text()}
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "markdown":
            texts[f"{NOTEBOOK.name} cell {index}"] = "".join(cell["source"])
    return texts


def disagreements(texts, figures):
    """(where, phrase, value found, values allowed) for each figure that differs; and how many were
    checked."""
    found, checked = [], 0
    for where, text in texts.items():
        for pattern, allowed in figures.items():
            for match in re.finditer(pattern, text):
                checked += 1
                if match[1] not in allowed:
                    found.append((where, match[0], match[1], sorted(allowed)))
    return found, checked


@pytest.fixture(scope="module")
def figures(parameters):
    return expected_figures(METRICS, parameters)


def test_prose_figures_agree_with_the_committed_run(figures):
    found, checked = disagreements(prose(), figures)
    assert found == []
    assert checked >= 10  # the README's Results table, the nbval bar and the notebook's promise


def test_every_phrasing_is_found(figures):
    """No pattern is dead: each finds its figure somewhere, so a reworded sentence can't slip by."""
    for pattern in figures:
        assert disagreements(prose(), {pattern: set()})[1] > 0, pattern


def stale_figures(metrics):
    """(a figure as the README writes it, the same figure gone stale) for four kinds of figure."""
    wrong = round((1 - metrics["test_accuracy"]) * 10_000)
    ece, seconds, epochs = metrics["test_ece"], metrics["training_seconds"], metrics["epochs"]
    return [
        (f"{wrong:,} of 10,000", f"{wrong + 1:,} of 10,000"),
        (f"{epochs} epochs", f"{epochs + 5} epochs"),
        (f"error {percent(ece)}%", f"error {percent(ece + 0.001)}%"),
        (f"{seconds:.0f} s", f"{seconds + 100:.0f} s"),
    ]


@pytest.mark.parametrize("kind", range(4))
def test_a_stale_figure_is_caught(figures, kind):
    current, stale = stale_figures(METRICS)[kind]
    readme = prose()["README.md"]
    assert current in readme
    found, _ = disagreements({"README.md": readme.replace(current, stale)}, figures)
    assert len(found) == 1 and found[0][2] in stale
