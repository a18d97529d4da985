"""read_number() on whole numbers: strokes of one digit stay one, touching digits are cut, digits
come left to right with their boxes in the input's pixels, a mark that is no digit spoils the
number, signs are skipped, and a speck storm is refused without reading each speck."""

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from tools import people_sets
from tools.benchmark_numbers import mnist_numbers, non_digits_amid_digits


def pen_drawing(strokes, size=200, width=14):
    """Strokes (polylines in [-1, 1]², y down) drawn in black on a white square, uint8."""
    picture = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(picture)
    for stroke in strokes:
        points = [((x * 0.8 + 1) * size / 2, (y * 0.8 + 1) * size / 2) for x, y in stroke]
        draw.line(points, fill=0, width=width, joint="curve")
    return np.asarray(picture)


# A 4 whose stem stops short of the bar on both sides, and a 5 whose top bar floats above its body.
BROKEN = {
    4: [
        [(-0.15, -0.85), (-0.55, 0.25), (0.5, 0.25)],
        [(0.25, -0.45), (0.25, 0.1)],
        [(0.25, 0.4), (0.25, 0.85)],
    ],
    5: [
        [(-0.3, -0.85), (0.45, -0.85)],
        [
            (-0.4, -0.65),
            (-0.45, -0.1),
            (0.0, -0.2),
            (0.4, 0.1),
            (0.45, 0.5),
            (0.1, 0.8),
            (-0.45, 0.7),
        ],
    ],
}


@pytest.mark.parametrize("digit", sorted(BROKEN))
def test_the_strokes_of_one_digit_stay_one_digit(library, trained_model, digit):
    picture = pen_drawing(BROKEN[digit])
    assert ndimage.label(picture < 128)[1] >= 2  # really in separate strokes
    reading = library.read_number(trained_model, picture)
    assert reading.text == str(digit) and len(reading.digits) == 1


def test_touching_digits_are_cut(library, trained_model, mnist):
    """Numbers of 3 training digits, two of them touching or overlapping by 1-3 px: most are read
    right (measured 88% on this draw, 89% with straight cuts only, 83% before the cut rules of
    2026-12-06, and 31% with cutting turned off)."""
    (images, labels), _ = mnist
    pictures, texts = [], []
    rng = np.random.default_rng(0)
    for _ in range(100):
        chosen = rng.choice(len(images), 3, replace=False)
        pictures.append(library.compose_number(images[chosen], [int(rng.integers(-3, 1)), 12]))
        texts.append("".join(map(str, labels[chosen])))
    right = np.mean(
        [
            library.read_number(trained_model, p).text == t
            for p, t in zip(pictures, texts, strict=True)
        ]
    )
    assert right >= 0.83, right


