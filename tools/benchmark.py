"""Train Keras' "Simple MNIST convnet" reference and the notebook's recipe side by side; compare.

    python tools/benchmark.py [--seeds N] [--epochs E] [--ensemble-size K]
    MNIST_PRESET=gpu python tools/benchmark.py       # the notebook's GPU preset (an ensemble)
    KERAS_BACKEND=jax python tools/benchmark.py      # on Keras' JAX backend, e.g. on a GPU machine
                                                     # without TensorFlow

Both run in this process on the same data. For each, it prints the parameter count, the test
accuracy after every epoch, the seconds to first reach 99.0% test accuracy, the total training
seconds and the final test accuracy, then the notebook / reference ratios. Test accuracy is
measured after each epoch only to draw this speed curve; its time is not counted as training, and
the notebook itself never looks at the test set before its final evaluation. For an ensemble the
curve runs on through its members, each epoch scored with the members trained so far.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

import digit_reader as library
from tools.export_library import notebook_parameters
from tools.machine import describe_machine

settings = notebook_parameters()  # the notebook's Parameters cell
keras = library.keras
TARGET = 0.99


class TestAccuracyCurve(keras.callbacks.Callback):
    """Records training seconds (evaluation excluded) and test accuracy after every epoch.

    For an ensemble, one curve follows all members in turn: when the next member starts training the
    clock carries on and the accuracy is that of the finished members' probabilities averaged with
    the current one's."""

    def __init__(self, x_test, y_test):
        super().__init__()
        self.x_test, self.y_test = x_test, y_test
        self.seconds, self.accuracy = [], []
        self.tracked, self.finished_probabilities, self.finished = None, 0.0, 0

    def on_train_begin(self, logs=None):
        if self.tracked is not None:  # the next member of an ensemble
            self.finished_probabilities = self.finished_probabilities + self.tracked.predict(
                self.x_test, batch_size=1000, verbose=0
            )
            self.finished += 1
        self.tracked = self.model

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self.epoch_start
        self.seconds.append((self.seconds[-1] if self.seconds else 0.0) + elapsed)
        probabilities = self.finished_probabilities + self.tracked.predict(
            self.x_test, batch_size=1000, verbose=0
        )
        self.accuracy.append(float(np.mean(probabilities.argmax(axis=1) == self.y_test)))
        print(
            f"    epoch {len(self.seconds):3d}: {self.seconds[-1]:7.1f} s, "
            f"test accuracy {self.accuracy[-1]:.2%}"
            + (f" ({self.finished + 1} models)" if self.finished else ""),
            flush=True,
        )


def reference_run(data, seed, epochs=15):
    """keras-io examples/vision/mnist_convnet.py, as published."""
    (x_train, y_train), (x_test, y_test) = data
    keras.backend.clear_session()
    library.fix_seeds(seed, settings.DETERMINISTIC)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    curve = TestAccuracyCurve(library.prepare_images(x_test), y_test)
    model.fit(
        library.prepare_images(x_train),
        keras.utils.to_categorical(y_train, 10),
        batch_size=128,
        epochs=epochs,
        validation_split=0.1,
        callbacks=[curve],
        verbose=0,
    )
    return model, curve, curve.accuracy[-1]


