"""How the model reads people's handwriting and non-digit pictures, on the project's own sets.

    .venv/bin/python -m tools.benchmark_people [MODEL_PATH] [--per-digit N] [--count N]

Builds tools/people_sets.py's sets (Debian's handwriting fonts photographed on paper and drawn on a
canvas, and non-digits of both kinds) for the validation and the evaluation fonts, reads every
picture with the notebook's read_number(), and prints the share read right ("" counts as right for a
non-digit and as wrong for a digit), with the time per picture.
"""

import argparse
import time

import digit_reader as library
from tools import people_sets
from tools.machine import describe_machine


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="mnist_model.h5")
    parser.add_argument("--per-digit", type=int, default=100)
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args()
    model = library.load_digit_model(args.model)
    print(f"machine: {describe_machine(library)}")
    print(f"model: {args.model}, not a digit below {library.NOT_A_DIGIT_BELOW}")
    for split in ("validation", "evaluation"):
        for name, (pictures, labels) in people_sets.people_sets(
            split, args.per_digit, args.count
        ).items():
            start = time.perf_counter()
            texts = [reading.text for reading in library.read_numbers(model, pictures)]
            seconds = (time.perf_counter() - start) / len(pictures)
            right = people_sets.share_read_right(texts, labels)
            print(
                f"{split} {name}: {right:.1%} read right of {len(pictures)} "
                f"({seconds * 1000:.1f} ms each)"
            )


if __name__ == "__main__":
    main()
