"""read_number(): the digit and where it is, or "" and why when a picture holds no digit; the "not a
digit" threshold fitted on validation data only; the project's own sets of people's handwriting
(tools/people_sets.py, Debian's handwriting fonts) read at measured rates."""

import json
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import MODEL_PATH, ROOT, over_read_shifts
from tools import people_sets

METRICS = json.loads((ROOT / "mnist_metrics.json").read_text())


def fonts_missing():
    return len(people_sets.handwriting_fonts()) < len(people_sets.FONT_FILES)


def test_a_digit_is_read_with_its_box_in_the_input_pixels(library, trained_model, mnist_test):
    images, labels = mnist_test
    paper = np.full((300, 400), 255, np.uint8)
    digit = 255 - np.kron(images[0], np.ones((5, 5), np.uint8))  # 140 x 140, dark on light
    paper[100:240, 200:340] = digit
    reading = library.read_number(trained_model, paper)
    assert reading.text == str(labels[0]) and reading.reason == ""
    ((value, probability, (x0, y0, x1, y1)),) = reading.digits
    ink_rows, ink_cols = np.nonzero(paper < 250)
    assert value == labels[0] and probability >= library.DOUBT_BELOW
    assert abs(x0 - ink_cols.min()) <= 2 and abs(x1 - ink_cols.max() - 1) <= 2
    assert abs(y0 - ink_rows.min()) <= 2 and abs(y1 - ink_rows.max() - 1) <= 2


def test_boxes_are_in_the_input_pixels_after_reduction(library, trained_model, mnist_test):
    images, labels = mnist_test
    paper = np.full((1200, 1600), 255, np.uint8)
    paper[400:960, 800:1360] = 255 - np.kron(images[1], np.ones((20, 20), np.uint8))
    ((_, _, (x0, y0, x1, y1)),) = library.read_number(trained_model, paper).digits
    ink_rows, ink_cols = np.nonzero(paper < 250)
    step = 4  # the picture is read at 1/4 scale (at most 512 pixels a side)
    assert abs(x0 - ink_cols.min()) <= step and abs(x1 - ink_cols.max() - 1) <= step
    assert abs(y0 - ink_rows.min()) <= step and abs(y1 - ink_rows.max() - 1) <= step


def test_reading_averages_the_model_over_shifts_of_a_pixel(library, trained_model, mnist_test):
    """read_number() reads each digit with reading_probabilities(): the model's probabilities for
    the prepared digit and its shifts by a pixel, averaged; the probability it reports is that, and
    predict_digits() reports the same."""
    images, labels = mnist_test
    fields = library.prepare_images(images[:50])
    expected = over_read_shifts(library, lambda x: library.predict_proba(trained_model, x), fields)
    probabilities = library.reading_probabilities(trained_model, fields)
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    assert {(1, 0), (-1, 0), (0, 1), (0, -1)} < set(library.READ_SHIFTS)
    reading, read_fields, read_probabilities = library._read_marks(trained_model, images[0])
    ((digit, probability, _),) = reading.digits
    again = library.reading_probabilities(trained_model, read_fields)[0]
    assert digit == labels[0] == again.argmax() and probability == pytest.approx(again.max())
    np.testing.assert_allclose(read_probabilities[0], again, atol=1e-6)
    ((top_digit, top_probability),) = library.predict_digits(trained_model, images[0], top_k=1)
    assert top_digit == digit and top_probability == pytest.approx(probability)  # the same reading


def test_the_digit_score_is_the_log_sum_exp_of_the_logits(library, mnist_test):
    """reading_scores(): each digit score is the log-sum-exp of the model's logits (its output
    before the softmax), averaged over the field shifted by READ_SHIFTS (the probabilities beside
    it are tested with reading_probabilities() above)."""
    keras = library.keras
    model, logits_model = (keras.models.load_model(MODEL_PATH) for _ in range(2))
    logits_model.layers[-1].activation = keras.activations.linear
    fields = library.prepare_images(mnist_test[0][:30])
    _, scores = library.reading_scores(model, fields)

    def log_sum_exp(x):
        return np.log(np.exp(logits_model.predict(x, verbose=0)).sum(axis=1))

    expected = over_read_shifts(library, log_sum_exp, fields)
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


def test_an_ensembles_digit_score_is_its_members_mean(library, parameters, tmp_path):
    """The digit score of an average_models() ensemble, saved and loaded again, is the mean of its
    members' scores, and its probabilities the mean of theirs."""
    keras = library.keras
    keras.utils.set_random_seed(3)
    members = [
        library.build_model(**parameters.ARCHITECTURE, name=f"mnist_cnn_{index}")
        for index in range(2)
    ]
    library.average_models(members).save(tmp_path / "ensemble.h5")
    ensemble = library.load_digit_model(tmp_path / "ensemble.h5")
    fields = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    readings = [library.reading_scores(member, fields) for member in members]
    probabilities, scores = library.reading_scores(ensemble, fields)
    np.testing.assert_allclose(probabilities, np.mean([p for p, _ in readings], axis=0), atol=1e-6)
    np.testing.assert_allclose(scores, np.mean([s for _, s in readings], axis=0), rtol=1e-5)
    assert not np.allclose(readings[0][1], readings[1][1]), "members should differ"


