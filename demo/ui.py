"""The Gradio Blocks UI: layout and events. What each endpoint computes is in demo.handlers; the files it
answers with in demo.files.

Every event that runs the model shares one concurrency group ("model"), so at most `concurrency` of them
compute at once across all endpoints, and `queue_size` more wait; past that a request is refused with
"queue is full".
"""
from __future__ import annotations

import atexit
import os
from typing import Any

import gradio as gr

from demo import params
from demo.engine import Engine
from demo.handlers import DIRECTION_RANGE, NUM_DIRECTIONS, Handlers, friendly
from demo.records import SESSION_CAPACITY, forget_finished_calls_from_worker

QUEUE_SIZE = 64
CONCURRENCY = 2  # = cores here; onnxruntime already uses every core for one batch
MODEL_GROUP = "model"  # the one concurrency_id of every event that runs the model

HOW_TO = ("**Generate** a batch from a seed (face *i* uses seed + *i*; the caption is its seed, so any face can be "
          "made again). **Click a face** to pick it as A, click another for B, then open **Morph**. "
          "**Variations** and **Directions** follow the last face you picked. "
          "The truncation set in Generate applies in every tab, so a picked face stays the same face.")

CSS = """
#title h1 {margin-bottom: 0}
.autoheight .grid-wrap {min-height: 0 !important; height: auto !important; max-height: none !important}
#pickrow {align-items: center}
#footer {opacity: 0.85; font-size: 0.9em}
.autoheight .grid-container {grid-template-columns: repeat(var(--cols, 8), minmax(0, 1fr)) !important}
#path {--cols: 8} #variations {--cols: 6}
.bigface img {width: 100% !important; height: 100% !important; object-fit: contain}
.thumb img {object-fit: contain}
/* hints under labels: the body text colour at 13 px (Gradio's own light grey is 1.9:1 on white; WCAG AA asks 4.5:1) */
.gradio-container .info-text {color: var(--body-text-color) !important; font-size: 13px !important}
/* phones: 4 faces a row, so faces and captions stay readable; tabs narrow enough that all four stay in view */
@media (max-width: 640px) {
  #gallery, #path, #variations {--cols: 4 !important}
  .tab-container button {padding-left: 7px !important; padding-right: 7px !important}
  #ends .bigface {height: 120px !important}
  /* the edited face stays in view: its sliders scroll in their own box below it */
  #edit {height: 280px !important}
  #dir_sliders {max-height: calc(100vh - 420px); overflow-y: auto; flex-wrap: nowrap}
}
"""
ON_SPACES = bool(os.environ.get("SPACE_ID"))  # Gradio's Share button only works on a Hugging Face Space
IMAGE_BUTTONS = ["download", "share"] if ON_SPACES else ["download"]
GALLERY_BUTTONS = ["download", "fullscreen", "share"] if ON_SPACES else ["download", "fullscreen"]
RANDOM_SEED_JS = "() => Math.floor(Math.random() * 1000000)"  # the dice: no server round trip


def check(parse: Any) -> Any:
    """A UI step that only validates (parse_* raises with a message, or the chain goes on); it outputs nothing."""
    def validate(*values: Any) -> None:
        parse(*values)

    return friendly(validate)


def seed_of(caption: Any) -> int | None:
    """The seed at the start of a gallery caption ("42", "42 · A"), or None."""
    try:
        return params.seed(str(caption or "").split(" ")[0])
    except ValueError:
        return None


def badge(items: list[dict], a: int | None, b: int | None) -> list[dict]:
    """The gallery's wire form with each caption reset to its seed and "· A" / "· B" added to the picked faces."""
    out = []
    for item in items or []:
        s = seed_of(item.get("caption"))
        marks = [m for m, picked in (("A", a), ("B", b)) if s is not None and s == picked]
        out.append({**item, "caption": " · ".join([str(s) if s is not None else str(item.get("caption") or "")] + marks)})
    return out


