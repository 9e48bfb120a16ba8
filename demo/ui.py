"""The Gradio Blocks UI: layout and events. What each endpoint computes is in demo.handlers, the files it answers
with in demo.files, the picks' badges in demo.picks, the words in demo.texts, the styling in demo/web/app.css and
the browser side in demo/web (live.js: the live sliders; page.js: labels, pick outlines, "copied").

Every event that runs the model shares one concurrency group ("model"), so at most `concurrency` of them
compute at once across all endpoints, and `queue_size` more wait; past that a request is refused with
"queue is full".
"""
from __future__ import annotations

import atexit
import html
import json
import os
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from demo import links, live, params, texts
from demo.colorizer import ColorizerEngine
from demo.engine import Engine
from demo.handlers import (DIRECTION_RANGE, GIF_SIZES, MESSAGE_SECONDS, NUM_DIRECTIONS, NUM_NAMED, Colorize, Handlers,
                           friendly)
from demo.images import data_uri
from demo.latents import face_z
from demo.picks import badge, own_face, seed_of
from demo.projection import Projector
from demo.yourface import YourFace
from demo.records import SESSION_CAPACITY, forget_finished_calls_from_worker

QUEUE_SIZE = 64
CONCURRENCY = 2  # = cores here; onnxruntime already uses every core for one batch
MODEL_GROUP = "model"  # the one concurrency_id of every event that runs the model

CSS = (Path(__file__).resolve().parent / "web" / "app.css").read_text()
ON_SPACES = bool(os.environ.get("SPACE_ID"))  # Gradio's Share button only works on a Hugging Face Space
IMAGE_BUTTONS = ["download", "share"] if ON_SPACES else ["download"]
GALLERY_BUTTONS = ["download", "fullscreen", "share"] if ON_SPACES else ["download", "fullscreen"]
RANDOM_SEED_JS = "() => Math.floor(Math.random() * 1000000)"  # the dice: no server round trip
# The live controls (demo/web/live.js): drawn in the browser; until live.js is there, through the hidden server button.
SERVER_CLICK = "(document.querySelector('button#{0}') || document.querySelector('#{0} button'))?.click()"
MORPH_JS = f"(a, b, t, m, psi) => {{ window.animeLive ? window.animeLive.morph(a, b, t, m, psi) : {SERVER_CLICK.format('morph_srv')}; }}"
DIRECTIONS_JS = ("(...v) => { window.animeLive ? window.animeLive.directions(...v) : "
                 f"{SERVER_CLICK.format('dir_srv')}; }}")
TRUNCATION_JS = f"(...v) => {{ window.animeLive ? window.animeLive.truncation(...v) : {SERVER_CLICK.format('trunc_srv')}; }}"
LOAD_LIVE_JS = "() => { window.animeLive && window.animeLive.load(); }"
# "Copy link": the state on screen as a query string (demo/links.py reads it back); works without live.js too
LINK_JS = """(...v) => {
  const keys = %s, q = new URLSearchParams();
  keys.forEach((k, i) => { if (v[i] !== null && v[i] !== undefined && v[i] !== '') q.set(k, v[i]); });
  v.slice(keys.length).forEach((x, i) => {  // then the 8 unnamed directions (d1…) and the named ones (n1…)
    if (Number(x) !== 0) q.set(i < %d ? 'd' + (i + 1) : 'n' + (i + 1 - %d), x);
  });
  const tab = document.querySelector("#tabs button[role='tab'][aria-selected='true']");
  const name = tab ? tab.textContent.trim().toLowerCase() : '';
  if (name && name !== 'generate') q.set('tab', name);
  const href = location.origin + location.pathname + '?' + q.toString();
  history.replaceState(null, '', href);
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(href).catch(() => {});
  window.animePage && window.animePage.copied(document.getElementById('copy_link'));
  return [href];
}""" % (json.dumps(list(links.KEYS)), NUM_DIRECTIONS, NUM_DIRECTIONS)

LAUNCH_KWARGS = dict(css=CSS, show_error=True, state_session_capacity=SESSION_CAPACITY, max_file_size="50mb",
                     head=live.head())


