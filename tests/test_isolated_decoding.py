"""Decoding untrusted pictures cannot hurt the process that asks: structure checks refuse the
probe's hostile files before any decoder runs, and what passes them is decoded in a worker process
that may crash or overrun its time and memory budget without affecting anything but its own
request."""

import ctypes
import io
import struct
import threading
import time
import warnings
import zlib

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image

from tools import hostile_files

pytestmark = pytest.mark.timing


def digit_png(side=64):
    picture = np.full((side, side), 255, np.uint8)
    picture[side // 4 : -side // 4, side // 2 - 3 : side // 2 + 3] = 0  # a "1"
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("name", list(hostile_files.HOSTILE_FILES))
def test_each_probe_file_is_refused_by_its_structure_at_once(library, name):
    data = hostile_files.HOSTILE_FILES[name]()
    start = time.perf_counter()
    with pytest.raises(
        library.DigitImageError, match="far more than a picture needs|not supported"
    ):
        library.preprocess_digit_image(data)
    assert time.perf_counter() - start < 0.1  # unchecked, these took 2.6 s to 68 s, or crashed


@pytest.fixture
def unchecked(library, monkeypatch):
    """Structure checks off: the file reaches the decoder in a worker, like an unforeseen attack."""
    monkeypatch.setattr(library, "STRUCTURE_CHECKS", dict.fromkeys(library.STRUCTURE_CHECKS, bool))
    return library


def test_a_decoder_crash_costs_only_its_request(library, monkeypatch):
    def segfault(data, fmt):
        ctypes.string_at(0)  # reads address 0: SIGSEGV, like a decoder's buffer overflow

    monkeypatch.setattr(library, "_decode_bytes", segfault)
    pool = library.DecoderPool(1)  # its workers are forked from now on, with the crashing decoder
    for _ in range(2):  # the probe's two uploads took the server down
        with pytest.raises(library.DigitImageError, match="decoder crashed"):
            pool.decode(digit_png(), "PNG")
    monkeypatch.undo()
    gray = library.DecoderPool(1).decode(digit_png(), "PNG").gray  # this process goes on
    assert gray.shape == (64, 64)


def test_the_probe_file_that_crashed_libjpeg_is_contained(unchecked):
    """The lossless JPEG of the probe segfaults libjpeg-turbo 3.1 under Pillow 11.3's draft() in a
    fresh process; in a used one it may corrupt memory instead: either way the request fails alone
    and the worker is replaced."""
    crash = hostile_files.lossless_jpeg()
    for _ in range(2):
        with pytest.raises(unchecked.DigitImageError, match="decoder crashed|corrupt"):
            unchecked.preprocess_digit_image(crash)
    assert unchecked.preprocess_digit_image(digit_png()).max() == 1


def test_a_slow_decode_is_stopped_at_its_budget(unchecked):
    slow = hostile_files.progressive_jpeg_with_empty_scans(6000, 6000, 10_000)  # 58 s unchecked
    start = time.perf_counter()
    with pytest.raises(unchecked.DigitImageError, match="takes more than"):
        unchecked.preprocess_digit_image(slow)
    assert time.perf_counter() - start < unchecked.DECODE_SECONDS + 0.5
    assert unchecked.preprocess_digit_image(digit_png()).max() == 1


def test_a_worker_cannot_allocate_past_its_memory_budget(library, monkeypatch):
    def greedy(data, fmt):
        try:
            bytearray(int(data))
        except MemoryError:
            raise library.DigitImageError("out of memory in the worker") from None
        return library.DecodedPicture(np.zeros((8, 8), np.float32), None, (8, 8))

    monkeypatch.setattr(library, "_decode_bytes", greedy)
    pool = library.DecoderPool(1)  # its worker is forked now, with the greedy decoder
    budget = library.DECODE_MEMORY
    with pytest.raises(library.DigitImageError, match="out of memory in the worker"):
        pool.decode(str(budget + 50_000_000).encode(), "PNG")
    gray, alpha, size, animated = pool.decode(str(budget // 2).encode(), "PNG")
    assert gray.shape == (8, 8) and alpha is None and size == (8, 8) and not animated


def test_concurrent_decodes_leave_the_warning_filters_alone(library):
    filters = list(warnings.filters)
    pictures = [digit_png(48 + 8 * i) for i in range(8)]
    results = [None] * len(pictures)

    def read(i):
        results[i] = library.preprocess_digit_image(pictures[i])

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(pictures))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result is not None and result.max() == 1 for result in results)
    assert warnings.filters == filters


def test_decoded_pictures_come_back_whole_with_their_transparency(library):
    rgba = np.zeros((40, 30, 4), np.uint8)
    rgba[5:35, 12:18] = (200, 30, 30, 255)
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    gray, alpha, size, animated = library.decode_picture(buffer.getvalue())
    assert gray.shape == alpha.shape == (40, 30) and gray.dtype == np.float32 and size == (30, 40)
    assert alpha[20, 15] == 1 and alpha[0, 0] == 0
    assert not animated


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP", "TIFF"])
def test_a_picture_of_several_frames_is_known_to_be_animated(library, fmt):
    """The worker says whether a file holds more than its first frame, which alone is read: an
    animated GIF, PNG or WebP, a multi-page TIFF."""
    frames = [Image.new("L", (40, 30), shade) for shade in (0, 128, 255)]
    animated, still = io.BytesIO(), io.BytesIO()
    frames[0].save(animated, format=fmt, save_all=True, append_images=frames[1:])
    frames[0].save(still, format=fmt)
    first = library.decode_picture(animated.getvalue())
    assert first.animated and first.size == (40, 30) and first.gray.max() == 0
    assert not library.decode_picture(still.getvalue()).animated


@pytest.fixture
def bad_files(tmp_path):
    """The files that stopped the notebook's plotting cell."""
    files = {
        "notes.png": b"just text\n",
        "empty.png": b"",
        "huge.png": huge_png(40_000, 40_000),  # 1,600 MP in a few hundred bytes
        "drawing.eps": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    return paths


def huge_png(width, height):
    """A grey PNG of width x height with one row of pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(bytes(width + 1))
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        hostile_files.png_chunk(kind, data)
        for kind, data in [(b"IHDR", header), (b"IDAT", rows), (b"IEND", b"")]
    )


def test_plotting_shows_why_a_file_cannot_be_read(library, trained_model, bad_files, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")

    def ghostscript(*args, **kwargs):
        pytest.fail("the EPS decoder ran")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", ghostscript)
    library.plot_predictions(trained_model, bad_files + [digit_png()])
    figure = matplotlib.pyplot.gcf()
    titles = [axis.get_title() for axis in figure.axes[len(bad_files) + 1 :]]
    matplotlib.pyplot.close(figure)
    assert [t.split("\n")[0][:12] for t in titles[:-1]] == [
        "not an image",
        "the image fi",
        "image too la",
        "not an image",
    ], titles
    assert titles[-1].startswith("1: ")
