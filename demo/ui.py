"""The Gradio Blocks UI: layout and events. What each endpoint computes is in demo.handlers; the files it
answers with in demo.files.

Every event that runs the model shares one concurrency group ("model"), so at most `concurrency` of them
compute at once across all endpoints, and `queue_size` more wait; past that a request is refused with
"queue is full".
"""
from __future__ import annotations

import atexit
import random
from typing import Any

import gradio as gr

from demo import params
from demo.engine import Engine
from demo.handlers import DIRECTION_RANGE, NUM_DIRECTIONS, Handlers
from demo.records import SESSION_CAPACITY, forget_finished_calls_from_worker

QUEUE_SIZE = 64
CONCURRENCY = 2  # = cores here; onnxruntime already uses every core for one batch
MODEL_GROUP = "model"  # the one concurrency_id of every event that runs the model

HOW_TO = ("**Generate** a batch from a seed (face *i* uses seed + *i*; the caption is its seed, so any face can be "
          "made again). **Click a face** to make it endpoint A or B, then **Morph** between them. "
          "**Variations** nudges one face; **Directions** slides it along the model's strongest latent axes. "
          "The truncation set in Generate applies in every tab, so a picked face stays the same face.")

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


def random_seed() -> int:
    return random.randint(0, 999_999)


def _count(x: Any, what: str) -> str | None:
    return f"{x:,} {what}" if isinstance(x, int) and not isinstance(x, bool) else None


def footer(engine: Engine) -> str:
    """What model runs where; training figures only where the metadata has them (any of them may be missing)."""
    meta = engine.info.meta
    tr = meta.get("training") if isinstance(meta.get("training"), dict) else {}
    ev = meta.get("evaluation") if isinstance(meta.get("evaluation"), dict) else {}
    parts = [f"model `{engine.info.path.name}` · {engine.info.image_size}×{engine.info.image_size} px · z ∈ ℝ^{engine.info.nz}",
             f"runs on **{engine.provider}** ({engine.threads} threads)"]
    trained = [t for t in (_count(tr.get("steps"), "steps"), _count(tr.get("num_images"), "faces")) if t]
    if trained:
        parts.append("trained " + " on ".join(trained))
    if isinstance(ev.get("fid"), (int, float)):
        parts.append(f"FID@{ev.get('n_fake', '?')} {ev['fid']:.1f}")
    return " · ".join(parts)