def check(parse: Any) -> Any:
    """A UI step that only validates (parse_* raises with a message, or the chain goes on); it outputs nothing."""
    def validate(*values: Any) -> None:
        parse(*values)

    return friendly(validate)


def as_seed(value: Any) -> int | None:
    try:
        return params.seed(value)
    except ValueError:
        return None


@friendly
def mark(items: list[dict], a: Any, b: Any) -> tuple[list[dict], str]:
    """The gallery with A/B badges on the picked faces, and the line that names the picks."""
    return badge(items, as_seed(a), as_seed(b)), texts.picked(a, b)


@friendly
def preview(value: Any) -> str:
    return own_face(value)


def named_limit(meta: dict) -> float:
    """A named slider's range: where the face stays the same character (measured at export), at most the API's."""
    return min(DIRECTION_RANGE, float(meta.get("limit") or DIRECTION_RANGE))


def named_ends(engine: Engine, seed: int = 42) -> list[tuple[str, str]]:
    """For each named direction, <img>s of one face at either end of its slider: what moving it does."""
    out = []
    for m, d in zip(engine.info.named_meta, engine.info.named):
        lim = named_limit(m)
        lo, hi = engine.render(face_z(seed, engine.info.nz)[None] + np.float32(lim) * np.stack([-d, d]))
        out.append(tuple(f'<img src="{data_uri(f)}" alt="{html.escape(m["name"])}: {html.escape(w)}" '
                         f'title="{html.escape(m["name"])}: {html.escape(w)}" width="44" height="44">'
                         for f, w in ((lo, m["low"]), (hi, m["high"]))))
    return out


def face_box(value: int, label: str, elem_id: str, info: str) -> gr.Textbox:
    """A face's box: a seed, or a face code (a projected picture's face: "z.…"), so it is text, one line."""
    return gr.Textbox(value=str(value), label=label, elem_id=elem_id, info=info, lines=1, max_lines=1, min_width=100)


