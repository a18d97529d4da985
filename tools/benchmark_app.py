"""How fast the drawing app answers, measured in a real browser (headless Debian Chromium).

    .venv/bin/python -m tools.benchmark_app [MODEL_PATH] [--rounds N]

Draws 20 digits with the mouse (each digit 0-9 large and centred, then small, off-centre and
slanted), pressing Clear before each, and prints per digit the answer and the time from the last
mouse-up to the answer on screen, then p50/p95 over all of them. The server's own share (decode,
find the digits, predict) is printed beside it. Needs Chromium: apt-get install -y chromium.
"""

import argparse
import time

import numpy as np

import digit_reader as library
from tools.browser_digits import CHROMIUM, CHROMIUM_ARGS, VARIANTS, WATCH_ANSWER_JS, draw_digit
from tools.machine import describe_machine

ANSWER = "#prediction [data-testid='label-output-value']"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="mnist_model.h5")
    parser.add_argument("--rounds", type=int, default=1, help="times to draw the 20 digits")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server_seconds = []
    page_answer = library.page_answer

    def timed_page_answer(model, picture):
        start = time.perf_counter()
        try:
            return page_answer(model, picture)
        finally:
            server_seconds.append(time.perf_counter() - start)

    library.page_answer = timed_page_answer
    demo = library.build_demo(library.load_digit_model(args.model))
    url = library.launch_demo(demo, quiet=True)
    print(describe_machine(library))
    latencies, right = [], 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            page.locator("#sketch canvas").first.wait_for()
            page.evaluate(WATCH_ANSWER_JS)
            draw_digit(page, 1)  # warm-up: the model's first call compiles it
            page.locator(ANSWER).wait_for()
            for _ in range(args.rounds):
                for digit, variant in VARIANTS:
                    time.sleep(1)  # let a late answer to the previous digit arrive before Clear
                    page.locator("#sketch").get_by_role("button", name="Clear").click()
                    page.locator(ANSWER).wait_for(state="detached")
                    draw_digit(page, digit, **variant)
                    page.wait_for_function("() => window.__answer.shown !== null")
                    timing = page.evaluate("window.__answer")
                    latencies.append(timing["shown"] - timing["stroke_end"])
                    answer = page.locator(ANSWER).inner_text()
                    right += answer == str(digit)
                    print(
                        f"drew {digit} {variant or 'large, centred'}: answer {answer} "
                        f"after {latencies[-1]:.0f} ms"
                    )
            browser.close()
    finally:
        demo.close()
    p50, p95 = np.percentile(latencies, [50, 95])
    print(
        f"stroke end to answer on screen, {len(latencies)} digits: "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms (target p95 <= 300 ms); "
        f"{right}/{len(latencies)} read right"
    )
    p50, p95 = np.percentile(server_seconds, [50, 95])
    print(f"of which the server's reading: p50 {p50 * 1e3:.0f} ms, p95 {p95 * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
