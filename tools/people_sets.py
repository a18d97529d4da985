"""Evaluation sets that stand in for real people's handwriting, made offline and reproducibly.

Digits are written in handwriting fonts from Debian's packages, then either photographed (dark ink
on unevenly lit paper, blurred, JPEG-compressed), photographed on ruled or squared paper (as in a
school notebook), or drawn on a transparent canvas (as in the app's sketchpad). Non-digits
(letters, symbols, hand-drawn shapes) are photographed and drawn too, for measuring how the model
refuses what is not a digit, and so are whole numbers (number_sets()).
Install the fonts first, as root:

    apt-get install -y fonts-dkg-handwriting fonts-breip ...   # all of FONT_PACKAGES

The fonts are split in two disjoint groups (FONT_SPLIT): tune thresholds on
people_sets("validation") and report on people_sets("evaluation"). Every picture follows from
`seed` alone (given the fonts and Pillow's FreeType): a picture is a numpy uint8 array, (H, W, 3)
RGB for photos and (H, W, 4) RGBA for canvases; a label is the digit 0-9, or None for a non-digit.
"""

import functools
import glob
import io
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage

FONT_PACKAGES = (
    "fonts-breip",
    "fonts-bwht",
    "fonts-comic-neue",
    "fonts-dancingscript",
    "fonts-dkg-handwriting",
    "fonts-havana",
    "fonts-humor-sans",
    "fonts-kaushanscript",
    "fonts-kiloji",
    "fonts-rufscript",
    "fonts-sjfonts",
)
FONT_ROOT = "/usr/share/fonts"
# Family -> its font file: one file per family, chosen by looking at the digits of each.
FONT_FILES = {
    "Because We Build": "BecauseWeBuild-Regular.otf",
    "Because We Connect": "BecauseWeConnect-Regular.otf",
    "Because We Create": "BecauseWeCreate-Regular.otf",
    "Because We Learn": "BecauseWeLearn-Regular.otf",
    "Because We Mentor": "BecauseWeMentor-Regular.otf",
    "Because We Organize": "BecauseWeOrganize-Regular.otf",
    "Breip": "Breip.ttf",
    "Comic Neue": "ComicNeue-Regular.otf",
    "Dancing Script": "DancingScript-Regular.otf",
    "Delphine": "Delphine.ttf",
    "DKG Handwriting": "dkg.ttf",
    "Havana": "Havana-Regular.otf",
    "Humor Sans": "Humor-Sans.ttf",
    "Kaushan Script": "KaushanScript-Regular.otf",
    "Kiloji": "kiloji.ttf",
    "Rufscript": "Rufscript010.ttf",
    "Steve Hand": "SteveHand.ttf",
}
# The families in case-insensitive alphabetical order: every third one, from the first, validates.
FONT_SPLIT = {
    "validation": [
        "Because We Build",
        "Because We Learn",
        "Breip",
        "Delphine",
        "Humor Sans",
        "Rufscript",
    ],
    "evaluation": [
        "Because We Connect",
        "Because We Create",
        "Because We Mentor",
        "Because We Organize",
        "Comic Neue",
        "Dancing Script",
        "DKG Handwriting",
        "Havana",
        "Kaushan Script",
        "Kiloji",
        "Steve Hand",
    ],
}
STYLES = ("photo", "canvas", "ruled photo")
# Letters that cannot pass for a digit: no O o D Q I l i j J S s Z z B G g q b T t y, nor Y (a
# script y), U u (Breip's 0 is a U) or d (a D in the capitals-only fonts). Symbols: no "/" (a
# slanted 1) or "~" (Delphine's is a 2).
LETTERS = "ACEFHKLMNPRVWXacefhkmnprvwx"
SYMBOLS = "+=#%&@?*$!<>"
SHAPES = (
    "scribble",
    "smiley",
    "star",
    "hatching",
    "spiral",
    "grid",
    "heart",
    "cross",
    "arrow",
    "wave",
    "triangle",
    "crossed box",
)
GLYPH_SIZE = 256  # font size glyphs are rendered at before they are scaled
CANVAS_SIDE = 400
NUMBER_LENGTHS = (2, 6)  # digits in a number, at least and at most
NUMBER_GAPS = (-0.08, 0.5)  # space between a number's digits, in shares of their height
INK_COLOURS = {  # RGB, relative weight
    "black": ((20, 20, 25), 5),
    "blue ballpoint": ((25, 45, 130), 3),
    "navy": ((20, 25, 70), 2),
    "pencil": ((75, 75, 80), 2),
    "red": ((150, 25, 30), 1),
    "green": ((20, 90, 40), 1),
}