LAUNCH_KWARGS = dict(css=CSS, show_error=True, state_session_capacity=SESSION_CAPACITY)


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
    dmeta = engine.info.meta.get("directions") or {}
    eig = dmeta.get("eigenvalues") or []
    # each slider spans where the face stays the same character (measured at export), else the API's full range
    limits = [min(DIRECTION_RANGE, float(x)) if isinstance(x, (int, float)) and x > 0 else DIRECTION_RANGE
              for x in (dmeta.get("identity_limits") or [])]
    limits += [DIRECTION_RANGE] * (NUM_DIRECTIONS - len(limits))

    with gr.Blocks(title="Anime Face Generator", delete_cache=(1800, 3600)) as demo:
        gr.Markdown("# Anime Face Generator\nA DCGAN trained on 18k anime faces, running on your CPU through ONNX Runtime.",
                    elem_id="title")
        gr.Markdown(HOW_TO)
        with gr.Tab("Generate"):
            with gr.Row(equal_height=True):
                seed = gr.Number(value=42, label="Seed", minimum=None, maximum=None, scale=2, elem_id="seed",
                                 info="press Enter to generate")
                dice = gr.Button("🎲 Random", scale=0, min_width=110, elem_id="dice")
                count = gr.Slider(1, params.MAX_COUNT, value=16, step=1, label="Count", scale=3)
                trunc = gr.Slider(*params.TRUNCATION, value=1.0, step=0.05, label="Truncation",
                                  info="< 1: safer, more average faces; > 1: wilder", scale=3, elem_id="trunc")
                go = gr.Button("Generate", variant="primary", scale=1, elem_id="generate")
            with gr.Row(elem_id="pickrow", equal_height=True):
                target = gr.Radio(["A", "B"], value="A", label="Next click picks", scale=1, min_width=140,
                                  elem_id="target")
                thumb_a = gr.Image(label="A", height=96, width=96, interactive=False, buttons=[], scale=0, min_width=100,
                                   elem_id="thumb_a", elem_classes="thumb")
                thumb_b = gr.Image(label="B", height=96, width=96, interactive=False, buttons=[], scale=0, min_width=100,
                                   elem_id="thumb_b", elem_classes="thumb")
                picked = gr.Markdown("Picked: A = 42, B = 1234 — click faces to change them", elem_id="picked")
            faces = gr.Gallery(label="Faces (caption = seed; click one to pick it)", columns=8,
                               object_fit="contain", elem_id="gallery", elem_classes="autoheight",
                               buttons=GALLERY_BUTTONS, allow_preview=False)
            examples = gr.Examples([[42, 16, 1.0], [2026, 32, 0.7], [7, 64, 1.0]], inputs=[seed, count, trunc],
                                   api_visibility="private", label="Examples",
                                   example_labels=["seed 42 · 16 faces", "seed 2026 · 32, truncation 0.7",
                                                   "seed 7 · 64 faces"])
        with gr.Tab("Morph"):
            with gr.Row(equal_height=True):
                seed_a = gr.Number(value=42, label="Seed A", elem_id="seed_a", info="Enter or leave the box to apply")
                seed_b = gr.Number(value=1234, label="Seed B", elem_id="seed_b", info="Enter or leave the box to apply")
                method = gr.Radio(["slerp", "lerp"], value="slerp", label="Path",
                                  info="slerp keeps faces crisp mid-way; lerp passes the 'average' face")
            with gr.Row(equal_height=True, elem_id="ends"):
                # one row even on a phone (min_width 90), so the in-between face stays in view above its slider
                end_a = gr.Image(label="A", height=240, interactive=False, buttons=IMAGE_BUTTONS, elem_id="end_a",
                                 elem_classes="bigface", min_width=90)
                morph_img = gr.Image(label="In-between", height=240, elem_id="morph", elem_classes="bigface",
                                     buttons=IMAGE_BUTTONS, interactive=False, min_width=90)
                end_b = gr.Image(label="B", height=240, interactive=False, buttons=IMAGE_BUTTONS, elem_id="end_b",
                                 elem_classes="bigface", min_width=90)
            t = gr.Slider(0, 1, value=0.5, step=0.01, label="t (0 = A, 1 = B)", elem_id="t")
            with gr.Row():
                frames = gr.Slider(2, params.MAX_FRAMES, value=16, step=1, label="Frames", scale=3)
                render = gr.Button("Render path + GIF", variant="primary", elem_id="render", scale=1)
            path_gallery = gr.Gallery(label="Path", columns=8, elem_id="path", elem_classes="autoheight",
                                      allow_preview=False, buttons=GALLERY_BUTTONS)
            with gr.Row():
                anim_file = gr.File(label="Animated GIF (loops A → B → A): download", elem_id="gif", interactive=False)
                anim_view = gr.Image(label="Preview", height=200, interactive=False, elem_classes="bigface",
                                     buttons=IMAGE_BUTTONS)
        with gr.Tab("Variations"):
            with gr.Row(equal_height=True):
                v_seed = gr.Number(value=42, label="Seed", elem_id="v_seed", info="follows the last picked face")
                v_strength = gr.Slider(0.05, 1.0, value=0.35, step=0.05, label="Strength")
                v_count = gr.Slider(1, params.MAX_VARIATIONS, value=11, step=1, label="Count")
                v_vseed = gr.Number(value=0, label="Variation seed")
                v_go = gr.Button("Vary", variant="primary", elem_id="vary")
            v_gallery = gr.Gallery(label="Original first, then variations", columns=6, buttons=GALLERY_BUTTONS,
                                   elem_classes="autoheight", allow_preview=False, elem_id="variations")
        with gr.Tab("Directions"):
            gr.Markdown("Unsupervised directions (SeFa) of this generator, strongest first. "
                        "What each one changes is found, not labelled — try them." if useful else
                        "This model ships no direction that visibly changes a face.")
            with gr.Row():
                # the face first: on a phone it stays above the sliders that move it
                d_img = gr.Image(label="Edited face", height=360, interactive=False, scale=1, buttons=IMAGE_BUTTONS,
                                 elem_classes="bigface", elem_id="edit")
                with gr.Column(scale=1, elem_id="dir_sliders"):
                    d_seed = gr.Number(value=42, label="Seed", elem_id="d_seed", info="follows the last picked face")
                    # always NUM_DIRECTIONS amounts, named direction_1…, so /directions is the same for every model;
                    # only the directions that visibly change a face are shown
                    sliders = [gr.Slider(-limits[i], limits[i], value=0, step=0.25, label=f"direction {i + 1}",
                                         info=f"strength {eig[i]:.3g}" if i < len(eig) else None,
                                         visible=i in useful, elem_id=f"dir{i + 1}") for i in range(NUM_DIRECTIONS)]
                    d_reset = gr.Button("Reset", visible=bool(useful))
        gr.Markdown(footer(engine), elem_id="footer")

        # ---- events ------------------------------------------------------
        # The UI checks typed values first (a message, nothing else changes: the last good faces stay on screen),
        # then runs the public endpoint; API clients call the endpoints directly and get the same messages as errors.
        quick = dict(show_progress="hidden", api_visibility="private")  # queued: only queued events show their errors
        morph_in = [seed_a, seed_b, t, method, trunc]
        d_in = [d_seed, *sliders, trunc]
        gen = dict(fn=h.generate, inputs=[seed, count, trunc], outputs=faces, **to_gallery)
        check_gen = dict(fn=check(h.parse_generate), inputs=[seed, count, trunc], outputs=None, **quick)
        go.click(**check_gen).success(api_name="generate", **gen)
        seed.submit(**check_gen).success(api_visibility="private", **gen)
        dice.click(None, None, seed, js=RANDOM_SEED_JS, api_visibility="private").then(api_visibility="private", **gen)
        examples.load_input_event.then(api_visibility="private", **gen)  # fill the inputs, then generate

        ends = dict(fn=lambda a, b, psi: h.ends(a, b, psi) * 2, inputs=[seed_a, seed_b, trunc],
                    outputs=[thumb_a, thumb_b, end_a, end_b], api_visibility="private", **api)
        morph = dict(fn=h.morph, inputs=morph_in, outputs=morph_img, trigger_mode="always_last", **api)
        directions = dict(fn=h.directions, inputs=d_in, outputs=d_img, trigger_mode="always_last", **api)
        variations = dict(fn=h.variations, inputs=[v_seed, v_strength, v_count, v_vseed, trunc], outputs=v_gallery,
                          **to_gallery)

        def pick(which: str, a: Any, b: Any, items: list[dict], evt: gr.SelectData):
            """A click on a face makes it A or B (then the other letter is next); captions get A/B badges."""
            s = seed_of(evt.value.get("caption") if isinstance(evt.value, dict) else None)
            if s is None:
                return (gr.skip(),) * 7
            a, b = (s, seed_of(b)) if which == "A" else (seed_of(a), s)
            return (a, b, "B" if which == "A" else "A", badge(items, a, b), s, s,
                    f"Picked: A = {a}, B = {b} — open **Morph** to blend them")

        check_morph = dict(fn=check(h.parse_morph), inputs=morph_in, outputs=None, **quick)
        t.release(api_name="morph", **morph)
        t.change(api_visibility="private", **morph)
        method.change(api_visibility="private", **morph)
        for box in (seed_a, seed_b):
            for event in (box.submit, box.blur):
                event(**check_morph).success(**ends).then(api_visibility="private", **morph)
        render.click(**check_morph).success(h.interpolate, [seed_a, seed_b, frames, method, trunc],
                                            [path_gallery, anim_file], api_name="interpolate", **to_gallery
                                            ).then(lambda f: f, anim_file, anim_view, api_visibility="private")

        v_go.click(fn=check(h.parse_variations), inputs=[v_seed, v_strength, v_count, v_vseed, trunc], outputs=None,
                   **quick).success(api_name="variations", **variations)
        check_d = dict(fn=check(lambda s, *rest: h.parse_directions(s, *rest[:-1], truncation=rest[-1])),
                       inputs=d_in, outputs=None, **quick)
        d_seed.submit(**check_d).success(api_name="directions", **directions)
        d_seed.blur(**check_d).success(api_visibility="private", **directions)
        for c in sliders:
            c.change(api_visibility="private", **directions)
        d_reset.click(lambda: [0.0] * len(sliders), outputs=sliders, api_visibility="private")
        # private listeners that reuse an endpoint's function come after every public one: Gradio names events by
        # function, and an earlier private "morph" would push the public one to "/morph_1"
        faces.select(pick, [target, seed_a, seed_b, faces], [seed_a, seed_b, target, faces, v_seed, d_seed, picked],
                     api_visibility="private", preprocess=False, postprocess=False, show_progress="hidden",
                     ).then(**ends).then(api_visibility="private", **morph).then(
                     api_visibility="private", **directions).then(api_visibility="private", **variations)

        trunc.release(**check_gen).success(api_visibility="private", **gen).then(**ends).then(
            api_visibility="private", **morph)
        demo.load(api_visibility="private", **gen)
        demo.load(**ends)
        demo.load(api_visibility="private", **morph)
        demo.load(api_visibility="private", **directions)
    demo.queue(max_size=queue_size, default_concurrency_limit=concurrency)
    app.append(demo)
    return demo