def notebook_run(data, seed, epochs, ensemble_size):
    """The notebook's model(s) and recipe with its parameters (outlier exposure included), trained
    by its train_ensemble()."""
    (x_train, y_train), (x_test, y_test) = data
    keras.backend.clear_session()
    library.fix_seeds(seed, settings.DETERMINISTIC)
    (x_fit, y_fit), validation = library.split_train_validation(
        x_train, y_train, settings.VALIDATION_FRACTION, seed
    )
    # outlier exposure, as the notebook trains (drawing the non-digits is not training time)
    x_fit, y_fit = library.with_non_digits(x_fit, y_fit, settings.NON_DIGIT_SHARE, seed)
    accelerators = library.list_accelerators()
    precision = library.choose_precision(settings.PRECISION, accelerators)
    curve = TestAccuracyCurve(library.prepare_images(x_test), y_test)
    with tempfile.TemporaryDirectory() as scratch:
        members, _ = library.train_ensemble(
            (x_fit, y_fit),
            validation,
            library.choose_strategy(accelerators),
            ensemble_size=ensemble_size,
            architecture=settings.ARCHITECTURE,
            seed=seed,
            batch_size=settings.BATCH_SIZE,
            learning_rate=settings.LEARNING_RATE,
            backup_dir=f"{scratch}/backup",
            precision=precision,
            epochs=epochs,
            label_smoothing=settings.LABEL_SMOOTHING,
            max_shift=settings.MAX_SHIFT,
            max_rotation=settings.MAX_ROTATION,
            checkpoint_path=f"{scratch}/best.weights.h5",
            verbose=0,
            callbacks=[curve],
        )
    # best-on-validation weights
    final_model = library.average_models([library.portable_copy(member) for member in members])
    probabilities = final_model.predict(curve.x_test, batch_size=1000, verbose=0)
    return final_model, curve, float(np.mean(probabilities.argmax(axis=1) == y_test))


def summarize(name, model, curve, final):
    reached = next(
        (s for s, a in zip(curve.seconds, curve.accuracy, strict=True) if a >= TARGET), float("nan")
    )
    print(
        f"  {name}: {model.count_params():,} parameters, {len(curve.seconds)} epochs, "
        f"{reached:.1f} s to {TARGET:.1%}, {curve.seconds[-1]:.1f} s training, "
        f"final test accuracy {final:.2%}"
    )
    return {
        "to_target": reached,
        "seconds": curve.seconds[-1],
        "accuracy": final,
        "error": 1 - final,
    }


def mean_std(values):
    return f"{np.mean(values):.4g} ± {np.std(values):.2g}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=int, default=1, help="repeat with this many seeds and report mean ± std"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=settings.EPOCHS,
        help="the notebook recipe's epochs (default: the notebook's)",
    )
    parser.add_argument(
        "--ensemble-size",
        type=int,
        default=settings.ENSEMBLE_SIZE,
        help="models in the notebook's ensemble (default: the notebook's)",
    )
    parser.add_argument(
        "--data", default=settings.DATA_DIR, help="offline MNIST folder (default: data/mnist)"
    )
    args = parser.parse_args(argv)
    print(f"Machine: {describe_machine(library)}")
    data = library.load_mnist(settings.IDX_PATH, args.data)
    results = {"reference": [], "notebook": []}
    for seed in range(settings.SEED, settings.SEED + args.seeds):
        print(f"Seed {seed}")
        print("  reference (keras-io Simple MNIST convnet, 15 epochs):")
        results["reference"].append(summarize("reference", *reference_run(data, seed)))
        print(
            f"  notebook recipe ({settings.PRESET} preset: {args.ensemble_size} model(s), "
            f"{args.epochs} epochs each):"
        )
        results["notebook"].append(
            summarize("notebook", *notebook_run(data, seed, args.epochs, args.ensemble_size))
        )
    print(f"\nSummary over {args.seeds} seed(s):")
    for name, runs in results.items():
        print(
            f"  {name:9s}: final test accuracy {mean_std([r['accuracy'] for r in runs])}, "
            f"training {mean_std([r['seconds'] for r in runs])} s, "
            f"to {TARGET:.1%} {mean_std([r['to_target'] for r in runs])} s"
        )
    ratio = {
        key: np.mean([n[key] for n in results["notebook"]])
        / np.mean([r[key] for r in results["reference"]])
        for key in ("seconds", "to_target", "error")
    }
    print(
        f"  notebook / reference: training time ×{ratio['seconds']:.2f}, "
        f"time to {TARGET:.1%} ×{ratio['to_target']:.2f}, test error ×{ratio['error']:.2f}"
    )


if __name__ == "__main__":
    main()
