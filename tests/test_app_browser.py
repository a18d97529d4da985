"""End to end: the Gradio demo driven in headless Chromium, and called through gradio_client."""
import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_S = 30  # every wait below is bounded by this
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's Chromium: apt-get install -y chromium")]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo(library, trained_model):
    app = library.build_demo(trained_model)
    library.launch_demo(app, server_port=_free_port())
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(scope="module")
def app_url(demo):
    return demo.local_url


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), timeout=TIMEOUT_S * 1000,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(TIMEOUT_S * 1000)
            page.set_default_navigation_timeout(TIMEOUT_S * 1000)
            page.goto(app_url)
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="module")
def files(mnist_test, tmp_path_factory):
    """A test-set digit rendered as a 280x280 black-on-white PNG, its label, and a text file."""
    images, labels = mnist_test
    index = int(np.flatnonzero(labels == 2)[0])  # not the 7 drawn below, so each answer is new
    folder = tmp_path_factory.mktemp("uploads")
    digit = folder / "digit.png"
    Image.fromarray(255 - images[index]).resize((280, 280), Image.Resampling.BICUBIC).save(digit)
    text = folder / "notes.txt"
    text.write_text("shopping list: milk, eggs\n")
    return digit, int(labels[index]), text


def _expect_prediction(page, digit):
    from playwright.sync_api import expect

    expect(page.locator("#prediction [data-testid='label-output-value']")).to_have_text(
        str(digit), timeout=TIMEOUT_S * 1000)


def _upload(page, path):
    """Put a file into the upload box (clearing any earlier one) and press its button."""
    from playwright.sync_api import expect

    clear = page.locator("#upload button[aria-label='Clear']")
    if clear.count():
        clear.click()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    expect(page.locator("#upload")).to_contain_text(path.name)  # upload finished
    page.get_by_role("button", name="Classify upload").click()


def test_serves_on_localhost_with_upload_cap(demo, library):
    assert demo.local_url.startswith("http://127.0.0.1:")
    assert demo.share_url is None
    assert demo.max_file_size == library.MAX_FILE_BYTES == 5_000_000


def test_draw_a_seven(page):
    page.get_by_role("button", name="Brush").first.click()  # "select the draw tool to start"
    canvas = page.locator("#sketch canvas").first.bounding_box()
    x, y = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    page.mouse.move(x - 60, y - 90)
    page.mouse.down()
    page.mouse.move(x + 60, y - 90, steps=12)   # the bar
    page.mouse.move(x - 10, y + 100, steps=20)  # the stem
    page.mouse.up()
    page.get_by_role("button", name="Classify drawing").click()
    _expect_prediction(page, 7)
    assert page.locator("#prediction [data-testid$='-confidence-set']").count() == 3


def test_upload_a_digit_picture(page, files):
    digit, label, _ = files
    _upload(page, digit)
    _expect_prediction(page, label)


def test_upload_non_image_shows_error_and_app_keeps_serving(page, files):
    from playwright.sync_api import expect

    digit, label, text = files
    _upload(page, text)
    toast = page.get_by_test_id("toast-body")
    expect(toast).to_contain_text("not an image", timeout=TIMEOUT_S * 1000)
    page.get_by_test_id("toast-close").first.click()
    _upload(page, digit)
    _expect_prediction(page, label)


def test_api_endpoint(app_url, files):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    digit, label, text = files
    client = Client(app_url, verbose=False, analytics_enabled=False,
                    httpx_kwargs={"timeout": TIMEOUT_S})
    try:
        job = client.submit(handle_file(str(digit)), api_name="/predict")
        answer = job.result(timeout=TIMEOUT_S)
        assert answer["label"] == str(label)
        assert len(answer["confidences"]) == 3 and answer["confidences"][0]["confidence"] > 0.5
        with pytest.raises(AppError, match="not an image"):
            client.submit(handle_file(str(text)), api_name="/predict").result(timeout=TIMEOUT_S)
    finally:
        client.close()


def test_a_slow_request_does_not_stall_the_others(app_url, files, library, monkeypatch):
    """Requests run concurrently: a normal upload is answered while slow ones (standing in for hostile files
    that take long) are still running."""
    from gradio_client import Client, handle_file

    slow_seconds = 8
    digit, label, _ = files
    slow_file = digit.with_name("slow_request.png")
    shutil.copy(digit, slow_file)
    predict_digits = library.predict_digits

    def slow_for_slow_files(model, image, top_k=3):
        if "slow_request" in str(image):
            time.sleep(slow_seconds)
        return predict_digits(model, image, top_k)

    monkeypatch.setattr(library, "predict_digits", slow_for_slow_files)
    client = Client(app_url, verbose=False, analytics_enabled=False, httpx_kwargs={"timeout": TIMEOUT_S})
    slow_jobs = [client.submit(handle_file(str(slow_file)), api_name="/predict") for _ in range(2)]
    time.sleep(1)  # the slow requests are being served
    start = time.perf_counter()
    answer = client.submit(handle_file(str(digit)), api_name="/predict").result(timeout=TIMEOUT_S)
    waited = time.perf_counter() - start
    assert answer["label"] == str(label)
    assert waited < slow_seconds / 2, f"a normal request waited {waited:.1f} s behind slow ones"
    assert [job.result(timeout=TIMEOUT_S)["label"] for job in slow_jobs] == [str(label)] * 2
