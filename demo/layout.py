"""The page's components, one function a tab (Gradio Blocks layout, no events: those are in demo.events).

layout() must be called inside a gr.Blocks; it returns a Page whose attributes are the components the events wire
(p.seed, p.faces, p.morph_img, …), named as their elem_id where the browser side or the tests look them up.
"""
from __future__ import annotations

import html
import os
from types import SimpleNamespace

import gradio as gr
import numpy as np

from demo import params, texts
from demo.colorizer import ColorizerEngine
from demo.engine import Engine
from demo.handlers import DIRECTION_RANGE, GIF_SIZES, NUM_DIRECTIONS, NUM_NAMED
from demo.images import data_uri
from demo.latents import face_z
from demo.projection import Projector

ON_SPACES = bool(os.environ.get("SPACE_ID"))  # Gradio's Share button only works on a Hugging Face Space
IMAGE_BUTTONS = ["download", "share"] if ON_SPACES else ["download"]
GALLERY_BUTTONS = ["download", "fullscreen", "share"] if ON_SPACES else ["download", "fullscreen"]


class Page(SimpleNamespace):
    """The components of the page, by name; also the Edit sliders' ranges (links clamp to them)."""


def face_box(value: int, label: str, elem_id: str, info: str) -> gr.Textbox:
    """A face's box: a seed, or a face code (a projected picture's face: "z.…"), so it is text, one line."""
    return gr.Textbox(value=str(value), label=label, elem_id=elem_id, info=info, lines=1, max_lines=1, min_width=100)


def direction_limits(engine: Engine) -> list[float]:
    """Each unnamed slider spans where the face stays the same character (measured at export), else the API's range."""
    dmeta = engine.info.meta.get("directions") or {}
    limits = [min(DIRECTION_RANGE, float(x)) if isinstance(x, (int, float)) and x > 0 else DIRECTION_RANGE
              for x in (dmeta.get("identity_limits") or [])]
    return limits + [DIRECTION_RANGE] * (NUM_DIRECTIONS - len(limits))


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


def layout(engine: Engine, colorizer: ColorizerEngine | None = None, projector: Projector | None = None,
           no_projector: str = "") -> Page:
    """Every tab, then the link row and the model's facts. A missing colouriser or encoder leaves its tab with
    a message (no_projector: why the encoder was not loaded) and its buttons off."""
    p = Page()
    gr.Markdown(texts.TITLE, elem_id="title")
    gr.Markdown(texts.TAGLINE, elem_id="tagline")
    with gr.Tabs(elem_id="tabs") as p.tabs:
        _generate(p)
        _morph(p)
        _variations(p)
        _edit(p, engine)
        _your_face(p, projector, no_projector)
        _colourise(p, colorizer)
    _footer(p, engine)
    return p


