"""Stand-in for Colab's `google.colab`: records calls in the file named by COLAB_STANDIN_LOG."""

import json
import os


def record(call, *args):
    with open(os.environ["COLAB_STANDIN_LOG"], "a") as log:
        log.write(json.dumps([call, *map(str, args)]) + "\n")
