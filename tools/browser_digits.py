"""Digits drawn with the mouse in a real browser (Playwright), for the app's tests and benchmark.

Each digit is a list of strokes, each stroke a polyline in a unit box ([-1, 1]², y down), drawn the
way people draw it; `draw_digit` scales one into the drawing pad, optionally smaller, off-centre
and slanted."""

import math

CHROMIUM = "/usr/bin/chromium"  # Debian's: apt-get install -y chromium
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _arc(cx, cy, r, start, stop, n=24, ry=None):
    ry = r if ry is None else ry
    return [
        (
            cx + r * math.cos(start + (stop - start) * i / n),
            cy + ry * math.sin(start + (stop - start) * i / n),
        )
        for i in range(n + 1)
    ]


STROKES = {
    0: [_arc(0, 0, 0.55, -math.pi / 2, 1.5 * math.pi, 36, ry=0.85)],
    1: [[(-0.25, -0.6), (0.05, -0.85), (0.05, 0.85)]],
    2: [_arc(0, -0.4, 0.45, -math.pi, 0.2) + [(-0.5, 0.85), (0.55, 0.85)]],
    3: [
        _arc(0, -0.42, 0.42, -0.9 * math.pi, math.pi / 2)
        + _arc(0, 0.42, 0.43, -math.pi / 2, 0.9 * math.pi)
    ],
    4: [[(-0.15, -0.85), (-0.55, 0.25), (0.5, 0.25)], [(0.25, -0.45), (0.25, 0.85)]],
    5: [[(0.45, -0.85), (-0.35, -0.85), (-0.4, -0.1)] + _arc(0, 0.35, 0.5, -2.3, 2.5)],
    6: [[(0.35, -0.85), (-0.1, -0.5), (-0.4, 0.0)] + _arc(0, 0.4, 0.45, math.pi, 3 * math.pi, 32)],
    7: [[(-0.5, -0.85), (0.5, -0.85), (-0.1, 0.85)]],
    8: [
        [
            (0.4 * math.sin(2 * t), -0.85 * math.cos(t))
            for t in (2 * math.pi * i / 48 for i in range(49))
        ]
    ],
    9: [_arc(0, -0.4, 0.42, 0, 2 * math.pi, 32) + [(0.3, 0.85)]],
}
# 20 digits: each digit large and centred, then smaller, off-centre and slanted.
VARIANTS = [(digit, {}) for digit in range(10)] + [
    (digit, dict(scale=0.55, dx=0.25 * (-1) ** digit, dy=0.2, slant=0.25)) for digit in range(10)
]


def draw_digit(
    page,
    digit,
    selector="#sketch canvas",
    scale=0.8,
    dx=0.0,
    dy=0.0,
    slant=0.0,
    steps=3,
    pause_s=0.4,
):
    """Draw `digit` on the canvas with the mouse (`dx`, `dy`: its centre's offset in half-heights
    of the pad), pausing between strokes as people do (so that the
    answer to a stroke arrives before the next one ends); returns after the last mouse-up."""
    box = page.locator(selector).first.bounding_box()
    half = min(box["width"], box["height"]) / 2
    cx, cy = box["x"] + box["width"] / 2 + dx * half, box["y"] + box["height"] / 2 + dy * half

    def point(x, y):
        return cx + (x - slant * y) * scale * half, cy + y * scale * half

    for i, stroke in enumerate(STROKES[digit]):
        if i:
            page.wait_for_timeout(pause_s * 1000)
        page.mouse.move(*point(*stroke[0]))
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(*point(x, y), steps=steps)
        page.mouse.up()


def draw_number(page, text, selector="#sketch canvas", scale=0.7, spacing=1.1, **options):
    """Draw the digits of `text` side by side, centred, each as draw_digit() draws one, `spacing`
    half-heights of the pad apart; returns after the last mouse-up."""
    for i, character in enumerate(text):
        dx = (i - (len(text) - 1) / 2) * spacing
        draw_digit(page, int(character), selector, scale=scale, dx=dx, **options)


# In the page: the time of the last mouse-up, and of the first new answer on screen after it.
WATCH_ANSWER_JS = """() => {
  const text = () => [...document.querySelectorAll(
    "#prediction [data-testid='label-output-value'], #prediction [data-testid$='-confidence-set']")]
    .map((e) => e.textContent).join("|");  // the answer, not the status timer beside it
  window.__answer = {stroke_end: null, before: null, shown: null};
  document.addEventListener("pointerup", () => {
    window.__answer = {stroke_end: performance.now(), before: text(), shown: null};
  }, {capture: true});
  new MutationObserver(() => {
    const a = window.__answer;
    if (a.stroke_end !== null && a.shown === null && text() !== a.before
        && document.querySelector("#prediction [data-testid='label-output-value']")) {
      a.shown = performance.now();
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
