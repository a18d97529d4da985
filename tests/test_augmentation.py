"""The training augmentation: one bilinear shift + rotation, the same on TensorFlow's kernel and as
matrix products."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def digits(library, mnist_test):
    return library.prepare_images(mnist_test[0][:64])


@pytest.mark.parametrize("native", [True, False])
def test_whole_pixel_shift_moves_the_digit_and_fills_zeros(library, digits, native):
    shifted = np.asarray(
        library.shift_rotate(
            digits, np.tile(np.float32([2, -3]), (64, 1)), np.zeros(64, "float32"), native
        )
    )
    expected = np.zeros_like(digits)
    expected[:, 2:, :-3] = digits[:, :-2, 3:]
    np.testing.assert_allclose(shifted, expected, atol=1e-6)


@pytest.mark.parametrize("native", [True, False])
def test_quarter_turn_is_a_right_angle_rotation(library, digits, native):
    turned = np.asarray(
        library.shift_rotate(
            digits, np.zeros((64, 2), "float32"), np.full(64, 0.25, "float32"), native
        )
    )
    assert min(np.abs(turned - np.rot90(digits, k, axes=(1, 2))).max() for k in (1, 3)) < 1e-5


def test_matrix_product_sampling_equals_the_native_kernel(library, digits):
    rng = np.random.default_rng(0)
    shifts, turns = (
        rng.uniform(-3, 3, (64, 2)).astype("float32"),
        rng.uniform(-0.05, 0.05, 64).astype("float32"),
    )
    native = np.asarray(library.shift_rotate(digits, shifts, turns, native=True))
    portable = np.asarray(library.shift_rotate(digits, shifts, turns, native=False))
    np.testing.assert_allclose(portable, native, atol=1e-5)
    assert np.abs(native - digits).max() > 0.5  # it did move the digits


def test_random_layer_changes_images_only_in_training(library, parameters, digits):
    layer = library.RandomShiftRotate(parameters.MAX_SHIFT, parameters.MAX_ROTATION, seed=0)
    assert np.array_equal(np.asarray(layer(digits)), digits)
    augmented = np.asarray(layer(digits, training=True))
    assert not np.allclose(augmented, digits, atol=0.1)
    assert abs(augmented.sum() / digits.sum() - 1) < 0.05  # digits are moved and turned, not lost