def test_no_ink_reads_as_no_digit_and_unreadable_input_raises(library, trained_model):
    blank = library.read_number(trained_model, np.full((100, 100), 255, np.uint8))
    assert blank.text == "" and blank.digits == [] and "blank" in blank.reason
    with pytest.raises(library.DigitImageError, match="not an image"):
        library.read_number(trained_model, b"shopping list: milk, eggs")


def on_paper(digit, squared, colour=(150, 190, 235), spacing=30, side=300):
    """A photo of an MNIST digit (white on black, 28 x 28) written 8 times bigger in dark ink on a
    sheet of paper, ruled (lines every `spacing` px) or `squared`, printed in `colour`, with the
    sensor's grain."""
    paper = np.full((side, side, 3), 240.0)
    rows, cols = np.mgrid[0:side, 0:side]
    printed = rows % spacing < 2
    if squared:
        printed |= cols % spacing < 2
    paper[printed] *= np.array(colour) / 255
    big = np.asarray(Image.fromarray(digit).resize((224, 224), Image.Resampling.BILINEAR)) / 255
    ink = np.zeros((side, side, 1))
    ink[38:262, 38:262, 0] = big
    grain = np.random.default_rng(0).normal(0, 3, paper.shape)
    return np.clip(paper + (np.array([25.0, 30, 60]) - paper) * ink + grain, 0, 255).astype(
        np.uint8
    )


@pytest.mark.parametrize("squared", [False, True])
def test_the_lines_of_ruled_or_squared_paper_are_not_ink(
    library, trained_model, mnist_test, squared
):
    """Digits written on ruled or squared paper, in each of people_sets' RULE_COLOURS: the paper's
    lines away from the digit are not ink, and the digits read as on plain paper, strokes that
    cross a line included (measured: 95% / 90% of these 60 pictures clean, 100% / 93% read right);
    the paper alone holds no digit. Lines are looked for in pictures of RULE_MIN_SIDE or more:
    smaller ones (MNIST's digits, the drawn non-digits the model trains on) are as before."""
    images, labels = mnist_test
    clean, right = [], []
    for colour in people_sets.RULE_COLOURS:
        for digit, label in zip(images[:20], labels[:20], strict=True):
            picture = on_paper(digit, squared, colour)
            ink, _ = library._ink(library.read_digit_picture(picture))
            ink[30:270, 30:270] = 0  # the digit's region
            clean.append(not ink.any())
            right.append(library.read_number(trained_model, picture).text == str(label))
    assert np.mean(clean) >= 0.85 and np.mean(right) >= 0.85, (np.mean(clean), np.mean(right))
    paper = library.read_number(trained_model, on_paper(np.zeros((28, 28), np.uint8), squared))
    assert paper.text == "" and paper.reason.startswith("no digit found"), paper.reason
    ink = np.zeros((100, 100), np.float32)
    ink[::20] = ink[:, ::20] = 1  # squared, but too small to tell
    assert library._without_rules(ink, ink > 0) is ink
    assert max(library._PAD, 2 * 28) < library.RULE_MIN_SIDE  # the drawn non-digits' pads


def test_a_line_that_leaves_the_picture_through_a_side_is_a_line_of_the_paper(library):
    """Paper photographed askew: its top line leaves the picture through the top after a quarter of
    the width, short of RULE_SPAN of it, and is still one of the paper's lines, not a mark (before,
    such a line's end was read as a 1, or was the tallest mark and made the digits signs)."""
    rows, cols = np.mgrid[0:300, 0:400]
    ink = np.where((rows + 0.05 * cols - 5) % 30 < 2, 0.5, 0).astype(np.float32)  # 3 degrees
    assert ink[:, 150:].any(axis=1)[:2].sum() == 0 and ink[:2, :100].any()  # the top line's end
    with pytest.raises(library.DigitImageError, match="nothing but the lines"):
        library._without_rules(ink, ink > 0)


def test_one_long_stroke_is_not_a_line_of_the_paper(library):
    """A stroke across the picture (a 1, a 7's bar) is one line, not ruling: it stays ink."""
    ink = np.zeros((300, 300), np.float32)
    ink[20:280, 150:156] = 1
    assert library._without_rules(ink, ink > 0) is ink
    ink[150:156, 20:280] = 1  # a cross: one line each way
    assert not library._rules(ink > 0).any()


