"""The live controls in the browser (demo/web/live.js + the vendored onnxruntime-web): the same faces as the server,
no requests while scrubbing, the server path when the runtime cannot load, links that restore a page, and picks
that carry seed and truncation into Morph, Variations and Directions. Required in CI like the other browser tests."""
import re

import numpy as np
import pytest

from demo.engine import Engine
from demo.latents import seeds_to_z
from tests.conftest import serving
from tests.test_browser import LOADED, browser, need_browser, open_app  # noqa: F401 (browser: a fixture)

QUEUE = re.compile(r"/gradio_api/queue/join")


@pytest.fixture(scope="module")
def model(exported_model, tmp_path_factory):
    """The test model with every direction offered (the tiny model's own may all be below the usefulness bar) and no
    named ones (tests/test_named.py covers those), so the unnamed sliders are in view."""
    import json

    from tests.conftest import model_copy

    meta = json.loads(exported_model.with_suffix(".json").read_text())
    return model_copy(exported_model, tmp_path_factory.mktemp("live_model"),
                      directions={**meta["directions"], "useful": list(range(8))}, named_directions=None)


@pytest.fixture(scope="module")
def app(model):
    with serving(model) as url:
        yield url


@pytest.fixture(scope="module")
def engine(model):
    eng = Engine(model, threads=1)
    yield eng
    eng.close()


def ready(page, timeout=60_000) -> str:
    page.wait_for_function("() => window.animeLive && window.animeLive.load() && "
                           "['ready', 'failed'].includes(window.animeLive.state.status)", timeout=timeout)
    return page.evaluate("() => window.animeLive.state.status")


def scrub(page, selector: str, values) -> None:
    """Move a range input the way a drag does: one input event per position (no release)."""
    slider = page.locator(selector)
    for v in values:
        slider.fill(str(round(v, 4)))


def served_face(page, selector: str, size: int) -> np.ndarray:
    """The face an <img> shows, fetched as the browser got it and brought back to the model's size."""
    from io import BytesIO

    from PIL import Image

    png = page.request.get(page.locator(selector).get_attribute("src")).body()
    return np.asarray(Image.open(BytesIO(png)).convert("RGB").resize((size, size), Image.LANCZOS)).astype(int)


def test_seed_convention_matches_numpy_in_the_browser(browser, app):
    """live.js reproduces numpy's RandomState(seed).standard_normal: golden values from numpy itself."""
    page = open_app(browser, app)
    seeds = [0, 1, 42, 1234, 987654, 2**31, 2**32 - 1]
    got = np.array(page.evaluate("(seeds) => seeds.map(s => Array.from(window.animeLive.seedToZ(s, 100)))", seeds))
    np.testing.assert_array_equal(got.astype(np.float32), seeds_to_z(seeds, 100))
    page.close()


def test_browser_faces_match_the_server(browser, app, engine):
    """The same inputs give the same pixels within 2 levels (wasm vs native float rounding): morph (both methods,
    several t), directions, and truncation."""
    page = open_app(browser, app)
    assert ready(page) == "ready", page.evaluate("() => window.animeLive.state.error")
    cases = [(42, 1234, 0.0, "slerp", 1.0), (42, 1234, 0.37, "slerp", 1.0), (7, 99, 0.5, "lerp", 0.7),
             (3, 4000000000, 0.81, "slerp", 1.3), (5, 6, 1.0, "lerp", 1.0)]
    for a, b, t, m, psi in cases:
        rgb = np.array(page.evaluate("(args) => window.animeLive.faceFor('morph', args)", [a, b, t, m, psi]), np.uint8)
        ref = engine.path(a, b, [t], m, psi)[0]
        diff = np.abs(rgb.reshape(ref.shape).astype(int) - ref)
        assert diff.max() <= 2, (a, b, t, m, psi, diff.max())
    k = engine.num_directions
    for seed, amounts, psi in ((42, [2.0] + [0.0] * (k - 1), 1.0), (11, [-1.5, 0.75] + [0.5] * (k - 2), 0.8)):
        rgb = np.array(page.evaluate("(args) => window.animeLive.faceFor('edit', args)", [seed, amounts, psi]), np.uint8)
        ref = engine.edit(seed, amounts, psi)
        assert np.abs(rgb.reshape(ref.shape).astype(int) - ref).max() <= 2, (seed, amounts)
    page.close()


