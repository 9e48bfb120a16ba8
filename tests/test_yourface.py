"""The Your face tab: /project, face codes wherever a seed goes, bad pictures (read as Colourise reads them), the
browser's live morph of a projected face, and a link that restores it."""
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

from demo.engine import Engine
from demo.files import SCALE
from demo.images import upscale
from demo.latents import decode_z
from tests.conftest import serving
from tests.test_browser import LOADED, browser, open_app  # noqa: F401 (browser: a fixture)
from tests.test_colorize_app import bad_files, line_art


@pytest.fixture(scope="module")
def server(exported_model, exported_encoder):
    with serving(exported_model, encoder=exported_encoder) as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


@pytest.fixture(scope="module")
def engine(exported_model):
    eng = Engine(exported_model, threads=1)
    yield eng
    eng.close()


def project(client, path, refine=True):
    from gradio_client import handle_file

    return client.predict(handle_file(str(path)), refine, api_name="/project")


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def big(face: np.ndarray) -> np.ndarray:
    """A face as the app serves it: enlarged 2× with Lanczos."""
    return np.asarray(upscale(face, SCALE)).astype(int)


def shows(page, selector: str, want: np.ndarray, timeout: float = 30.0) -> bool:
    """Whether the <img> comes to show exactly `want` within the timeout (the old face may still be there at first)."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        src = page.locator(selector).get_attribute("src")
        if src:
            got = np.asarray(Image.open(BytesIO(page.request.get(src).body())).convert("RGB")).astype(int)
            if got.shape == want.shape and np.array_equal(got, want):
                return True
        page.wait_for_timeout(300)
    return False


def picture(engine, tmp_path, seed=5, size=(90, 70)) -> str:
    """A face of the model itself, enlarged and cropped off-square: a picture like one a visitor uploads."""
    path = tmp_path / f"face_{seed}.png"
    Image.fromarray(engine.faces([seed])[0]).resize(size, Image.LANCZOS).save(path)
    return str(path)


def test_project_answers_a_face_code_that_goes_wherever_a_seed_goes(client, engine, tmp_path):
    face, code, closeness = project(client, picture(engine, tmp_path))
    z = decode_z(code)
    want = engine.render(z[None])[0]
    assert np.array_equal(pixels(face), big(want))  # the PNG is the code's face, enlarged 2×
    assert 0 <= closeness <= 100
    # the code as face A of /morph (t = 0: exactly A), /interpolate, /directions and /variations
    assert np.array_equal(pixels(client.predict(code, 42, 0.0, "slerp", 1.0, api_name="/morph")), pixels(face))
    frames, gif = client.predict(code, 42, 3, "slerp", 1.0, api_name="/interpolate")
    assert len(frames) == 3 and np.abs(pixels(frames[0]["image"]) - big(want)).mean() < 3  # a JPEG of it
    assert gif.endswith(".gif") and "own-" in gif
    edited = client.predict(code, *[0.0] * 8, 1.0, api_name="/directions")
    assert np.array_equal(pixels(edited), pixels(face))
    var = client.predict(code, 0.35, 2, 0, 1.0, api_name="/variations")
    assert len(var) == 3 and var[0]["caption"].startswith("own-")
    assert np.abs(pixels(var[0]["image"]) - pixels(face)).mean() < 3  # JPEG of the same face


def test_the_same_picture_gives_the_same_code_and_refine_is_as_close(client, engine, tmp_path):
    pic = picture(engine, tmp_path, seed=9)
    _, code1, c1 = project(client, pic, refine=True)
    _, code2, c2 = project(client, pic, refine=True)
    _, _, quick = project(client, pic, refine=False)
    assert code1 == code2 and c1 == c2 and c1 >= quick


def test_bad_pictures_get_colourise_messages(client, tmp_path):
    from gradio_client.exceptions import AppError

    for name, message in bad_files(tmp_path):
        with pytest.raises(AppError) as e:
            project(client, tmp_path / name)
        assert message in str(e.value), (name, str(e.value))
    with pytest.raises(AppError, match="refine must be true or false"):
        project(client, tmp_path / "notes.txt", refine="maybe")


def test_odd_formats_are_projected_as_their_picture(client, tmp_path):
    """An animated GIF is its first frame, 16-bit gray its 8-bit self, CMYK and RGBA are read as colour pictures."""
    art = line_art(96)
    frames = [Image.fromarray(art), Image.fromarray(255 - art)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(tmp_path / "first.png")
    Image.fromarray(art[..., 0]).save(tmp_path / "gray8.png")
    Image.fromarray(art[..., 0].astype(np.uint16) * 257).save(tmp_path / "gray16.png")
    Image.fromarray(art).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    rgba = np.dstack([art, np.full(art.shape[:2], 255, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    codes = {name: project(client, tmp_path / name)[1] for name in
             ("anim.gif", "first.png", "gray8.png", "gray16.png", "cmyk.jpg", "rgba.png")}
    assert codes["anim.gif"] == codes["first.png"] and codes["gray16.png"] == codes["gray8.png"]
    assert codes["rgba.png"] == codes["first.png"]  # opaque RGBA: the same pixels
    assert all(c.startswith("z.") for c in codes.values())


def test_app_without_an_encoder_says_so(exported_model):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with serving(exported_model, no_projector="**Your face is off:** no encoder here") as url:
        c = Client(url, verbose=False)
        with pytest.raises(AppError, match="without an encoder|no encoder"):
            c.predict(None, True, api_name="/project")
        assert len(c.predict(1, 2, api_name="/generate")) == 2


def test_a_projected_face_morphs_live_and_its_link_restores_it(browser, server, engine, tmp_path):
    """Upload → the model's face and its code; "make it A" opens Morph with the code as A; the live slider draws the
    path from it (the browser decodes the code to the very z the server does); Copy link → a fresh page shows it."""
    page = open_app(browser, server)
    page.get_by_role("tab", name="Your face").click()
    page.locator("#y_picture input[type=file]").set_input_files(picture(engine, tmp_path, seed=21))
    page.wait_for_function("() => document.querySelector('#y_code input')?.value.startsWith('z.')", timeout=60_000)
    code = page.locator("#y_code input").input_value()
    z = decode_z(code)
    got = np.array(page.evaluate("(c) => Array.from(window.animeLive.codeToZ(c, 100))", code), np.float32)
    np.testing.assert_array_equal(got, z)  # float16 → float32 is exact on both sides
    page.wait_for_function(LOADED, arg=["#y_face img", 1], timeout=30_000)
    page.locator("#y_as_a").click()
    page.wait_for_function("(c) => document.querySelector('#seed_a input')?.value === c", arg=code, timeout=30_000)
    assert page.get_by_role("tab", name="Morph").get_attribute("aria-selected") == "true"
    assert shows(page, "#end_a img", big(engine.render(z[None])[0]))
    # the browser's own path from the code: within wasm rounding of the server's
    b = int(page.locator("#seed_b input").input_value())
    rgb = np.array(page.evaluate("(a) => window.animeLive.faceFor('morph', a)", [code, b, 0.4, "slerp", 1.0]))
    ref = engine.path(z, b, [0.4], "slerp", 1.0)[0]
    assert np.abs(rgb.reshape(ref.shape) - ref.astype(int)).max() <= 2
    page.locator("#copy_link").click()
    page.wait_for_function("() => document.querySelector('#link textarea, #link input')?.value.includes('a=z.')",
                           timeout=10_000)
    link = page.locator("#link textarea, #link input").first.input_value()
    again = browser.new_page(viewport={"width": 1280, "height": 900})
    again.goto(link, wait_until="load", timeout=60_000)  # it opens on Morph: no gallery in view to wait for
    again.wait_for_function("(c) => document.querySelector('#seed_a input')?.value === c", arg=code, timeout=60_000)
    assert shows(again, "#end_a img", big(engine.render(z[None])[0]))
    assert "A = a custom face" in again.locator("#picked").inner_text()
    page.close()
    again.close()


def test_a_variation_and_a_path_frame_can_be_picked(browser, server, engine):
    """Issue #56 item 7: a click on a variation makes it A (a face code: variations have no seed of their own), and a
    click on a rendered frame then makes that frame B."""
    from demo.latents import encode_z, face_z, interpolate

    page = open_app(browser, server)
    page.get_by_role("tab", name="Variations").click()
    page.locator("#vary").click()
    page.wait_for_function(LOADED, arg=["#variations img", 12], timeout=60_000)
    page.locator("#variations img").nth(3).click()
    page.wait_for_function("() => document.querySelector('#picked')?.innerText.includes('A = a custom face')",
                           timeout=30_000)
    page.get_by_role("tab", name="Morph").click()  # (a tab's boxes are on the page once it has been opened)
    page.wait_for_function("() => document.querySelector('#seed_a input')?.value.startsWith('z.')", timeout=30_000)
    code_a = page.locator("#seed_a input").input_value()
    assert code_a == encode_z(engine.variation_z(42, 11, 0.35, 0)[3])
    assert shows(page, "#end_a img", big(engine.render(decode_z(code_a)[None])[0]))
    page.locator("#render").click()
    page.wait_for_function(LOADED, arg=["#path img", 16], timeout=60_000)
    page.locator("#path img").nth(5).click()
    page.wait_for_function("() => document.querySelector('#seed_b input')?.value.startsWith('z.')", timeout=30_000)
    path = interpolate(decode_z(code_a), face_z(1234), np.linspace(0.0, 1.0, 16), "slerp")
    assert page.locator("#seed_b input").input_value() == encode_z(path[5])
    assert "B = a custom face" in page.locator("#picked").inner_text()
    page.close()
