"""First on PYTHONPATH, this folder runs Python as on Colab's TPU runtime: without TensorFlow."""

raise ModuleNotFoundError(
    "No module named 'tensorflow' (hidden by tests/no_tensorflow)", name="tensorflow"
)