def build(engine: Engine, colorizer: ColorizerEngine | None = None, queue_size: int = QUEUE_SIZE,
          concurrency: int = CONCURRENCY, projector: Projector | None = None, no_projector: str = "") -> gr.Blocks:
    """The whole app. Work is bounded: at most `concurrency` model requests compute at once, whichever endpoints
    they call (each capped at 64 faces/frames, or one picture of at most MAX_SIDE px a side), and `queue_size`
    wait. Without a colouriser the Colourise tab says so and /colorize answers with that message."""
    app: list[gr.Blocks] = []  # the Blocks, once built: its finished-call records are pruned with the files
    h = Handlers(engine, on_prune=lambda: app and forget_finished_calls_from_worker(app[0]))
    atexit.register(h.close)
    atexit.register(engine.close)
    col = Colorize(colorizer, h.out)
    yf = YourFace(projector, h.out, no_projector)
    api = dict(preprocess=False, concurrency_limit=concurrency, concurrency_id=MODEL_GROUP)
    to_gallery = dict(api, postprocess=False)  # those handlers return the Gallery's wire form themselves
    private = dict(api_visibility="private")
    useful = set(h.useful_directions)
    dmeta = engine.info.meta.get("directions") or {}
    # each slider spans where the face stays the same character (measured at export), else the API's full range
    limits = [min(DIRECTION_RANGE, float(x)) if isinstance(x, (int, float)) and x > 0 else DIRECTION_RANGE
              for x in (dmeta.get("identity_limits") or [])]
    limits += [DIRECTION_RANGE] * (NUM_DIRECTIONS - len(limits))
    shown = sorted(useful)
    nmeta = engine.info.named_meta[:NUM_NAMED]
    ends = named_ends(engine)

    with gr.Blocks(title="Anime Face Generator", delete_cache=(1800, 3600)) as demo:
        gr.Markdown(texts.TITLE, elem_id="title")
        gr.Markdown(texts.TAGLINE, elem_id="tagline")
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab("Generate", id="generate"):
                with gr.Row(equal_height=True, elem_id="seedrow"):
                    seed = gr.Number(value=42, label="Seed", minimum=None, maximum=None, scale=2, elem_id="seed",
                                     min_width=90)
                    dice = gr.Button("🎲 Random", scale=1, min_width=90, elem_id="dice")
                    go = gr.Button("Generate", variant="primary", scale=1, min_width=100, elem_id="generate")
                    trunc_srv = gr.Button("faces at this variety (server)", visible="hidden", elem_id="trunc_srv")
                with gr.Row(elem_id="pickrow", equal_height=True):
                    target = gr.Radio(["A", "B"], value="A", label="Next click picks", scale=1, min_width=120,
                                      elem_id="target")
                    thumb_a = gr.Image(label="A", height=96, width=96, interactive=False, buttons=[], scale=0,
                                       min_width=76, elem_id="thumb_a", elem_classes="thumb")
                    thumb_b = gr.Image(label="B", height=96, width=96, interactive=False, buttons=[], scale=0,
                                       min_width=76, elem_id="thumb_b", elem_classes="thumb")
                    picked = gr.Markdown(texts.picked(42, 1234), elem_id="picked")
                faces = gr.Gallery(label="Faces (the number is the face's seed; click one to pick it)", columns=8,
                                   object_fit="contain", elem_id="gallery", elem_classes="autoheight",
                                   buttons=GALLERY_BUTTONS, allow_preview=False, interactive=False)
                with gr.Row(equal_height=True):
                    count = gr.Slider(1, params.MAX_COUNT, value=16, step=1, label="How many faces", scale=3,
                                      elem_id="count")
                    trunc = gr.Slider(*params.TRUNCATION, value=1.0, step=0.05, label="Variety",
                                      info=texts.VARIETY_INFO, scale=3, elem_id="trunc")
                    f_zip_go = gr.Button("⬇ All faces as PNG (zip)", scale=1, min_width=120, elem_id="faces_zip_go")
                f_zip = gr.File(label="Faces (zip of PNGs, named by seed)", interactive=False, visible=False,
                                elem_id="faces_zip")
                gr.Markdown(texts.HOW_TO, elem_id="how")
                examples = gr.Examples([[42, 16, 1.0], [2026, 32, 0.7], [7, 64, 1.0]], inputs=[seed, count, trunc],
                                       api_visibility="private", label="Examples",
                                       example_labels=["seed 42 · 16 faces", "seed 2026 · 32, variety 0.7",
                                                       "seed 7 · 64 faces"])
            with gr.Tab("Morph", id="morph_tab") as morph_tab:
                with gr.Row(equal_height=True):
                    seed_a = face_box(42, "Face A (seed or face code)", "seed_a", "Enter or leave the box to apply")
                    seed_b = face_box(1234, "Face B (seed or face code)", "seed_b", "Enter or leave the box to apply")
                    method = gr.Radio(texts.PATH_CHOICES, value="slerp", label="Path", elem_id="method")
                with gr.Row(equal_height=True, elem_id="ends"):
                    # one row even on a phone (min_width 90), so the in-between face stays in view above its slider
                    end_a = gr.Image(label="A", height=240, interactive=False, buttons=IMAGE_BUTTONS, elem_id="end_a",
                                     elem_classes="bigface", min_width=90)
                    morph_img = gr.Image(label="In-between", height=240, elem_id="morph", elem_classes="bigface",
                                         buttons=IMAGE_BUTTONS, interactive=False, min_width=90)
                    end_b = gr.Image(label="B", height=240, interactive=False, buttons=IMAGE_BUTTONS, elem_id="end_b",
                                     elem_classes="bigface", min_width=90)
                t = gr.Slider(0, 1, value=0.5, step=0.01, label="Blend (0 = A, 1 = B)", elem_id="t")
                with gr.Row(equal_height=True):
                    frames = gr.Slider(2, params.MAX_FRAMES, value=16, step=1, label="Frames", scale=3,
                                       elem_id="frames")
                    gif_size = gr.Radio(list(GIF_SIZES), value=GIF_SIZES[0], label="GIF size (px)", scale=2,
                                        elem_id="gif_size")
                    render = gr.Button("Render frames + GIF", variant="primary", elem_id="render", scale=1)
                    m_send = gr.Button("🎨 Colourise the in-between face", elem_id="m_send", scale=1)
                    morph_srv = gr.Button("in-between face (server)", visible="hidden", elem_id="morph_srv")
                    interp_srv = gr.Button("frames (server)", visible="hidden", elem_id="interp_srv")
                path_gallery = gr.Gallery(label="Frames", columns=8, elem_id="path", elem_classes="autoheight",
                                          allow_preview=False, buttons=GALLERY_BUTTONS, interactive=False)
                with gr.Row():
                    anim_file = gr.File(label="Animated GIF (loops A → B → A): download", elem_id="gif",
                                        interactive=False)
                    anim_view = gr.Image(label="Preview", height=200, interactive=False, elem_classes="bigface",
                                         buttons=IMAGE_BUTTONS, elem_id="anim")
                    with gr.Column():
                        p_zip_go = gr.Button("⬇ All frames as PNG (zip)", elem_id="path_zip_go")
                        p_zip = gr.File(label="Frames (zip of PNGs)", interactive=False, visible=False,
                                        elem_id="path_zip")
            with gr.Tab("Variations", id="variations_tab"):
                with gr.Row(equal_height=True):
                    v_seed = face_box(42, "Face (seed or face code)", "v_seed", "follows the last picked face")
                    v_strength = gr.Slider(*params.STRENGTH, value=0.35, step=0.05, label="How different",
                                           elem_id="v_strength")
                    v_count = gr.Slider(1, params.MAX_VARIATIONS, value=11, step=1, label="How many",
                                        elem_id="v_count")
                    v_vseed = gr.Number(value=0, label="Variation seed", elem_id="v_vseed",
                                        info="another number, other variations", min_width=100)
                    v_go = gr.Button("Vary", variant="primary", elem_id="vary")
                v_gallery = gr.Gallery(label="The face first, then its variations", columns=6,
                                       buttons=GALLERY_BUTTONS, elem_classes="autoheight", allow_preview=False,
                                       elem_id="variations", interactive=False)
                v_zip_go = gr.Button("⬇ All variations as PNG (zip)", elem_id="variations_zip_go", size="sm")
                v_zip = gr.File(label="Variations (zip of PNGs)", interactive=False, visible=False,
                                elem_id="variations_zip")
            with gr.Tab("Edit", id="directions_tab") as dir_tab:
                gr.Markdown(texts.EDIT_HELP if useful or nmeta else texts.EDIT_NONE)
                with gr.Row(elem_id="edit_row"):
                    # the face first: on a phone it stays above the sliders that move it
                    d_img = gr.Image(label="Edited face", height=360, interactive=False, scale=1, buttons=IMAGE_BUTTONS,
                                     elem_classes="bigface", elem_id="edit")
                    with gr.Column(scale=1, elem_id="dir_sliders"):
                        d_seed = face_box(42, "Face (seed or face code)", "d_seed", "follows the last picked face")
                        # always NUM_NAMED named amounts and NUM_DIRECTIONS unnamed ones, so /directions is the same
                        # for every model; only those the model ships (and that visibly change a face) are shown
                        named = []
                        for i in range(NUM_NAMED):
                            m = nmeta[i] if i < len(nmeta) else None
                            with gr.Row(equal_height=True, visible=m is not None, elem_classes="named"):
                                gr.HTML(ends[i][0] if m else "", scale=0, min_width=44, elem_classes="named-end")
                                lim = named_limit(m) if m else 1.0
                                named.append(gr.Slider(-lim, lim, value=0, step=0.25, scale=1, elem_id=f"named{i + 1}",
                                                       label=f"{m['name']}: {m['low']} ↔ {m['high']}" if m
                                                       else f"named {i + 1}"))
                                gr.HTML(ends[i][1] if m else "", scale=0, min_width=44, elem_classes="named-end")
                        with gr.Accordion("More directions (found by the network, unnamed)", open=not nmeta,
                                          visible=bool(useful), elem_id="more_dirs"):
                            sliders = [gr.Slider(-limits[i], limits[i], value=0, step=0.25,
                                                 label=f"change {shown.index(i) + 1}" if i in useful else f"direction {i + 1}",
                                                 visible=i in useful, elem_id=f"dir{i + 1}") for i in range(NUM_DIRECTIONS)]
                        d_reset = gr.Button("Reset", visible=bool(useful or nmeta), elem_id="d_reset")
                        d_send = gr.Button("🎨 Colourise this face", size="sm", elem_id="d_send")
                        dir_srv = gr.Button("edited face (server)", visible="hidden", elem_id="dir_srv")
            with gr.Tab("Your face", id="yourface_tab"):
                gr.Markdown(texts.YOUR_FACE_HELP if projector is not None else no_projector or texts.YOUR_FACE_MISSING,
                            elem_id="yourface_help")
                # one row even on a phone (min_width 90), as Morph's A · in-between · B
                with gr.Row(equal_height=True, elem_id="yourface_row"):
                    y_pic = gr.Image(label="Your picture (its centre square is used)",
                                     type="filepath", height=280, sources=["upload", "clipboard", "webcam"],
                                     elem_id="y_picture", elem_classes="bigface", min_width=90)
                    y_seen = gr.Image(label="What the model compares", height=280, interactive=False,
                                      buttons=[], elem_id="y_seen", elem_classes="bigface", min_width=90)
                    y_face = gr.Image(label="The model's closest face", height=280, interactive=False,
                                      buttons=IMAGE_BUTTONS, elem_id="y_face", elem_classes="bigface", min_width=90)
                with gr.Row(equal_height=True):
                    y_close = gr.Number(label="Closeness (%)", info="100 = the same picture, 0 = as far as two "
                                        "random faces", interactive=False, elem_id="y_close", min_width=150, scale=1)
                    y_refine = gr.Checkbox(value=True, label="Refine (closer, ≈0.3 s more)", elem_id="y_refine",
                                           scale=1, min_width=150)
                    y_code = gr.Textbox(label="Face code (goes wherever a seed goes)", interactive=False,
                                        lines=1, max_lines=1, buttons=["copy"], elem_id="y_code", scale=3,
                                        min_width=240)
                with gr.Row(equal_height=True):
                    y_as_a = gr.Button("Morph it: make it A", variant="primary", elem_id="y_as_a",
                                       interactive=projector is not None)
                    y_as_b = gr.Button("… or B", elem_id="y_as_b", interactive=projector is not None)
                    y_edit = gr.Button("Edit it", elem_id="y_edit", interactive=projector is not None)
                    y_vary = gr.Button("Vary it", elem_id="y_vary", interactive=projector is not None)
            with gr.Tab("Colourise", id="colorize_tab"):
                gr.Markdown(texts.COLORIZE_HELP if colorizer is not None else texts.COLORIZE_MISSING,
                            elem_id="colorize_help")
                with gr.Row(equal_height=True):
                    picture = gr.Image(label="Picture (any size; colour or gray)", type="filepath", height=320,
                                       sources=["upload", "clipboard"], elem_id="picture", elem_classes="bigface")
                    gray_img = gr.Image(label="Gray (what the colouriser sees)", height=320, interactive=False,
                                        buttons=IMAGE_BUTTONS, elem_id="gray", elem_classes="bigface")
                    col_img = gr.Image(label="Colourised (PNG, the picture's size)", height=320, interactive=False,
                                       buttons=IMAGE_BUTTONS, elem_id="colorized", elem_classes="bigface")
                c_go = gr.Button("Colourise", variant="primary", elem_id="colorize", interactive=colorizer is not None)
        with gr.Row(equal_height=True):
            copy_link = gr.Button("🔗 Copy link", size="sm", scale=0, min_width=140, elem_id="copy_link")
            link_box = gr.Textbox(show_label=False, placeholder="a link that opens this page as it is now",
                                  interactive=False, scale=5, elem_id="link", container=False)
        with gr.Accordion("About this model", open=False, elem_id="about"):
            gr.Markdown(texts.about(engine), elem_id="footer")

        # ---- events ------------------------------------------------------
        # The UI checks typed values first (a message, nothing else changes: the last good faces stay on screen),
        # then runs the public endpoint; API clients call the endpoints directly and get the same messages as errors.
        quick = dict(show_progress="hidden", api_visibility="private")  # queued: only queued events show their errors
        morph_in = [seed_a, seed_b, t, method, trunc]
        d_in = [d_seed, *sliders, trunc, *named]  # /directions' order: seed, 8 amounts, truncation, 6 named
        v_in = [v_seed, v_strength, v_count, v_vseed, trunc]
        gen = dict(fn=h.generate, inputs=[seed, count, trunc], outputs=faces, **to_gallery)
        marked = dict(fn=mark, inputs=[faces, seed_a, seed_b], outputs=[faces, picked], preprocess=False,
                      postprocess=False, show_progress="hidden", trigger_mode="always_last", **private)
        check_gen = dict(fn=check(h.parse_generate), inputs=[seed, count, trunc], outputs=None, **quick)
        go.click(**check_gen).success(api_name="generate", **gen).then(**marked)
        seed.submit(**check_gen).success(**private, **gen).then(**marked)
        dice.click(None, None, seed, js=RANDOM_SEED_JS, **private).then(**private, **gen).then(**marked)
        examples.load_input_event.then(**private, **gen).then(**marked)  # fill the inputs, then generate

        ends = dict(fn=lambda a, b, psi: h.ends(a, b, psi) * 2, inputs=[seed_a, seed_b, trunc],
                    outputs=[thumb_a, thumb_b, end_a, end_b], trigger_mode="always_last", **private, **api)
        morph = dict(fn=h.morph, inputs=morph_in, outputs=morph_img, trigger_mode="always_last", **api)
        directions = dict(fn=h.directions, inputs=d_in, outputs=d_img, trigger_mode="always_last", **api)
        # always_last: a second pick while the first one's faces are drawn must not be dropped (the default, "once")
        variations = dict(fn=h.variations, inputs=v_in, outputs=v_gallery, trigger_mode="always_last", **to_gallery)

        def pick(which: str, a: Any, b: Any, items: list[dict], evt: gr.SelectData):
            """A click on a face makes it A or B (then the other letter is next); captions get A/B badges."""
            s = seed_of(evt.value.get("caption") if isinstance(evt.value, dict) else None)
            if s is None:
                return (gr.skip(),) * 7
            a, b = (s, b) if which == "A" else (a, s)  # the other pick stays as it is (a seed or a face code)
            return (a, b, "B" if which == "A" else "A", badge(items, as_seed(a), as_seed(b)), s, s,
                    texts.picked(a, b))

        # The live controls are drawn in the browser while they move (no request); once a control settles (the pointer
        # lets go, or a key or typed value has stopped changing it) live.js clicks its hidden server button, so the
        # server's copy (the download) is the face on screen. Those server steps show no progress overlay: the face on
        # screen is already right.
        synced = dict(show_progress="hidden")
        check_morph = dict(fn=check(h.parse_morph), inputs=morph_in, outputs=None, **quick)
        morph_srv.click(api_name="morph", **synced, **morph)  # the API endpoint, and the controls' server path
        live_morph = dict(fn=None, inputs=morph_in, outputs=None, js=MORPH_JS, **private)
        t.change(**live_morph)
        method.change(**live_morph)
        for box in (seed_a, seed_b):
            for event in (box.submit, box.blur):
                event(**check_morph).success(**ends).then(**private, **morph).then(**marked)
        interp_in = [seed_a, seed_b, frames, method, trunc]
        # /interpolate keeps its five inputs for API clients (hidden button); the page's Render adds the GIF's size
        interp_srv.click(h.interpolate, interp_in, [path_gallery, anim_file], api_name="interpolate", **to_gallery)
        render.click(**check_morph).success(lambda *v: h.interpolate(*v), [*interp_in, gif_size],
                                            [path_gallery, anim_file], **private, **to_gallery
                                            ).then(preview, anim_file, anim_view, preprocess=False, **private)

        v_go.click(fn=check(h.parse_variations), inputs=v_in, outputs=None, **quick).success(
            api_name="variations", **variations)
        check_d = dict(fn=check(lambda s, *rest: h.parse_directions(s, *rest[:NUM_DIRECTIONS],
                                                                    truncation=rest[NUM_DIRECTIONS],
                                                                    named=rest[NUM_DIRECTIONS + 1:])),
                       inputs=d_in, outputs=None, **quick)
        d_seed.submit(**check_d).success(api_name="directions", **directions)
        d_seed.blur(**check_d).success(**private, **directions)
        dir_srv.click(**private, **synced, **directions)
        for c in (*sliders, *named):
            c.change(None, d_in, None, js=DIRECTIONS_JS, **private)
        trunc.change(None, [seed_a, seed_b, t, method, *d_in], None, js=TRUNCATION_JS, **private)
        for tab in (morph_tab, dir_tab):  # the runtime is fetched when a live tab first opens, not on first paint
            tab.select(None, None, None, js=LOAD_LIVE_JS, **private)
        state = [seed, count, trunc, seed_a, seed_b, target, t, method, frames, gif_size, v_seed, v_strength, v_count,
                 v_vseed, d_seed]  # in links.KEYS order
        copy_link.click(None, [*state, *sliders, *named], link_box, js=LINK_JS, **private)
        d_reset.click(lambda: [0.0] * (len(sliders) + len(named)), outputs=[*sliders, *named], **private)

        # "Download all": the faces on screen as lossless PNGs in a zip (the gallery shows JPEGs)
        def shown_file(fn):
            return lambda *v: gr.File(value=fn(*v), visible=True)

        f_zip_go.click(shown_file(h.zip_faces), [faces, trunc], f_zip,
                       **private, **api)
        p_zip_go.click(shown_file(h.zip_path), interp_in, p_zip, **private, **api)
        v_zip_go.click(shown_file(h.zip_variations), v_in, v_zip, **private, **api)

        # Colourise: an upload is checked first; one that is not a usable picture is taken off the page again (no
        # broken image, no error badge on the results), with the reason in a message
        colorize = dict(fn=col.colorize, inputs=picture, outputs=col_img, **api)
        c_go.click(api_name="colorize", **colorize)
        show_gray = dict(fn=col.gray, inputs=picture, outputs=gray_img, **private, preprocess=False)
        accept = dict(fn=col.check, inputs=picture, outputs=None, preprocess=False, **quick)
        picture.upload(**accept).success(**show_gray).success(**private, **colorize)
        picture.upload(**accept).failure(lambda: (None, None, None), None, [picture, gray_img, col_img], **quick)
        picture.clear(lambda: (None, None), outputs=[gray_img, col_img], **private)

        # Your face: an upload is checked as Colourise checks it, then projected (/project) and its square shown
        project = dict(fn=yf.project, inputs=[y_pic, y_refine], outputs=[y_face, y_code, y_close], **api)
        show_seen = dict(fn=yf.seen, inputs=y_pic, outputs=y_seen, preprocess=False, **private)
        y_accept = dict(fn=yf.check, inputs=y_pic, outputs=None, preprocess=False, **quick)
        y_pic.upload(**y_accept).success(api_name="project", **project).success(**show_seen)
        y_pic.upload(**y_accept).failure(lambda: (None, None, None, "", None), None,
                                         [y_pic, y_seen, y_face, y_code, y_close], **quick)
        y_pic.clear(lambda: (None, None, "", None), outputs=[y_seen, y_face, y_code, y_close], **private)
        y_refine.change(lambda img, r: yf.project(img, r) if img else (gr.skip(),) * 3, [y_pic, y_refine],
                        [y_face, y_code, y_close], **private, **api)

        def send(face: Any):
            """A generated face (its file) becomes the picture, and the Colourise tab opens."""
            if not (face.get("path") if isinstance(face, dict) else face):
                raise gr.Error("no face to send yet", duration=MESSAGE_SECONDS, print_exception=False)
            return preview(face), gr.Tabs(selected="colorize_tab")

        for button, face in ((m_send, morph_img), (d_send, d_img)):
            button.click(send, face, [picture, tabs], preprocess=False, **private).success(
                **show_gray).success(**private, **colorize)
        # private listeners that reuse an endpoint's function come after every public one: Gradio names events by
        # function, and an earlier private "morph" would push the public one to "/morph_1"
        faces.select(pick, [target, seed_a, seed_b, faces], [seed_a, seed_b, target, faces, v_seed, d_seed, picked],
                     preprocess=False, postprocess=False, show_progress="hidden", **private,
                     ).then(**ends).then(**private, **morph).then(**private, **directions).then(**private, **variations)


        def use(code: Any) -> str:
            if not code:
                raise gr.Error("no face yet: upload a picture first", duration=MESSAGE_SECONDS, print_exception=False)
            return code

        # the projected face as A or B of Morph, the face of Edit or of Variations: its code goes in the face's box
        for button, box, after in ((y_as_a, seed_a, "B"), (y_as_b, seed_b, "A")):
            button.click(lambda c, nxt=after: (use(c), nxt, gr.Tabs(selected="morph_tab")), y_code,
                         [box, target, tabs], **private).success(**ends).then(**private, **morph).then(**marked)
        y_edit.click(lambda c: (use(c), gr.Tabs(selected="directions_tab")), y_code, [d_seed, tabs],
                     **private).success(**private, **directions)
        y_vary.click(lambda c: (use(c), gr.Tabs(selected="variations_tab")), y_code, [v_seed, tabs],
                     **private).success(**private, **variations)

        # a variation or a path frame picked as A or B (by "Next click picks"): it becomes a face code
        def as_pick(which: str, a: Any, b: Any, code_of: Any, index: Any) -> tuple:
            try:
                code = code_of(index)
            except ValueError:
                return (gr.skip(),) * 4
            a, b = (code, b) if which == "A" else (a, code)
            return a, b, "B" if which == "A" else "A", texts.picked(a, b)

        def pick_variation(which: str, a: Any, b: Any, face: Any, strength: Any, n: Any, vseed: Any,
                           evt: gr.SelectData):
            return as_pick(which, a, b, lambda i: h.variation_code(face, strength, n, vseed, i), evt.index)

        def pick_frame(which: str, a: Any, b: Any, frames_: Any, method_: Any, evt: gr.SelectData):
            return as_pick(which, a, b, lambda i: h.frame_code(a, b, frames_, method_, i), evt.index)

        for gallery, fn, inputs in ((v_gallery, pick_variation, [v_seed, v_strength, v_count, v_vseed]),
                                    (path_gallery, pick_frame, [frames, method])):
            gallery.select(fn, [target, seed_a, seed_b, *inputs], [seed_a, seed_b, target, picked],
                           show_progress="hidden", **private).then(**ends).then(**private, **morph).then(**marked)

        trunc_srv.click(**check_gen).success(**private, **gen).then(**marked).then(**ends).then(
            **private, **synced, **morph).then(**private, **synced, **directions)
        keys = [*links.KEYS, *(f"d{i + 1}" for i in range(NUM_DIRECTIONS)), *(f"n{i + 1}" for i in range(NUM_NAMED))]
        named_limits = [float(sl.maximum) for sl in named]

        def restore(request: gr.Request):
            """A link's query string (demo.links) → the controls; unusable values are named in a notice."""
            values, notes = links.restore(dict(request.query_params) if request else {}, limits, engine.info.nz,
                                          named_limits[:len(nmeta)])
            if notes:
                # escaped: Gradio renders a notice's text as (sanitised) HTML, and a link's keys are anyone's text
                gr.Warning(html.escape("This link: " + "; ".join(notes)), duration=MESSAGE_SECONDS * 2)
            return ([values[k] if k in values else gr.skip() for k in keys]
                    + [gr.Tabs(selected=values["tab"]) if "tab" in values else gr.skip()])

        demo.load(None, None, None, js=live.config_js(engine), **private)
        demo.load(restore, None, [*state, *sliders, *named, tabs], show_progress="hidden", **private).then(
            **private, **gen).then(**marked).then(**ends).then(**private, **morph).then(
            **private, **directions).then(**private, **variations)
    demo.queue(max_size=queue_size, default_concurrency_limit=concurrency)
    app.append(demo)
    return demo
