"""A first-time visitor in Chromium, at a laptop's 1280×900 and a phone's 390×844: faces on the first screen, every
slider reachable, both picks in view, links that bring back everything, plain words, downloads of everything,
Colourise that explains itself, and a page a keyboard or screen-reader user can work. Required in CI like the other
browser tests."""
import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from demo.files import SCALE
from demo.images import upscale
from tests.test_browser import LOADED, browser, need_browser  # noqa: F401 (browser: a fixture)
from tests.test_live import app, engine, model  # noqa: F401 (fixtures: the test model with 8 directions)

WIDTHS = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
JARGON = re.compile(r"slerp|lerp|truncation|SeFa|pix2pix|ExecutionProvider|ℝ|FID|strength \d", re.I)


def page_at(browser, url, width, path="", faces=16):
    phone = width == "phone"
    page = browser.new_page(viewport=WIDTHS[width], is_mobile=phone, has_touch=phone)
    page.goto(url + path, wait_until="load", timeout=60_000)
    if faces:
        page.wait_for_function(LOADED, arg=["#gallery img", faces], timeout=60_000)
    return page


def boxes(page, selector):
    return page.evaluate("(sel) => [...document.querySelectorAll(sel)].map(e => { const r = e.getBoundingClientRect();"
                         " return {x: r.x, y: r.y, w: r.width, h: r.height}; })", selector)


