"""Train one epoch on random digits with the strategy the library chooses for all local devices,
then print the backend, the strategy's class, its replica count and how many devices the first
weight is sharded over.

Run by tests/test_hardware_choices.py on Keras' JAX backend with two host devices and no TensorFlow:
    python jax_data_parallel.py FOLDER
FOLDER takes the training backup and the best weights.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import digit_reader as library
from tools.export_library import notebook_parameters

settings = notebook_parameters()
strategy = library.choose_strategy(library.list_accelerators())
images = library.np.random.default_rng(0).random((512, 28, 28, 1), dtype="float32")
labels = library.keras.utils.to_categorical(library.np.arange(512) % 10, 10)
with strategy.scope():
    (model,), _ = library.train_ensemble(
        (images, labels),
        (images[:64], labels[:64]),
        strategy,
        ensemble_size=1,
        architecture=settings.ARCHITECTURE,
        seed=0,
        batch_size=64,
        learning_rate=1e-3,
        epochs=1,
        label_smoothing=0.1,
        max_shift=0.1,
        max_rotation=0.03,
        backup_dir=sys.argv[1] + "/backup",
        checkpoint_path=sys.argv[1] + "/best.weights.h5",
        verbose=0,
    )
print(
    library.BACKEND,
    type(strategy).__name__,
    strategy.num_replicas_in_sync,
    len(model.weights[0].value.sharding.device_set),
)
