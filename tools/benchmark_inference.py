"""Inference speed of the digit classifier on this machine.

    python tools/benchmark_inference.py [MODEL_PATH] [--mnist T10K_IMAGES_GZ]

Prints the single-image latency of decode + preprocess + predict for photo-like JPEG and clean
PNG uploads (200x200), and the throughput of predict_digits on already-decoded arrays and of the
compiled model call (predict_proba) on preprocessed 28x28 inputs.
"""
import argparse
import io
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
MNIST = Path(__file__).resolve().parent.parent / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"

import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.notebook_library import load_notebook_library  # noqa: E402

library = load_notebook_library()  # the notebook's own preprocessing and prediction functions


def photo_like(digit, rng, side=200):
    """Dark pencil on grey paper under uneven light, with sensor noise (uint8 RGB)."""
    ink = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)) / 255
    v, u = np.mgrid[-1:1:side * 1j, -1:1:side * 1j]
    light = 0.8 + 0.2 * u * rng.uniform(-1, 1) - 0.1 * (u * u + v * v)
    grey = rng.uniform(0.7, 0.9) * (1 - 0.7 * ink) * light + rng.normal(0, 0.02, ink.shape)
    return np.repeat((np.clip(grey, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=2)


def encode(array, fmt):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **({"quality": 80} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def latency_ms(model, blobs, runs=300, warmup=30):
    for blob in blobs[:warmup]:
        library.predict_digits(model, blob)
    times = []
    for i in range(runs):
        start = time.perf_counter()
        library.predict_digits(model, blobs[i % len(blobs)])
        times.append(time.perf_counter() - start)
    return np.percentile(times, [50, 95]) * 1000


def throughput(fn, items, repeats=3):
    """Best of a few timed runs (after one warm-up), in items per second."""
    fn(items[:64])
    best = min(_timed(fn, items) for _ in range(repeats))
    return len(items) / best


def _timed(fn, items):
    start = time.perf_counter()
    fn(items)
    return time.perf_counter() - start


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    cores = len(os.sched_getaffinity(0))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cpu}; {cores} cores usable; load average {load}; TensorFlow {tf.__version__}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="mnist_model.h5")
    parser.add_argument("--mnist", type=Path, default=MNIST,
                        help="gzipped IDX test images (default: data/mnist/t10k-images-idx3-ubyte.gz)")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()

    model = library.load_digit_model(args.model)
    rng = np.random.default_rng(0)
    digits = library.read_idx(args.mnist.read_bytes(), args.mnist.name)[:args.batch]
    photos = [photo_like(d, rng) for d in digits]
    jpegs = [encode(p, "JPEG") for p in photos[:100]]
    pngs = [encode(255 - np.asarray(Image.fromarray(d).resize((200, 200))), "PNG")
            for d in digits[:100]]
    prepared = np.stack([library.preprocess_digit_image(d) for d in digits])

    print(f"machine: {machine()}")
    print(f"model: {args.model} ({model.count_params():,} parameters)")
    for name, blobs in (("photo-like 200x200 JPEG", jpegs), ("clean 200x200 PNG", pngs)):
        p50, p95 = latency_ms(model, blobs, args.runs)
        print(f"single image, {name}: decode+preprocess+predict p50 {p50:.2f} ms, "
              f"p95 {p95:.2f} ms ({args.runs} runs)")
    for name, items in (("decoded 200x200 RGB photo arrays", photos),
                        ("decoded 28x28 MNIST arrays", list(digits))):
        rate = throughput(lambda xs: library.predict_digits(model, xs), items)
        print(f"batch of {len(items)} {name}, predict_digits: {rate:,.0f} images/s")
    rate = throughput(lambda xs: library.predict_proba(model, xs), prepared)
    print(f"batch of {len(prepared)} preprocessed 28x28 inputs, predict_proba (compiled model call): "
          f"{rate:,.0f} images/s")


if __name__ == "__main__":
    main()
