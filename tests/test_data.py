"""load_mnist() and the IDX reader, on small files written here and on the real offline copy."""

import gzip
import struct
import zipfile

import numpy as np
import pytest

from tools.fetch_mnist import IDX_FILES, write_idx

NAMES = [name.removesuffix(".gz") for names in IDX_FILES.values() for name in names]


def test_the_tool_writes_the_files_the_notebook_reads(library):
    """The notebook is self-contained, so the file names stand in the notebook and in the tool: they
    must agree."""
    assert {
        split: tuple(f"{stem}.gz" for stem in stems) for split, stems in library.IDX_STEMS.items()
    } == IDX_FILES


def small_mnist(n_train=12, n_test=5, seed=0):
    rng = np.random.default_rng(seed)
    return (
        (
            rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n_train, dtype=np.uint8),
        ),
        (
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n_test, dtype=np.uint8),
        ),
    )


def write_split_files(folder, data, gz=True):
    """Write the four IDX files (gzipped unless gz=False) with the tool's writer."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = [data[0][0], data[0][1], data[1][0], data[1][1]]
    for name, array in zip(NAMES, arrays, strict=True):
        write_idx(folder / (name + ".gz"), array)
        if not gz:
            (folder / name).write_bytes(gzip.decompress((folder / (name + ".gz")).read_bytes()))
            (folder / (name + ".gz")).unlink()
    return folder


def assert_same(loaded, expected):
    for (x, y), (x_expected, y_expected) in zip(loaded, expected, strict=True):
        assert x.dtype == np.uint8 and y.dtype == np.uint8
        np.testing.assert_array_equal(x, x_expected)
        np.testing.assert_array_equal(y, y_expected)


@pytest.mark.parametrize("gz", [True, False])
def test_folder_round_trip(library, tmp_path, gz):
    data = small_mnist()
    assert_same(
        library.load_mnist(str(write_split_files(tmp_path / "mnist", data, gz)), "nowhere"), data
    )


def test_zip_with_subfolder_and_dotted_names(library, tmp_path):
    data = small_mnist()
    folder = write_split_files(tmp_path / "files", data, gz=False)
    archive = tmp_path / "mnist.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in NAMES:  # Kaggle's copies are named like train-images.idx3-ubyte
            zf.write(folder / name, f"MNIST/{name.replace('-idx', '.idx')}")
    assert_same(library.load_mnist(str(archive)), data)


def test_offline_copy_is_used_when_no_idx_path(library, tmp_path, monkeypatch):
    data = small_mnist()
    monkeypatch.setattr(
        library.keras.datasets.mnist, "load_data", lambda: pytest.fail("must not download")
    )
    assert_same(library.load_mnist("", str(write_split_files(tmp_path / "offline", data))), data)


def test_no_source_explains_how_to_get_mnist(library, tmp_path, monkeypatch):
    def offline():
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(library.keras.datasets.mnist, "load_data", offline)
    with pytest.raises(
        library.MnistDataError, match=r"(?s)Could not find MNIST.*tools/fetch_mnist.py.*no network"
    ):
        library.load_mnist("", str(tmp_path / "missing"))


def test_missing_idx_path_is_an_error_not_a_fallback(library, tmp_path):
    with pytest.raises(library.MnistDataError, match="nothing there"):
        library.load_mnist(str(tmp_path / "typo"))


def corrupt(tmp_path, name, transform):
    folder = write_split_files(tmp_path / "mnist", small_mnist(), gz=False)
    path = folder / name
    path.write_bytes(transform(path.read_bytes()))
    return folder


@pytest.mark.parametrize(
    "name, transform, message",
    [
        (
            "train-images-idx3-ubyte",
            lambda b: b"\x00\x00\x0d" + b[3:],
            "train images: not an IDX file of unsigned bytes",
        ),
        ("t10k-labels-idx1-ubyte", lambda b: b"PK\x03\x04" + b[4:], "test labels: not an IDX file"),
        ("train-images-idx3-ubyte", lambda b: b[:-100], "train images: truncated"),
        ("train-images-idx3-ubyte", lambda b: b[:10], "train images: truncated header"),
        (
            "t10k-images-idx3-ubyte",
            lambda b: b + b"\x00",
            "test images: longer than its header says",
        ),
        (
            "t10k-images-idx3-ubyte",
            lambda b: b"",
            "test images: not an IDX file of unsigned bytes \\(magic number missing\\)",
        ),
        (
            "train-labels-idx1-ubyte",
            lambda b: b[:4] + struct.pack(">I", 11) + b[8:-1],
            "train: 12 images but 11 labels",
        ),
        ("train-labels-idx1-ubyte", lambda b: b[:-1] + b"\x0c", "train labels: found label 12"),
        (
            "t10k-images-idx3-ubyte",
            lambda b: b[:4] + struct.pack(">III", 5, 14, 56) + b[16:],
            r"test images: expected N × 28 × 28 digits, got shape \(5, 14, 56\)",
        ),
    ],
)
def test_bad_files_give_clear_errors(library, tmp_path, name, transform, message):
    with pytest.raises(library.MnistDataError, match=message):
        library.load_mnist(str(corrupt(tmp_path, name, transform)))


def test_truncated_gzip(library, tmp_path):
    folder = write_split_files(tmp_path / "mnist", small_mnist())
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(
        library.MnistDataError, match="train labels: corrupt or truncated gzip data"
    ):
        library.load_mnist(str(folder))


def test_missing_file(library, tmp_path):
    folder = write_split_files(tmp_path / "mnist", small_mnist())
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(library.MnistDataError, match="has no t10k-labels-idx1-ubyte file"):
        library.load_mnist(str(folder))


def test_not_a_folder_or_zip(library, tmp_path):
    path = tmp_path / "mnist.tar"
    path.write_bytes(b"not a zip")
    with pytest.raises(library.MnistDataError, match="neither a folder nor a .zip"):
        library.load_mnist(str(path))


def test_real_offline_copy(mnist):
    """The copy tools/fetch_mnist.py made is MNIST: sizes, first labels, well-known pixel mean."""
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60_000, 28, 28) and x_test.shape == (10_000, 28, 28)
    assert list(y_train[:5]) == [5, 0, 4, 1, 9] and list(y_test[:5]) == [7, 2, 1, 0, 4]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(x_train.mean() / 255 - 0.1307) < 1e-4
