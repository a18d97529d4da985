"""Preprocessing of "own" digit pictures: MNIST test digits re-rendered the way people make them."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from conftest import over_read_shifts

N_PER_VARIANT = 2000


def _upscale(digit, side):
    """A 28x28 uint8 digit resized smoothly to side x side, as float ink coverage in [0, 1]."""
    big = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(big, np.float32) / 255, 0, 1)


def _png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=1)  # lossless at any level
    return buffer.getvalue()


def _to_uint8(x):
    return (np.clip(x, 0, 1) * 255).round().astype(np.uint8)


def _off_centre(digit, rng):
    """White on black like MNIST, 2-4x bigger, somewhere on a 240x320 canvas (float array)."""
    side = int(28 * rng.uniform(2, 4))
    canvas = np.zeros((240, 320), np.float32)
    top, left = rng.integers(0, 240 - side), rng.integers(0, 320 - side)
    canvas[top : top + side, left : left + side] = _upscale(digit, side)
    return canvas


def _large_dark_on_light(digit, rng):
    """Black on white, 300-480 px (PIL image)."""
    return Image.fromarray(_to_uint8(1 - _upscale(digit, int(rng.integers(300, 481)))))


def _rgb_pen(digit, rng):
    """Blue ballpoint on cream paper, 200x200 RGB uint8 array."""
    ink = _upscale(digit, 200)[..., None]
    paper, pen = np.array([240, 232, 215]), np.array([25, 35, 130]) * rng.uniform(0.6, 1.4)
    return _to_uint8((paper * (1 - ink) + pen * ink) / 255)


def _rgba_transparent(digit, rng):
    """Black strokes on a transparent canvas, colour 0 under alpha 0 (like a Gradio sketchpad),
    as PNG bytes."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = _to_uint8(_upscale(digit, 280))
    return _png(rgba)


def _photo_jpeg(digit, rng):
    """A phone photo of pencil on grey paper: uneven light, blur, noise, colour cast; JPEG bytes."""
    side = int(rng.integers(150, 240))
    ink = np.zeros((300, 300), np.float32)
    top, left = rng.integers(0, 300 - side, size=2)
    ink[top : top + side, left : left + side] = ndimage.gaussian_filter(_upscale(digit, side), 1.5)
    reflectance = rng.uniform(0.65, 0.9) * (1 - rng.uniform(0.6, 0.8) * ink)
    v, u = np.mgrid[-1:1:300j, -1:1:300j]
    angle = rng.uniform(0, 2 * np.pi)
    light = 0.8 + 0.15 * (np.cos(angle) * u + np.sin(angle) * v) - 0.1 * (u * u + v * v)  # 2:1
    grey = reflectance * light + rng.normal(0, 0.03, (300, 300))
    rgb = grey[..., None] * np.array([1.0, 0.97, 0.9])  # warm indoor light
    buffer = io.BytesIO()
    Image.fromarray(_to_uint8(rgb)).save(buffer, format="JPEG", quality=int(rng.integers(50, 85)))
    return buffer.getvalue()


def _thick_marker(digit, rng):
    """A fat marker: ~50 px strokes on a 280x280 white page (uint8 grey array)."""
    strokes = ndimage.binary_dilation(
        _upscale(digit, 280) > 0.5, iterations=int(rng.integers(8, 14))
    )
    return _to_uint8(1 - strokes)


def _thin_pen(digit, rng):
    """A fine pen: ~2 px strokes on a 336x336 white page (x12), PNG bytes. The strokes follow the
    ridge of the distance transform of the upscaled digit (roughly its skeleton)."""
    shape = _upscale(digit, 336) > 0.5
    depth = ndimage.distance_transform_edt(shape)
    ridge = shape & (depth >= ndimage.maximum_filter(depth, size=5) - 0.5) & (depth > 1)
    return _png(_to_uint8(1 - ndimage.binary_dilation(ridge)))


