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


# ---- a first visit, as #18 describes it: picks you can see, a phone that works, errors that keep the faces ----

@pytest.fixture(scope="module")
def browser():
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


LOADED = "([sel, n]) => [...document.querySelectorAll(sel)].filter(i => i.complete && i.naturalWidth > 0).length >= n"


def open_app(browser, url, phone=False):
    page = browser.new_page(viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
                            is_mobile=phone, has_touch=phone)
    page.goto(url, wait_until="load", timeout=60_000)  # not "networkidle": Gradio's open streams can hold it off
    page.wait_for_function(LOADED, arg=["#gallery img", 16], timeout=60_000)
    # the first paint is complete (its badges come with the faces: seed 42 is A)
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('42 · A')", timeout=30_000)
    return page


def pick_two(page) -> tuple[str, str]:
    imgs = page.locator("#gallery img")
    imgs.nth(3).click()
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('45 · A')", timeout=30_000)
    imgs.nth(9).click()
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('51 · B')", timeout=30_000)
    return "45", "51"  # seed 42 + 3, 42 + 9


def test_picks_are_visible(browser, page_url, exported_model):
    """Two clicks: both tiles carry their badge, A and B show as thumbnails beside the gallery, Morph opens on
    A · in-between · B, and Variations and Directions follow the last pick."""
    page = open_app(browser, page_url)
    a, b = pick_two(page)
    captions = page.locator("#gallery").inner_text()
    assert f"{a} · A" in captions and f"{b} · B" in captions
    page.wait_for_function(LOADED, arg=["#thumb_a img, #thumb_b img", 2], timeout=30_000)
    assert page.locator("#picked").inner_text().startswith(f"A = face {a} · B = face {b}")
    # the thumbnails show the picked faces (a second pick made while the first one's faces were drawn is not lost)
    from demo.engine import Engine
    from tests.test_live import served_face

    engine = Engine(exported_model, threads=1)
    page.wait_for_timeout(1500)
    for thumb, s in (("#thumb_a", int(a)), ("#thumb_b", int(b))):
        shown = served_face(page, f"{thumb} img", engine.info.image_size)
        assert np.abs(shown - engine.faces([s])[0].astype(int)).mean() < 3, thumb
    page.get_by_role("tab", name="Morph").click()
    page.wait_for_function(LOADED, arg=["#end_a img, #morph img, #end_b img", 3], timeout=30_000)
    assert page.locator("#seed_a input").input_value() == a and page.locator("#seed_b input").input_value() == b
    page.get_by_role("tab", name="Variations").click()
    assert page.locator("#v_seed input").input_value() == b
    page.get_by_role("tab", name="Edit").click()
    assert page.locator("#d_seed input").input_value() == b
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui_directions_after_pick.png"), full_page=True)
    page.close()


def test_first_click_after_the_page_opens_is_kept(browser, page_url):
    """A face clicked the moment the first faces are drawn stays picked: nothing redraws the gallery after its
    first paint (the badges come with the faces), so the pick's badge is not overwritten by a stale one."""
    for _ in range(2):  # a race (not reproduced so far): try it twice
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(page_url, wait_until="load", timeout=60_000)
        page.locator("#gallery img").nth(3).click(timeout=60_000)  # as soon as it is there
        page.wait_for_function("() => document.querySelector('#picked').innerText.startsWith('A = face 45')",
                               timeout=30_000)
        page.wait_for_timeout(1500)  # anything still on its way has landed
        captions = page.locator("#gallery").inner_text()
        assert "45 · A" in captions and "42 · A" not in captions, captions
        page.close()


def test_phone_gallery_is_readable(browser, page_url):
    """At 390 px the gallery shows at most 4 faces a row and no caption is cut; all five tabs are in view."""
    page = open_app(browser, page_url, phone=True)
    pick_two(page)
    cols = page.evaluate("() => getComputedStyle(document.querySelector('#gallery .grid-container'))"
                         ".gridTemplateColumns.split(' ').length")
    assert cols <= 4, cols
    cut = page.evaluate("() => [...document.querySelectorAll('#gallery .caption-label, #gallery figcaption, "
                        "#gallery .caption')].filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)")
    assert not cut, cut
    for tab in ("Generate", "Morph", "Variations", "Edit", "Colourise"):
        assert page.get_by_role("tab", name=tab).is_visible(), tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui_phone_picked.png"), full_page=True)
    page.close()


def test_gif_is_a_plain_download(browser, page_url):
    page = open_app(browser, page_url)
    page.get_by_role("tab", name="Morph").click()
    page.locator("#render").click()
    page.wait_for_function("() => document.querySelector('#gif').innerText.includes('.gif')", timeout=30_000)
    text = page.locator("#gif").inner_text()
    assert "Drop File" not in text and "Click to Upload" not in text, text
    assert page.locator("#gif a[href*='.gif']").count() >= 1
    page.close()