def _generate(p: Page) -> None:
    with gr.Tab("Generate", id="generate"):
        with gr.Row(equal_height=True, elem_id="seedrow"):
            p.seed = gr.Number(value=42, label="Seed", minimum=None, maximum=None, scale=2, elem_id="seed",
                               min_width=90)
            p.dice = gr.Button("🎲 Random", scale=1, min_width=90, elem_id="dice")
            p.go = gr.Button("Generate", variant="primary", scale=1, min_width=100, elem_id="generate")
            p.trunc_srv = gr.Button("faces at this variety (server)", visible="hidden", elem_id="trunc_srv")
        with gr.Row(elem_id="pickrow", equal_height=True):
            p.target = gr.Radio(["A", "B"], value="A", label="Next click picks", scale=1, min_width=120,
                                elem_id="target")
            p.thumb_a = gr.Image(label="A", height=96, width=96, interactive=False, buttons=[], scale=0,
                                 min_width=76, elem_id="thumb_a", elem_classes="thumb")
            p.thumb_b = gr.Image(label="B", height=96, width=96, interactive=False, buttons=[], scale=0,
                                 min_width=76, elem_id="thumb_b", elem_classes="thumb")
            p.picked = gr.Markdown(texts.picked(42, 1234), elem_id="picked")
        p.faces = gr.Gallery(label="Faces (the number is the face's seed; click one to pick it)", columns=8,
                             object_fit="contain", elem_id="gallery", elem_classes="autoheight",
                             buttons=GALLERY_BUTTONS, allow_preview=False, interactive=False)
        with gr.Row(equal_height=True):
            p.count = gr.Slider(1, params.MAX_COUNT, value=16, step=1, label="How many faces", scale=3,
                                elem_id="count")
            p.trunc = gr.Slider(*params.TRUNCATION, value=1.0, step=0.05, label="Variety",
                                info=texts.VARIETY_INFO, scale=3, elem_id="trunc")
            p.f_zip_go = gr.Button("⬇ All faces as PNG (zip)", scale=1, min_width=120, elem_id="faces_zip_go")
        p.f_zip = gr.File(label="Faces (zip of PNGs, named by seed)", interactive=False, visible=False,
                          elem_id="faces_zip")
        gr.Markdown(texts.HOW_TO, elem_id="how")
        p.examples = gr.Examples([[42, 16, 1.0], [2026, 32, 0.7], [7, 64, 1.0]], inputs=[p.seed, p.count, p.trunc],
                                 api_visibility="private", label="Examples",
                                 example_labels=["seed 42 · 16 faces", "seed 2026 · 32, variety 0.7",
                                                 "seed 7 · 64 faces"])


def _morph(p: Page) -> None:
    with gr.Tab("Morph", id="morph_tab") as p.morph_tab:
        with gr.Row(equal_height=True):
            p.seed_a = face_box(42, "Face A (seed or face code)", "seed_a", "Enter or leave the box to apply")
            p.seed_b = face_box(1234, "Face B (seed or face code)", "seed_b", "Enter or leave the box to apply")
            p.method = gr.Radio(texts.PATH_CHOICES, value="slerp", label="Path", elem_id="method")
        with gr.Row(equal_height=True, elem_id="ends"):
            # one row even on a phone (min_width 90), so the in-between face stays in view above its slider
            p.end_a = gr.Image(label="A", height=240, interactive=False, buttons=IMAGE_BUTTONS, elem_id="end_a",
                               elem_classes="bigface", min_width=90)
            p.morph_img = gr.Image(label="In-between", height=240, elem_id="morph", elem_classes="bigface",
                                   buttons=IMAGE_BUTTONS, interactive=False, min_width=90)
            p.end_b = gr.Image(label="B", height=240, interactive=False, buttons=IMAGE_BUTTONS, elem_id="end_b",
                               elem_classes="bigface", min_width=90)
        p.t = gr.Slider(0, 1, value=0.5, step=0.01, label="Blend (0 = A, 1 = B)", elem_id="t")
        with gr.Row(equal_height=True):
            p.frames = gr.Slider(2, params.MAX_FRAMES, value=16, step=1, label="Frames", scale=3,
                                 elem_id="frames")
            p.gif_size = gr.Radio(list(GIF_SIZES), value=GIF_SIZES[0], label="GIF size (px)", scale=2,
                                  elem_id="gif_size")
            p.render = gr.Button("Render frames + GIF", variant="primary", elem_id="render", scale=1)
            p.m_send = gr.Button("🎨 Colourise the in-between face", elem_id="m_send", scale=1)
            p.morph_srv = gr.Button("in-between face (server)", visible="hidden", elem_id="morph_srv")
            p.interp_srv = gr.Button("frames (server)", visible="hidden", elem_id="interp_srv")
        p.path_gallery = gr.Gallery(label="Frames", columns=8, elem_id="path", elem_classes="autoheight",
                                    allow_preview=False, buttons=GALLERY_BUTTONS, interactive=False)
        with gr.Row():
            p.anim_file = gr.File(label="Animated GIF (loops A → B → A): download", elem_id="gif",
                                  interactive=False)
            p.anim_view = gr.Image(label="Preview", height=200, interactive=False, elem_classes="bigface",
                                   buttons=IMAGE_BUTTONS, elem_id="anim")
            with gr.Column():
                p.p_zip_go = gr.Button("⬇ All frames as PNG (zip)", elem_id="path_zip_go")
                p.p_zip = gr.File(label="Frames (zip of PNGs)", interactive=False, visible=False,
                                  elem_id="path_zip")


