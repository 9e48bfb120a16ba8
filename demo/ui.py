"""The Gradio Blocks UI: layout and events. What each endpoint computes is in demo.handlers; the files it
answers with in demo.files.

Every event that runs the model shares one concurrency group ("model"), so at most `concurrency` of them
compute at once across all endpoints, and `queue_size` more wait; past that a request is refused with
"queue is full".
"""
from __future__ import annotations

import atexit
import html
import os
from typing import Any

import gradio as gr

from demo import links, live, params
from demo.colorizer import MAX_SIDE, ColorizerEngine
from demo.engine import Engine
from demo.files import request_path
from demo.handlers import DIRECTION_RANGE, MESSAGE_SECONDS, NUM_DIRECTIONS, Colorize, Handlers, friendly
from demo.records import SESSION_CAPACITY, forget_finished_calls_from_worker

QUEUE_SIZE = 64
CONCURRENCY = 2  # = cores here; onnxruntime already uses every core for one batch
MODEL_GROUP = "model"  # the one concurrency_id of every event that runs the model

COLORIZE_HELP = ("A second model, a conditional GAN (pix2pix: U-Net + patch discriminator), colours a face from its "
                 "lightness alone. Upload a grayscale manga face or any picture (a colour one is made gray first), "
                 f"paste one, or send a face from Morph or Directions. Pictures up to {MAX_SIDE} px a side keep "
                 "their size: the colours are predicted at 64 px and laid on the picture's own lightness, so lines "
                 "stay sharp.")
