"""The committed model and its exports: they load, reproduce the reported accuracy and agree with
each other."""

import json
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from conftest import DATA_DIR, MODEL_PATH, PROGRAMS, ROOT

METRICS = json.loads((ROOT / "mnist_metrics.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("compile_model", [True, False])
def test_committed_h5_reproduces_reported_accuracy_in_fresh_process(compile_model):
    program = PROGRAMS / "model_accuracy.py"
    arguments = [MODEL_PATH, compile_model, DATA_DIR]
    out = subprocess.run(
        [sys.executable, str(program), *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.split()[-1]) == METRICS["test_accuracy"]


@pytest.fixture(scope="module")
def keras_predictions(library, mnist_test, trained_model):
    x_test, _ = mnist_test
    x = library.prepare_images(x_test)
    return x, trained_model.predict(x, batch_size=1000, verbose=0)


def assert_same_predictions(probabilities, expected):
    np.testing.assert_array_equal(probabilities.argmax(axis=1), expected.argmax(axis=1))
    np.testing.assert_allclose(probabilities, expected, atol=1e-4)


@pytest.mark.slow
def test_savedmodel_and_tflite_match_keras(library, trained_model, keras_predictions, tmp_path):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    x, expected = keras_predictions
    library.export_savedmodel(trained_model, tmp_path / "savedmodel")
    served = tf.saved_model.load(str(tmp_path / "savedmodel")).signatures["serving_default"]
    assert_same_predictions(next(iter(served(tf.constant(x)).values())).numpy(), expected)

    library.export_tflite(tmp_path / "savedmodel", tmp_path / "model.tflite")
    interpreter = Interpreter(model_path=str(tmp_path / "model.tflite"))
    input_index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(input_index, x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_index, x)
    interpreter.invoke()
    assert_same_predictions(
        interpreter.get_tensor(interpreter.get_output_details()[0]["index"]), expected
    )


def with_config_from_a_newer_keras(config):
    """`config` with an initializer argument this Keras does not know, as Keras 3.15 wrote for Keras
    3.13."""
    for layer in config["config"]["layers"]:
        initializer = layer["config"].get("kernel_initializer")
        if initializer:
            initializer["config"]["an_argument_from_a_newer_keras"] = None
    return json.dumps(config)


def test_unreadable_config_falls_back_to_the_architecture_and_weights(
    library, parameters, trained_model, tmp_path
):
    import h5py
    import keras

    h5_path, keras_path = tmp_path / "newer.h5", tmp_path / "newer.keras"
    shutil.copy(MODEL_PATH, h5_path)
    with h5py.File(h5_path, "r+") as file:
        file.attrs["model_config"] = with_config_from_a_newer_keras(
            json.loads(file.attrs["model_config"])
        )
    with (
        zipfile.ZipFile(ROOT / "mnist_model.keras") as source,
        zipfile.ZipFile(keras_path, "w") as target,
    ):
        for name in source.namelist():
            data = source.read(name)
            target.writestr(
                name,
                with_config_from_a_newer_keras(json.loads(data)) if name == "config.json" else data,
            )

    images = np.random.default_rng(0).random((32, 28, 28, 1), dtype=np.float32)
    expected = trained_model.predict(images, verbose=0)
    for path in (h5_path, keras_path):
        with pytest.raises(Exception, match="an_argument_from_a_newer_keras"):
            keras.models.load_model(path, compile=False)
        with pytest.warns(UserWarning, match=f"could not rebuild the model saved in {path.name}"):
            model = library.load_digit_model(path, parameters.ARCHITECTURE)
        np.testing.assert_allclose(library.predict_proba(model, images), expected, atol=1e-6)