def handwriting_fonts(families=None):
    """Sorted paths of the installed font files of `families` (default: all of FONT_FILES), one
    per family."""
    names = {FONT_FILES[family] for family in (FONT_FILES if families is None else families)}
    paths = sorted(glob.glob(os.path.join(FONT_ROOT, "**", "*.[ot]tf"), recursive=True))
    first = {}  # file name -> its first path, should a copy lie elsewhere too
    for path in paths:
        if os.path.basename(path) in names:
            first.setdefault(os.path.basename(path), path)
    return sorted(first.values())


@functools.cache
def _font(path):
    return ImageFont.truetype(path, GLYPH_SIZE)


@functools.cache
def _has_glyph(path, char):
    """Whether the font draws `char` as something other than its missing-glyph box (or nothing)."""
    font = _font(path)
    mask = font.getmask(char)
    missing = font.getmask("\U0010fffd")
    return mask.getbbox() is not None and (
        mask.size != missing.size or bytes(mask) != bytes(missing)
    )


def _glyph_mask(path, char, stroke):
    """The character's ink as a tightly cropped L image (255 = ink), outlined `stroke` px wider."""
    font = _font(path)
    left, top, right, bottom = font.getbbox(char, stroke_width=stroke)
    image = Image.new("L", (right - left + 4, bottom - top + 4))
    ImageDraw.Draw(image).text(
        (2 - left, 2 - top), char, font=font, fill=255, stroke_width=stroke, stroke_fill=255
    )
    return image.crop(image.getbbox())


def _warped(mask, rng, grid=3):
    """The mask bent smoothly, as no hand writes a glyph twice alike: each pixel moves by a random
    field drawn on a grid x grid lattice (2-6% of the mask's longest side on average, at most
    twice that)."""
    margin = max(mask.size) // 6
    ink = np.pad(np.asarray(mask, np.float32), margin)
    height, width = ink.shape
    spread = rng.uniform(0.02, 0.06) * max(mask.size)

    def shift():
        lattice = np.clip(rng.normal(0, spread, (grid, grid)), -2 * spread, 2 * spread)
        lattice = Image.fromarray(lattice.astype(np.float32))
        return np.asarray(lattice.resize((width, height), Image.Resampling.BICUBIC))

    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    bent = ndimage.map_coordinates(ink, [rows + shift(), columns + shift()], order=1)
    image = Image.fromarray(np.clip(bent, 0, 255).astype(np.uint8))
    return image.crop(image.getbbox())


@functools.cache
def _pen_ratio(path):
    """The font's stroke width over its digits' height (median over 0-9; 2 * area / perimeter)."""
    ratios = []
    for digit in "0123456789":
        ink = np.asarray(_glyph_mask(path, digit, 0)) > 127
        perimeter = ink.sum() - ndimage.binary_erosion(ink).sum()
        ratios.append(2 * ink.sum() / max(perimeter, 1) / ink.shape[0])
    return float(np.median(ratios))


def _handwritten(path, char, rng):
    """The character as one person might write it: the font's glyph, smoothly bent, in the font's
    own pen or (half of the time) a pen 8-16% of the glyph's height wide, if that is wider."""
    mask = _glyph_mask(path, char, 0)
    if rng.random() < 0.5:
        extra = (rng.uniform(0.08, 0.16) - _pen_ratio(path)) * mask.height / 2
        if extra >= 1:
            mask = _glyph_mask(path, char, round(extra))
    return _warped(mask, rng)