def build(engine: Engine, queue_size: int = QUEUE_SIZE, concurrency: int = CONCURRENCY) -> gr.Blocks:
    """The whole app. Work is bounded: at most `concurrency` model requests compute at once, whichever endpoints
    they call (each capped at 64 faces/frames), and `queue_size` wait."""
    app: list[gr.Blocks] = []  # the Blocks, once built: its finished-call records are pruned with the files
    h = Handlers(engine, on_prune=lambda: app and forget_finished_calls_from_worker(app[0]))
    atexit.register(h.close)
    atexit.register(engine.close)
    api = dict(preprocess=False, concurrency_limit=concurrency, concurrency_id=MODEL_GROUP)
    to_gallery = dict(api, postprocess=False)  # those handlers return the Gallery's wire form themselves
    useful = set(h.useful_directions)
    eig = ((engine.info.meta.get("directions") or {}).get("eigenvalues") or [])

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
                               object_fit="contain", elem_id="gallery", elem_classes="autoheight",
                               buttons=["download", "fullscreen"], allow_preview=False)
            with gr.Row(elem_id="pickrow"):
                target = gr.Radio(["A", "B"], value="A", label="Next click sets", scale=1, min_width=160)
                picked = gr.Markdown("Picked: A = 42, B = 1234", elem_id="picked")
                examples = gr.Examples([[42, 16, 1.0], [2026, 32, 0.7], [7, 64, 1.0]], inputs=[seed, count, trunc],
                                       api_visibility="private", label="Examples",
                                       example_labels=["seed 42 · 16 faces", "seed 2026 · 32, truncation 0.7",
                                                       "seed 7 · 64 faces"])
        with gr.Tab("Morph"):
            with gr.Row(equal_height=True):
                seed_a = gr.Number(value=42, label="Seed A", elem_id="seed_a")
                seed_b = gr.Number(value=1234, label="Seed B", elem_id="seed_b")
                method = gr.Radio(["slerp", "lerp"], value="slerp", label="Path",
                                  info="slerp keeps faces crisp mid-way; lerp passes the 'average' face")
            with gr.Row():
                with gr.Column(scale=1):
                    t = gr.Slider(0, 1, value=0.5, step=0.01, label="t (0 = A, 1 = B)", elem_id="t")
                    morph_img = gr.Image(label="In-between face", height=320, elem_id="morph", elem_classes="bigface",
                                         buttons=["download"], interactive=False)
                with gr.Column(scale=2):
                    frames = gr.Slider(2, params.MAX_FRAMES, value=16, step=1, label="Frames")
                    render = gr.Button("Render path + GIF", variant="primary", elem_id="render")
                    path_gallery = gr.Gallery(label="Path", columns=8, elem_id="path",
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
            v_gallery = gr.Gallery(label="Original first, then variations", columns=6,
                                   elem_classes="autoheight", allow_preview=False, elem_id="variations")
        with gr.Tab("Directions"):
            gr.Markdown("Unsupervised directions (SeFa) of this generator, strongest first. "
                        "What each one changes is found, not labelled — try them." if useful else
                        "This model ships no direction that visibly changes a face.")
            with gr.Row():
                with gr.Column(scale=1):
                    d_seed = gr.Number(value=42, label="Seed", elem_id="d_seed")
                    # always NUM_DIRECTIONS amounts, named direction_1…, so /directions is the same for every model;
                    # only the directions that visibly change a face are shown
                    sliders = [gr.Slider(-DIRECTION_RANGE, DIRECTION_RANGE, value=0, step=0.25, label=f"direction {i + 1}",
                                         info=f"strength {eig[i]:.3g}" if i < len(eig) else None,
                                         visible=i in useful) for i in range(NUM_DIRECTIONS)]
                    d_reset = gr.Button("Reset", visible=bool(useful))
                d_img = gr.Image(label="Edited face", height=420, interactive=False, scale=1,
                                 elem_classes="bigface", elem_id="edit")
        gr.Markdown(footer(engine), elem_id="footer")

        # ---- events ------------------------------------------------------
        dice.click(random_seed, outputs=seed, api_visibility="private")
        gen = dict(fn=h.generate, inputs=[seed, count, trunc], outputs=faces, **to_gallery)
        go.click(api_name="generate", **gen)
        seed.submit(api_visibility="private", **gen)
        examples.load_input_event.then(api_visibility="private", **gen)  # fill the inputs, then generate

        def pick(which: str, a: Any, b: Any, evt: gr.SelectData):
            caption = evt.value.get("caption") if isinstance(evt.value, dict) else None
            try:
                s = params.seed((caption or "").split(" ")[0])
            except ValueError:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip()
            a, b = (s, b) if which == "A" else (a, s)
            return a, b, ("B" if which == "A" else "A"), f"Picked: A = {a}, B = {b} — open **Morph**"

        faces.select(pick, [target, seed_a, seed_b], [seed_a, seed_b, target, picked], api_visibility="private")

        morph_in = [seed_a, seed_b, t, method, trunc]
        t.release(h.morph, morph_in, morph_img, api_name="morph", trigger_mode="always_last", **api)
        t.change(h.morph, morph_in, morph_img, api_visibility="private", trigger_mode="always_last", **api)
        for box in (seed_a, seed_b, method):
            box.change(h.morph, morph_in, morph_img, api_visibility="private", trigger_mode="always_last", **api)
        render.click(h.interpolate, [seed_a, seed_b, frames, method, trunc], [path_gallery, anim_file], api_name="interpolate",
                     **to_gallery).then(lambda f: f, anim_file, anim_view, api_visibility="private")

        v_go.click(h.variations, [v_seed, v_strength, v_count, v_vseed, trunc], v_gallery, api_name="variations", **to_gallery)
        d_in = [d_seed, *sliders, trunc]
        d_seed.submit(h.directions, d_in, d_img, api_name="directions", **api)
        for c in [d_seed, *sliders]:
            c.change(h.directions, d_in, d_img, api_visibility="private", trigger_mode="always_last", **api)
        d_reset.click(lambda: [0.0] * len(sliders), outputs=sliders, api_visibility="private")
        demo.load(h.directions, d_in, d_img, api_visibility="private", **api)
        demo.load(h.generate, [seed, count, trunc], faces, api_visibility="private", **to_gallery)
        demo.load(h.morph, morph_in, morph_img, api_visibility="private", **api)
    demo.queue(max_size=queue_size, default_concurrency_limit=concurrency)
    app.append(demo)
    return demo
