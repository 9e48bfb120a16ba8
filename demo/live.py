"""What the page needs to run the generator in the visitor's browser (demo/web/live.js).

The app serves the vendored onnxruntime-web files (the wasm unpacked once from its gzip, see runtime_dir), live.js
and the model file itself (Gradio static paths: nothing comes from a CDN, so it works offline), and hands the browser the model's conventions once, in a
small JSON config set on page load: where the model and the runtime are, nz, the pixel range, the seed range
and the directions (unit vectors, as demo.engine uses them).
"""
from __future__ import annotations

import functools
import gzip
import json
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

import gradio as gr

from demo.engine import Engine
from demo.latents import PIXEL_RANGE, SEED_MAX, SEED_MIN
from demo.params import NUM_DIRECTIONS

WEB_DIR = Path(__file__).resolve().parent / "web"
ORT_DIR = WEB_DIR / "ort"
LIVE_ENV = "ANIME_GAN_LIVE"  # "0" turns the browser path off (everything through the server, as before)
RUNTIME_FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.mjs", "LICENSE")
WASM_GZ = "ort-wasm-simd-threaded.wasm.gz"  # in git gzipped (3.7 MB instead of 14.2 MB)


@functools.cache
def runtime_dir() -> Path | None:
    """The runtime as the browser fetches it: the vendored files with the wasm unpacked, in a cache folder named by the
    gzip's size and mtime, so it is unpacked once per machine (≈ 0.1 s), not on every start. None if it is missing."""
    gz = ORT_DIR / WASM_GZ
    if not gz.is_file():
        return None
    st = gz.stat()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "anime-face-generator"
    for root in (base, Path(tempfile.gettempdir()) / "anime-face-generator"):
        target = root / f"ort-{st.st_size}-{int(st.st_mtime)}"
        if (target / "ort-wasm-simd-threaded.wasm").is_file():
            return target
        try:
            target.mkdir(parents=True, exist_ok=True)
            for name in RUNTIME_FILES:
                shutil.copyfile(ORT_DIR / name, target / name)
            tmp = target / "ort-wasm-simd-threaded.wasm.part"
            with gzip.open(gz, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            os.replace(tmp, target / "ort-wasm-simd-threaded.wasm")  # last: its presence means complete
            return target
        except OSError:
            continue  # a read-only home: try the temp folder
    return None


def file_url(path: Path) -> str:
    """The relative URL Gradio serves a static path at."""
    return f"gradio_api/file={quote(path.resolve().as_posix())}"


def enabled() -> bool:
    return os.environ.get(LIVE_ENV, "1").strip() not in ("0", "false", "no", "off")


PAGE_SCRIPTS = ("live.js", "page.js")  # the live sliders; labels, pick outlines and "copied" (demo/web/page.js)


def head() -> str:
    """The <script>s that load live.js (about 12 kB; it fetches the runtime only when first needed) and page.js."""
    return "".join(f'<script type="module" src="{file_url(WEB_DIR / name)}"></script>' for name in PAGE_SCRIPTS)


def config_js(engine: Engine) -> str:
    """A load event's js: puts the model's conventions where live.js reads them."""
    runtime = runtime_dir() if enabled() else None
    gr.set_static_paths([*(WEB_DIR / name for name in PAGE_SCRIPTS), engine.info.path, *([runtime] if runtime else [])])
    d = engine.info.directions
    cfg = {
        "disabled": runtime is None,
        "modelUrl": file_url(engine.info.path),
        "ortDir": file_url(runtime or ORT_DIR) + "/",
        "nz": engine.info.nz,
        "imageSize": engine.info.image_size,
        "pixelRange": list(PIXEL_RANGE),
        "seedRange": [SEED_MIN, SEED_MAX],
        "directions": [] if d is None else [[round(float(x), 7) for x in row] for row in d],
        "named": [[round(float(x), 7) for x in row] for row in engine.info.named],
        "numDirections": NUM_DIRECTIONS,  # the amounts a directions call carries before its truncation
    }
    return f"() => {{ window.animeLiveConfig = {json.dumps(cfg, separators=(',', ':'))}; }}"
