"""Train the notebook's recipe on a subset of MNIST through its library functions, printing epoch
events and the result (replicas, history, accuracy, a hash of the weights) one per line.

Run by tests/test_training.py (killed mid-run, resumed, rerun, and on two logical CPUs):
    python train_and_report.py BACKUP_DIR CHECKPOINT MODE DATA_DIR SUBSET EPOCHS
MODE is "notebook" (deterministic ops, the notebook's default strategy) or "mirrored" (two logical
CPUs).
"""

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import digit_reader as library
from tools.export_library import notebook_parameters

settings = notebook_parameters()
keras, np, tf = library.keras, library.np, library.tf
backup_dir, checkpoint, mode, data_dir = sys.argv[1:5]
subset, epochs = int(sys.argv[5]), int(sys.argv[6])
if mode == "mirrored":
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
else:
    strategy = library.choose_strategy([])
print("replicas", strategy.num_replicas_in_sync, flush=True)
(x, y), (x_test, y_test) = library.read_idx_files(data_dir)
library.fix_seeds(0, deterministic=mode == "notebook")  # the notebook's default: deterministic ops
(x_fit, y_fit), validation = library.split_train_validation(x[:subset], y[:subset], 0.1, 0)


class EpochEvents(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        print("begin", epoch, flush=True)

    def on_epoch_end(self, epoch, logs=None):
        print("end", epoch, flush=True)


(model,), (history,) = library.train_ensemble(
    (x_fit, y_fit),
    validation,
    strategy,
    ensemble_size=1,
    architecture=settings.ARCHITECTURE,
    seed=0,
    batch_size=64,
    learning_rate=3e-3,
    epochs=epochs,
    label_smoothing=settings.LABEL_SMOOTHING,
    max_shift=settings.MAX_SHIFT,
    max_rotation=settings.MAX_ROTATION,
    backup_dir=backup_dir,
    checkpoint_path=checkpoint,
    verbose=0,
    callbacks=[EpochEvents()],
)
print("history", *history.epoch, flush=True)
print("seconds", *history.history["seconds"], flush=True)
print("val_accuracy", *history.history["val_accuracy"], flush=True)
images = library.prepare_images(x_test[:2000])
predictions = model.predict(images, batch_size=500, verbose=0).argmax(axis=1)
print("accuracy", np.mean(predictions == y_test[:2000]), flush=True)
weights = b"".join(w.tobytes() for w in model.get_weights())
print("weights", hashlib.sha256(weights).hexdigest(), flush=True)
