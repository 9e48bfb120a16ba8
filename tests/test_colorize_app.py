"""/colorize over HTTP as a gradio_client user calls it, its bad inputs, and the app without a colouriser."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2lab

from tests.conftest import serving


@pytest.fixture(scope="module")
def server(exported_model, exported_colorizer):
    with serving(exported_model, exported_colorizer) as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def colorize(client, path):
    from gradio_client import handle_file

    return client.predict(handle_file(str(path)), api_name="/colorize")


def lightness(rgb: np.ndarray) -> np.ndarray:
    return rgb2lab(rgb.astype(np.float64) / 255)[..., 0]


def line_art(size: int) -> np.ndarray:
    """A gray 'manga' picture: white paper, black circles and lines one pixel wide."""
    yy, xx = np.mgrid[:size, :size]
    img = np.full((size, size), 235, np.uint8)
    r = np.hypot(yy - size / 2, xx - size / 2)
    img[np.abs(r - size * 0.3) < 0.8] = 20
    img[:, size // 3] = 20
    img[(yy > size // 2) & (xx > size // 2)] = 150
    return np.repeat(img[..., None], 3, axis=2)


def test_colorize_keeps_size_and_line_art(client, tmp_path):
    """A 512 px drawing comes back at 512 px with its lightness (so every line) where it was."""
    src = tmp_path / "manga.png"
    art = line_art(512)
    Image.fromarray(art[..., 0]).save(src)  # mode L, as a scanned page would be
    out = np.asarray(Image.open(colorize(client, src)).convert("RGB"))
    assert out.shape == (512, 512, 3)
    dl = np.abs(lightness(out) - lightness(art))
    assert np.median(dl) < 0.3 and dl.mean() < 1.0  # 8-bit rounding of the result moves L by up to ~0.2
    assert np.abs(lightness(out)[:, 512 // 3] - lightness(art)[:, 512 // 3]).max() < 3  # the 1-px line is intact


def test_colorize_accepts_colour_pictures_and_faces(client, server, tmp_path):
    face = client.predict(5, 1, api_name="/generate")[0]["image"]
    out = np.asarray(Image.open(colorize(client, face)).convert("RGB"))
    src = np.asarray(Image.open(face).convert("RGB"))
    assert out.shape == src.shape
    assert np.abs(lightness(out) - lightness(src)).mean() < 1.0


def write_png_header_only(path, width, height):
    """A valid PNG that claims width×height gray pixels and holds one compressed row: reading its size is free,
    decoding it would take width×height bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1)))
                     + chunk(b"IEND", b""))


def bad_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not a picture at all")
    (tmp_path / "empty.png").write_bytes(b"")
    write_png_header_only(tmp_path / "huge.png", 20000, 20000)
    buf = io.BytesIO()
    Image.fromarray(line_art(64)).save(buf, "PNG")
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    return [("notes.txt", "not a picture"), ("empty.png", "empty"), ("huge.png", "megapixels"),
            ("cut.png", "damaged")]


def test_bad_files_get_clear_messages_and_the_server_keeps_serving(client, tmp_path):
    from gradio_client.exceptions import AppError

    for name, message in bad_files(tmp_path):
        with pytest.raises(AppError) as e:
            colorize(client, tmp_path / name)
        assert message in str(e.value), (name, str(e.value))
    assert len(client.predict(1, 2, api_name="/generate")) == 2


def test_odd_formats_give_sensible_results(client, tmp_path):
    """An animated GIF (its first frame), CMYK, 16-bit gray, RGBA with transparency: each is coloured."""
    art = line_art(96)
    frames = [Image.fromarray(art), Image.fromarray(255 - art)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    Image.fromarray(art).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    Image.fromarray(art[..., 0].astype(np.uint16) * 257).save(tmp_path / "gray16.png")
    rgba = np.dstack([art, np.full(art.shape[:2], 255, np.uint8)])
    rgba[:10, :10, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    for name in ("anim.gif", "cmyk.jpg", "gray16.png", "rgba.png"):
        out = np.asarray(Image.open(colorize(client, tmp_path / name)).convert("RGB"))
        assert out.shape == (96, 96, 3), name
        # the first frame's (or the converted picture's) lightness: the lines are where they were
        assert np.abs(lightness(out)[20:, 20:] - lightness(art)[20:, 20:]).mean() < 2.0, name


def test_big_jpeg_is_decoded_small_and_big_png_scaled_down(monkeypatch):
    """Bounded memory: a JPEG past the pixel limit decodes at a fraction of its size; past MAX_SIDE a picture is
    scaled down, each with a note."""
    import demo.colorizer as dc

    monkeypatch.setattr(dc, "MAX_PIXELS", 200_000)
    monkeypatch.setattr(dc, "MAX_SIDE", 300)
    buf = io.BytesIO()
    Image.fromarray(line_art(800)).save(buf, "JPEG")  # 640,000 pixels
    pic = dc.read_picture(buf.getvalue())
    assert max(pic.rgb.shape[:2]) <= 300 and pic.notes
    buf = io.BytesIO()
    Image.fromarray(line_art(400)).save(buf, "PNG")  # 160,000 pixels: under the limit, over the side
    pic = dc.read_picture(buf.getvalue())
    assert pic.rgb.shape[:2] == (300, 300) and "scaled down from 400×400" in pic.notes[0]


def test_app_without_a_colorizer_says_so(exported_model, tmp_path):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    Image.fromarray(line_art(64)).save(tmp_path / "a.png")
    with serving(exported_model) as url:
        client = Client(url, verbose=False)
        with pytest.raises(AppError, match="without a colouriser model"):
            colorize(client, tmp_path / "a.png")
        assert len(client.predict(1, 1, api_name="/generate")) == 1


def test_app_start_with_a_named_but_broken_colorizer_is_one_clear_line(exported_model, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    bad = tmp_path / "colorizer.onnx"
    bad.write_bytes(b"garbage")
    r = subprocess.run([sys.executable, "app.py", "--model", str(exported_model), "--colorizer", str(bad)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120,
                       env={"GRADIO_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "colouriser's metadata file is missing" in lines[0], r.stderr


def test_an_upload_is_decoded_once_and_read_only(monkeypatch, tmp_path):
    """Check, gray preview and model read one upload: one decode between them; a file written again is read
    again; the shared pixels cannot be changed by one step under another."""
    import os
    import tempfile
    from pathlib import Path

    from gradio.utils import get_upload_folder

    import demo.handlers as dh

    calls, read = [], dh.read_picture
    monkeypatch.setattr(dh, "read_picture", lambda p: calls.append(p) or read(p))
    dh.decoded.cache_clear()
    folder = Path(get_upload_folder())
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=folder)) / "face.png"
    Image.fromarray(line_art(64)).save(path)
    value = {"path": str(path)}
    first = dh.Colorize.picture(value)
    dh.Colorize(None, None).check(value)
    assert dh.Colorize.picture(value) is first and len(calls) == 1
    with pytest.raises(ValueError):
        first.rgb[0, 0] = 0
    Image.fromarray(255 - line_art(64)).save(path)
    os.utime(path, ns=(0, 1))  # a new time even on a coarse clock
    again = dh.Colorize.picture(value)
    assert len(calls) == 2 and again.rgb[0, 0, 0] == 255 - 235