def _variations(p: Page) -> None:
    with gr.Tab("Variations", id="variations_tab"):
        with gr.Row(equal_height=True):
            p.v_seed = face_box(42, "Face (seed or face code)", "v_seed", "follows the last picked face")
            p.v_strength = gr.Slider(*params.STRENGTH, value=0.35, step=0.05, label="How different",
                                     elem_id="v_strength")
            p.v_count = gr.Slider(1, params.MAX_VARIATIONS, value=11, step=1, label="How many",
                                  elem_id="v_count")
            p.v_vseed = gr.Number(value=0, label="Variation seed", elem_id="v_vseed",
                                  info="another number, other variations", min_width=100)
            p.v_go = gr.Button("Vary", variant="primary", elem_id="vary")
        p.v_gallery = gr.Gallery(label="The face first, then its variations", columns=6,
                                 buttons=GALLERY_BUTTONS, elem_classes="autoheight", allow_preview=False,
                                 elem_id="variations", interactive=False)
        p.v_zip_go = gr.Button("⬇ All variations as PNG (zip)", elem_id="variations_zip_go", size="sm")
        p.v_zip = gr.File(label="Variations (zip of PNGs)", interactive=False, visible=False,
                          elem_id="variations_zip")


def _edit(p: Page, engine: Engine) -> None:
    """Named sliders first (a thumbnail of their effect at each end), the SeFa ones under "More directions"."""
    useful = set(engine.info.useful_directions[:NUM_DIRECTIONS])
    shown = sorted(useful)
    nmeta = p.nmeta = engine.info.named_meta[:NUM_NAMED]
    limits = p.limits = direction_limits(engine)
    ends = named_ends(engine)
    with gr.Tab("Edit", id="directions_tab") as p.dir_tab:
        gr.Markdown(texts.EDIT_HELP if useful or nmeta else texts.EDIT_NONE)
        with gr.Row(elem_id="edit_row"):
            # the face first: on a phone it stays above the sliders that move it
            p.d_img = gr.Image(label="Edited face", height=360, interactive=False, scale=1, buttons=IMAGE_BUTTONS,
                               elem_classes="bigface", elem_id="edit")
            with gr.Column(scale=1, elem_id="dir_sliders"):
                p.d_seed = face_box(42, "Face (seed or face code)", "d_seed", "follows the last picked face")
                # always NUM_NAMED named amounts and NUM_DIRECTIONS unnamed ones, so /directions is the same
                # for every model; only those the model ships (and that visibly change a face) are shown
                p.named = []
                for i in range(NUM_NAMED):
                    m = nmeta[i] if i < len(nmeta) else None
                    with gr.Row(equal_height=True, visible=m is not None, elem_classes="named"):
                        gr.HTML(ends[i][0] if m else "", scale=0, min_width=44, elem_classes="named-end")
                        lim = named_limit(m) if m else 1.0
                        p.named.append(gr.Slider(-lim, lim, value=0, step=0.25, scale=1, elem_id=f"named{i + 1}",
                                                 label=f"{m['name']}: {m['low']} ↔ {m['high']}" if m
                                                 else f"named {i + 1}"))
                        gr.HTML(ends[i][1] if m else "", scale=0, min_width=44, elem_classes="named-end")
                with gr.Accordion("More directions (found by the network, unnamed)", open=not nmeta,
                                  visible=bool(useful), elem_id="more_dirs"):
                    p.sliders = [gr.Slider(-limits[i], limits[i], value=0, step=0.25,
                                           label=f"change {shown.index(i) + 1}" if i in useful else f"direction {i + 1}",
                                           visible=i in useful, elem_id=f"dir{i + 1}") for i in range(NUM_DIRECTIONS)]
                p.d_reset = gr.Button("Reset", visible=bool(useful or nmeta), elem_id="d_reset")
                p.d_send = gr.Button("🎨 Colourise this face", size="sm", elem_id="d_send")
                p.dir_srv = gr.Button("edited face (server)", visible="hidden", elem_id="dir_srv")
    p.named_limits = [float(sl.maximum) for sl in p.named[:len(nmeta)]]


