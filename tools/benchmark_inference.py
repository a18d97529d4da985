"""Inference speed of the digit classifier on this machine.

    python tools/benchmark_inference.py [MODEL_PATH] [--mnist T10K_IMAGES_GZ]

Prints the single-image latency of decode + preprocess + predict for photo-like JPEG and clean PNG
uploads (200x200), the throughput of predict_digits on already-decoded arrays and of the compiled
model call (predict_proba) on preprocessed 28x28 inputs, and what hostile files cost
preprocess_digit_image: p50/p99 time and peak extra memory over adversarial shapes it generates
(extreme aspect ratios, the largest allowed pixel counts, noise, periodic patterns, a PostScript
file, and the security probe's files of tools/hostile_files.py), and what those files cost with the
structure checks off, when only the decoding worker's time and memory budget stands in their way.
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import digit_reader as library  # the notebook's own preprocessing and prediction
from tools import hostile_files
from tools.machine import describe_machine

MNIST = (
    Path(__file__).resolve().parent.parent / "data" / "mnist" / f"{library.IDX_STEMS['test'][0]}.gz"
)


def encode(array, fmt, **options):
    buffer = io.BytesIO()
    Image.fromarray(array).save(
        buffer, format=fmt, **({"quality": 80} if fmt == "JPEG" else {}), **options
    )
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


def adversarial_files(rng):
    """(name, file bytes) of inputs made to cost as much as the checks allow: at most
    MAX_FILE_BYTES, at most MAX_FULL_DECODE_PIXELS (MAX_PIXELS for JPEG), sides at most
    MAX_ASPECT:1; and a few beyond the limits."""

    def png(array, **options):
        return encode(array, "PNG", **options)

    def noise(height, width, *channels, dtype=np.uint8):
        return rng.integers(0, np.iinfo(dtype).max + 1, (height, width, *channels), dtype=dtype)

    budget = library.MAX_FILE_BYTES * 0.98
    side = int(np.sqrt(library.MAX_FULL_DECODE_PIXELS))
    long_side = (
        int(np.sqrt(library.MAX_FULL_DECODE_PIXELS * library.MAX_ASPECT)) - library.MAX_ASPECT
    )
    short_side = -(-long_side // library.MAX_ASPECT)
    stripes = np.zeros((side, side), np.uint8)
    stripes[:, ::2] = 255
    long_stripes = np.zeros((short_side, long_side), np.uint8)
    long_stripes[::3] = 255
    checks = (np.indices((side, side)).sum(axis=0) % 2 * 255).astype(np.uint8)
    grey, rgba, deep = (int(np.sqrt(budget / bytes_per_pixel)) for bytes_per_pixel in (1, 4, 2))
    jpeg_width = int(np.sqrt(library.MAX_PIXELS * 4 / 3))
    smooth = np.zeros((jpeg_width * 3 // 4, jpeg_width), np.uint8)
    smooth[::97] = 255
    # a noise JPEG at quality 80 takes about 0.7 byte a pixel
    noise_width = int(np.sqrt(budget / 0.7 * 4 / 3))
    return [
        ("20,000 x 8 PNG (the 253-byte kind)", png(np.zeros((8, 20_000), np.uint8), optimize=True)),
        ("80,000 x 8 PNG", png(np.zeros((8, 80_000), np.uint8), optimize=True)),
        (f"{long_side} x {short_side} stripes PNG (longest allowed)", png(long_stripes)),
        (f"{side} x {side} stripes PNG (most pixels allowed)", png(stripes)),
        (f"{side} x {side} checkerboard PNG", png(checks)),
        (f"{grey} x {grey} noise PNG (largest file allowed)", png(noise(grey, grey))),
        (f"{rgba} x {rgba} RGBA noise PNG", png(noise(rgba, rgba, 4))),
        (f"{deep} x {deep} 16-bit noise PNG", png(noise(deep, deep, dtype=np.uint16))),
        (
            f"{noise_width} x {noise_width * 3 // 4} noise JPEG",
            encode(noise(noise_width * 3 // 4, noise_width, 3), "JPEG"),
        ),
        (
            f"{jpeg_width} x {jpeg_width * 3 // 4} lines JPEG (most pixels allowed)",
            encode(smooth, "JPEG"),
        ),
        (
            "PostScript named .png",
            b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n",
        ),
        (
            "10,000 x 10,000 PNG header (bomb)",
            png(np.zeros((10_000, 10_000), np.uint8), optimize=True),
        ),
        (
            f"{side + 100} x {side + 100} noise PNG (over the file size limit)",
            png(noise(side + 100, side + 100)),
        ),
        *((name, make()) for name, make in hostile_files.HOSTILE_FILES.items()),
    ]


def kib(field):
    return next(
        int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field + ":")
    )


def peak_extra_mib(blob):
    """Peak memory that preprocessing `blob` adds: in a forked child whose peak-RSS mark is reset
    first (/proc/self/clear_refs), its peak RSS minus its RSS before the work. The child decodes in
    its own process, not in a worker, so that one number holds all of the work."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        library.ISOLATED_DECODING = False
        Path("/proc/self/clear_refs").write_text("5")
        before = kib("VmRSS")
        outcome(blob)
        os.write(writer, str(kib("VmHWM") - before).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        extra = int(pipe.read() or 0)
    os.waitpid(pid, 0)
    return extra / 1024


def outcome(blob, step=None):
    try:
        (step or library.preprocess_digit_image)(blob)
        return "read"
    except library.DigitImageError as err:
        return f"refused: {err}"


def times_s(blob, repeats, step=None):
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = outcome(blob, step)
        seconds.append(time.perf_counter() - start)
    return seconds, result


def adversarial_report(rng, repeats):
    """Each hostile file's cost, and how much of it is decoding alone (Pillow's decoder, reading at
    most WORK_SIDE pixels a side: the floor that the file-size and pixel limits set)."""
    times, decode_times, peaks = [], [], []
    for name, blob in adversarial_files(rng):
        seconds, result = times_s(blob, repeats)
        decoding, _ = times_s(blob, repeats, library._read_gray)
        peaks.append(peak_extra_mib(blob))
        times += seconds
        decode_times += decoding
        print(
            f"  {name}, {len(blob):,} bytes: median {np.median(seconds) * 1000:.1f} ms "
            f"(decoding {np.median(decoding) * 1000:.1f}), peak +{peaks[-1]:.0f} MiB, {result[:90]}"
        )
    p50, p99 = np.percentile(times, [50, 99]) * 1000
    print(
        f"adversarial inputs, preprocess_digit_image: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms, "
        f"peak extra memory {max(peaks):.0f} MiB ({len(times)} runs); "
        f"decoding alone: p99 {np.percentile(decode_times, 99) * 1000:.1f} ms"
    )


def backstop_report():
    """The probe's files with the structure checks off: what the decoding worker's budget alone
    allows (DECODE_SECONDS; DECODE_MEMORY is an address-space limit, so it cannot be exceeded)."""
    checks = library.STRUCTURE_CHECKS.copy()
    library.STRUCTURE_CHECKS.update(dict.fromkeys(checks, bool))
    try:
        times = []
        for name, make in hostile_files.HOSTILE_FILES.items():
            seconds, result = times_s(make(), 1)
            times += seconds
            print(f"  {name}: {seconds[0] * 1000:.0f} ms, {result[:90]}")
    finally:
        library.STRUCTURE_CHECKS.update(checks)
    print(
        f"structure checks off: max {max(times) * 1000:.0f} ms "
        f"(budget {library.DECODE_SECONDS:g} s, {library.DECODE_MEMORY / 1e6:.0f} MB)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="mnist_model.h5")
    parser.add_argument(
        "--mnist",
        type=Path,
        default=MNIST,
        help="gzipped IDX test images (default: data/mnist/t10k-images-idx3-ubyte.gz)",
    )
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--adversarial-repeats", type=int, default=10)
    args = parser.parse_args()

    model = library.load_digit_model(args.model)
    rng = np.random.default_rng(0)
    digits = library.read_idx(args.mnist.read_bytes(), args.mnist.name)[: args.batch]
    photos = [  # the notebook's photo-like rendering
        library.photo_like(
            np.asarray(Image.fromarray(d).resize((200, 200), Image.Resampling.BICUBIC)) / 255, rng
        )
        for d in digits
    ]
    jpegs = [encode(p, "JPEG") for p in photos[:100]]
    pngs = [
        encode(255 - np.asarray(Image.fromarray(d).resize((200, 200))), "PNG") for d in digits[:100]
    ]
    prepared = np.stack([library.preprocess_digit_image(d) for d in digits])

    print(f"machine: {describe_machine(library)}")
    print(f"model: {args.model} ({model.count_params():,} parameters)")
    for name, blobs in (("photo-like 200x200 JPEG", jpegs), ("clean 200x200 PNG", pngs)):
        p50, p95 = latency_ms(model, blobs, args.runs)
        print(
            f"single image, {name}: decode+preprocess+predict p50 {p50:.2f} ms, "
            f"p95 {p95:.2f} ms ({args.runs} runs)"
        )
    for name, items in (
        ("decoded 200x200 grey photo arrays", photos),
        ("decoded 28x28 MNIST arrays", list(digits)),
    ):
        rate = throughput(lambda xs: library.predict_digits(model, xs), items)
        print(f"batch of {len(items)} {name}, predict_digits: {rate:,.0f} images/s")
    rate = throughput(lambda xs: library.predict_proba(model, xs), prepared)
    print(
        f"batch of {len(prepared)} preprocessed 28x28 inputs, predict_proba (compiled model call): "
        f"{rate:,.0f} images/s"
    )
    print("hostile inputs (each: median time over the repeats, peak extra memory, outcome):")
    adversarial_report(rng, args.adversarial_repeats)
    print("the probe's files with the structure checks off (each once):")
    backstop_report()


if __name__ == "__main__":
    main()