def drag(page, selector: str, fractions) -> None:
    """A real mouse drag along a range input, the button held down through every position (not released)."""
    box = page.locator(selector).bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + fractions[0] * box["width"], y)
    page.mouse.down()
    for f in fractions[1:]:
        page.mouse.move(box["x"] + f * box["width"], y, steps=2)


def test_dragging_makes_no_request_until_release(browser, app):
    """While the mouse drags the Morph or a Directions slider nothing goes to the server; letting go sends one
    request, which brings the server's copy of the face on screen."""
    page = open_app(browser, app)
    page.get_by_role("tab", name="Morph").click()
    assert ready(page) == "ready"
    page.wait_for_function(LOADED, arg=["#morph img", 1], timeout=30_000)
    page.wait_for_timeout(800)
    joins = []
    page.on("request", lambda r: QUEUE.search(r.url) and joins.append(r.url))
    for tab, slider, face in (("Morph", "#t", "morph"), ("Edit", "#dir1", "edit")):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_function(LOADED, arg=[f"#{face} img", 1], timeout=30_000)
        page.wait_for_timeout(500)
        joins.clear()
        before = page.evaluate("() => window.animeLive.state.frames")
        drag(page, f"{slider} input[type=range]", [0.05 + i / 40 for i in range(36)])
        page.wait_for_function("(n) => window.animeLive.state.frames > n + 5 && !window.animeLive.state.busy",
                               arg=before, timeout=30_000)
        page.wait_for_timeout(800)  # longer than live.js's settle delay: held down, nothing is sent
        assert joins == [], (tab, joins)
        assert page.locator(f"#{face} canvas.live-face").count() == 1  # what is on screen is the live face
        src = page.locator(f"#{face} img").get_attribute("src")
        page.mouse.up()
        # no "pending" overlay washes the face out while the server's copy comes: the face on screen is right
        overlay = page.evaluate("""async ([sel, s]) => {
            const seen = [];
            while (document.querySelector(sel + ' img')?.src === s) {
                const tracker = document.querySelector(sel + ' [data-testid=status-tracker]');
                seen.push(tracker ? tracker.classList.contains('hide') : true);
                await new Promise(r => setTimeout(r, 20));
            }
            return seen;
        }""", [f"#{face}", src])
        assert all(overlay), (tab, overlay)
        page.wait_for_timeout(800)
        assert len(joins) == 1, (tab, joins)
    page.close()