def _your_face(p: Page, projector: Projector | None, no_projector: str) -> None:
    with gr.Tab("Your face", id="yourface_tab"):
        gr.Markdown(texts.YOUR_FACE_HELP if projector is not None else no_projector or texts.YOUR_FACE_MISSING,
                    elem_id="yourface_help")
        # one row even on a phone (min_width 90), as Morph's A · in-between · B
        with gr.Row(equal_height=True, elem_id="yourface_row"):
            p.y_pic = gr.Image(label="Your picture (its centre square is used)",
                               type="filepath", height=280, sources=["upload", "clipboard", "webcam"],
                               elem_id="y_picture", elem_classes="bigface", min_width=90)
            p.y_seen = gr.Image(label="What the model compares", height=280, interactive=False,
                                buttons=[], elem_id="y_seen", elem_classes="bigface", min_width=90)
            p.y_face = gr.Image(label="The model's closest face", height=280, interactive=False,
                                buttons=IMAGE_BUTTONS, elem_id="y_face", elem_classes="bigface", min_width=90)
        with gr.Row(equal_height=True):
            p.y_close = gr.Number(label="Closeness (%)", info="100 = the same picture, 0 = as far as two "
                                  "random faces", interactive=False, elem_id="y_close", min_width=150, scale=1)
            p.y_refine = gr.Checkbox(value=True, label="Refine (closer, ≈0.3 s more)", elem_id="y_refine",
                                     scale=1, min_width=150)
            p.y_code = gr.Textbox(label="Face code (goes wherever a seed goes)", interactive=False,
                                  lines=1, max_lines=1, buttons=["copy"], elem_id="y_code", scale=3,
                                  min_width=240)
        with gr.Row(equal_height=True):
            p.y_as_a = gr.Button("Morph it: make it A", variant="primary", elem_id="y_as_a",
                                 interactive=projector is not None)
            p.y_as_b = gr.Button("… or B", elem_id="y_as_b", interactive=projector is not None)
            p.y_edit = gr.Button("Edit it", elem_id="y_edit", interactive=projector is not None)
            p.y_vary = gr.Button("Vary it", elem_id="y_vary", interactive=projector is not None)


def _colourise(p: Page, colorizer: ColorizerEngine | None) -> None:
    with gr.Tab("Colourise", id="colorize_tab"):
        gr.Markdown(texts.COLORIZE_HELP if colorizer is not None else texts.COLORIZE_MISSING,
                    elem_id="colorize_help")
        with gr.Row(equal_height=True):
            p.picture = gr.Image(label="Picture (any size; colour or gray)", type="filepath", height=320,
                                 sources=["upload", "clipboard"], elem_id="picture", elem_classes="bigface")
            p.gray_img = gr.Image(label="Gray (what the colouriser sees)", height=320, interactive=False,
                                  buttons=IMAGE_BUTTONS, elem_id="gray", elem_classes="bigface")
            p.col_img = gr.Image(label="Colourised (PNG, the picture's size)", height=320, interactive=False,
                                 buttons=IMAGE_BUTTONS, elem_id="colorized", elem_classes="bigface")
        p.c_go = gr.Button("Colourise", variant="primary", elem_id="colorize", interactive=colorizer is not None)


def _footer(p: Page, engine: Engine) -> None:
    with gr.Row(equal_height=True):
        p.copy_link = gr.Button("🔗 Copy link", size="sm", scale=0, min_width=140, elem_id="copy_link")
        p.link_box = gr.Textbox(show_label=False, placeholder="a link that opens this page as it is now",
                                interactive=False, scale=5, elem_id="link", container=False)
    with gr.Accordion("About this model", open=False, elem_id="about"):
        gr.Markdown(texts.about(engine), elem_id="footer")
