"""Load model files with and without compiling them and print, one JSON line each, the file, whether
it was compiled, the Keras version and the accuracy on the given prepared images and labels.

Run by tests/test_colab_runtime.py in the environment with the newest TensorFlow and Keras
(`make latest-env`), on the committed mnist_model.h5 and mnist_model.keras:
    python evaluate_in_newest_keras.py IMAGES.npy LABELS.npy MODEL_FILE...
"""

import json
import sys

import keras
import numpy as np

x, y = np.load(sys.argv[1]), np.load(sys.argv[2])
for path in sys.argv[3:]:
    for compile in (True, False):
        model = keras.models.load_model(path, compile=compile)
        predictions = model.predict(x, batch_size=1000, verbose=0).argmax(axis=1)
        accuracy = float(np.mean(predictions == y))
        result = {"file": path, "compile": compile, "keras": keras.__version__}
        print(json.dumps({**result, "accuracy": round(accuracy, 4)}))