def test_a_cut_goes_round_strokes_that_overlap_in_columns(library):
    """Two slanted strokes joined in the middle, each reaching over the other's columns: no straight
    cut parts them without slicing one, and one of the cut paths (_cut_paths()) parts them whole."""
    ink = np.zeros((40, 70), np.float32)
    first = np.zeros(ink.shape, bool)
    for row in range(40):
        first[row, 8 + row // 2 : 14 + row // 2] = True
    second = np.roll(first, 14, axis=1)
    ink[first | second] = 1
    ink[18:21, 14:30] = 1  # the join
    assert np.flatnonzero(first.any(0))[-1] > np.flatnonzero(second.any(0))[0]
    columns = np.arange(ink.shape[1])
    lefts = [columns < path[:, None] for path in library._cuts(ink).values()]
    assert any((first <= left).all() and (second <= ~left).all() for left in lefts)


def is_narrow(library, mark):
    """No wider than TOUCHING_WIDER_THAN times its height: read_number never tries to cut it."""
    width, height = (np.ptp(np.flatnonzero(mark.any(axis))) + 1 for axis in (0, 1))
    return width <= library.TOUCHING_WIDER_THAN * height


def test_digits_come_left_to_right_with_boxes_in_the_input_pixels(library, trained_model, mnist):
    """Order and boxes, on the first three training digits narrower than TOUCHING_WIDER_THAN times
    their height (no cut is tried in them: cutting is tested below)."""
    (images, labels), _ = mnist
    never_cut = [i for i in range(100) if is_narrow(library, images[i])]
    chosen = never_cut[:3]
    paper = np.full((400, 900), 255, np.uint8)
    truth = []
    for i, left in zip(chosen, (100, 350, 600), strict=True):  # 5 times enlarged, 110 px apart
        digit = np.kron(images[i], np.ones((5, 5), np.uint8))
        paper[120:260, left : left + 140] = 255 - digit
        rows, cols = np.nonzero(digit)
        truth.append(
            (left + cols.min(), 120 + rows.min(), left + cols.max() + 1, 120 + rows.max() + 1)
        )
    reading = library.read_number(trained_model, paper)
    assert reading.text == "".join(map(str, labels[chosen]))
    step = 2  # the picture is read at half size (at most 512 pixels a side)
    for (_, _, box), true_box in zip(reading.digits, truth, strict=True):
        assert np.abs(np.subtract(box, true_box)).max() <= 2 * step, (box, true_box)


def test_a_mark_read_as_no_digit_amid_digits_spoils_the_number(library, trained_model, mnist):
    """Non-digits that read as "not a digit" alone, as one mark too narrow to be cut, and also in a
    number (their likeliest digit under IN_NUMBER_PROBABILITY), make a number they stand in read as
    "" (not a number with a gap), and the reason (the app's message too) names that mark."""
    (images, labels), _ = mnist
    digits = images[[0, 1]]
    assert library.read_number(trained_model, library.compose_number(digits, [12])).text == "".join(
        map(str, labels[:2])
    )
    marks = []
    for mark in library.draw_non_digits(150, images[:300], labels[:300], seed=0):
        reading, fields, probabilities = library._read_marks(trained_model, mark)
        if (
            reading.reason == library.NOT_A_DIGIT
            and len(fields) == 1
            and probabilities.max() < library.IN_NUMBER_PROBABILITY
            and is_narrow(library, mark)
        ):
            marks.append(mark)
    assert len(marks) >= 5
    for mark in marks:
        number = library.compose_number(np.stack([digits[0], mark, digits[1]]), [12, 12])
        reading = library.read_number(trained_model, number)
        assert reading.text == "" and reading.digits == []
        assert reading.reason == (
            "the 2nd mark from the left looks like a letter, a sign or a drawing"
        )
    answer, _, boxes, message = library.page_answer(trained_model, number)  # the app's page
    assert answer is None and boxes is None
    assert message == f"**That doesn't look like a number:** {reading.reason}."


def test_the_reason_names_the_marks_that_are_no_digit(library):
    """A lone mark is NOT_A_DIGIT; in a number, the marks that are no digit are counted from the
    left, in English ordinals."""
    assert library._not_a_digit_reason(np.array([True])) == library.NOT_A_DIGIT
    refused = np.zeros(23, bool)
    refused[[0, 10, 11, 12, 20, 22]] = True
    assert library._not_a_digit_reason(refused) == (
        "the 1st, 11th, 12th, 13th, 21st and 23rd marks from the left look like letters, signs or "
        "drawings"
    )


def test_most_non_digits_amid_digits_spoil_the_number(library, trained_model, mnist):
    """Non-digits drawn from training digits (not pairs of digits), each between two training
    digits 8 px apart: most numbers read "" (measured 83.0% on this draw). Cutting more marks reads
    more numbers but lets more of these through (docs/benchmarks.md, "Whole numbers")."""
    (images, labels), _ = mnist
    pictures = non_digits_amid_digits(library, images, labels, 200)
    refused = np.mean([r.text == "" for r in library.read_numbers(trained_model, pictures)])
    assert refused >= 0.8, refused


def test_many_pictures_read_together_read_as_each_alone(library, trained_model, mnist, monkeypatch):
    """read_numbers() gives read_number()'s reading of each picture, in order, with the marks of
    READ_TOGETHER pictures at a time in one call of the model: lone digits, numbers, non-digits amid
    digits, a blank picture. An unreadable picture raises DigitImageError, as it does alone."""
    (images, labels), _ = mnist
    pictures = [
        images[0],
        *mnist_numbers(library, images, labels, 4)[0],
        np.full((40, 40), 255, np.uint8),
        *non_digits_amid_digits(library, images, labels, 4),
        images[1],
    ]
    alone = [library.read_number(trained_model, p) for p in pictures]
    calls = []
    monkeypatch.setattr(library, "READ_TOGETHER", 4)
    scores = library.reading_scores
    monkeypatch.setattr(library, "reading_scores", lambda *a: calls.append(1) or scores(*a))
    together = library.read_numbers(trained_model, iter(pictures))
    assert len(calls) == 3  # 11 pictures, 4 at a time
    assert [(r.text, r.reason) for r in together] == [(r.text, r.reason) for r in alone]
    for batched, single in zip(together, alone, strict=True):
        assert [(d, box) for d, _, box in batched.digits] == [
            (d, box) for d, _, box in single.digits
        ]
        np.testing.assert_allclose(
            [p for _, p, _ in batched.digits], [p for _, p, _ in single.digits], atol=1e-5
        )
    assert {r.text for r in alone} > {""}  # numbers read, and pictures read as none
    with pytest.raises(library.DigitImageError):
        library.read_numbers(trained_model, [images[0], b"not a picture"])


def test_amid_digits_a_likely_digit_is_a_digit_whatever_its_score(library, trained_model, mnist):
    """A training digit refused alone for its digit score, though its likeliest digit is at least
    IN_NUMBER_PROBABILITY likely, is read as that digit between two others."""
    (images, labels), _ = mnist
    for image, label in zip(images[:8000], labels[:8000], strict=True):
        if not is_narrow(library, image):
            continue
        reading, fields, probabilities = library._read_marks(trained_model, image)
        if (
            reading.reason == library.NOT_A_DIGIT
            and probabilities[0].argmax() == label
            and probabilities.max() >= library.IN_NUMBER_PROBABILITY
        ):
            break
    else:
        pytest.fail("no such digit among the first 8,000 training digits")
    number = library.compose_number(np.stack([images[0], image, images[1]]), [12, 12])
    assert library.read_number(trained_model, number).text == f"{labels[0]}{label}{labels[1]}"


def test_signs_between_digits_are_skipped(library, trained_model, mnist):
    (images, labels), _ = mnist
    hyphen = np.zeros((28, 28), np.uint8)
    hyphen[13:16, 8:20] = 255
    number = library.compose_number(
        np.stack([images[0], images[1], hyphen, images[2], images[3]]), [10] * 4
    )
    assert library.read_number(trained_model, number).text == "".join(map(str, labels[:4]))


# An exclamation mark slanted as in handwriting, a question mark, and a 1 with a decimal point.
STROKE_OF_ONE = [(0.2, -0.9), (-0.05, 0.35)]
DOTTED = {
    "!": [STROKE_OF_ONE, [(-0.15, 0.74), (-0.12, 0.86)]],
    "?": [
        [(-0.4, -0.8), (0.35, -0.8), (0.3, -0.5), (0.05, -0.1), (0.0, 0.35)],
        [(-0.02, 0.7), (0.01, 0.8)],
    ],
}


@pytest.mark.parametrize("sign", sorted(DOTTED))
def test_a_stroke_with_a_dot_beneath_is_no_digit(library, trained_model, sign):
    """Without its dot the stroke reads as a digit, and so does the sign with the dot when the rule
    (_dotted_strokes()) is left out (checked: "1" and "7"); a dot beside a 1's foot is a decimal
    point, skipped."""
    reading = library.read_number(trained_model, pen_drawing(DOTTED[sign]))
    assert reading.text == "" and reading.reason == library.NOT_A_DIGIT
    assert library.read_number(trained_model, pen_drawing(DOTTED[sign][:1])).text != ""
    decimal = pen_drawing([STROKE_OF_ONE, [(0.25, 0.24), (0.28, 0.36)]])
    assert library.read_number(trained_model, decimal).text == "1"


# A 7 drawn with a pen 14 px wide, and a thin tick beside it, lower than half the 7 and a tenth of
# its ink: a stray mark, as MNIST's scans have beside some digits.
SEVEN = [(-0.5, -0.8), (0.4, -0.8), (-0.1, 0.85)]
TICK = [(0.75, -0.85), (0.75, -0.05)]


def test_a_stray_tick_beside_a_digit_is_skipped(library, trained_model, monkeypatch):
    """Without the rule (STRAY_INK 0) the tick reads as a 1 beside the 7."""
    picture = np.minimum(pen_drawing([SEVEN]), pen_drawing([TICK], width=4))
    assert ndimage.label(picture < 128)[1] == 2
    reading = library.read_number(trained_model, picture)
    assert reading.text == "7" and len(reading.digits) == 1
    monkeypatch.setattr(library, "STRAY_INK", 0)
    assert library.read_number(trained_model, picture).text == "71"


def test_a_speck_storm_is_refused_before_any_speck_is_read(library, trained_model, monkeypatch):
    specks = np.full((512, 512), 255, np.uint8)
    rows, cols = np.mgrid[8:512:24, 8:512:24]
    for y, x in zip(rows.ravel(), cols.ravel(), strict=True):  # 441 dots of 4 x 4 px
        specks[y : y + 4, x : x + 4] = 0
    monkeypatch.setattr(library, "_model_outputs", lambda *_: pytest.fail("the model was asked"))
    reading = library.read_number(trained_model, specks)
    assert reading.text == "" and "too many separate marks" in reading.reason


def test_composed_numbers_have_their_gaps(library):
    digits = np.zeros((2, 28, 28), np.uint8)
    digits[:, 4:24, 10:14] = 255  # two 4 px wide strokes
    for gap in (-3, 0, 5):
        number = library.compose_number(digits, [gap])
        columns = np.flatnonzero(number.any(axis=0))
        assert columns[-1] - columns[0] + 1 == 8 + gap and number.shape[1] == 8 + gap + 16
    _, texts, smallest = mnist_numbers(library, digits, np.array([1, 7]), 20, length=2)
    assert set(texts) == {"17", "71"} and -3 <= smallest.min() and smallest.max() <= 30


# Measured with the committed model (`python -m tools.benchmark_numbers`, evaluation fonts, 200
# numbers of 2 to 6 digits each): 71.5% of the photos, 86.5% of the canvases and 65.0% of the photos
# on ruled or squared paper read exactly. The bars sit below, to catch a regression; the issue's
# target (90%) is not met.
NUMBER_BARS = {
    "font number photos": 0.68,
    "font number canvases": 0.84,
    "font number photos on ruled paper": 0.63,
}


@pytest.mark.skipif(
    len(people_sets.handwriting_fonts()) < len(people_sets.FONT_FILES),
    reason="needs Debian's handwriting fonts: apt-get install the FONT_PACKAGES",
)
def test_own_numbers_are_read_at_their_measured_rate(library, trained_model):
    for name, (pictures, texts) in people_sets.number_sets("evaluation", 200).items():
        readings = library.read_numbers(trained_model, pictures)
        right = np.mean([r.text == t for r, t in zip(readings, texts, strict=True)])
        assert right >= NUMBER_BARS[name], f"{name}: {right:.1%} read exactly"


def test_shade_on_a_photo_does_not_join_the_digits(library, trained_model, mnist):
    """A photo of three digits apart under a soft shadow that touches them all: the shade is faint
    ink joined to every stroke, and is left out (farther than FAINT_REACH and twice a stroke's
    width from the strokes), so the digits stay three."""
    (images, labels), _ = mnist
    chosen = [i for i in range(100) if is_narrow(library, images[i])][:3]
    ink = np.kron(library.compose_number(images[chosen], [10, 10]), np.ones((4, 4))) / 255
    rows, cols = np.indices(ink.shape)
    centre_row, centre_col = ink.shape[0] / 2, ink.shape[1] / 2
    shade = 0.25 * np.exp(-(((rows - centre_row) / 40) ** 2 + ((cols - centre_col) / 160) ** 2))
    photo = 255 * np.clip(0.92 - shade - 0.6 * ink, 0, 1)
    assert ndimage.label(photo < 0.92 * 255 - 20)[1] == 1  # the shade reaches every digit
    reading = library.read_number(trained_model, photo.astype(np.uint8))
    assert reading.text == "".join(map(str, labels[chosen]))


def test_a_cut_piece_is_about_as_tall_as_the_digits(library):
    """A 2's long tail or a 1's flag cut off is no digit: beside another digit, a stroke with a long
    tail along the bottom may be cut, but never into a piece shorter than MIN_PIECE_HEIGHT × its
    height (measured: such pieces read as extra 1s and 7s in validation font numbers)."""
    ink = np.zeros((60, 200), np.float32)
    ink[5:55, 20:28] = ink[47:55, 28:110] = ink[5:55, 150:158] = 1  # "|__" and "|"
    strong = ink > 0.5
    labels, count = ndimage.label(strong, structure=np.ones((3, 3)))
    pieces = library._pieces(ink, strong, labels, library._groups(labels, count))
    first = [piece for piece in pieces if piece[0] == 0]
    assert len(first) > 1  # cuts were tried
    tallness = [np.ptp(np.flatnonzero(span.any(axis=1))) + 1 for *_, span, _ in first]
    assert min(tallness) > 8  # never the tail alone (without MIN_PIECE_HEIGHT, 21 pieces are)
    assert min(tallness) >= library.MIN_PIECE_HEIGHT * 50
