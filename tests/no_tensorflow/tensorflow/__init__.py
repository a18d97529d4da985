"""Put this folder first on PYTHONPATH to run as on Colab's TPU runtime, where TensorFlow is not installed."""
raise ModuleNotFoundError("No module named 'tensorflow' (hidden by tests/no_tensorflow)", name="tensorflow")
