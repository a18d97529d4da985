"""Load a saved Keras model in a fresh process and print its accuracy on MNIST's test set, rounded
to four places.

Run by tests/test_model_files.py (the committed mnist_model.h5, compiled or not):
    python model_accuracy.py MODEL_PATH COMPILE DATA_DIR
COMPILE is "True" or "False".
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import keras
import numpy as np

import digit_reader as library

model_path, compile_model, data_dir = sys.argv[1], sys.argv[2] == "True", sys.argv[3]
model = keras.models.load_model(model_path, compile=compile_model)
_, (x_test, y_test) = library.read_idx_files(data_dir)
images = library.prepare_images(x_test)
predictions = model.predict(images, batch_size=1000, verbose=0).argmax(axis=1)
print(round(float(np.mean(predictions == y_test)), 4))