def test_without_the_runtime_the_controls_use_the_server(browser, app):
    """The wasm file blocked (a 404): the runtime fails to load and the Morph slider still changes the face,
    through the server as before."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*.wasm", lambda route: route.fulfill(status=404, body="blocked by the test"))
    page.goto(app, wait_until="load", timeout=60_000)
    page.wait_for_function(LOADED, arg=["#gallery img", 16], timeout=60_000)
    page.get_by_role("tab", name="Morph").click()
    assert ready(page) == "failed"
    page.wait_for_function(LOADED, arg=["#morph img", 1], timeout=30_000)
    src = page.locator("#morph img").get_attribute("src")
    joins = []
    page.on("request", lambda r: QUEUE.search(r.url) and joins.append(r.url))
    scrub(page, "#t input[type=range]", [0.9])
    page.wait_for_function("(s) => document.querySelector('#morph img')?.src !== s", arg=src, timeout=30_000)
    assert joins and page.locator("#morph canvas.live-face").count() == 0
    page.close()


def test_a_link_restores_the_page(browser, app, engine):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app + "?a=5&b=9&t=0.25&method=lerp&trunc=0.7&tab=morph&count=8", wait_until="load", timeout=60_000)
    page.wait_for_function(LOADED, arg=["#morph img", 1], timeout=60_000)
    page.wait_for_function("() => document.querySelector('#seed_a input')?.value === '5'", timeout=30_000)
    assert page.locator("#seed_b input").input_value() == "9"
    assert float(page.locator("#t input[type=range]").input_value()) == 0.25
    assert float(page.locator("#trunc input[type=range]").input_value()) == 0.7
    assert page.get_by_role("tab", name="Morph").get_attribute("aria-selected") == "true"
    assert page.locator("#method input:checked").get_attribute("value") == "lerp"
    # the in-between face on screen is the server's face for exactly those values, not the default page's
    shown = served_face(page, "#morph img", engine.info.image_size)
    right = engine.path(5, 9, [0.25], "lerp", 0.7)[0].astype(int)
    default = engine.path(42, 1234, [0.5], "slerp", 1.0)[0].astype(int)
    assert np.abs(shown - right).mean() < 3 < np.abs(shown - default).mean()
    page.close()


def test_bad_link_values_are_clamped_or_ignored_with_a_note(browser, app):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    evil = "%3Cimg%20src%3Dx%20onerror%3Dwindow.pwned%3D1%3E"  # <img src=x onerror=window.pwned=1>
    page.goto(app + f"?seed=abc&t=7&count=500&tab=nowhere&{evil}=1", wait_until="load", timeout=60_000)
    page.wait_for_function(LOADED, arg=["#gallery img", 16], timeout=60_000)  # the page works: 16 faces of seed 42
    page.wait_for_function("() => document.body.innerText.includes('This link')", timeout=30_000)
    text = page.locator("body").inner_text()
    assert "seed='abc' ignored" in text and "t=7 clamped to 1" in text and "count=500 clamped to 64" in text
    assert "tab='nowhere' ignored" in text and "'<img src=x onerror=w' is not a setting here" in text
    assert page.evaluate("() => window.pwned") is None  # shown as text, never as markup
    page.get_by_role("tab", name="Morph").click()
    assert float(page.locator("#t input[type=range]").input_value()) == 1.0
    page.close()


def test_copy_link_gives_a_link_that_restores(browser, app):
    page = open_app(browser, app)
    page.get_by_role("tab", name="Morph").click()
    page.locator("#seed_a input").fill("77")
    page.locator("#seed_a input").press("Enter")
    scrub(page, "#t input[type=range]", [0.6])
    page.locator("#copy_link").click()
    page.wait_for_function("() => document.querySelector('#link textarea, #link input')?.value?.includes('a=77')", timeout=30_000)
    link = page.locator("#link textarea, #link input").first.input_value()
    assert "t=0.6" in link and "tab=morph" in link and "seed=42" in link
    page.close()
    again = browser.new_page(viewport={"width": 1280, "height": 900})
    again.goto(link, wait_until="load", timeout=60_000)
    again.wait_for_function("() => document.querySelector('#seed_a input')?.value === '77'", timeout=60_000)
    assert float(again.locator("#t input[type=range]").input_value()) == 0.6
    again.close()


def test_a_face_picked_at_truncation_stays_the_same_face_everywhere(browser, app, engine):
    """Pick at truncation 0.6: Morph's A, Variations' first face and Directions' face are that face (same pixels as
    the server's face for that seed at 0.6), not the face at truncation 1."""
    page = open_app(browser, app)
    scrub(page, "#trunc input[type=range]", [0.6])
    page.locator("#generate").click()
    page.wait_for_timeout(300)
    page.wait_for_function(LOADED, arg=["#gallery img", 16], timeout=30_000)
    page.locator("#gallery img").nth(2).click()  # seed 44 → A
    page.wait_for_function("() => document.querySelector('#picked').innerText.includes('A = face 44')", timeout=30_000)
    page.get_by_role("tab", name="Morph").click()
    page.wait_for_function(LOADED, arg=["#end_a img", 1], timeout=30_000)
    shown = served_face(page, "#end_a img", engine.info.image_size)
    at_06, at_1 = engine.faces([44], 0.6)[0].astype(int), engine.faces([44], 1.0)[0].astype(int)
    assert np.abs(shown - at_06).mean() < np.abs(shown - at_1).mean()
    page.get_by_role("tab", name="Variations").click()
    assert page.locator("#v_seed input").input_value() == "44"
    page.locator("#vary").click()
    page.wait_for_function("() => document.querySelector('#variations').innerText.includes('44 #1')", timeout=30_000)
    page.get_by_role("tab", name="Edit").click()
    assert page.locator("#d_seed input").input_value() == "44"
    page.close()


