"""Whole numbers read by the notebook's read_number(): exact share read right and time per picture.

    .venv/bin/python -m tools.benchmark_numbers [MODEL_PATH] [--count N] [--font-count N]

MNIST numbers: 4 digits side by side, composed by the notebook's compose_number() with gaps drawn
from -3 px (touching) to 30 px, from the validation split (read_number's settings are chosen on
these) and from the test set (reported, never tuned on); and non-digits amid digits: a picture
drawn by draw_non_digits() (not its pairs of digits) between two digits of the same split, 8 px
apart, should read "".
Font numbers: tools/people_sets.py's numbers of 2 to 6 digits in handwriting fonts, photographed
(on plain paper, and on ruled or squared paper) and drawn on a canvas, for the validation and the
evaluation fonts (skipped where the fonts are not installed).
"""

import argparse
import time

import numpy as np

import digit_reader as library
from tools import people_sets
from tools.export_library import notebook_parameters
from tools.machine import describe_machine

MIN_GAP, MAX_GAP = -3, 30  # pixels between neighbouring MNIST digits


def mnist_numbers(library, images, labels, count, length=4, seed=0):
    """`count` numbers of `length` MNIST digits, random gaps: (pictures, texts, smallest gaps)."""
    rng = np.random.default_rng(seed)
    pictures, texts, smallest = [], [], []
    for _ in range(count):
        chosen = rng.choice(len(images), length, replace=False)
        gaps = rng.integers(MIN_GAP, MAX_GAP + 1, length - 1)
        pictures.append(library.compose_number(images[chosen], gaps))
        texts.append("".join(str(label) for label in labels[chosen]))
        smallest.append(int(gaps.min()))
    return pictures, texts, np.array(smallest)


def non_digits_amid_digits(library, images, labels, count, seed=0):
    """`count` pictures: a non-digit drawn from these digits, between two of them, 8 px apart. Of
    the kinds that draw_non_digits() draws, all but its pairs of overlapping digits: amid digits,
    those are two digits, rightly read as such."""
    kinds = {kind: times for kind, times in library.NON_DIGIT_KINDS.items() if kind != "two digits"}
    rng = np.random.default_rng(seed)
    pictures = []
    for mark in library.draw_non_digits(count, images[:2000], labels[:2000], seed, kinds):
        first, last = images[rng.choice(len(images), 2, replace=False)]
        pictures.append(library.compose_number(np.stack([first, mark, last]), [8, 8]))
    return pictures


def read_all(library, model, pictures, texts):
    """(right: bool per picture, seconds per picture)."""
    right, seconds = [], []
    for picture, text in zip(pictures, texts, strict=True):
        start = time.perf_counter()
        right.append(library.read_number(model, picture).text == text)
        seconds.append(time.perf_counter() - start)
    return np.array(right), np.array(seconds)


def report(name, right, seconds):
    p50, p95 = np.percentile(seconds, [50, 95]) * 1000
    print(f"{name}: {right.mean():.1%} exact of {len(right)} (p50 {p50:.0f} ms, p95 {p95:.0f} ms)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="mnist_model.h5")
    parser.add_argument("--count", type=int, default=1000, help="MNIST numbers per split")
    parser.add_argument("--font-count", type=int, default=200, help="font numbers per set")
    args = parser.parse_args()
    model = library.load_digit_model(args.model)
    library.read_number(model, np.zeros((28, 28), np.uint8))  # the first call builds the graph
    print(f"machine: {describe_machine(library)}")
    settings = notebook_parameters()
    (train_images, train_labels), (test_images, test_labels) = library.load_mnist(
        settings.IDX_PATH, settings.DATA_DIR
    )
    (_, _), (valid_images, valid_labels) = library.split_train_validation(
        train_images, train_labels, settings.VALIDATION_FRACTION, settings.SEED
    )
    valid_images = library.as_pixels(valid_images)
    valid_labels = valid_labels.argmax(axis=1)
    splits = {"validation": (valid_images, valid_labels), "test": (test_images, test_labels)}
    for split, (images, labels) in splits.items():
        pictures, texts, smallest = mnist_numbers(library, images, labels, args.count)
        right, seconds = read_all(library, model, pictures, texts)
        report(f"MNIST {split} numbers of 4 digits, gaps {MIN_GAP}..{MAX_GAP} px", right, seconds)
        for low, high in ((MIN_GAP, 0), (1, 4), (5, MAX_GAP)):
            chosen = (smallest >= low) & (smallest <= high)
            print(f"  smallest gap {low}..{high} px: {right[chosen].mean():.1%} of {chosen.sum()}")
        pictures = non_digits_amid_digits(library, images, labels, args.count // 2)
        report(
            f'MNIST {split} non-digits amid digits, read ""',
            *read_all(library, model, pictures, [""] * len(pictures)),
        )
    for split in ("validation", "evaluation"):
        try:
            sets = people_sets.number_sets(split, args.font_count)
        except FileNotFoundError as err:
            print(f"font numbers skipped: {err}")
            break
        for name, (pictures, texts) in sets.items():
            report(f"{split} {name}", *read_all(library, model, pictures, texts))


if __name__ == "__main__":
    main()