@pytest.mark.parametrize("width", WIDTHS)
def test_faces_on_the_first_screen_and_plain_words(browser, app, width):
    page = page_at(browser, app, width)
    height = WIDTHS[width]["height"]
    whole = [b for b in boxes(page, "#gallery img") if b["y"] >= 0 and b["y"] + b["h"] <= height]
    assert len(whole) >= 4, (width, boxes(page, "#gallery img")[:4])  # a row of faces above the fold
    for tab in ("Generate", "Morph", "Variations", "Edit", "Colourise"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(300)
        words = JARGON.findall(page.locator("body").inner_text())
        assert not words, (tab, words)
    page.locator("#about").get_by_text("About this model").click()  # the facts are there, one click away
    page.wait_for_function("() => document.querySelector('#footer')?.innerText.includes('slerp')", timeout=10_000)
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_edit_slider_is_reachable_with_the_face_in_view(browser, app, width):
    page = page_at(browser, app, width)
    page.get_by_role("tab", name="Edit").click()
    page.wait_for_function(LOADED, arg=["#edit img", 1], timeout=30_000)
    vw = WIDTHS[width]["width"]
    for i in range(1, 9):
        page.locator(f"#dir{i} input[type=range]").scroll_into_view_if_needed()
        (s,) = boxes(page, f"#dir{i} input[type=range]")
        assert s["x"] >= 0 and s["x"] + s["w"] <= vw and s["w"] > 100, (i, s)  # one column, no sideways box
        (face,) = boxes(page, "#edit")
        assert face["y"] >= -1 and face["y"] + face["h"] <= WIDTHS[width]["height"] + 1, (i, face)  # still in view
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_both_picks_stay_in_view_and_outlined(browser, app, width):
    page = page_at(browser, app, width, "?count=64")
    page.wait_for_function(LOADED, arg=["#gallery img", 64], timeout=60_000)
    imgs = page.locator("#gallery img")
    imgs.nth(60).scroll_into_view_if_needed()
    imgs.nth(60).click()
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('102 · A')", timeout=30_000)
    imgs.nth(62).click()
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('104 · B')", timeout=30_000)
    page.wait_for_function(LOADED, arg=["#thumb_a img, #thumb_b img", 2], timeout=30_000)
    page.wait_for_timeout(300)
    height = WIDTHS[width]["height"]
    for thumb in ("#thumb_a", "#thumb_b"):
        (b,) = boxes(page, thumb)
        assert 0 <= b["y"] and b["y"] + b["h"] <= height, (thumb, b)  # where the visitor is looking
    marked = page.evaluate("() => [...document.querySelectorAll('#gallery .picked-a, #gallery .picked-b')]"
                           ".map(e => e.className.match(/picked-[ab]/)[0] + ' ' + e.innerText.trim())")
    assert sorted(marked) == ["picked-a 102 · A", "picked-b 104 · B"], marked
    page.close()


def test_a_copied_link_brings_back_everything(browser, app):
    page = page_at(browser, app, "laptop")
    imgs = page.locator("#gallery img")
    imgs.nth(5).click()  # 47 → A
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('47 · A')", timeout=30_000)
    imgs.nth(7).click()  # 49 → B
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('49 · B')", timeout=30_000)
    page.get_by_role("tab", name="Variations").click()
    page.locator("#v_vseed input").fill("5")
    page.locator("#vary").click()
    page.wait_for_function("() => document.querySelector('#variations').innerText.includes('49 #1')", timeout=30_000)
    page.locator("#copy_link").click()
    page.wait_for_function("() => document.querySelector('#copy_link').innerText.includes('copied')", timeout=5_000)
    page.wait_for_function("() => document.querySelector('#link textarea, #link input')?.value?.includes('a=47')",
                           timeout=10_000)
    link = page.locator("#link textarea, #link input").first.input_value()
    assert "vseed=5" in link and "tab=variations" in link and "next=A" in link, link
    page.close()

    again = browser.new_page(viewport=WIDTHS["laptop"])
    again.goto(link, wait_until="load", timeout=60_000)
    again.wait_for_function("() => document.querySelector('#variations')?.innerText.includes('49 #1')", timeout=60_000)
    assert again.locator("#v_vseed input").input_value() == "5"
    again.get_by_role("tab", name="Generate").click()
    again.wait_for_function("() => document.querySelector('#gallery').innerText.includes('47 · A') && "
                            "document.querySelector('#gallery').innerText.includes('49 · B')", timeout=30_000)
    again.wait_for_function(LOADED, arg=["#thumb_a img, #thumb_b img", 2], timeout=30_000)
    assert "A = face 47" in again.locator("#picked").inner_text() and "B = face 49" in again.locator("#picked").inner_text()
    again.close()


def test_download_all_gives_lossless_pngs_named_by_seed(browser, app, engine):
    page = page_at(browser, app, "laptop", "?seed=300&count=4", faces=4)
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('303')", timeout=30_000)
    page.locator("#faces_zip_go").click()
    page.wait_for_function("() => document.querySelector('#faces_zip a[href*=\".zip\"]')", timeout=30_000)
    href = page.locator("#faces_zip a[href*='.zip']").first.get_attribute("href")
    z = zipfile.ZipFile(io.BytesIO(page.request.get(href).body()))
    assert z.namelist() == ["seed_300.png", "seed_301.png", "seed_302.png", "seed_303.png"]
    got = np.asarray(Image.open(io.BytesIO(z.read("seed_302.png"))).convert("RGB"))
    assert np.array_equal(got, np.asarray(upscale(engine.faces([302])[0], SCALE)))  # the face itself, no JPEG
    page.close()


def test_colourise_explains_itself(browser, exported_model, exported_colorizer, tmp_path):
    """No picture: a message. Clean line art (nothing gray to go on): a message beside the result. Not a picture:
    a message, and the upload is taken off the page (no broken image, no error badge on the results)."""
    from PIL import ImageDraw

    from tests.conftest import serving

    need_browser()
    art = Image.new("L", (512, 512), 255)
    ImageDraw.Draw(art).ellipse((100, 80, 412, 460), outline=0, width=3)
    art.save(tmp_path / "lines.png")
    (tmp_path / "notes.png").write_text("not a picture at all")
    with serving(exported_model, exported_colorizer) as url:
        page = page_at(browser, url, "laptop", "?tab=colourise", faces=0)
        page.wait_for_selector("#colorize", timeout=60_000)
        page.locator("#colorize").click()
        page.wait_for_function("() => document.body.innerText.includes('no picture')", timeout=30_000)
        page.locator("#picture input[type=file]").set_input_files(str(tmp_path / "lines.png"))
        page.wait_for_function(LOADED, arg=["#colorized img", 1], timeout=60_000)
        page.wait_for_function("() => document.body.innerText.includes('found little to colour')", timeout=30_000)
        page.reload(wait_until="load")
        page.wait_for_selector("#picture input[type=file]", state="attached", timeout=60_000)
        page.locator("#picture input[type=file]").set_input_files(str(tmp_path / "notes.png"))
        page.wait_for_function("() => document.body.innerText.includes('not a picture this app can read')",
                               timeout=30_000)
        page.wait_for_timeout(1000)
        assert page.locator("#picture img").count() == 0  # no broken picture left behind
        assert "Error" not in page.locator("#colorized").inner_text() + page.locator("#gray").inner_text()
        page.close()


def test_keyboard_and_screen_reader_basics(browser, app):
    page = page_at(browser, app, "laptop")
    imgs = page.locator("#gallery img")
    page.wait_for_timeout(500)  # the A/B badges arrive after the faces; the labels follow them
    alts = page.evaluate("() => [...document.querySelectorAll('#gallery img')].map(i => i.alt)")
    assert all(a.startswith("Generated face ") for a in alts), alts[:3]
    assert alts[0] == "Generated face 42, picked as A: press to pick it", alts[0]
    stops = page.evaluate("() => [...document.querySelectorAll('#gallery *')].filter(e => e.tabIndex >= 0 && "
                          "e.offsetParent !== null).length")
    assert stops == imgs.count(), stops  # one Tab stop a face
    imgs.nth(1).click()
    page.wait_for_function(LOADED, arg=["#thumb_a img", 1], timeout=30_000)
    page.wait_for_timeout(300)
    labels = page.evaluate("() => ['#thumb_a', '#thumb_b'].map(s => [document.querySelector(s + ' img')?.alt,"
                           " document.querySelector(s + ' button')?.getAttribute('aria-label')])")
    assert labels == [["Picked face A", "Picked face A"], ["Picked face B", "Picked face B"]], labels
    page.locator("#trunc input[type=range]").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")  # focus that came by keyboard: :focus-visible
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                         " return [document.activeElement.type, s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert ring[0] == "range" and ring[1] != "none" and ring[2] >= 2, ring
    page.close()