def _posed(mask, size, longest_side, bound, rng):
    """The mask as a hand varies it (slanted by -0.25..0.25, widened by 0.8..1.2, turned by
    -10..10 degrees), scaled so its height (or longest side) is `size` px, no side over `bound`."""
    turn, slant = np.deg2rad(rng.uniform(-10, 10)), rng.uniform(-0.25, 0.25)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    forward = rotation @ np.array([[rng.uniform(0.8, 1.2), -slant], [0, 1]])
    corners = forward @ np.array([[0, mask.width, 0, mask.width], [0, 0, mask.height, mask.height]])
    low, high = corners.min(1), np.ceil(corners.max(1))
    backward = np.linalg.inv(forward)  # PIL maps each output pixel back to the input
    coefficients = np.c_[backward, backward @ low].ravel()
    out_size = tuple(int(side) for side in high - low)
    posed = mask.transform(
        out_size, Image.Transform.AFFINE, tuple(coefficients), Image.Resampling.BICUBIC
    )
    posed = posed.crop(posed.getbbox())
    width, height = posed.size
    scale = min(size / (max(width, height) if longest_side else height), bound / max(width, height))
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return posed.resize(new_size, Image.Resampling.BILINEAR)


def _placed(mask, width, height, margin, rng):
    """Ink coverage (height, width) in [0, 1], the mask placed at a random spot inside margins."""
    coverage = np.zeros((height, width), np.float32)
    x = int(rng.integers(margin, width - margin - mask.width + 1))
    y = int(rng.integers(margin, height - margin - mask.height + 1))
    coverage[y : y + mask.height, x : x + mask.width] = np.asarray(mask, np.float32) / 255
    return coverage


def _ink_colour(rng):
    colours, weights = zip(*INK_COLOURS.values(), strict=True)
    return np.array(colours[rng.choice(len(colours), p=np.array(weights) / sum(weights))])


def _paper(width, height, rng):
    """Light paper (height, width, 3) floats in 0..255: tint, lighting gradient and texture."""
    tint = rng.choice([(1.0, 1.0, 1.0), (1.0, 0.98, 0.92), (0.96, 0.98, 1.0), (0.98, 0.98, 0.98)])
    angle = rng.uniform(0, 2 * np.pi)
    across = np.cos(angle) * np.arange(width, dtype=np.float32) / width
    down = np.sin(angle) * np.arange(height, dtype=np.float32)[:, None] / height
    ramp = (across + down) / np.sqrt(2) + 0.5
    brightest, fall = 255 * rng.uniform(0.88, 0.99), 255 * rng.uniform(0.05, 0.25)
    light = np.float32(brightest) - np.float32(fall) * ramp
    blotches = rng.standard_normal((4, 4), np.float32)
    texture = Image.fromarray(blotches).resize((width, height), Image.Resampling.BICUBIC)
    grey = light + np.float32(rng.uniform(1, 3)) * np.asarray(texture)
    return grey[..., None] * np.asarray(tint, np.float32)


RULE_COLOURS = ((150, 190, 235), (150, 150, 150), (190, 170, 225))  # light blue, grey, lilac


def _ruled(paper, rng):
    """The paper with ruled lines, or squares half the time, printed on it: 1-3 px wide, every 20-45
    px, level within 3 degrees, in one of RULE_COLOURS."""
    height, width = paper.shape[:2]
    spacing, line = rng.uniform(20, 45), rng.uniform(1, 3)
    tilt = np.float32(np.tan(np.deg2rad(rng.uniform(-3, 3))))
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    printed = (rows - tilt * cols - rng.uniform(0, spacing)) % spacing < line
    if rng.random() < 0.5:
        printed |= (cols + tilt * rows - rng.uniform(0, spacing)) % spacing < line
    colour = np.array(RULE_COLOURS[rng.integers(len(RULE_COLOURS))], np.float32) / 255
    return np.where(printed[..., None], paper * colour, paper)


def _photo(mask, longest_side, rng, ruled=False):
    """A JPEG-compressed photo (RGB) of the mask written in ink on a sheet of paper, `ruled` or
    plain, with sensor grain and blur."""
    width, height = (int(side) for side in rng.integers(300, 481, size=2))
    size = rng.uniform(100, min(250, height - 40))
    posed = _posed(mask, size, longest_side, min(width, height) - 30, rng)
    coverage = _placed(posed, width, height, 10, rng)[..., None] * np.float32(rng.uniform(0.8, 1))
    paper, ink = _paper(width, height, rng), _ink_colour(rng).astype(np.float32)
    if ruled:
        paper = _ruled(paper, rng)
    grain = rng.standard_normal((height, width, 1), np.float32) * np.float32(rng.uniform(1.5, 5))
    picture = paper + (ink - paper) * coverage + grain
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    encoded = io.BytesIO()
    image.save(encoded, "JPEG", quality=int(rng.integers(60, 91)))
    return np.asarray(Image.open(encoded).convert("RGB"))


