"""An ensemble (the notebook's `gpu` preset) is one model that averages its members and saves like a
single one."""

import numpy as np


def test_average_models_is_the_mean_of_the_members_and_survives_h5(library, parameters, tmp_path):
    keras = library.keras
    keras.utils.set_random_seed(7)
    members = [
        library.build_model(**parameters.ARCHITECTURE, name=f"mnist_cnn_{index}")
        for index in range(3)
    ]
    ensemble = library.average_models(members)
    images = np.random.default_rng(0).random((16, 28, 28, 1), dtype=np.float32)

    expected = np.mean([member.predict(images, verbose=0) for member in members], axis=0)
    assert not np.allclose(members[0].predict(images, verbose=0), expected, atol=1e-4), (
        "members should differ"
    )
    np.testing.assert_allclose(ensemble.predict(images, verbose=0), expected, atol=1e-6)

    ensemble.save(tmp_path / "ensemble.h5")
    reloaded = library.load_digit_model(tmp_path / "ensemble.h5")
    np.testing.assert_allclose(library.predict_proba(reloaded, images), expected, atol=1e-6)


def test_a_single_model_is_not_wrapped(library, parameters):
    model = library.build_model(**parameters.ARCHITECTURE)
    assert library.average_models([model]) is model
