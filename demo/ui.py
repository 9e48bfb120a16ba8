"""The Gradio Blocks UI and its API endpoints (/generate, /morph, /interpolate, …).

Handlers receive raw values (preprocess=False) and validate them in
demo.params, so any bad input becomes one readable gr.Error and the server
keeps serving.
"""
from __future__ import annotations

import functools
import os
import random
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import gradio as gr
import numpy as np
from gradio.components.gallery import GalleryData, GalleryImage
from gradio.data_classes import FileData, ImageData
from PIL import Image

from demo import params
from demo.engine import Engine
from demo.images import save_animation, upscale
from demo.latents import SEED_MAX, seeds_to_z
from demo.records import SESSION_CAPACITY, forget_finished_calls_from_worker

SCALE = 2  # faces are shown and downloaded at 2× (Lanczos)
DIRECTION_RANGE = 6.0  # SeFa slider range (in units of z's std)
QUEUE_SIZE = 64
CONCURRENCY = 2  # = cores here; onnxruntime already uses every core for one batch
# Faces are sent as JPEG at quality 95 without chroma subsampling: ≥ 44 dB PSNR against lossless (no visible
# difference), 1/3 the bytes of a PNG (9 vs 29 KB at 128 px, which matters on a Space) and ~20× faster to encode.
FACE_FORMAT = dict(format="JPEG", quality=95, subsampling=0)
# Responses' image and GIF files live in one temp folder that Gradio serves as a static path: Gradio then neither
# hashes nor copies them into its cache. The folder holds only what the app wrote,
# and folders older than FILE_TTL are deleted, so disk use is bounded (Gradio's cache never shrinks).
FILE_TTL = 30 * 60
HOUSEKEEPING_EVERY = 60  # seconds between prunes of old files and of Gradio's finished-call records
ENCODERS = min(4, os.cpu_count() or 1)  # Pillow releases the GIL while resizing and encoding

HOW_TO = ("**Generate** a batch from a seed (face *i* uses seed + *i*; the caption is its seed, so any face can be "
          "made again). **Click a face** to make it endpoint A or B, then **Morph** between them. "
          "**Variations** nudges one face; **Directions** slides it along the model's strongest latent axes.")

CSS = """
#title h1 {margin-bottom: 0}
.autoheight .grid-wrap {min-height: 0 !important; height: auto !important; max-height: none !important}
#pickrow {align-items: center}
#footer {opacity: 0.75; font-size: 0.9em}
.autoheight .grid-container {grid-template-columns: repeat(var(--cols, 8), minmax(0, 1fr)) !important}
#path {--cols: 8} #variations {--cols: 6}
.bigface img {width: 100% !important; height: 100% !important; object-fit: contain}
"""


LAUNCH_KWARGS = dict(css=CSS, show_error=True, state_session_capacity=SESSION_CAPACITY)


@functools.cache
def output_root() -> Path:
    """This process's temp folder for response files, registered once as a Gradio static path: Gradio then
    serves the files as they are (no hashing, no copy into its cache), and checks each returned file against
    its static paths, so one entry per process keeps that check short however many apps are built."""
    root = Path(tempfile.mkdtemp(prefix="anime-gan-"))
    gr.set_static_paths([root])
    return root


def gallery(items: list[tuple[str, str]]) -> list[dict]:
    """(JPEG path, caption) pairs as the Gallery value Gradio sends, for events with postprocess=False.
    Gallery.postprocess would build the same thing but start a new thread pool and guess each file's type
    on every call (~7 ms of a 42 ms /generate of 16, py-spy)."""
    return GalleryData(root=[GalleryImage(image=ImageData(path=p, orig_name=Path(p).name, mime_type="image/jpeg"),
                                          caption=c) for p, c in items]).model_dump()


