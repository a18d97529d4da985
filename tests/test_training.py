"""Training survives real use: resume after a kill, reproducible reruns, two replicas (run on small subsets)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import DATA_DIR, ROOT

pytestmark = pytest.mark.slow

SUBSET, EPOCHS = 6000, 4

# Trains the notebook's recipe on a subset through its library functions; prints epoch events and the result.
TRAIN_SCRIPT = textwrap.dedent(f"""
    import hashlib, sys
    sys.path.insert(0, {str(ROOT)!r})
    import digit_reader as library
    from tools.export_library import notebook_parameters
    settings = notebook_parameters()
    keras, np, tf = library.keras, library.np, library.tf
    backup_dir, checkpoint, mode = sys.argv[1:4]
    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    else:
        strategy = library.choose_strategy([])
    print("replicas", strategy.num_replicas_in_sync, flush=True)
    (x, y), (x_test, y_test) = library.read_idx_files({str(DATA_DIR)!r})
    library.fix_seeds(0, deterministic=mode == "notebook")  # the notebook's default: deterministic ops
    (x_fit, y_fit), validation = library.split_train_validation(x[:{SUBSET}], y[:{SUBSET}], 0.1, 0)

    class EpochEvents(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            print("begin", epoch, flush=True)
        def on_epoch_end(self, epoch, logs=None):
            print("end", epoch, flush=True)

    (model,), (history,) = library.train_ensemble(
        (x_fit, y_fit), validation, strategy, ensemble_size=1, architecture=settings.ARCHITECTURE, seed=0,
        batch_size=64, learning_rate=3e-3, epochs={EPOCHS}, label_smoothing=settings.LABEL_SMOOTHING,
        max_shift=settings.MAX_SHIFT, max_rotation=settings.MAX_ROTATION, backup_dir=backup_dir, checkpoint_path=checkpoint,
        verbose=0, callbacks=[EpochEvents()])
    print("history", *history.epoch, flush=True)
    print("seconds", *history.history["seconds"], flush=True)
    print("val_accuracy", *history.history["val_accuracy"], flush=True)
    predictions = model.predict(library.prepare_images(x_test[:2000]), batch_size=500, verbose=0).argmax(axis=1)
    print("accuracy", np.mean(predictions == y_test[:2000]), flush=True)
    print("weights", hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest(), flush=True)
""")


def start(tmp_path, mode="notebook"):
    return subprocess.Popen([sys.executable, "-c", TRAIN_SCRIPT, str(tmp_path / "backup"), str(tmp_path / "run.weights.h5"), mode],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def finish(process, timeout=300):
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out
    return parse(out.splitlines())


def parse(lines):
    events = [line.split() for line in lines if line.split()]
    return {
        "begun": [int(e[1]) for e in events if e[0] == "begin"],
        "accuracy": next(float(e[1]) for e in events if e[0] == "accuracy"),
        "weights": next(e[1] for e in events if e[0] == "weights"),
        "replicas": next(int(e[1]) for e in events if e[0] == "replicas"),
        "history": next([int(x) for x in e[1:]] for e in events if e[0] == "history"),
        "seconds": next([float(x) for x in e[1:]] for e in events if e[0] == "seconds"),
        "val_accuracy": next([float(x) for x in e[1:]] for e in events if e[0] == "val_accuracy"),
    }


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    result = finish(start(tmp_path_factory.mktemp("uninterrupted")))
    assert result["begun"] == list(range(EPOCHS)) and result["accuracy"] > 0.95
    return result


def test_training_resumes_after_sigkill(tmp_path, uninterrupted):
    process = start(tmp_path)
    seen = []
    deadline = time.monotonic() + 300
    for line in process.stdout:  # kill it as soon as two epochs have finished (and been backed up)
        seen.append(line)
        if line.strip() == "end 1" or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert "end 1\n" in seen, "".join(seen)
    assert (tmp_path / "backup" / "mnist_cnn").is_dir()

    resumed = finish(start(tmp_path))
    assert resumed["begun"] == list(range(2, EPOCHS)), "resumed run repeated finished epochs"
    # ...and reports the whole run: every epoch's history and time, the killed run's included.
    assert resumed["history"] == list(range(EPOCHS))
    assert len(resumed["seconds"]) == EPOCHS and min(resumed["seconds"]) > 0
    assert resumed["val_accuracy"][:2] == pytest.approx(uninterrupted["val_accuracy"][:2], abs=0.02)
    assert not list(tmp_path.rglob("*history.csv")), "a finished run deletes its history log"
    assert abs(resumed["accuracy"] - uninterrupted["accuracy"]) < 0.015
    assert not (tmp_path / "backup" / "mnist_cnn").exists(), "a finished run deletes its backup"


def test_deterministic_reruns_give_identical_weights(tmp_path, uninterrupted):
    rerun = finish(start(tmp_path))
    assert rerun["weights"] == uninterrupted["weights"]
    assert rerun["accuracy"] == uninterrupted["accuracy"]


def test_mirrored_strategy_on_two_logical_cpus(tmp_path, uninterrupted):
    mirrored = finish(start(tmp_path, "mirrored"))
    assert mirrored["replicas"] == 2
    assert abs(mirrored["accuracy"] - uninterrupted["accuracy"]) < 0.015