VARIANTS = {
    "mnist": lambda digit, rng: digit,
    "inverted": lambda digit, rng: 255 - digit,
    "off_centre": _off_centre,
    "large_dark_on_light": _large_dark_on_light,
    "rgb_pen": _rgb_pen,
    "rgba_transparent": _rgba_transparent,
    "photo_jpeg": _photo_jpeg,
    "thick_marker": _thick_marker,
    "thin_pen": _thin_pen,
}
# Bars set under what the committed model reaches on these 2,000 digits per variant (measured
# accuracy in the comments, 2026-12-07; re-measure when the model or the preprocessing changes).
# 2,000, not 500: with 500 digits the sampling error (about ±0.7% at 97%) is as large as the margin
# under the bar, so the test judged the sample, not the model (the 99.55% model read 96.8% of one
# 500-digit thin-pen sample and 97.8% of another; the previous 99.54% model, 97.55% of these 2,000).
MIN_ACCURACY = {
    "mnist": 0.985,  # 0.997
    "inverted": 0.985,  # 0.997
    "off_centre": 0.985,  # 0.996
    "large_dark_on_light": 0.985,  # 0.996
    "rgb_pen": 0.985,  # 0.996
    "rgba_transparent": 0.985,  # 0.996
    "photo_jpeg": 0.985,  # 0.996
    "thick_marker": 0.96,  # 0.982
    "thin_pen": 0.97,  # 0.984
}


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_accuracy_on_rerendered_digits(library, trained_model, mnist_test, variant):
    images, labels = mnist_test
    rng = np.random.default_rng(0)
    pick = rng.choice(len(images), N_PER_VARIANT, replace=False)
    inputs = [VARIANTS[variant](images[i], rng) for i in pick]
    for x in inputs[:20]:
        prepared = library.preprocess_digit_image(x)
        assert prepared.shape == (28, 28, 1) and prepared.dtype == np.float32
        assert prepared.min() == 0 and prepared.max() == 1
    predicted = [top[0][0] for top in library.predict_digits(trained_model, inputs, top_k=1)]
    accuracy = np.mean(np.array(predicted) == labels[pick])
    print(f"\n{variant}: accuracy {accuracy:.3f} on {N_PER_VARIANT} digits")
    assert accuracy >= MIN_ACCURACY[variant]


# ---------------------------------------------------------------- bad inputs


def _png_claiming_size(width, height):
    """A tiny valid PNG whose header claims another size (what a decompression bomb looks like)."""
    data = _png(np.zeros((8, 8), np.uint8))
    ihdr = data[12:16] + struct.pack(">II", width, height) + data[24:29]
    return data[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]


def _encoded_digit(fmt):
    digit = np.zeros((64, 64), np.uint8)
    digit[10:54, 28:36] = 255
    buffer = io.BytesIO()
    Image.fromarray(digit).save(buffer, format=fmt)
    return buffer.getvalue()