def _canvas(mask, longest_side, rng):
    """The mask drawn in opaque ink on a transparent CANVAS_SIDE-square canvas (RGBA)."""
    posed = _posed(mask, rng.uniform(80, 300), longest_side, CANVAS_SIDE - 20, rng)
    alpha = _placed(posed, CANVAS_SIDE, CANVAS_SIDE, 5, rng)
    picture = np.zeros((CANVAS_SIDE, CANVAS_SIDE, 4), np.uint8)
    picture[alpha > 0, :3] = _ink_colour(rng)
    picture[..., 3] = np.round(alpha * 255)
    return picture


def _picture(mask, style, longest_side, rng):
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    if style == "canvas":
        return _canvas(mask, longest_side, rng)
    return _photo(mask, longest_side, rng, ruled=style == "ruled photo")


def font_digits(fonts, style, per_digit, seed):
    """`per_digit` pictures of each digit 0-9 in `style` ("photo" or "canvas"), the fonts taken in
    turn; returns (pictures, labels)."""
    if not fonts:
        raise ValueError("no fonts given: install FONT_PACKAGES")
    rng = np.random.default_rng(seed)
    pictures, labels = [], []
    for index in range(10 * per_digit):
        digit, font = index % 10, fonts[index // 10 % len(fonts)]
        mask = _handwritten(font, str(digit), rng)
        pictures.append(_picture(mask, style, False, rng))
        labels.append(digit)
    return pictures, labels


def _number_mask(font, text, rng):
    """The digits of `text` written by one hand in one font, side by side on a common baseline, the
    gaps drawn from NUMBER_GAPS (shares of the digits' height; negative: they overlap)."""
    masks = [np.asarray(_handwritten(font, char, rng), np.float32) for char in text]
    height = max(mask.shape[0] for mask in masks)
    gaps = np.round(rng.uniform(*NUMBER_GAPS, len(masks) - 1) * height).astype(int)
    lefts = np.concatenate([[0], np.cumsum([m.shape[1] for m in masks[:-1]] + gaps)])
    lefts -= lefts.min()
    ink = np.zeros((height, max(lefts + [m.shape[1] for m in masks])), np.float32)
    for left, mask in zip(lefts, masks, strict=True):
        region = ink[height - mask.shape[0] :, left : left + mask.shape[1]]
        np.maximum(region, mask, out=region)
    return Image.fromarray(ink.astype(np.uint8))


def font_numbers(fonts, style, count, seed, lengths=NUMBER_LENGTHS):
    """`count` pictures in `style` of numbers of `lengths[0]`..`lengths[1]` digits, each in one of
    the fonts (taken in turn); returns (pictures, texts)."""
    if not fonts:
        raise ValueError("no fonts given: install FONT_PACKAGES")
    rng = np.random.default_rng(seed)
    pictures, texts = [], []
    for index in range(count):
        length = int(rng.integers(lengths[0], lengths[1] + 1))
        text = "".join(str(digit) for digit in rng.integers(0, 10, length))
        pictures.append(
            _picture(_number_mask(fonts[index % len(fonts)], text, rng), style, True, rng)
        )
        texts.append(text)
    return pictures, texts


def _smooth(points, rounds=3):
    """Chaikin's corner cutting, keeping the ends: a smooth curve along the polyline."""
    for _ in range(rounds):
        cuts = np.stack(
            [0.75 * points[:-1] + 0.25 * points[1:], 0.25 * points[:-1] + 0.75 * points[1:]], 1
        ).reshape(-1, 2)
        points = np.concatenate([points[:1], cuts, points[-1:]])
    return points


def _ellipse(cx, cy, rx, ry, start=0.0, stop=2 * np.pi, n=48):
    angles = np.linspace(start, stop, n)
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], 1)


def _segment(*points):
    return np.array(points, float)


