"""The IDX reader against hand-built hostile files: malformed headers, a gzip bomb behind an empty
shape, empty splits and duplicate files all give a MnistDataError that says what is wrong."""

import gzip
import struct
import time
import warnings
import zipfile
import zlib

import pytest

from test_data import NAMES, small_mnist, write_split_files

pytestmark = pytest.mark.timing

GIB = 2**30


def idx_header(shape, ndim=None):
    """An IDX header of unsigned bytes; `ndim` overrides the dimension count it states."""
    ndim = len(shape) if ndim is None else ndim
    return b"\x00\x00\x08" + bytes([ndim]) + struct.pack(f">{len(shape)}I", *shape)


def gzip_of_header_and_zeros(header, zero_mib):
    """A valid gzip of `header` and `zero_mib` MiB of zeros, built without compressing them all:
    a fully flushed deflate block is self-contained, so one MiB's block is repeated."""

    def deflated(data):
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
        return deflater.compress(data) + deflater.flush(zlib.Z_FULL_FLUSH)

    mib = bytes(2**20)
    crc = zlib.crc32(header)
    for _ in range(zero_mib):
        crc = zlib.crc32(mib, crc)
    final_block = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    body = deflated(header) + deflated(mib) * zero_mib + final_block
    size = len(header) + zero_mib * 2**20
    return (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body + struct.pack("<II", crc, size % 2**32)
    )