def _half(data):
    return data[: len(data) // 2]


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


BAD_INPUTS = {
    "text bytes": (lambda tmp: b"Dear diary, today I drew a 7.\n", "not an image"),
    "text file": (lambda tmp: _write(tmp, "notes.png", b"just text\n"), "not an image"),
    "truncated png": (lambda tmp: _half(_encoded_digit("PNG")), "truncated or corrupt"),
    "truncated jpeg file": (
        lambda tmp: str(_write(tmp, "cut.jpg", _half(_encoded_digit("JPEG")))),
        "truncated or corrupt",
    ),
    "empty bytes": (lambda tmp: b"", "empty"),
    "empty file": (lambda tmp: _write(tmp, "empty.png", b""), "empty"),
    "missing path": (lambda tmp: tmp / "no_such_digit.png", "no such image file"),
    "missing str path": (lambda tmp: str(tmp / "no_such_digit.png"), "no such image file"),
    "directory": (lambda tmp: tmp, "no such image file"),
    "zero-sized array": (lambda tmp: np.zeros((0, 0), np.uint8), "too small"),
    "zero-sized PIL image": (lambda tmp: Image.new("L", (0, 0)), "too small"),
    "one-pixel array": (lambda tmp: np.zeros((1, 1), np.uint8), "too small"),
    "one-pixel png": (lambda tmp: _png(np.zeros((1, 1), np.uint8)), "too small"),
    "48 MP header": (lambda tmp: _png_claiming_size(8000, 6000), "too large"),
    "100 MP header (PIL warns)": (lambda tmp: _png_claiming_size(10_000, 10_000), "too large"),
    "900 MP header (PIL refuses)": (lambda tmp: _png_claiming_size(30_000, 30_000), "too large"),
    "blank white page": (lambda tmp: np.full((300, 300), 255, np.uint8), "no digit found"),
    "near-uniform grey": (
        lambda tmp: np.random.default_rng(0).normal(0.5, 0.005, (200, 200)),
        "no digit found",
    ),
    "blank photo": (
        lambda tmp: _photo_jpeg(np.zeros((28, 28), np.uint8), np.random.default_rng(1)),
        "no digit found",
    ),
    "fully transparent": (lambda tmp: np.zeros((64, 64, 4), np.uint8), "no digit found"),
    "a speck": (lambda tmp: np.pad(np.ones((2, 2)), 40), "no digit found"),
    "NaN array": (lambda tmp: np.full((28, 28), np.nan, np.float32), "NaN or infinite"),
    "inf array": (lambda tmp: np.where(np.eye(28) > 0, np.inf, 0.0), "NaN or infinite"),
    "1-D array": (lambda tmp: np.zeros(784, np.float32), "unsupported array shape"),
    "4-D array": (lambda tmp: np.zeros((1, 28, 28, 1), np.float32), "unsupported array shape"),
    "two-channel array": (lambda tmp: np.zeros((28, 28, 2), np.uint8), "unsupported array shape"),
    "out-of-range values": (lambda tmp: np.full((28, 28), -3.0), "[0, 1] or [0, 255]"),
    "string array": (lambda tmp: np.full((28, 28), "x"), "unsupported array dtype"),
    "int": (lambda tmp: 7, "unsupported input type int"),
    "dict": (lambda tmp: {"composite": None}, "unsupported input type dict"),
    "None": (lambda tmp: None, "unsupported input type NoneType"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_raises_clear_error(library, tmp_path, case):
    make, fragment = BAD_INPUTS[case]
    with pytest.raises(library.DigitImageError) as caught:
        library.preprocess_digit_image(make(tmp_path))
    assert fragment in str(caught.value)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_damaged_files_raise_only_digit_image_error(library):
    """Every truncation and random byte damage of a PNG and a JPEG gives a DigitImageError saying
    what is wrong, or a valid model input, never a decoder's own exception; a file cut inside its
    header is always refused."""
    rng = np.random.default_rng(0)
    for data in (_encoded_digit("PNG"), _encoded_digit("JPEG")):
        damaged = [data[:n] for n in range(0, len(data), 9)]
        for _ in range(100):
            corrupt = np.frombuffer(data, np.uint8).copy()
            corrupt[rng.integers(8, len(data), size=4)] = rng.integers(0, 256, size=4)
            damaged.append(corrupt.tobytes())
        refused = []
        for sample in damaged:
            try:
                prepared = library.preprocess_digit_image(sample)
            except library.DigitImageError as err:
                refused.append(len(sample))
                # a specific message, not the catch-all for exceptions no check foresaw
                assert str(err) and not str(err).startswith("could not prepare the image"), str(err)
            else:
                assert prepared.shape == (28, 28, 1) and prepared.dtype == np.float32
                assert 0 <= prepared.min() and prepared.max() <= 1
        assert set(range(0, 30, 9)) <= set(refused)  # cut inside the header


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_random_arrays_give_a_digit_or_digit_image_error(library):
    """Noise, specks, thin strips, sparse dots: each is either prepared or refused cleanly."""
    rng = np.random.default_rng(0)
    for trial in range(300):
        height, width = rng.integers(8, 200, 2)
        if trial % 3 == 0:  # thin strips too
            height, width = 8, int(rng.integers(8, 400))
        image = rng.random((height, width)) ** rng.uniform(0.2, 20)
        if trial % 2:
            image = (image > 0.5).astype(np.uint8) * 255
        try:
            prepared = library.preprocess_digit_image(image)
        except library.DigitImageError:
            continue
        assert prepared.shape == (28, 28, 1) and np.isfinite(prepared).all()


def test_exif_orientation_is_applied(library):
    """A phone photo stored sideways, with EXIF orientation 6 (turn 90 degrees clockwise)."""
    digit = np.zeros((120, 120), np.uint8)
    digit[20:100, 56:64] = 255  # an upright "1"...
    stored = Image.fromarray(np.rot90(digit))  # ...stored lying on its side
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="PNG", exif=exif)
    prepared = library.preprocess_digit_image(buffer.getvalue())[..., 0]
    rows, cols = np.flatnonzero(prepared.any(1)), np.flatnonzero(prepared.any(0))
    assert np.ptp(rows) > 3 * np.ptp(cols)  # tall and thin: upright


def test_accepts_every_input_form(library, mnist_test, tmp_path):
    digit = mnist_test[0][0]
    expected = library.preprocess_digit_image(digit)
    path = _write(tmp_path, "digit.png", _png(digit))
    forms = [
        digit,
        digit[..., None],
        digit.astype(np.float32) / 255,
        digit.astype(np.float64),
        np.repeat(digit[..., None], 3, axis=2),
        Image.fromarray(digit),
        _png(digit),
        bytearray(_png(digit)),
        path,
        str(path),
        Image.fromarray(digit / np.float32(255)),
        _png(digit.astype(np.uint16) * 257),  # a 16-bit PNG
    ]
    for form in forms:
        np.testing.assert_allclose(library.preprocess_digit_image(form), expected, atol=0.02)
    # Bigger than the working size: a 1120x1120 RGBA drawing, black ink on a transparent canvas.
    big = np.zeros((1120, 1120, 4), np.uint8)
    big[..., 3] = np.asarray(Image.fromarray(digit).resize((1120, 1120), Image.Resampling.BICUBIC))
    prepared = library.preprocess_digit_image(big)
    assert np.corrcoef(prepared.ravel(), expected.ravel())[0, 1] > 0.9


# ---------------------------------------------------------------- prediction


def test_predict_single_and_batch_agree(library, trained_model, mnist_test):
    images, labels = mnist_test
    single = library.predict_digits(trained_model, images[0])
    batch = library.predict_digits(trained_model, [images[i] for i in range(8)])
    assert len(single) == 3 and len(batch) == 8
    assert [d for d, _ in batch[0]] == [d for d, _ in single]
    np.testing.assert_allclose([p for _, p in batch[0]], [p for _, p in single], atol=1e-5)
    assert [top[0][0] for top in batch] == list(labels[:8])
    assert library.predict_digits(trained_model, []) == []
    assert len(library.predict_digits(trained_model, tuple(images[:2]))) == 2


@pytest.mark.parametrize("top_k", [1, 3, 10])
def test_top_k_is_sorted_probabilities(library, trained_model, mnist_test, top_k):
    for top in library.predict_digits(trained_model, list(mnist_test[0][:20]), top_k=top_k):
        digits, probs = zip(*top, strict=True)
        assert len(top) == top_k and len(set(digits)) == top_k
        assert all(isinstance(d, int) and 0 <= d <= 9 for d in digits)
        assert all(isinstance(p, float) and 0 <= p <= 1 for p in probs)
        assert list(probs) == sorted(probs, reverse=True)
        assert sum(probs) <= 1 + 1e-5


def test_predict_errors(library, trained_model, mnist_test):
    with pytest.raises(ValueError, match="top_k"):
        library.predict_digits(trained_model, mnist_test[0][0], top_k=0)
    with pytest.raises(library.DigitImageError, match="input 1: .*no digit found"):
        library.predict_digits(trained_model, [mnist_test[0][0], np.zeros((28, 28), np.uint8)])


def test_load_digit_model_errors(library, parameters, tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        library.load_digit_model(tmp_path / "missing.keras")
    broken = _write(tmp_path, "broken.keras", b"this is not a zip archive")
    with pytest.raises(library.ModelFileError, match="could not load"):
        library.load_digit_model(broken)
    with pytest.raises(
        library.ModelFileError, match="nor its weights into this notebook's architecture"
    ):
        library.load_digit_model(broken, parameters.ARCHITECTURE)
    import keras

    not_a_digit_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    not_a_digit_model.save(tmp_path / "other.keras")
    with pytest.raises(library.ModelFileError, match=r"not \(28, 28, 1\) to \(10,\)"):
        library.load_digit_model(tmp_path / "other.keras")
    no_logits_model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    no_logits_model.add(keras.layers.Softmax())
    no_logits_model.save(tmp_path / "no_logits.keras")
    with pytest.raises(library.ModelFileError, match="end in a Dense layer with a softmax"):
        library.load_digit_model(tmp_path / "no_logits.keras")


def test_a_model_built_on_a_nested_model_is_read(library, tmp_path):
    """A single model whose layers include a nested model (a backbone) and end in a Dense softmax is
    no ensemble: it loads, and its probabilities and digit scores are its own."""
    keras = library.keras
    backbone = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(16, "relu")]
    )
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), backbone, keras.layers.Dense(10, "softmax")]
    )
    model.save(tmp_path / "nested.keras")
    loaded = library.load_digit_model(tmp_path / "nested.keras")
    fields = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    probabilities, scores = library.reading_scores(loaded, fields)
    assert probabilities.shape == (4, 10) and scores.shape == (4,)
    expected = over_read_shifts(library, lambda x: library.predict_proba(loaded, x), fields)
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
