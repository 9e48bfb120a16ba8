"""Named directions: found from pixel measures at export, kept only when specific, shipped beside the model, moved by
/directions' named_i, drawn the same in the browser, and carried by links."""

import numpy as np
import pytest

from demo.latents import NZ, seeds_to_z
from tests.conftest import model_copy, serving
from tests.test_browser import browser  # noqa: F401 (a fixture)


def synthetic_render(u: np.ndarray, v: np.ndarray):
    """A 'generator' whose hair band lightness follows z·u and whose background corners follow z·v (the rest of the
    face is a constant gray), so the right answers are known."""
    def render(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, np.float32).reshape(-1, NZ)
        out = np.full((len(z), 32, 32, 3), 128.0, np.float32)
        out[:, 1:8, 8:24] = (128 + 40 * np.tanh(z @ u / 2))[:, None, None, None]
        out[:, :5, :3] = out[:, :5, -3:] = (128 + 40 * np.tanh(z @ v / 2))[:, None, None, None]
        return out.clip(0, 255).astype(np.uint8)

    return render


def test_named_directions_find_what_moves_an_attribute_and_drop_the_rest():
    from trainer.directions import named_directions

    rng = np.random.RandomState(0)
    u, v = rng.standard_normal(NZ), rng.standard_normal(NZ)
    u, v = (u / np.linalg.norm(u)).astype(np.float32), (v / np.linalg.norm(v)).astype(np.float32)
    dirs, meta = named_directions(synthetic_render(u, v), NZ, n=1024)
    assert meta["kept"] == ["hair_lightness", "background_lightness"]
    assert dirs.shape == (2, NZ)
    assert float(dirs[0] @ u) > 0.95 and float(dirs[1] @ v) > 0.95  # the fitted directions are the true ones
    by_key = {m["key"]: m for m in meta["measured"]}
    assert by_key["skin_lightness"]["own_change"] < 0.5  # nothing moves the skin: not kept
    assert by_key["hair_lightness"]["specificity"] > 2 and by_key["hair_lightness"]["limit"] > 0


def with_named(exported_model, folder, k: int = 2):
    """The test model with k named directions (random unit vectors) and their metadata."""
    rng = np.random.RandomState(1)
    d = rng.standard_normal((k, NZ)).astype(np.float32)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    measured = [{"key": f"k{i}", "name": f"thing {i}", "low": "less", "high": "more", "limit": 2.0} for i in range(k)]
    path = model_copy(exported_model, folder, named_directions={"file": "generator.named.npy",
                                                                 "kept": [m["key"] for m in measured],
                                                                 "measured": measured})
    np.save(folder / "generator.named.npy", d)
    return path, d


def test_engine_moves_a_face_along_named_directions(exported_model, tmp_path):
    from demo.engine import Engine

    path, d = with_named(exported_model, tmp_path / "m")
    e = Engine(path, threads=1)
    assert [m["name"] for m in e.info.named_meta] == ["thing 0", "thing 1"]
    z = seeds_to_z([5])[0]
    np.testing.assert_array_equal(e.edit(5, [0.0] * 8, 1.0, [1.5, -1.0]), e.render((z + 1.5 * d[0] - d[1])[None])[0])
    # a damaged file: no named directions, the app still starts
    (tmp_path / "m" / "generator.named.npy").write_bytes(b"garbage")
    assert len(Engine(path, threads=1).info.named) == 0


def test_directions_endpoint_takes_named_amounts_and_links_carry_them(exported_model, tmp_path):
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from PIL import Image

    from demo.engine import Engine
    from demo.links import restore

    path, d = with_named(exported_model, tmp_path / "m")
    e = Engine(path, threads=1)
    with serving(path) as url:
        c = Client(url, verbose=False)
        out = c.predict(5, *[0.0] * 8, 1.0, 1.5, -1.0, 0, 0, 0, 0, api_name="/directions")
        got = np.asarray(Image.open(out).convert("RGB").resize((32, 32), Image.LANCZOS)).astype(int)
        want = e.edit(5, [0.0] * 8, 1.0, [1.5, -1.0]).astype(int)
        plain = e.edit(5, [0.0] * 8, 1.0).astype(int)
        assert np.abs(got - want).mean() < np.abs(got - plain).mean()  # it moved, and the named way
        with pytest.raises(AppError, match="named 3: this model ships 2"):
            c.predict(5, *[0.0] * 8, 1.0, 0, 0, 1.0, 0, 0, 0, api_name="/directions")
    values, notes = restore({"n1": "1.5", "n2": "-9", "n3": "1"}, [6.0] * 8, NZ, [2.0, 2.0])
    assert values == {"n1": 1.5, "n2": -2.0} and any("n2=-9 clamped to -2" in n for n in notes)
    assert any("'n3' is not a setting" in n for n in notes)


def test_named_sliders_draw_live_and_match_the_server(browser, exported_model, tmp_path):
    from demo.engine import Engine

    path, d = with_named(exported_model, tmp_path / "m")
    e = Engine(path, threads=1)
    with serving(path) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "?tab=edit&n2=1.25", wait_until="load", timeout=60_000)  # opens on Edit: no gallery in view
        page.wait_for_function("() => document.querySelector('#named2 input[type=number]')?.value === '1.25'",
                               timeout=60_000)
        page.wait_for_function("() => window.animeLive && window.animeLive.load() && "
                               "['ready', 'failed'].includes(window.animeLive.state.status)", timeout=60_000)
        assert page.locator("#named2 input[type=number]").input_value() == "1.25"
        assert "thing 1: less ↔ more" in page.locator("#named2").inner_text()
        assert page.locator(".named-end img").count() == 4  # a thumbnail at each end of both sliders
        rgb = np.array(page.evaluate("(a) => window.animeLive.faceFor('edit', a)",
                                     [7, [0.0] * 8, 0.8, [0.5, 1.25]]))
        ref = e.edit(7, [0.0] * 8, 0.8, [0.5, 1.25]).astype(int)
        assert np.abs(rgb.reshape(ref.shape) - ref).max() <= 2
        page.close()