@pytest.fixture(scope="module")
def bomb():
    """About 1 MB of gzip whose header says shape (0, 28, 28), followed by 1 GiB of zeros."""
    data = gzip_of_header_and_zeros(idx_header((0, 28, 28)), GIB // 2**20)
    assert len(data) < 1_100_000
    return data


@pytest.mark.parametrize(
    "data, message",
    [
        (
            gzip.compress(idx_header((), ndim=0) + bytes(8)),
            r"gz: header says 0 dimensions, expected 1 to 3",
        ),
        (idx_header((), ndim=0) + bytes(1), r"plain: header says 0 dimensions, expected 1 to 3"),
        (idx_header((1,) * 255) + bytes(1), r"plain: header says 255 dimensions, expected 1 to 3"),
        (
            gzip.compress(idx_header((1,) * 65) + bytes(1)),
            r"gz: header says 65 dimensions, expected 1 to 3",
        ),
        (idx_header((1, 1, 1, 1)) + bytes(1), r"plain: header says 4 dimensions, expected 1 to 3"),
        (
            idx_header((0, 2**32 - 1, 2**32 - 1)),
            r"plain: empty \(header says shape \(0, 4294967295, 4294967295\)\)",
        ),
        (gzip.compress(idx_header((3, 0))), r"gz: empty \(header says shape \(3, 0\)\)"),
    ],
    ids=[
        "gz-ndim-0",
        "ndim-0",
        "ndim-255",
        "gz-ndim-65",
        "ndim-4",
        "zero-by-huge",
        "gz-zero-column",
    ],
)
def test_malformed_headers_are_mnist_data_errors(library, data, message):
    name = "gz" if data[:2] == b"\x1f\x8b" else "plain"
    with pytest.raises(library.MnistDataError, match=message):
        library.read_idx(data, name)


def test_an_empty_shape_does_not_unbound_inflation(library, bomb):
    start = time.perf_counter()
    with pytest.raises(
        library.MnistDataError, match=r"bomb: empty \(header says shape \(0, 28, 28\)\)"
    ):
        library.read_idx(bomb, "bomb")
    assert time.perf_counter() - start < 0.5  # inflating the 1 GiB takes seconds


def test_taking_nothing_inflates_nothing(library, bomb):
    """zlib reads max_length=0 as "no limit": take(0) must not pass it on."""
    stream = library.IdxStream(bomb, "bomb")
    start = time.perf_counter()
    assert len(stream.take(0)) == 0  # len(): a failure must not print a GiB of bytes
    assert stream.take(4) == b"\x00\x00\x08\x03"
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("split, sizes", [("train", (0, 5)), ("test", (12, 0))])
def test_an_empty_split_is_refused(library, tmp_path, split, sizes):
    folder = write_split_files(tmp_path / "mnist", small_mnist(*sizes))
    with pytest.raises(
        library.MnistDataError, match=rf"{split} images: empty \(header says shape \(0, 28, 28\)\)"
    ):
        library.load_mnist(str(folder))


def add_copy(folder, name, copy_name):
    """Put a copy of the file `name` in `folder` at `copy_name` (which may name a sub-folder)."""
    (folder / copy_name).parent.mkdir(parents=True, exist_ok=True)
    (folder / copy_name).write_bytes((folder / name).read_bytes())


def folder_with_plain_and_gz(tmp_path):
    folder = write_split_files(tmp_path / "mnist", small_mnist())
    (folder / NAMES[0]).write_bytes(gzip.decompress((folder / f"{NAMES[0]}.gz").read_bytes()))
    return folder


def folder_with_dotted_and_dashed(tmp_path):
    folder = write_split_files(tmp_path / "mnist", small_mnist())
    add_copy(folder, f"{NAMES[1]}.gz", "train-labels.idx1-ubyte.gz")
    return folder


def folder_with_two_subfolders(tmp_path):
    folder = write_split_files(tmp_path / "mnist" / "a", small_mnist()).parent
    add_copy(folder, f"a/{NAMES[2]}.gz", f"b/{NAMES[2]}.gz")
    return folder


def zip_with(tmp_path, members):
    """A zip of small MNIST's plain files, written at the (member name, file name) pairs."""
    folder = write_split_files(tmp_path / "files", small_mnist(), gz=False)
    archive = tmp_path / "mnist.zip"
    with zipfile.ZipFile(archive, "w") as zipped, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it writes
        for member, name in members:
            zipped.write(folder / name, member)
    return archive


def zip_with_two_subfolders(tmp_path):
    return zip_with(
        tmp_path, [(f"MNIST/{name}", name) for name in NAMES] + [(f"copy/{NAMES[3]}", NAMES[3])]
    )


def zip_with_a_name_twice(tmp_path):
    return zip_with(tmp_path, [(name, name) for name in NAMES] + [(NAMES[0], NAMES[0])])


@pytest.mark.parametrize(
    "make, message",
    [
        (
            folder_with_plain_and_gz,
            r"mnist has 2 train-images-idx3-ubyte files "
            r"\(train-images-idx3-ubyte, train-images-idx3-ubyte.gz\)",
        ),
        (
            folder_with_dotted_and_dashed,
            r"mnist has 2 train-labels-idx1-ubyte files "
            r"\(train-labels-idx1-ubyte.gz, train-labels.idx1-ubyte.gz\)",
        ),
        (
            folder_with_two_subfolders,
            r"mnist has 2 t10k-images-idx3-ubyte files "
            r"\(a/t10k-images-idx3-ubyte.gz, b/t10k-images-idx3-ubyte.gz\)",
        ),
        (
            zip_with_two_subfolders,
            r"mnist.zip has 2 t10k-labels-idx1-ubyte files "
            r"\(MNIST/t10k-labels-idx1-ubyte, copy/t10k-labels-idx1-ubyte\)",
        ),
        (
            zip_with_a_name_twice,
            r"mnist.zip has 2 train-images-idx3-ubyte files "
            r"\(train-images-idx3-ubyte, train-images-idx3-ubyte\)",
        ),
    ],
    ids=[
        "folder-plain-and-gz",
        "folder-dotted-and-dashed",
        "folder-subfolders",
        "zip-subfolders",
        "zip-name-twice",
    ],
)
def test_duplicate_files_are_refused_naming_both(library, tmp_path, make, message):
    with pytest.raises(library.MnistDataError, match=message + ": keep one") as caught:
        library.load_mnist(str(make(tmp_path)))
    assert str(tmp_path) not in str(caught.value)