# ---- links without a browser -------------------------------------------------------------------------------
def test_link_values_are_parsed_clamped_and_named():
    from demo.links import restore

    values, notes = restore({"seed": "12", "count": "0", "trunc": "0.05", "a": "-3", "b": "1e20", "t": "nan",
                             "method": "cubic", "d2": "9", "d1": "-1.5", "tab": "Directions", "x": "1"}, [4.0] * 8)
    assert values == {"seed": 12, "count": 1, "trunc": 0.1, "a": 0, "b": 2**32 - 1, "d1": -1.5, "d2": 4.0,
                      "tab": "directions_tab"}
    joined = "; ".join(notes)
    for expected in ("count=0 clamped to 1", "trunc=0.05 clamped to 0.1", "a=-3 clamped to 0", "t='nan' ignored",
                     "method='cubic' ignored", "d2=9 clamped to 4", "'x' is not a setting here"):
        assert expected in joined, (expected, joined)
    assert restore({"seed": "7" * 100}, [])[0] == {}  # too long: ignored unread


def test_each_link_direction_is_clamped_to_its_own_limit():
    from demo.links import restore

    limits = [1.0, 3.0, 2.0, 4.0, 6.0, 6.0, 6.0, 6.0]
    values, notes = restore({"d1": "2.5", "d2": "2.5", "d3": "-2.5", "d4": "-3.5"}, limits)
    assert values == {"d1": 1.0, "d2": 2.5, "d3": -2.0, "d4": -3.5}, values
    assert "d1=2.5 clamped to 1" in "; ".join(notes) and not any(n.startswith("d2") for n in notes)


def test_runtime_is_unpacked_once_into_a_cache(tmp_path, monkeypatch):
    """The wasm lives gzipped in git; the served copy is the unpacked binary, made once per machine."""
    from demo import live

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    live.runtime_dir.cache_clear()
    try:
        first = live.runtime_dir()
        wasm = first / "ort-wasm-simd-threaded.wasm"
        assert first.is_relative_to(tmp_path) and wasm.read_bytes()[:4] == b"\0asm" and wasm.stat().st_size > 10e6
        stamp = wasm.stat().st_mtime_ns
        live.runtime_dir.cache_clear()
        assert live.runtime_dir() == first and wasm.stat().st_mtime_ns == stamp  # not unpacked again
        assert {p.name for p in first.iterdir()} == {*live.RUNTIME_FILES, "ort-wasm-simd-threaded.wasm"}
    finally:
        live.runtime_dir.cache_clear()


def test_keyboard_moves_end_with_the_download_equal_to_the_screen(browser, app, engine):
    """Arrow keys on the Morph and Directions sliders (no pointer, so no release event): once the keys stop, the
    server's face (what the download saves) is the face drawn on screen, at the link's truncation."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app + "?trunc=0.7&tab=morph", wait_until="load", timeout=60_000)
    page.wait_for_function(LOADED, arg=["#morph img", 1], timeout=60_000)
    assert ready(page) == "ready"
    page.wait_for_timeout(1500)  # the link's own redraw settles
    size = engine.info.image_size

    def keys_then_compare(slider: str, face: str, presses: int, face_at) -> float:
        src = page.locator(f"#{face} img").get_attribute("src")
        start = float(page.locator(f"#{slider} input[type=range]").input_value())
        page.locator(f"#{slider} input[type=range]").focus()
        for _ in range(presses):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("([sel, s]) => document.querySelector(sel)?.src !== s", arg=[f"#{face} img", src],
                               timeout=30_000)
        page.wait_for_timeout(300)
        value = float(page.locator(f"#{slider} input[type=range]").input_value())
        want, before = face_at(value).astype(int), face_at(start).astype(int)
        screen = np.array(page.evaluate(f"() => Array.from(window.animeLive.state.lastFaces['{face}'].rgb)"))
        assert np.abs(screen.reshape(want.shape) - want).max() <= 2  # the live face: this value, this truncation
        served = served_face(page, f"#{face} img", size)
        assert np.abs(served - want).mean() < min(3, np.abs(served - before).mean())  # the download: the same face
        return value

    assert keys_then_compare("t", "morph", 30, lambda t: engine.path(42, 1234, [t], "slerp", 0.7)[0]) == 0.8
    page.get_by_role("tab", name="Edit").click()
    page.wait_for_function(LOADED, arg=["#edit img", 1], timeout=30_000)
    k = engine.num_directions
    assert keys_then_compare("dir1", "edit", 4, lambda v: engine.edit(42, [v] + [0.0] * (k - 1), 0.7)) > 0
    page.close()
