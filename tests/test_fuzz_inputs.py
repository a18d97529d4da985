"""Property-based fuzzing (Hypothesis) of preprocess_digit_image: whatever arrives, the answer is a
model input or a DigitImageError, with bounded work.

CI runs a fixed, derandomized profile of about a minute; FUZZ_PROFILE=long runs many more
examples."""

import io
import os
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

pytestmark = pytest.mark.timing

settings.register_profile(
    "ci",
    max_examples=1000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("FUZZ_PROFILE", "ci"))

# A guard against unbounded work (a cost that grows with the input's shape), ten times the
# benchmark's targets (tools/benchmark_inference.py measures those): seconds and numpy/Python bytes
# per input.
MAX_SECONDS, MAX_TRACED_BYTES = 0.5, 500 * 2**20


def check(library, image):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        prepared = library.preprocess_digit_image(image)
    except library.DigitImageError:
        prepared = None
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if prepared is not None:
        assert prepared.shape == (28, 28, 1) and prepared.dtype == np.float32
        assert np.isfinite(prepared).all() and prepared.min() >= 0 and prepared.max() <= 1
    assert seconds < MAX_SECONDS, f"{seconds:.2f} s"
    assert peak < MAX_TRACED_BYTES, f"{peak / 2**20:.0f} MiB"


@given(st.binary(max_size=4096))
def test_random_bytes(library, data):
    check(library, data)


FORMATS = {
    "PNG": ("L", "LA", "RGB", "RGBA", "P", "1", "I;16"),
    "JPEG": ("L", "RGB", "CMYK"),
    "GIF": ("L", "P"),
    "BMP": ("L", "RGB", "1"),
    "TIFF": ("L", "RGB", "RGBA", "I;16", "F"),
    "WEBP": ("RGB", "RGBA"),
}


@st.composite
def encoded_images(draw):
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    mode = draw(st.sampled_from(FORMATS[fmt]))
    short = draw(st.integers(1, 300))
    long = draw(st.integers(short, min(40 * short, 3000)))
    width, height = (long, short) if draw(st.booleans()) else (short, long)
    seed = draw(st.integers(0, 2**32 - 1))
    pattern = draw(st.sampled_from(["noise", "stripes", "blank", "blob"]))
    rng = np.random.default_rng(seed)
    gray = {
        "noise": lambda: rng.random((height, width)),
        "stripes": lambda: (
            (np.indices((height, width)).sum(axis=0) % draw(st.integers(2, 9)) == 0) * 1.0
        ),
        "blank": lambda: np.full((height, width), rng.random()),
        "blob": lambda: (
            np.hypot(*np.indices((height, width)) - np.array([height, width])[:, None, None] / 2)
            < min(height, width) / 3
        ),
    }[pattern]()
    image = Image.fromarray((255 * np.asarray(gray, np.float64)).astype(np.uint8))
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, format=fmt)
    return buffer.getvalue()


@given(encoded_images())
def test_random_images(library, data):
    check(library, data)


DTYPES = [
    "uint8",
    "uint16",
    "int8",
    "int32",
    "int64",
    "float16",
    "float32",
    "float64",
    "bool",
    "complex64",
]


@given(
    hnp.arrays(
        st.sampled_from(DTYPES).map(np.dtype),
        st.one_of(
            hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=200),
            st.tuples(st.integers(0, 200), st.integers(0, 200), st.integers(1, 5)),
            hnp.array_shapes(min_dims=1, max_dims=4, max_side=40),
        ),
    )
)
def test_random_arrays(library, array):
    check(library, array)


@pytest.mark.parametrize("mode", ["P", "LA", "I;16"])
def test_every_pixel_mode_of_a_real_digit_is_read(library, mnist_test, mode):
    """The fuzzed modes are not all refused: a real digit in each mode is read as a digit."""
    digit = Image.fromarray(255 - mnist_test[0][0]).resize((112, 112))
    buffer = io.BytesIO()
    digit.convert(mode).save(buffer, format="PNG")
    prepared = library.preprocess_digit_image(buffer.getvalue())
    reference = library.preprocess_digit_image(255 - mnist_test[0][0])
    assert np.abs(prepared - reference).mean() < 0.1
