"""What the page needs to run the generator in the visitor's browser (demo/web/live.js).

The app serves the vendored onnxruntime-web files, live.js and the model file itself (Gradio static paths:
nothing comes from a CDN, so it works offline), and hands the browser the model's conventions once, in a
small JSON config set on page load: where the model and the runtime are, nz, the pixel range, the seed range
and the directions (unit vectors, as demo.engine uses them).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import gradio as gr

from demo.engine import Engine
from demo.latents import PIXEL_RANGE, SEED_MAX, SEED_MIN

WEB_DIR = Path(__file__).resolve().parent / "web"
ORT_DIR = WEB_DIR / "ort"
LIVE_ENV = "ANIME_GAN_LIVE"  # "0" turns the browser path off (everything through the server, as before)


def file_url(path: Path) -> str:
    """The relative URL Gradio serves a static path at."""
    return f"gradio_api/file={quote(path.resolve().as_posix())}"


def enabled() -> bool:
    return os.environ.get(LIVE_ENV, "1").strip() not in ("0", "false", "no", "off")


def head() -> str:
    """The <script> that loads live.js (about 10 kB; it fetches the runtime only when first needed)."""
    return f'<script type="module" src="{file_url(WEB_DIR / "live.js")}"></script>'


def config_js(engine: Engine) -> str:
    """A load event's js: puts the model's conventions where live.js reads them."""
    gr.set_static_paths([WEB_DIR, engine.info.path])
    d = engine.info.directions
    cfg = {
        "disabled": not enabled() or not ORT_DIR.joinpath("ort-wasm-simd-threaded.wasm").is_file(),
        "modelUrl": file_url(engine.info.path),
        "ortDir": file_url(ORT_DIR) + "/",
        "nz": engine.info.nz,
        "imageSize": engine.info.image_size,
        "pixelRange": list(PIXEL_RANGE),
        "seedRange": [SEED_MIN, SEED_MAX],
        "directions": [] if d is None else [[round(float(x), 7) for x in row] for row in d],
    }
    return f"() => {{ window.animeLiveConfig = {json.dumps(cfg, separators=(',', ':'))}; }}"