def _shape_strokes(shape, rng):
    """The pen strokes of a shape: a list of (n, 2) point arrays in the unit square (y down)."""
    u = rng.uniform
    if shape == "scribble":
        return [_smooth(u(0.1, 0.9, (int(rng.integers(10, 18)), 2)))]
    if shape == "smiley":
        eye = u(0.03, 0.06)
        mouth = _ellipse(0.5, 0.5, 0.25, u(0.15, 0.25), u(0.15, 0.35), np.pi - u(0.15, 0.35))
        return [
            _ellipse(0.5, 0.5, 0.45, u(0.38, 0.45), n=64),
            mouth,
            _ellipse(0.35, 0.35, eye, eye, n=12),
            _ellipse(0.65, 0.35, eye, eye, n=12),
        ]
    if shape == "star":
        angles = np.deg2rad(-90 + 144 * np.arange(6))
        return [np.stack([0.5 + 0.45 * np.cos(angles), 0.52 + 0.45 * np.sin(angles)], 1)]
    if shape == "hatching":
        starts = np.linspace(0.05, 0.65, int(rng.integers(4, 9)))
        lines = [_segment((x, 0.1), (x + 0.3, 0.9)) for x in starts]
        if rng.random() < 0.5:  # cross-hatching
            lines += [_segment((x + 0.3, 0.1), (x, 0.9)) for x in starts]
        return lines
    if shape == "spiral":
        t = np.linspace(0, 1, 120)
        angles = t * 2 * np.pi * u(2, 3.5) + u(0, 2 * np.pi)
        radii = 0.03 + 0.42 * t
        return [np.stack([0.5 + radii * np.cos(angles), 0.5 + radii * np.sin(angles)], 1)]
    if shape == "grid":
        ticks = np.linspace(0.1, 0.9, int(rng.integers(4, 6)))
        return [_segment((x, 0.1), (x, 0.9)) for x in ticks] + [
            _segment((0.1, y), (0.9, y)) for y in ticks
        ]
    if shape == "heart":
        t = np.linspace(0, 2 * np.pi, 64)
        x = 16 * np.sin(t) ** 3
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        return [np.stack([0.5 + x / 36, 0.45 - y / 36], 1)]
    if shape == "cross":
        return [_segment((0.1, 0.1), (0.9, 0.9)), _segment((0.9, 0.1), (0.1, 0.9))]
    if shape == "arrow":
        turn = u(0, 2 * np.pi)
        rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        lines = [_segment((0.05, 0.5), (0.95, 0.5)), _segment((0.7, 0.3), (0.95, 0.5), (0.7, 0.7))]
        return [(line - 0.5) @ rotation.T + 0.5 for line in lines]
    if shape == "wave":
        x = np.linspace(0.05, 0.95, 80)
        return [np.stack([x, 0.5 + 0.15 * np.sin(2 * np.pi * u(2, 4) * x + u(0, 2 * np.pi))], 1)]
    if shape == "triangle":
        corners = np.array([(0.5, 0.1), (0.9, 0.85), (0.1, 0.85)]) + u(-0.08, 0.08, (3, 2))
        return [np.concatenate([corners, corners[:1]])]
    if shape == "crossed box":
        box = _segment((0.15, 0.15), (0.85, 0.15), (0.85, 0.85), (0.15, 0.85), (0.15, 0.15))
        return [box, _segment((0.15, 0.15), (0.85, 0.85)), _segment((0.85, 0.15), (0.15, 0.85))]
    raise ValueError(f"unknown shape {shape!r}: expected one of {SHAPES}")


def _wobbly(stroke, rng, step=0.01):
    """The stroke resampled every `step` and bent by a slow hand tremor, then smoothed."""
    lengths = np.r_[0, np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))]
    t = np.linspace(0, lengths[-1], max(2, int(lengths[-1] / step)))
    points = np.stack([np.interp(t, lengths, stroke[:, 0]), np.interp(t, lengths, stroke[:, 1])], 1)
    drift = np.cumsum(rng.normal(0, 0.002, points.shape), axis=0)
    return _smooth(points + drift - drift.mean(0) + rng.normal(0, 0.004, 2), rounds=1)