def test_invalid_seed_keeps_the_faces(browser, page_url):
    """A refused seed shows one message and leaves the faces on screen; clearing a Morph seed box to type a new one
    fires nothing until Enter or leaving the box."""
    page = open_app(browser, page_url)
    before = page.locator("#gallery").inner_text()
    page.locator("#seed input").fill("-5")
    page.locator("#seed input").press("Enter")
    page.wait_for_function("() => document.body.innerText.includes('seed must be from 0')", timeout=30_000)
    page.wait_for_timeout(500)
    assert page.locator("#gallery").inner_text() == before
    assert page.evaluate(LOADED, ["#gallery img", 16])
    assert "Error" not in page.locator("#gallery").inner_text()
    page.get_by_role("tab", name="Morph").click()
    page.wait_for_function(LOADED, arg=["#morph img", 1], timeout=30_000)
    src = page.locator("#morph img").get_attribute("src")
    page.locator("#seed_a input").fill("")  # the first step of typing a new seed
    page.wait_for_timeout(1500)
    assert "seed A is missing" not in page.locator("body").inner_text()
    assert page.locator("#morph img").get_attribute("src") == src
    page.locator("#seed_a input").fill("7")
    page.locator("#seed_a input").press("Enter")
    page.wait_for_function("(s) => document.querySelector('#morph img')?.src !== s", arg=src, timeout=30_000)
    page.close()


def test_dice_picks_a_new_seed_in_the_browser(browser, page_url):
    page = open_app(browser, page_url)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.locator("#dice").click()
    page.wait_for_function("() => document.querySelector('#seed input').value !== '42'", timeout=10_000)
    new = page.locator("#seed input").input_value()
    page.wait_for_function("(s) => document.querySelector('#gallery').innerText.includes(s)", arg=new, timeout=30_000)
    page.close()


def test_output_galleries_are_read_only(browser, page_url):
    """No gallery takes uploads or lets a visitor clear or delete faces; while the first faces are drawn the gallery
    says so instead of offering a drop zone."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    held = []
    page.route("**/gradio_api/queue/join**", lambda route: held.append(route))  # the first faces wait
    page.goto(page_url, wait_until="load", timeout=60_000)
    page.wait_for_function("() => document.querySelector('#gallery .empty')", timeout=30_000)
    early = page.locator("#gallery").inner_text()
    assert "Drop" not in early and "Upload" not in early
    assert page.evaluate("() => getComputedStyle(document.querySelector('#gallery .empty'), '::after').content") \
        == '"Drawing faces…"'
    page.unroute("**/gradio_api/queue/join**")  # the held requests go on to the server
    page.wait_for_function(LOADED, arg=["#gallery img", 16], timeout=60_000)
    page.get_by_role("tab", name="Morph").click()
    page.locator("#render").click()
    page.wait_for_function(LOADED, arg=["#path img", 16], timeout=60_000)
    page.get_by_role("tab", name="Variations").click()
    page.locator("#vary").click()
    page.wait_for_function(LOADED, arg=["#variations img", 12], timeout=60_000)
    for gallery, tab in (("#gallery", "Generate"), ("#path", "Morph"), ("#variations", "Variations")):
        page.get_by_role("tab", name=tab).click()
        editing = page.evaluate("""(sel) => {
            const root = document.querySelector(sel);
            const labels = [...root.querySelectorAll('button')].map(b => (b.getAttribute('aria-label') || '') + ' '
                                                                      + (b.title || '') + ' ' + b.innerText);
            return {files: root.querySelectorAll('input[type=file]').length,
                    edits: labels.filter(l => /clear|delete|remove|upload/i.test(l))};
        }""", gallery)
        assert editing == {"files": 0, "edits": []}, (gallery, editing)
    page.close()


def test_semibold_text_is_drawn_in_its_own_font(browser, page_url):
    """Gradio 6.31 ships a SourceSansPro-SemiBold.woff2 of 55 glyphs (of ASCII only "A" and "B"), so the title and
    every semibold label drew those two letters in Source Sans and the rest in a fallback font ("Anime Face
    Generator" with an odd A; the file is Source Sans's Cyrillic subset). Text at weight 600 must find its letters in
    the page's font: letters set in Source Sans with a monospace fallback may not come out exactly as wide as in the
    fallback alone (no spaces: the subset has one)."""
    page = open_app(browser, page_url)
    widths = page.evaluate("""async () => {
        await document.fonts.load('600 40px "Source Sans Pro"', 'nimeFaceGenerator');
        const w = family => { const s = document.createElement('span');
            s.style.cssText = `font: 600 40px ${family}; white-space: nowrap; position: absolute`;
            s.textContent = 'nimeFaceGenerator'; document.body.append(s);
            const width = s.getBoundingClientRect().width; s.remove(); return width; };
        return [w('"Source Sans Pro", monospace'), w('monospace')]; }""")
    page.close()
    assert abs(widths[0] - widths[1]) > 1, f"weight 600 fell back for every letter: {widths}"