COLORIZE_MISSING = ("**No colouriser model is installed** (exported/colorizer.onnx). Train one with "
                    "`python -m trainer.colorize`, export it with `python -m trainer.export`, and start the app with "
                    "`--colorizer path/to/colorizer.onnx`.")
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
/* the output galleries are read-only: while empty they say what will appear there (no upload box) */
.autoheight .empty {flex-direction: column; gap: 8px}
.autoheight .empty::after {color: var(--body-text-color-subdued); font-size: 15px}
#gallery .empty::after {content: "Drawing faces…"}
#path .empty::after {content: "Press “Render path + GIF” to see every frame here"}
#variations .empty::after {content: "Press “Vary” to see variations of the face"}
.bigface img {width: 100% !important; height: 100% !important; object-fit: contain}
.thumb img {object-fit: contain}
/* hints under labels: the body text colour at 13 px (Gradio's own light grey is 1.9:1 on white; WCAG AA asks 4.5:1) */
.gradio-container .info-text {color: var(--body-text-color) !important; font-size: 13px !important}
/* phones: 4 faces a row, so faces and captions stay readable; tabs narrow enough that all four stay in view */
@media (max-width: 640px) {
  #gallery, #path, #variations {--cols: 4 !important}
  .tab-container button {padding-left: 3px !important; padding-right: 3px !important; font-size: 13px !important}
  #ends .bigface {height: 120px !important}
  /* the edited face stays in view: its sliders scroll in their own box below it */
  #edit {height: 280px !important}
  #dir_sliders {max-height: calc(100vh - 420px); overflow-y: auto; flex-wrap: nowrap}
  #picture, #gray, #colorized {height: 240px !important}
}
"""
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
LINK_JS = """(seed, count, trunc, a, b, t, method, dseed, ...d) => {
  const q = new URLSearchParams({seed, count, trunc, a, b, t, method, dseed});
  d.forEach((v, i) => { if (Number(v) !== 0) q.set('d' + (i + 1), v); });
  const tab = document.querySelector("#tabs button[role='tab'][aria-selected='true']");
  const name = tab ? tab.textContent.trim().toLowerCase() : '';
  if (name && name !== 'generate') q.set('tab', name);
  const href = location.origin + location.pathname + '?' + q.toString();
  history.replaceState(null, '', href);
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(href).catch(() => {});
  return [href];
}"""


@friendly
def own_face(value: Any) -> str:
    """The path of a face this app made, as a file value sent back by the browser; any other path is refused."""
    return str(request_path(value, uploads=False))


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
    """The gallery's wire form with each caption reset to its seed and "· A" / "· B" added to the picked faces.
    The items come back from the browser, so each must be a face this app made (else a gr.Error)."""
    out = []
    for item in items or []:
        own_face(item.get("image") if isinstance(item, dict) else None)
        s = seed_of(item.get("caption"))
        marks = [m for m, picked in (("A", a), ("B", b)) if s is not None and s == picked]
        out.append({**item, "caption": " · ".join([str(s) if s is not None else str(item.get("caption") or "")] + marks)})
    return out


LAUNCH_KWARGS = dict(css=CSS, show_error=True, state_session_capacity=SESSION_CAPACITY, max_file_size="50mb",
                     head=live.head())


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


def build(engine: Engine, colorizer: ColorizerEngine | None = None, queue_size: int = QUEUE_SIZE,
          concurrency: int = CONCURRENCY) -> gr.Blocks:
    """The whole app. Work is bounded: at most `concurrency` model requests compute at once, whichever endpoints
    they call (each capped at 64 faces/frames, or one picture of at most MAX_SIDE px a side), and `queue_size`
    wait. Without a colouriser the Colourise tab says so and /colorize answers with that message."""
    app: list[gr.Blocks] = []  # the Blocks, once built: its finished-call records are pruned with the files
    h = Handlers(engine, on_prune=lambda: app and forget_finished_calls_from_worker(app[0]))
    atexit.register(h.close)
    atexit.register(engine.close)
    col = Colorize(colorizer, h.out)
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
        gr.Markdown("# Anime Face Generator\nA DCGAN trained on 18k anime faces, running through ONNX Runtime — Morph and "
                    "Directions redraw in your browser — and a second GAN that colours gray faces.", elem_id="title")
        gr.Markdown(HOW_TO)
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab("Generate", id="generate"):
                with gr.Row(equal_height=True):
                    seed = gr.Number(value=42, label="Seed", minimum=None, maximum=None, scale=2, elem_id="seed",
                                     info="press Enter to generate")
                    dice = gr.Button("🎲 Random", scale=0, min_width=110, elem_id="dice")
                    count = gr.Slider(1, params.MAX_COUNT, value=16, step=1, label="Count", scale=3)
                    trunc = gr.Slider(*params.TRUNCATION, value=1.0, step=0.05, label="Truncation",
                                      info="< 1: safer, more average faces; > 1: wilder", scale=3, elem_id="trunc")
                    go = gr.Button("Generate", variant="primary", scale=1, elem_id="generate")
                    trunc_srv = gr.Button("faces at this truncation (server)", visible="hidden", elem_id="trunc_srv")
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
                                   buttons=GALLERY_BUTTONS, allow_preview=False, interactive=False)
                examples = gr.Examples([[42, 16, 1.0], [2026, 32, 0.7], [7, 64, 1.0]], inputs=[seed, count, trunc],
                                       api_visibility="private", label="Examples",
                                       example_labels=["seed 42 · 16 faces", "seed 2026 · 32, truncation 0.7",
                                                       "seed 7 · 64 faces"])
            with gr.Tab("Morph", id="morph_tab") as morph_tab:
                with gr.Row(equal_height=True):
                    seed_a = gr.Number(value=42, label="Seed A", elem_id="seed_a", info="Enter or leave the box to apply")
                    seed_b = gr.Number(value=1234, label="Seed B", elem_id="seed_b", info="Enter or leave the box to apply")
                    method = gr.Radio(["slerp", "lerp"], value="slerp", label="Path", elem_id="method",
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
                    m_send = gr.Button("🎨 Colourise the in-between face", elem_id="m_send", scale=1)
                    morph_srv = gr.Button("in-between face (server)", visible="hidden", elem_id="morph_srv")
                path_gallery = gr.Gallery(label="Path", columns=8, elem_id="path", elem_classes="autoheight",
                                          allow_preview=False, buttons=GALLERY_BUTTONS, interactive=False)
                with gr.Row():
                    anim_file = gr.File(label="Animated GIF (loops A → B → A): download", elem_id="gif", interactive=False)
                    anim_view = gr.Image(label="Preview", height=200, interactive=False, elem_classes="bigface",
                                         buttons=IMAGE_BUTTONS)
            with gr.Tab("Variations", id="variations_tab"):
                with gr.Row(equal_height=True):
                    v_seed = gr.Number(value=42, label="Seed", elem_id="v_seed", info="follows the last picked face")
                    v_strength = gr.Slider(0.05, 1.0, value=0.35, step=0.05, label="Strength")
                    v_count = gr.Slider(1, params.MAX_VARIATIONS, value=11, step=1, label="Count")
                    v_vseed = gr.Number(value=0, label="Variation seed")
                    v_go = gr.Button("Vary", variant="primary", elem_id="vary")
                v_gallery = gr.Gallery(label="Original first, then variations", columns=6, buttons=GALLERY_BUTTONS,
                                       elem_classes="autoheight", allow_preview=False, elem_id="variations", interactive=False)
            with gr.Tab("Directions", id="directions_tab") as dir_tab:
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
                        d_send = gr.Button("🎨 Colourise this face", size="sm", elem_id="d_send")
                        dir_srv = gr.Button("edited face (server)", visible="hidden", elem_id="dir_srv")
            with gr.Tab("Colourise", id="colorize_tab"):
                gr.Markdown(COLORIZE_HELP if colorizer is not None else COLORIZE_MISSING, elem_id="colorize_help")
                with gr.Row(equal_height=True):
                    picture = gr.Image(label="Picture (any size; colour or gray)", type="filepath", height=320,
                                       sources=["upload", "clipboard"], elem_id="picture", elem_classes="bigface")
                    gray_img = gr.Image(label="Gray (what the colouriser sees)", height=320, interactive=False,
                                        buttons=IMAGE_BUTTONS, elem_id="gray", elem_classes="bigface")
                    col_img = gr.Image(label="Colourised (PNG, the picture's size)", height=320, interactive=False,
                                       buttons=IMAGE_BUTTONS, elem_id="colorized", elem_classes="bigface")
                c_go = gr.Button("Colourise", variant="primary", elem_id="colorize", interactive=colorizer is not None)
        with gr.Row(equal_height=True):
            copy_link = gr.Button("🔗 Copy link", size="sm", scale=0, min_width=120, elem_id="copy_link")
            link_box = gr.Textbox(show_label=False, placeholder="a link that opens this page as it is now",
                                  interactive=False, scale=5, elem_id="link", container=False)
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
        # The live controls are drawn in the browser while they move (no request); once a control settles (the pointer
        # lets go, or a key or typed value has stopped changing it) live.js clicks its hidden server button, so the
        # server's copy (the download) is the face on screen. Those server steps show no progress overlay: the face on
        # screen is already right.
        synced = dict(show_progress="hidden")
        morph_srv.click(api_name="morph", **synced, **morph)  # the API endpoint, and the controls' server path
        live_morph = dict(fn=None, inputs=morph_in, outputs=None, js=MORPH_JS, api_visibility="private")
        t.change(**live_morph)
        method.change(**live_morph)
        for box in (seed_a, seed_b):
            for event in (box.submit, box.blur):
                event(**check_morph).success(**ends).then(api_visibility="private", **morph)
        render.click(**check_morph).success(h.interpolate, [seed_a, seed_b, frames, method, trunc],
                                            [path_gallery, anim_file], api_name="interpolate", **to_gallery
                                            ).then(own_face, anim_file, anim_view, api_visibility="private",
                                                   preprocess=False)

        v_go.click(fn=check(h.parse_variations), inputs=[v_seed, v_strength, v_count, v_vseed, trunc], outputs=None,
                   **quick).success(api_name="variations", **variations)
        check_d = dict(fn=check(lambda s, *rest: h.parse_directions(s, *rest[:-1], truncation=rest[-1])),
                       inputs=d_in, outputs=None, **quick)
        d_seed.submit(**check_d).success(api_name="directions", **directions)
        d_seed.blur(**check_d).success(api_visibility="private", **directions)
        dir_srv.click(api_visibility="private", **synced, **directions)
        for c in sliders:
            c.change(None, d_in, None, js=DIRECTIONS_JS, api_visibility="private")
        trunc.change(None, [seed_a, seed_b, t, method, d_seed, *sliders, trunc], None, js=TRUNCATION_JS,
                     api_visibility="private")
        for tab in (morph_tab, dir_tab):  # the runtime is fetched when a live tab first opens, not on first paint
            tab.select(None, None, None, js=LOAD_LIVE_JS, api_visibility="private")
        copy_link.click(None, [seed, count, trunc, seed_a, seed_b, t, method, d_seed, *sliders], link_box, js=LINK_JS,
                        api_visibility="private")
        d_reset.click(lambda: [0.0] * len(sliders), outputs=sliders, api_visibility="private")
        colorize = dict(fn=col.colorize, inputs=picture, outputs=col_img, **api)
        c_go.click(api_name="colorize", **colorize)
        show_gray = dict(fn=col.gray, inputs=picture, outputs=gray_img, api_visibility="private", preprocess=False)
        picture.upload(**show_gray).success(api_visibility="private", **colorize)
        picture.clear(lambda: (None, None), outputs=[gray_img, col_img], api_visibility="private")

        def send(face: Any):
            """A generated face (its file) becomes the picture, and the Colourise tab opens."""
            if not (face.get("path") if isinstance(face, dict) else face):
                raise gr.Error("no face to send yet", duration=MESSAGE_SECONDS, print_exception=False)
            return own_face(face), gr.Tabs(selected="colorize_tab")

        for button, face in ((m_send, morph_img), (d_send, d_img)):
            button.click(send, face, [picture, tabs], api_visibility="private", preprocess=False).success(
                **show_gray).success(api_visibility="private", **colorize)
        # private listeners that reuse an endpoint's function come after every public one: Gradio names events by
        # function, and an earlier private "morph" would push the public one to "/morph_1"
        faces.select(pick, [target, seed_a, seed_b, faces], [seed_a, seed_b, target, faces, v_seed, d_seed, picked],
                     api_visibility="private", preprocess=False, postprocess=False, show_progress="hidden",
                     ).then(**ends).then(api_visibility="private", **morph).then(
                     api_visibility="private", **directions).then(api_visibility="private", **variations)

        trunc_srv.click(**check_gen).success(api_visibility="private", **gen).then(**ends).then(
            api_visibility="private", **synced, **morph).then(api_visibility="private", **synced, **directions)
        restored = [seed, count, trunc, seed_a, seed_b, t, method, d_seed, *sliders, tabs]
        keys = ["seed", "count", "trunc", "a", "b", "t", "method", "dseed", *(f"d{i + 1}" for i in range(NUM_DIRECTIONS))]

        def restore(request: gr.Request):
            """A link's query string (demo.links) → the controls; unusable values are named in a notice."""
            values, notes = links.restore(dict(request.query_params) if request else {}, limits)
            if notes:
                # escaped: Gradio renders a notice's text as (sanitised) HTML, and a link's keys are anyone's text
                gr.Warning(html.escape("This link: " + "; ".join(notes)), duration=MESSAGE_SECONDS * 2)
            return ([values[k] if k in values else gr.skip() for k in keys]
                    + [gr.Tabs(selected=values["tab"]) if "tab" in values else gr.skip()])

        demo.load(None, None, None, js=live.config_js(engine), api_visibility="private")
        demo.load(restore, None, restored, api_visibility="private", show_progress="hidden").then(
            api_visibility="private", **gen).then(**ends).then(api_visibility="private", **morph).then(
            api_visibility="private", **directions)
    demo.queue(max_size=queue_size, default_concurrency_limit=concurrency)
    app.append(demo)
    return demo
