"""Build the notebook's model with random weights, the way the notebook saves it (a float32 copy of
a mixed_bfloat16 model), and write into FOLDER model.h5, model.keras, random images.npy and the
model's expected.npy predictions for them; print the Keras version as one JSON line.

Run by tests/test_colab_runtime.py in the environment with the newest TensorFlow and Keras
(`make latest-env`), to check that Colab's Keras loads what the newest one saves:
    python save_in_newest_keras.py FOLDER
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import digit_reader as library
from tools.export_library import notebook_parameters

settings = notebook_parameters()
library.keras.utils.set_random_seed(0)
# as the notebook's save step does
built = library.build_model(**settings.ARCHITECTURE, dtype="mixed_bfloat16")
model = library.portable_copy(built)
images = library.np.random.default_rng(0).random((8, 28, 28, 1), dtype="float32")
library.np.save(sys.argv[1] + "/expected.npy", model.predict(images, verbose=0))
library.np.save(sys.argv[1] + "/images.npy", images)
model.save(sys.argv[1] + "/model.h5")
model.save(sys.argv[1] + "/model.keras")
print(json.dumps({"keras": library.keras.__version__}))