def _shape_mask(shape, rng):
    """A hand-drawn shape as a tightly cropped L image, at GLYPH_SIZE, in a pen of random width."""
    image = Image.new("L", (GLYPH_SIZE + 40, GLYPH_SIZE + 40))
    draw = ImageDraw.Draw(image)
    width = int(rng.integers(5, 17))
    for stroke in _shape_strokes(shape, rng):
        points = [tuple(p) for p in _wobbly(stroke, rng) * GLYPH_SIZE + 20]
        draw.line(points, fill=255, width=width, joint="curve")
        for x, y in (points[0], points[-1]):  # round pen tips
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return image.crop(image.getbbox())


def non_digits(style, count, seed, fonts=None):
    """`count` pictures in `style` that are not digits: letters and symbols in the handwriting
    `fonts` (default: all installed), and hand-drawn shapes, a third each; labels are None."""
    fonts = handwriting_fonts() if fonts is None else fonts
    if not fonts:
        raise ValueError("no fonts given: install FONT_PACKAGES")
    rng = np.random.default_rng(seed)
    pictures = []
    for index in range(count):
        kind, turn = index % 3, index // 3
        if kind == 2:
            mask, longest_side = _shape_mask(SHAPES[turn % len(SHAPES)], rng), True
        else:
            font = fonts[turn % len(fonts)]
            chars = [c for c in (LETTERS if kind == 0 else SYMBOLS) if _has_glyph(font, c)]
            char = chars[rng.integers(len(chars))]
            mask, longest_side = _handwritten(font, char, rng), kind == 1
        pictures.append(_picture(mask, style, longest_side, rng))
    return pictures, [None] * count


def _split_fonts(split):
    """The installed font files of `split`'s families; FileNotFoundError when any is missing."""
    if split not in FONT_SPLIT:
        raise ValueError(f"split must be one of {sorted(FONT_SPLIT)}, got {split!r}")
    families = FONT_SPLIT[split]
    fonts = handwriting_fonts(families)
    found = {os.path.basename(path) for path in fonts}
    missing = [family for family in families if FONT_FILES[family] not in found]
    if missing:
        raise FileNotFoundError(
            f"handwriting fonts not installed: {', '.join(missing)}; as root run "
            f"apt-get install -y {' '.join(FONT_PACKAGES)}"
        )
    return fonts


def people_sets(split, per_digit=100, count=500, seed=0):
    """The sets of `split` ("validation" or "evaluation"), each (pictures, labels): "font photos",
    "font canvases", "font photos on ruled paper" (`per_digit` of each digit) and "non-digit
    photos", "non-digit canvases" (`count` each), in that split's fonts alone."""
    fonts = _split_fonts(split)
    split_number = list(FONT_SPLIT).index(split)

    def seed_of(set_number):
        return int(np.random.SeedSequence([seed, split_number, set_number]).generate_state(1)[0])

    return {
        "font photos": font_digits(fonts, "photo", per_digit, seed_of(0)),
        "font canvases": font_digits(fonts, "canvas", per_digit, seed_of(1)),
        "font photos on ruled paper": font_digits(fonts, "ruled photo", per_digit, seed_of(5)),
        "non-digit photos": non_digits("photo", count, seed_of(2), fonts),
        "non-digit canvases": non_digits("canvas", count, seed_of(3), fonts),
    }


def number_sets(split, count=200, seed=0):
    """The numbers of `split` ("validation" or "evaluation"), each (pictures, texts): "font number
    photos", "font number canvases" and "font number photos on ruled paper", `count` each, in that
    split's fonts alone."""
    fonts = _split_fonts(split)
    seeds = np.random.SeedSequence([seed, list(FONT_SPLIT).index(split), 4]).generate_state(3)
    return {
        "font number photos": font_numbers(fonts, "photo", count, int(seeds[0])),
        "font number canvases": font_numbers(fonts, "canvas", count, int(seeds[1])),
        "font number photos on ruled paper": font_numbers(
            fonts, "ruled photo", count, int(seeds[2])
        ),
    }


def share_read_right(texts, labels):
    """The share of readings `texts` that are right: the digit for a digit's label, "" for None."""
    right = [
        text == ("" if label is None else str(label))
        for text, label in zip(texts, labels, strict=True)
    ]
    return float(np.mean(right))