def test_a_stroke_along_a_line_of_the_paper_stays_ink(library, trained_model, monkeypatch):
    """A 7 in a thin pen whose bar lies on a line of ruled paper: nothing of the stroke is left on
    either side of the line to close across it, but the stroke is darker than the lines, so it
    stays ink (RULE_INK_RATIO) and the 7 reads as a 7, while the line beside it is removed."""
    paper = Image.new("RGB", (300, 300), (240, 240, 240))
    draw = ImageDraw.Draw(paper)
    for top in range(0, 300, 30):
        draw.rectangle([0, top, 299, top + 1], fill=people_sets.RULE_COLOURS[0])
    draw.line([(100, 120), (200, 120), (130, 260)], fill=(25, 30, 60), width=3)
    picture = np.asarray(paper)

    def bar_and_line_beside():
        ink, _ = library._ink(library.read_digit_picture(picture))
        return (ink[119:123, 105:196] > 0).any(axis=0).mean(), ink[119:123, 220:290].any()

    assert bar_and_line_beside() == (1.0, False)
    assert library.read_number(trained_model, picture).text == "7"
    monkeypatch.setattr(library, "RULE_INK_RATIO", np.inf)  # without: the bar goes with the line
    assert bar_and_line_beside() == (0.0, False)


def test_a_line_of_the_paper_that_a_digit_hides_is_still_one(library, monkeypatch):
    """A thick stroke lying on a line of ruled paper hides most of it: the line's thin ends alone
    have too few votes to be a line, but they lie where the paper's spacing puts a line between
    the lines found (RULE_HIDDEN), so they are removed, and the stroke stays ink. Before, such ends
    stayed joined to the digit (a 5's bar drawn on the line, or a 9 with a line through it)."""
    paper = Image.new("RGB", (300, 300), (240, 240, 240))
    draw = ImageDraw.Draw(paper)
    for top in range(15, 300, 30):
        draw.rectangle([0, top, 299, top + 1], fill=people_sets.RULE_COLOURS[1])
    draw.rectangle([60, 126, 240, 145], fill=(25, 30, 60))  # on the line at 135

    def ends_and_stroke():
        ink, _ = library._ink(library.read_digit_picture(np.asarray(paper)))
        return ink[135:137, list(range(5, 50)) + list(range(250, 295))].any(), ink[128:144, 70:230]

    ends, stroke = ends_and_stroke()
    assert not ends and stroke.all()
    monkeypatch.setattr(library, "RULE_HIDDEN", np.inf)  # without: the line's ends stay ink
    assert ends_and_stroke()[0]


def test_generated_non_digits_are_reproducible_prepared_pictures(library, mnist_test):
    """One round of draw_non_digits() (each kind as often as NON_DIGIT_KINDS says): MNIST-style
    28 x 28 fields, ink centred as preprocess_digit_image() centres it, the same for one seed and
    different for another (training and validation each draw their own)."""
    images, labels = mnist_test
    count = sum(library.NON_DIGIT_KINDS.values())

    def draw(seed):
        return library.draw_non_digits(count, images[:100], labels[:100], seed)

    pictures = draw(0)
    assert pictures.shape == (count, 28, 28) and pictures.dtype == np.uint8
    assert np.array_equal(pictures, draw(0)) and not np.array_equal(pictures, draw(1))
    for picture in pictures:
        rows, cols = np.nonzero(picture)
        assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 22  # in MNIST's 20 x 20 box (+ blur)
        centre = np.average(
            np.indices(picture.shape).reshape(2, -1), axis=1, weights=picture.ravel()
        )
        assert np.allclose(centre, library.FIELD_CENTRE, atol=1)


def test_only_digits_that_turn_into_no_digit_are_turned(library, mnist_test):
    """A "turned digit" is one of the given digits, mirrored (0) or turned k quarter turns as
    TURNED_DIGITS allows for its label: never a 6 upside down (a 9) or a mirrored 0, 1 or 8."""
    assert not {0, 1, 8} & set(library.TURNED_DIGITS)  # the same, or another digit, turned
    assert 2 not in library.TURNED_DIGITS.get(6, ()) + library.TURNED_DIGITS.get(9, ())
    images, labels = mnist_test
    rng = np.random.default_rng(0)
    turnable = np.flatnonzero(np.isin(labels[:50], list(library.TURNED_DIGITS)))
    for _ in range(40):
        picture = library._draw_non_digit(
            "turned digit", rng, [], images[:50], labels[:50], turnable
        )
        ways = [
            image[:, ::-1] if turn == 0 else np.rot90(image, turn)
            for image, label in zip(images[:50], labels[:50], strict=True)
            for turn in library.TURNED_DIGITS.get(label, ())
        ]
        assert any(np.array_equal(picture, way) for way in ways)


