"""One Parameters cell is the single source of every setting: each MNIST_<NAME> overrides exactly
<NAME>, and the functions take the settings as arguments (the library cells alone define no
setting)."""

import contextlib
import os
import re

import pytest

from tools.export_library import NOTEBOOK, notebook_parameters, tagged_cells

(PARAMETERS_CELL,) = tagged_cells(NOTEBOOK, "parameters")
OVERRIDABLE = re.findall(r'^(\w+) = env_param\("(\w+)"', PARAMETERS_CELL, re.M)
NAMES = [name for name, _ in OVERRIDABLE]
DERIVED_FROM_PRESET = {"EPOCHS", "ENSEMBLE_SIZE"}  # their defaults are the preset's


def run_parameters_cell(monkeypatch, **environment):
    for name in os.environ:
        if name.startswith("MNIST_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = notebook_parameters()
    return {name: getattr(settings, name) for name in NAMES}


def another_value(name, value):
    """A valid value different from `value`, as an environment variable would spell it."""
    if isinstance(value, bool):
        return str(not value), not value
    if isinstance(value, tuple):
        return ",".join(str(2 * part) for part in value), tuple(2 * part for part in value)
    if isinstance(value, (int, float)):
        return str(value + 1), value + 1
    other = {"PRESET": "gpu" if value != "gpu" else "cpu", "PRECISION": "float32"}.get(
        name, value + "_elsewhere"
    )
    return other, other


def test_every_override_is_named_after_its_parameter():
    assert len(NAMES) >= 20
    assert [name for name, variable in OVERRIDABLE if name != variable] == []
    for setting in (
        "FILTERS",
        "KERNEL_SIZE",
        "DENSE_UNITS",
        "DROPOUT",
        "MAX_SHIFT",
        "MAX_ROTATION",
        "LABEL_SMOOTHING",
    ):
        assert setting in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_override_changes_exactly_its_parameter(monkeypatch, name):
    defaults = run_parameters_cell(monkeypatch)
    text, expected = another_value(name, defaults[name])
    overridden = run_parameters_cell(monkeypatch, **{f"MNIST_{name}": text})
    assert overridden[name] == expected
    unaffected = set(NAMES) - {name} - (DERIVED_FROM_PRESET if name == "PRESET" else set())
    assert {n: overridden[n] for n in unaffected} == {n: defaults[n] for n in unaffected}


def test_library_cells_alone_define_the_functions_and_no_setting(library):
    functions = library
    for function in (
        "build_model",
        "train_model",
        "train_ensemble",
        "compile_model",
        "with_augmentation",
        "load_mnist",
        "preprocess_digit_image",
        "predict_digits",
        "build_demo",
    ):
        assert callable(getattr(functions, function))
    assert [name for name in NAMES + ["ARCHITECTURE"] if hasattr(functions, name)] == []


class Replicas:
    """A stand-in for a tf.distribute strategy with `n` replicas."""

    def __init__(self, n):
        self.num_replicas_in_sync = n

    def scope(self):
        return contextlib.nullcontext()


@pytest.mark.parametrize("replicas", [1, 4])
def test_replicas_scale_the_batch_and_the_square_root_of_the_learning_rate(
    library, parameters, monkeypatch, replicas
):
    trained = []
    monkeypatch.setattr(
        library, "train_model", lambda model, *data, **settings: trained.append((model, settings))
    )
    members, _ = library.train_ensemble(
        None,
        None,
        Replicas(replicas),
        ensemble_size=2,
        architecture=parameters.ARCHITECTURE,
        seed=5,
        batch_size=64,
        learning_rate=1e-3,
        backup_dir="backup",
        epochs=3,
        label_smoothing=0.1,
        max_shift=0.1,
        max_rotation=0.03,
        checkpoint_path="best.weights.h5",
    )
    assert [model for model, _ in trained] == members and members[0] is not members[1]
    for index, (_, settings) in enumerate(trained):
        assert settings["batch_size"] == 64 * replicas
        assert settings["learning_rate"] == pytest.approx(1e-3 * replicas**0.5)
        assert settings["seed"] == 5 + index
    assert len({settings["backup_dir"] for _, settings in trained}) == 2  # one backup folder each