def friendly(fn: Callable) -> Callable:
    """Turn validation errors into a gr.Error the UI shows (and API clients receive)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValueError as e:
            raise gr.Error(str(e), print_exception=False) from None

    return wrapper


class Handlers:
    """Plain functions over one Engine; each maps UI/API values to outputs."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.tmp = Path(tempfile.mkdtemp(prefix="app-", dir=output_root()))
        self._pool = ThreadPoolExecutor(ENCODERS, thread_name_prefix="encode")
        self._last_prune = 0.0
        self._prune_lock = threading.Lock()  # two requests can cross the minute mark together
        self.blocks: gr.Blocks | None = None  # set by build(); its per-call records are pruned with the files
        self.useful_directions = self._useful_directions()

    def _show(self, faces: np.ndarray | list[Image.Image]) -> list[str]:
        """Faces → image files (2× Lanczos, FACE_FORMAT), written in parallel; Gradio serves them as they are."""
        d = self._new_dir()
        paths = [str(d / f"face_{i:02d}.jpg") for i in range(len(faces))]

        def write(i: int) -> None:
            img = faces[i]
            (img if isinstance(img, Image.Image) else upscale(img, SCALE)).save(paths[i], **FACE_FORMAT)

        list(self._pool.map(write, range(len(faces))))
        return paths

    @friendly
    def generate(self, seed: Any, count: Any, truncation: Any = 1.0) -> list[dict]:
        return gallery(self._generate(seed, count, truncation))

    def _generate(self, seed: Any, count: Any, truncation: Any) -> list[tuple[str, str]]:
        s = params.seed(seed)
        n = params.integer(count, "count", 1, params.MAX_COUNT)
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        if s + n - 1 > SEED_MAX:
            raise ValueError(f"seed + count - 1 must stay ≤ {SEED_MAX}; lower the seed")
        seeds = list(range(s, s + n))
        return list(zip(self._show(self.engine.faces(seeds, psi)), map(str, seeds)))

    def generate_example(self, seed: Any, count: Any, truncation: Any) -> list[tuple]:
        """/generate for the example chips (its own name, so the public endpoint keeps "/generate"). gr.Examples
        always post-processes, so this returns plain (path, caption) pairs."""
        return friendly(self._generate)(seed, count, truncation)

    @friendly
    def morph(self, seed_a: Any, seed_b: Any, t: Any, method: Any = "slerp", truncation: Any = 1.0):
        a, b = params.seed(seed_a, "seed A"), params.seed(seed_b, "seed B")
        tt = params.real(t, "t", 0.0, 1.0)
        m = params.method(method)
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        return self._show(self.engine.path(a, b, [tt], m, psi))[0]

    @friendly
    def interpolate(self, seed_a: Any, seed_b: Any, frames: Any, method: Any = "slerp", truncation: Any = 1.0):
        a, b = params.seed(seed_a, "seed A"), params.seed(seed_b, "seed B")
        n = params.integer(frames, "frames", 2, params.MAX_FRAMES)
        m = params.method(method)
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        ts = np.linspace(0.0, 1.0, n)
        big = list(self._pool.map(lambda f: upscale(f, SCALE), self.engine.path(a, b, ts, m, psi)))
        gif = self._pool.submit(save_animation, big, self._new_dir() / f"morph_{a}_{b}_{m}_{n}.gif")  # beside the stills
        frames = self._show(big)
        gif_path = gif.result()
        return (gallery([(img, f"t={t:.3f}") for img, t in zip(frames, ts)]),
                FileData(path=str(gif_path), orig_name=gif_path.name, size=gif_path.stat().st_size,
                         mime_type="image/gif").model_dump())  # the size shows in the File box

    @friendly
    def variations(self, seed: Any, strength: Any, count: Any, variation_seed: Any, truncation: Any = 1.0) -> list[dict]:
        s = params.seed(seed)
        st = params.real(strength, "strength", 0.0, 2.0)
        n = params.integer(count, "count", 1, params.MAX_VARIATIONS)
        vs = params.seed(variation_seed, "variation seed")
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        imgs = self._show(self.engine.variations(s, n, st, vs, psi))
        return gallery([(imgs[0], f"{s} (original)")] + [(im, f"{s} · var {vs}/{i + 1}") for i, im in enumerate(imgs[1:])])

    @friendly
    def directions(self, seed: Any, *amounts: Any):
        s = params.seed(seed)
        vals = [params.real(v, f"direction {i + 1}", -DIRECTION_RANGE, DIRECTION_RANGE) for i, v in enumerate(amounts)]
        full = np.zeros(self.engine.num_directions, np.float32)
        for idx, v in zip(self.useful_directions, vals):
            full[idx] = v
        return self._show(self.engine.edit(s, full)[None])[0]

    def _useful_directions(self, seeds: range = range(8), amount: float = 3.0, min_change: float = 6.0) -> list[int]:
        """SeFa directions whose ±amount move changes the face visibly (mean |Δpixel| ≥ min_change of 255).
        One batched render: the base faces once, then every (direction, seed) pair."""
        k, d = self.engine.num_directions, self.engine.info.directions
        if not k:
            return []
        base = seeds_to_z(seeds, self.engine.info.nz)
        moved = (base[None] + amount * d[:, None, :]).reshape(-1, self.engine.info.nz)
        faces = self.engine.render(np.concatenate([base, moved])).astype(np.float32)
        ref, out = faces[:len(base)], faces[len(base):].reshape(k, len(base), *faces.shape[1:])
        change = np.abs(out - ref[None]).mean(axis=(1, 2, 3, 4))
        return [i for i in range(k) if change[i] >= min_change]

    def _new_dir(self) -> Path:
        """A fresh folder for one response. Once a minute, folders older than FILE_TTL are removed, and so are
        Gradio's records of finished API calls (demo.records)."""
        now = time.time()
        with self._prune_lock:
            due = now - self._last_prune >= HOUSEKEEPING_EVERY
            if due:
                self._last_prune = now
        if due:
            for old in self.tmp.iterdir():
                if now - old.stat().st_mtime > FILE_TTL:
                    shutil.rmtree(old, ignore_errors=True)
            if self.blocks is not None:
                forget_finished_calls_from_worker(self.blocks)
        d = self.tmp / uuid.uuid4().hex
        d.mkdir()
        return d


