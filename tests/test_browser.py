"""End to end in a real browser: Debian's chromium driven by Playwright (never a downloaded browser).

Skipped when /usr/bin/chromium or playwright is missing, unless REQUIRE_BROWSER=1 (set by .ci/run),
which turns the skip into a failure.
"""
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scripts.chromium import CHROMIUM, FLAGS
from tests.conftest import serving

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "artifacts"))


def need_browser():
    why = None
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        why = f"no browser at {CHROMIUM}"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "playwright not installed"
    if why:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def page_url(exported_model):
    with serving(exported_model) as url:
        yield url


def test_generate_in_browser(page_url, tmp_path):
    need_browser()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(page_url, wait_until="networkidle")
        page.locator("#seed input").fill("777")
        page.locator("#generate").click()
        imgs = page.locator("#gallery img")
        page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('777')", timeout=30_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#gallery img')].filter(i => i.complete && i.naturalWidth > 0).length >= 8",
            timeout=30_000)
        page.wait_for_timeout(500)
        captions = page.locator("#gallery").inner_text()
        shot = ARTIFACTS / "ui_generate.png"
        page.screenshot(path=str(shot), full_page=True)
        # the first face is really drawn: crop the gallery's first image from the screenshot and check it is not flat
        box = imgs.first.bounding_box()
        browser.close()
    assert "777" in captions
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    x0, y0 = int(box["x"]), int(box["y"])
    crop = img[y0 + 4:y0 + int(box["height"]) - 4, x0 + 4:x0 + int(box["width"]) - 4]
    assert crop.size > 0 and crop.std() > 5, "gallery image area is blank"
