"""Import digit_reader with TensorFlow's device listing watched, then print whether Gradio got
loaded, how many threads and child processes are running, and which device lists were asked for.

Run by tests/test_digit_reader.py, in an empty folder that must stay empty:
    python import_digit_reader.py
"""

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import tensorflow as tf

asked = []
tf.config.list_physical_devices = lambda *a: asked.append(a) or []
import digit_reader

assert callable(digit_reader.read_number) and callable(digit_reader.load_digit_model)
import multiprocessing

print(
    "gradio" in sys.modules, threading.active_count(), len(multiprocessing.active_children()), asked
)