def test_non_digits_of_the_kinds_asked_for(library, mnist_test):
    """draw_non_digits(kinds=...) draws those kinds alone, as often as asked: turned digits alone
    are the given digits turned and prepared; without turned digits, no digit need be turnable."""
    images, labels = mnist_test
    prepared_ways = [
        library.as_pixels(library.preprocess_digit_image(way))
        for image, label in zip(images[:30], labels[:30], strict=True)
        for way in (image[:, ::-1], *(np.rot90(image, k) for k in (1, 2, 3)))
        if label in library.TURNED_DIGITS
    ]
    turned = library.draw_non_digits(8, images[:30], labels[:30], 0, {"turned digit": 1})
    assert all(any(np.array_equal(p, way) for way in prepared_ways) for p in turned)
    stars = library.draw_non_digits(3, images[:30], np.ones(30, int), 0, {"star": 1})
    assert stars.shape == (3, 28, 28)


def test_outlier_exposure_adds_non_digits_whose_target_is_every_digit(library, mnist_test):
    """with_non_digits() keeps the digits and their targets, and adds share × N drawn non-digits
    (draw_non_digits() from the same digits and seed) with the target 1/10 for every digit."""
    images, labels = mnist_test
    digits, targets = (
        library.prepare_images(images[:200]),
        np.eye(10, dtype=np.float32)[labels[:200]],
    )
    mixed, mixed_targets = library.with_non_digits(digits, targets, 0.15, seed=3)
    assert mixed.shape == (230, 28, 28, 1) and mixed_targets.shape == (230, 10)
    assert np.array_equal(mixed[:200], digits) and np.array_equal(mixed_targets[:200], targets)
    drawn = library.draw_non_digits(30, images[:200], labels[:200], seed=3)
    assert np.array_equal(library.as_pixels(mixed[200:]), drawn)
    assert np.allclose(mixed_targets[200:], 0.1)


def test_blank_digits_are_refused_not_drawn_forever(library):
    """Non-digits made of the given digits (pairs, turned digits) cannot be drawn from blank digits
    or from labels with no digit to turn: a clear error, not an endless loop."""
    blank = np.zeros((20, 28, 28), np.uint8)
    with pytest.raises(library.DigitImageError, match="are the digits blank"):
        library.draw_non_digits(100, blank, np.full(20, 3), seed=0)
    with pytest.raises(ValueError, match="turns the digits"):
        library.draw_non_digits(100, blank, np.full(20, 1), seed=0)


def test_the_thresholds_are_the_committed_fit(library):
    assert library.NOT_A_DIGIT_BELOW == METRICS["not_a_digit_below"]
    assert library.IN_NUMBER_PROBABILITY == METRICS["in_number_probability"]


def test_the_threshold_is_fitted_on_validation_data_only(library):
    """The notebook's cell that fits the threshold uses validation digits and validation non-digits,
    nothing of the test set."""
    cells = json.loads((ROOT / "Hand_Written_Digit_Classification.ipynb").read_text())["cells"]
    [fit] = [
        "".join(c["source"])
        for c in cells
        if "fit_not_a_digit_threshold(" in "".join(c["source"])
        and "def fit_not_a_digit_threshold" not in "".join(c["source"])
    ]
    names = set(re.findall(r"\b[a-z_]+\b", fit))
    assert {"x_valid", "valid_digits", "non_digits_valid"} <= names
    assert not {name for name in names if "test" in name}
    threshold = library.fit_not_a_digit_threshold(np.linspace(0, 1, 1001), 0.005)
    assert threshold == pytest.approx(0.005)


@pytest.fixture(scope="module")
def own_sets():
    if fonts_missing():
        packages = " ".join(people_sets.FONT_PACKAGES)
        pytest.skip(f"needs Debian's handwriting fonts: apt-get install {packages}")
    return people_sets.people_sets("evaluation", per_digit=60, count=300)


def read_right(library, model, pictures, labels):
    return people_sets.share_read_right(
        [reading.text for reading in library.read_numbers(model, pictures)], labels
    )


# Measured with the committed model on these sets (`python -m tools.benchmark_people --per-digit 60
# --count 300`, evaluation fonts): 96.8%, 97.3%, 97.0%, 87.3% and 92.0%. The bars sit just below, to
# catch a regression; the targets (97% and 90%) are not all met yet.
BARS = {
    "font photos": 0.96,
    "font canvases": 0.97,
    "font photos on ruled paper": 0.965,
    "non-digit photos": 0.86,
    "non-digit canvases": 0.91,
}


@pytest.mark.parametrize("name", list(BARS))
def test_own_sets_are_read_at_their_measured_rate(library, trained_model, own_sets, name):
    rate = read_right(library, trained_model, *own_sets[name])
    assert rate >= BARS[name], f"{name}: {rate:.1%} read right"