def random_seed() -> int:
    return random.randint(0, 999_999)


def footer(engine: Engine) -> str:
    meta, tr = engine.info.meta, engine.info.meta.get("training", {})
    ev = meta.get("evaluation") or {}
    parts = [f"model `{engine.info.path.name}` · {engine.info.image_size}×{engine.info.image_size} px · z ∈ ℝ^{engine.info.nz}",
             f"runs on **{engine.provider}** ({engine.threads} threads)"]
    if tr.get("steps"):
        parts.append(f"trained {tr['steps']:,} steps on {tr.get('num_images', '?'):,} faces")
    if ev.get("fid") is not None:
        parts.append(f"FID@{ev.get('n_fake', '?')} {ev['fid']:.1f}")
    return " · ".join(parts)


def build(engine: Engine, queue_size: int = QUEUE_SIZE, concurrency: int = CONCURRENCY) -> gr.Blocks:
    """The whole app. Work is bounded: at most `concurrency` requests compute at once (each capped at
    64 faces/frames) and `queue_size` wait; past that a request is refused with "queue is full"."""
    h = Handlers(engine)
    api = dict(preprocess=False, concurrency_limit=concurrency)
    to_gallery = dict(api, postprocess=False)  # those handlers return the Gallery's wire form themselves (gallery())

    with gr.Blocks(title="Anime Face Generator", delete_cache=(1800, 3600)) as demo:
        gr.Markdown("# Anime Face Generator\nA DCGAN trained on 18k anime faces, running on your CPU through ONNX Runtime.",
                    elem_id="title")
        gr.Markdown(HOW_TO)
        with gr.Tab("Generate"):
            with gr.Row(equal_height=True):
                seed = gr.Number(value=42, label="Seed", minimum=None, maximum=None, scale=2, elem_id="seed")
                dice = gr.Button("🎲", scale=0, min_width=60, elem_id="dice")
                count = gr.Slider(1, params.MAX_COUNT, value=16, step=1, label="Count", scale=3)
                trunc = gr.Slider(*params.TRUNCATION, value=1.0, step=0.05, label="Truncation",
                                  info="< 1: safer, more average faces; > 1: wilder", scale=3)
                go = gr.Button("Generate", variant="primary", scale=1, elem_id="generate")
            faces = gr.Gallery(label="Faces (caption = seed; click one to pick it for Morph)", columns=8,
                                 format="png", object_fit="contain", elem_id="gallery", elem_classes="autoheight",
                                 buttons=["download", "fullscreen"], allow_preview=False)
            with gr.Row(elem_id="pickrow"):
                target = gr.Radio(["A", "B"], value="A", label="Next click sets", scale=1, min_width=160)
                picked = gr.Markdown("Picked: A = 42, B = 1234", elem_id="picked")
                gr.Examples([[42, 16, 1.0], [2026, 32, 0.7], [7, 64, 1.0]], inputs=[seed, count, trunc],
                            outputs=faces, fn=h.generate_example, run_on_click=True, cache_examples=False, preprocess=False,
                            api_visibility="private",
                            example_labels=["seed 42 · 16 faces", "seed 2026 · 32, truncation 0.7", "seed 7 · 64 faces"],
                            label="Examples")
        with gr.Tab("Morph"):
            with gr.Row(equal_height=True):
                seed_a = gr.Number(value=42, label="Seed A", elem_id="seed_a")
                seed_b = gr.Number(value=1234, label="Seed B", elem_id="seed_b")
                method = gr.Radio(["slerp", "lerp"], value="slerp", label="Path",
                                  info="slerp keeps faces crisp mid-way; lerp passes the 'average' face")
            with gr.Row():
                with gr.Column(scale=1):
                    t = gr.Slider(0, 1, value=0.5, step=0.01, label="t (0 = A, 1 = B)", elem_id="t")
                    morph_img = gr.Image(label="In-between face", format="png", height=320, elem_id="morph", elem_classes="bigface",
                                         buttons=["download"], interactive=False)
                with gr.Column(scale=2):
                    frames = gr.Slider(2, params.MAX_FRAMES, value=16, step=1, label="Frames")
                    render = gr.Button("Render path + GIF", variant="primary", elem_id="render")
                    path_gallery = gr.Gallery(label="Path", columns=8, format="png", elem_id="path",
                                              elem_classes="autoheight", allow_preview=False)
                    with gr.Row():
                        anim_file = gr.File(label="Animated GIF (loops A → B → A)", elem_id="gif")
                        anim_view = gr.Image(label="Preview", height=200, interactive=False, elem_classes="bigface")
        with gr.Tab("Variations"):
            with gr.Row(equal_height=True):
                v_seed = gr.Number(value=42, label="Seed")
                v_strength = gr.Slider(0.05, 1.0, value=0.35, step=0.05, label="Strength")
                v_count = gr.Slider(1, params.MAX_VARIATIONS, value=11, step=1, label="Count")
                v_vseed = gr.Number(value=0, label="Variation seed")
                v_go = gr.Button("Vary", variant="primary")
            v_gallery = gr.Gallery(label="Original first, then variations", columns=6, format="png",
                                   elem_classes="autoheight", allow_preview=False, elem_id="variations")
        with gr.Tab("Directions"):
            if h.useful_directions:
                gr.Markdown("Unsupervised directions (SeFa) of this generator, strongest first. "
                            "What each one changes is found, not labelled — try them.")
                with gr.Row():
                    with gr.Column(scale=1):
                        d_seed = gr.Number(value=42, label="Seed")
                        sliders = [gr.Slider(-DIRECTION_RANGE, DIRECTION_RANGE, value=0, step=0.25,
                                             label=f"Direction {i + 1}") for i in range(len(h.useful_directions))]
                        d_reset = gr.Button("Reset")
                    d_img = gr.Image(label="Edited face", format="png", height=420, interactive=False, scale=1,
                                     elem_classes="bigface", elem_id="edit")
            else:
                gr.Markdown("This model ships no usable latent directions.")
        gr.Markdown(footer(engine), elem_id="footer")

        # ---- events ------------------------------------------------------
        dice.click(random_seed, outputs=seed, api_visibility="private")
        gen = dict(fn=h.generate, inputs=[seed, count, trunc], outputs=faces, **to_gallery)
        go.click(api_name="generate", **gen)
        seed.submit(api_visibility="private", **gen)

        def pick(which: str, a: Any, b: Any, evt: gr.SelectData):
            caption = evt.value.get("caption") if isinstance(evt.value, dict) else None
            try:
                s = params.seed((caption or "").split(" ")[0])
            except ValueError:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip()
            a, b = (s, b) if which == "A" else (a, s)
            return a, b, ("B" if which == "A" else "A"), f"Picked: A = {a}, B = {b} — open **Morph**"

        faces.select(pick, [target, seed_a, seed_b], [seed_a, seed_b, target, picked], api_visibility="private")

        morph_in = [seed_a, seed_b, t, method]
        t.release(h.morph, morph_in, morph_img, api_name="morph", trigger_mode="always_last", **api)
        t.change(h.morph, morph_in, morph_img, api_visibility="private", trigger_mode="always_last", **api)
        for box in (seed_a, seed_b, method):
            box.change(h.morph, morph_in, morph_img, api_visibility="private", trigger_mode="always_last", **api)
        render.click(h.interpolate, [seed_a, seed_b, frames, method], [path_gallery, anim_file], api_name="interpolate",
                     **to_gallery).then(lambda f: f, anim_file, anim_view, api_visibility="private")

        v_go.click(h.variations, [v_seed, v_strength, v_count, v_vseed], v_gallery, api_name="variations", **to_gallery)
        if h.useful_directions:
            d_in = [d_seed, *sliders]
            d_seed.submit(h.directions, d_in, d_img, api_name="directions", **api)
            for c in d_in:
                c.change(h.directions, d_in, d_img, api_visibility="private", trigger_mode="always_last", **api)
            d_reset.click(lambda: [0.0] * len(sliders), outputs=sliders, api_visibility="private")
            demo.load(h.directions, d_in, d_img, api_visibility="private", **api)
        demo.load(h.generate, [seed, count, trunc], faces, api_visibility="private", **to_gallery)
        demo.load(h.morph, morph_in, morph_img, api_visibility="private", **api)
    demo.queue(max_size=queue_size, default_concurrency_limit=concurrency)
    h.blocks = demo
    return demo
