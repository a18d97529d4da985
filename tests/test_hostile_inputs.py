"""Hostile files cost nothing: shapes and formats refused before decoding, decompression bounded by
the header, one error type per boundary, messages that name files by their base name only."""

import gzip
import io
import struct
import time
import zipfile

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image

from test_data import NAMES, small_mnist, write_split_files

pytestmark = pytest.mark.timing


def png(array, **options):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", **options)
    return buffer.getvalue()


def test_a_long_thin_png_is_refused_at_once(library):
    data = png(np.zeros((8, 20_000), np.uint8), optimize=True)
    assert len(data) < 400  # the 253-byte kind from the issue
    start = time.perf_counter()
    with pytest.raises(library.DigitImageError, match="too long and thin"):
        library.preprocess_digit_image(data)
    assert time.perf_counter() - start < 0.5  # the benchmark measures the real cost (a few ms)


def test_the_longest_allowed_shape_is_reduced_before_any_per_pixel_work(library):
    strip = np.zeros((200, 200 * library.MAX_ASPECT), np.uint8)
    strip[40:160, 1500:1530] = 255  # a "1"
    assert library.preprocess_digit_image(png(strip)).max() == 1


def test_postscript_is_never_handed_to_ghostscript(library, monkeypatch):
    def ghostscript(*args, **kwargs):
        pytest.fail("the EPS decoder ran")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", ghostscript)
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "load", ghostscript)
    eps = (
        b"%!PS-Adobe-3.0 EPSF-3.0\n"
        b"%%BoundingBox: 0 0 100 100\n"
        b"0 0 moveto 100 100 lineto stroke\n"
        b"showpage\n"
    )
    with pytest.raises(library.DigitImageError, match="not an image"):
        library.preprocess_digit_image(eps)


def test_full_size_decodes_are_capped_lower_than_jpeg(library):
    side = int(np.sqrt(library.MAX_FULL_DECODE_PIXELS)) + 10
    with pytest.raises(library.DigitImageError, match="too large"):
        library.preprocess_digit_image(png(np.zeros((side, side), np.uint8), optimize=True))


def test_long_path_is_a_digit_image_error_with_a_short_message(library, tmp_path):
    with pytest.raises(library.DigitImageError) as caught:
        library.preprocess_digit_image(str(tmp_path / ("x" * 5000 + ".png")))
    assert len(str(caught.value)) < 300 and str(tmp_path) not in str(caught.value)


def test_messages_name_files_by_base_name(library, tmp_path):
    path = tmp_path / "cut.png"
    path.write_bytes(png(np.zeros((64, 64), np.uint8))[:60])
    with pytest.raises(library.DigitImageError) as caught:
        library.preprocess_digit_image(path)
    assert str(tmp_path) not in str(caught.value)
    with pytest.raises(library.MnistDataError) as caught:
        library.load_mnist(str(tmp_path / "typo"))
    assert str(tmp_path) not in str(caught.value)


def test_memory_error_becomes_digit_image_error(library, monkeypatch):
    def out_of_memory(*args):
        raise MemoryError

    monkeypatch.setattr(library, "_ink", out_of_memory)
    with pytest.raises(library.DigitImageError, match="out of memory"):
        library.preprocess_digit_image(np.eye(64))


@pytest.mark.parametrize("top_k", [0, 11, 2.5, "3", True])
def test_top_k_is_checked_before_any_work(library, top_k):
    with pytest.raises(library.DigitImageError, match="top_k"):
        library.predict_digits(None, np.eye(64), top_k=top_k)  # no model: it must not get that far


def idx_header(shape):
    return b"\x00\x00\x08" + bytes([len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def test_gzip_that_inflates_past_its_header_is_refused_before_inflating(library):
    bomb = gzip.compress(idx_header((2, 28, 28)) + bytes(200_000_000), compresslevel=9)
    assert len(bomb) < 300_000
    start = time.perf_counter()
    with pytest.raises(library.MnistDataError, match="longer than its header says"):
        library.read_idx(bomb, "bomb")
    assert time.perf_counter() - start < 0.5  # inflating all of it takes seconds


def test_header_larger_than_any_mnist_file_is_refused(library):
    with pytest.raises(library.MnistDataError, match="more than any MNIST file"):
        library.read_idx(gzip.compress(idx_header((70_000, 28, 28))), "huge")
    with pytest.raises(library.MnistDataError, match="more than any MNIST file"):
        library.read_idx(idx_header((2**32 - 1, 2**32 - 1, 2**32 - 1)), "overflow")


def zip_of_small_mnist(tmp_path):
    folder = write_split_files(tmp_path / "files", small_mnist(), gz=False)
    archive = tmp_path / "mnist.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in NAMES:
            zipped.write(folder / name, name)
    return archive


def patch_all(data, signature, offset, value):
    """Set the 2-byte field at `offset` of every zip header starting with `signature`."""
    data = bytearray(data)
    start = data.find(signature)
    while start >= 0:
        data[start + offset : start + offset + 2] = struct.pack("<H", value)
        start = data.find(signature, start + 1)
    return bytes(data)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("flags", 0x1, "RuntimeError"),  # an encrypted member
        ("method", 99, "NotImplementedError"),  # an unsupported compression (AES)
    ],
)
def test_unreadable_zip_members_are_mnist_data_errors(library, tmp_path, field, value, message):
    archive = zip_of_small_mnist(tmp_path)
    local, central = {"flags": (6, 8), "method": (8, 10)}[field]
    data = patch_all(archive.read_bytes(), b"PK\x03\x04", local, value)
    archive.write_bytes(patch_all(data, b"PK\x01\x02", central, value))
    with pytest.raises(library.MnistDataError, match=message):
        library.load_mnist(str(archive))
