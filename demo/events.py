"""What happens when: every Gradio event of the page, one function a tab (the components are in demo.layout, what
each endpoint computes in demo.handlers).

The UI checks typed values first (a message, nothing else changes: the last good faces stay on screen), then runs
the public endpoint; API clients call the endpoints directly and get the same messages as errors.
Order matters: Gradio names events by function, so every public endpoint is wired before any private listener that
reuses its function (an earlier private "morph" would push the public one to "/morph_1").
"""
from __future__ import annotations

import html
import json
from types import SimpleNamespace
from typing import Any

import gradio as gr

from demo import links, live, params, texts
from demo.engine import Engine
from demo.handlers import MESSAGE_SECONDS, NUM_DIRECTIONS, NUM_NAMED, Colorize, Handlers, friendly
from demo.layout import Page
from demo.picks import badge, own_face, seed_of
from demo.yourface import YourFace

MODEL_GROUP = "model"  # the one concurrency_id of every event that runs the model
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

QUICK = dict(show_progress="hidden", api_visibility="private")  # queued: only queued events show their errors
PRIVATE = dict(api_visibility="private")
SYNCED = dict(show_progress="hidden")  # a live control's server copy: the face on screen is already right


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


def wire(demo: gr.Blocks, p: Page, h: Handlers, col: Colorize, yf: YourFace, engine: Engine,
         concurrency: int) -> None:
    """Every event of the page. Each one that runs the model is in the one concurrency group."""
    api = dict(preprocess=False, concurrency_limit=concurrency, concurrency_id=MODEL_GROUP)
    s = _steps(p, h, col, api)
    _generate(p, s)
    _morph(p, h, s)
    _variations(p, h, s)
    _edit(p, h, s)
    _variety(p, s)
    _downloads(p, h, s)
    _colourise(p, col, s)
    _your_face(p, yf, s)
    _picks(p, h, s)
    _links(demo, p, engine, s)


def _steps(p: Page, h: Handlers, col: Colorize, api: dict) -> SimpleNamespace:
    """The steps that several tabs chain (after a pick, every tab's face follows), as keyword sets."""
    s = SimpleNamespace(api=api, to_gallery=dict(api, postprocess=False))  # those handlers return the wire form
    s.morph_in = [p.seed_a, p.seed_b, p.t, p.method, p.trunc]
    s.d_in = [p.d_seed, *p.sliders, p.trunc, *p.named]  # /directions' order: seed, 8 amounts, truncation, 6 named
    s.v_in = [p.v_seed, p.v_strength, p.v_count, p.v_vseed, p.trunc]
    s.interp_in = [p.seed_a, p.seed_b, p.frames, p.method, p.trunc]
    s.gen = dict(fn=h.generate, inputs=[p.seed, p.count, p.trunc], outputs=p.faces, **s.to_gallery)
    s.check_gen = dict(fn=check(h.parse_generate), inputs=[p.seed, p.count, p.trunc], outputs=None, **QUICK)
    # the page's own redraws generate and badge in one step: a later "marked" step would overwrite a pick made
    # between the two (the first click after the page opened could lose its badge)
    s.shown = dict(fn=lambda seed, n, psi, a, b: mark(h.generate(seed, n, psi), a, b),
                   inputs=[p.seed, p.count, p.trunc, p.seed_a, p.seed_b], outputs=[p.faces, p.picked],
                   trigger_mode="always_last", **PRIVATE, **s.to_gallery)
    s.marked = dict(fn=mark, inputs=[p.faces, p.seed_a, p.seed_b], outputs=[p.faces, p.picked], preprocess=False,
                    postprocess=False, show_progress="hidden", trigger_mode="always_last", **PRIVATE)
    s.ends = dict(fn=lambda a, b, psi: h.ends(a, b, psi) * 2, inputs=[p.seed_a, p.seed_b, p.trunc],
                  outputs=[p.thumb_a, p.thumb_b, p.end_a, p.end_b], trigger_mode="always_last", **PRIVATE, **api)
    s.morph = dict(fn=h.morph, inputs=s.morph_in, outputs=p.morph_img, trigger_mode="always_last", **api)
    s.directions = dict(fn=h.directions, inputs=s.d_in, outputs=p.d_img, trigger_mode="always_last", **api)
    # always_last: a second pick while the first one's faces are drawn must not be dropped (the default, "once")
    s.variations = dict(fn=h.variations, inputs=s.v_in, outputs=p.v_gallery, trigger_mode="always_last",
                        **s.to_gallery)
    s.colorize = dict(fn=col.colorize, inputs=p.picture, outputs=p.col_img, **api)
    s.show_gray = dict(fn=col.gray, inputs=p.picture, outputs=p.gray_img, **PRIVATE, preprocess=False)
    return s


def _generate(p: Page, s: SimpleNamespace) -> None:
    p.go.click(**s.check_gen).success(api_name="generate", **s.gen).then(**s.marked)
    p.seed.submit(**s.check_gen).success(**s.shown)
    p.dice.click(None, None, p.seed, js=RANDOM_SEED_JS, **PRIVATE).then(**s.shown)
    p.examples.load_input_event.then(**s.shown)  # fill the inputs, then generate


def _morph(p: Page, h: Handlers, s: SimpleNamespace) -> None:
    """The live controls are drawn in the browser while they move (no request); once a control settles (the pointer
    lets go, or a key or typed value has stopped changing it) live.js clicks its hidden server button, so the
    server's copy (the download) is the face on screen."""
    check_morph = dict(fn=check(h.parse_morph), inputs=s.morph_in, outputs=None, **QUICK)
    p.morph_srv.click(api_name="morph", **SYNCED, **s.morph)  # the API endpoint, and the controls' server path
    live_morph = dict(fn=None, inputs=s.morph_in, outputs=None, js=MORPH_JS, **PRIVATE)
    p.t.change(**live_morph)
    p.method.change(**live_morph)
    for box in (p.seed_a, p.seed_b):
        for event in (box.submit, box.blur):
            event(**check_morph).success(**s.ends).then(**PRIVATE, **s.morph).then(**s.marked)
    # /interpolate keeps its five inputs for API clients (hidden button); the page's Render adds the GIF's size
    p.interp_srv.click(h.interpolate, s.interp_in, [p.path_gallery, p.anim_file], api_name="interpolate",
                       **s.to_gallery)
    p.render.click(**check_morph).success(lambda *v: h.interpolate(*v), [*s.interp_in, p.gif_size],
                                          [p.path_gallery, p.anim_file], **PRIVATE, **s.to_gallery
                                          ).then(preview, p.anim_file, p.anim_view, preprocess=False, **PRIVATE)
    p.morph_tab.select(None, None, None, js=LOAD_LIVE_JS, **PRIVATE)  # the runtime is fetched when a live tab opens


def _variations(p: Page, h: Handlers, s: SimpleNamespace) -> None:
    p.v_go.click(fn=check(h.parse_variations), inputs=s.v_in, outputs=None, **QUICK).success(
        api_name="variations", **s.variations)


def _edit(p: Page, h: Handlers, s: SimpleNamespace) -> None:
    check_d = dict(fn=check(lambda seed, *rest: h.parse_directions(seed, *rest[:NUM_DIRECTIONS],
                                                                   truncation=rest[NUM_DIRECTIONS],
                                                                   named=rest[NUM_DIRECTIONS + 1:])),
                   inputs=s.d_in, outputs=None, **QUICK)
    p.d_seed.submit(**check_d).success(api_name="directions", **s.directions)
    p.d_seed.blur(**check_d).success(**PRIVATE, **s.directions)
    p.dir_srv.click(**PRIVATE, **SYNCED, **s.directions)
    for c in (*p.sliders, *p.named):
        c.change(None, s.d_in, None, js=DIRECTIONS_JS, **PRIVATE)
    p.d_reset.click(lambda: [0.0] * (len(p.sliders) + len(p.named)), outputs=[*p.sliders, *p.named], **PRIVATE)
    p.dir_tab.select(None, None, None, js=LOAD_LIVE_JS, **PRIVATE)


def _variety(p: Page, s: SimpleNamespace) -> None:
    """The Variety slider moves every face on the page: drawn live, then the server's copies."""
    p.trunc.change(None, [p.seed_a, p.seed_b, p.t, p.method, *s.d_in], None, js=TRUNCATION_JS, **PRIVATE)
    p.trunc_srv.click(**s.check_gen).success(**s.shown).then(**s.ends).then(
        **PRIVATE, **SYNCED, **s.morph).then(**PRIVATE, **SYNCED, **s.directions)


def _downloads(p: Page, h: Handlers, s: SimpleNamespace) -> None:
    """"Download all": the faces on screen as lossless PNGs in a zip (the galleries show JPEGs)."""
    def shown_file(fn):
        return lambda *v: gr.File(value=fn(*v), visible=True)

    p.f_zip_go.click(shown_file(h.zip_faces), [p.faces, p.trunc], p.f_zip, **PRIVATE, **s.api)
    p.p_zip_go.click(shown_file(h.zip_path), s.interp_in, p.p_zip, **PRIVATE, **s.api)
    p.v_zip_go.click(shown_file(h.zip_variations), s.v_in, p.v_zip, **PRIVATE, **s.api)


def _colourise(p: Page, col: Colorize, s: SimpleNamespace) -> None:
    """An upload is checked first; one that is not a usable picture is taken off the page again (no broken image,
    no error badge on the results), with the reason in a message."""
    p.c_go.click(api_name="colorize", **s.colorize)
    accept = dict(fn=col.check, inputs=p.picture, outputs=None, preprocess=False, **QUICK)
    p.picture.upload(**accept).success(**s.show_gray).success(**PRIVATE, **s.colorize)
    p.picture.upload(**accept).failure(lambda: (None, None, None), None, [p.picture, p.gray_img, p.col_img], **QUICK)
    p.picture.clear(lambda: (None, None), outputs=[p.gray_img, p.col_img], **PRIVATE)

    def send(face: Any):
        """A generated face (its file) becomes the picture, and the Colourise tab opens."""
        if not (face.get("path") if isinstance(face, dict) else face):
            raise gr.Error("no face to send yet", duration=MESSAGE_SECONDS, print_exception=False)
        return preview(face), gr.Tabs(selected="colorize_tab")

    for button, face in ((p.m_send, p.morph_img), (p.d_send, p.d_img)):
        button.click(send, face, [p.picture, p.tabs], preprocess=False, **PRIVATE).success(
            **s.show_gray).success(**PRIVATE, **s.colorize)


def _your_face(p: Page, yf: YourFace, s: SimpleNamespace) -> None:
    """An upload is checked as Colourise checks it, then projected (/project) and its square shown; its code can
    become A or B of Morph, or the face of Edit or of Variations."""
    project = dict(fn=yf.project, inputs=[p.y_pic, p.y_refine], outputs=[p.y_face, p.y_code, p.y_close], **s.api)
    show_seen = dict(fn=yf.seen, inputs=p.y_pic, outputs=p.y_seen, preprocess=False, **PRIVATE)
    y_accept = dict(fn=yf.check, inputs=p.y_pic, outputs=None, preprocess=False, **QUICK)
    p.y_pic.upload(**y_accept).success(api_name="project", **project).success(**show_seen)
    p.y_pic.upload(**y_accept).failure(lambda: (None, None, None, "", None), None,
                                       [p.y_pic, p.y_seen, p.y_face, p.y_code, p.y_close], **QUICK)
    p.y_pic.clear(lambda: (None, None, "", None), outputs=[p.y_seen, p.y_face, p.y_code, p.y_close], **PRIVATE)
    p.y_refine.change(lambda img, r: yf.project(img, r) if img else (gr.skip(),) * 3, [p.y_pic, p.y_refine],
                      [p.y_face, p.y_code, p.y_close], **PRIVATE, **s.api)

    def use(code: Any) -> str:
        if not code:
            raise gr.Error("no face yet: upload a picture first", duration=MESSAGE_SECONDS, print_exception=False)
        return code

    for button, box, after in ((p.y_as_a, p.seed_a, "B"), (p.y_as_b, p.seed_b, "A")):
        button.click(lambda c, nxt=after: (use(c), nxt, gr.Tabs(selected="morph_tab")), p.y_code,
                     [box, p.target, p.tabs], **PRIVATE).success(**s.ends).then(**PRIVATE, **s.morph).then(**s.marked)
    p.y_edit.click(lambda c: (use(c), gr.Tabs(selected="directions_tab")), p.y_code, [p.d_seed, p.tabs],
                   **PRIVATE).success(**PRIVATE, **s.directions)
    p.y_vary.click(lambda c: (use(c), gr.Tabs(selected="variations_tab")), p.y_code, [p.v_seed, p.tabs],
                   **PRIVATE).success(**PRIVATE, **s.variations)


def _picks(p: Page, h: Handlers, s: SimpleNamespace) -> None:
    """A click on a face, a variation or a path frame picks it as A or B (by "Next click picks"); the steps after a
    pick are "always_last", so quick clicks draw only the last state."""
    def pick(which: str, a: Any, b: Any, items: list[dict], evt: gr.SelectData):
        """A generated face: its seed; then the other letter is next, and captions get A/B badges."""
        seed = seed_of(evt.value.get("caption") if isinstance(evt.value, dict) else None)
        if seed is None:
            return (gr.skip(),) * 7
        a, b = (seed, b) if which == "A" else (a, seed)  # the other pick stays as it is (a seed or a face code)
        return (a, b, "B" if which == "A" else "A", badge(items, as_seed(a), as_seed(b)), seed, seed,
                texts.picked(a, b))

    p.faces.select(pick, [p.target, p.seed_a, p.seed_b, p.faces],
                   [p.seed_a, p.seed_b, p.target, p.faces, p.v_seed, p.d_seed, p.picked],
                   preprocess=False, postprocess=False, show_progress="hidden", **PRIVATE,
                   ).then(**s.ends).then(**PRIVATE, **s.morph).then(**PRIVATE, **s.directions).then(
                       **PRIVATE, **s.variations)

    def as_pick(which: str, a: Any, b: Any, code_of: Any, index: Any) -> tuple:
        """A variation or a frame has no seed: it becomes a face code."""
        try:
            code = code_of(index)
        except ValueError:
            return (gr.skip(),) * 4
        a, b = (code, b) if which == "A" else (a, code)
        return a, b, "B" if which == "A" else "A", texts.picked(a, b)

    def pick_variation(which: str, a: Any, b: Any, face: Any, strength: Any, n: Any, vseed: Any,
                       evt: gr.SelectData):
        return as_pick(which, a, b, lambda i: h.variation_code(face, strength, n, vseed, i), evt.index)

    def pick_frame(which: str, a: Any, b: Any, frames: Any, method: Any, evt: gr.SelectData):
        return as_pick(which, a, b, lambda i: h.frame_code(a, b, frames, method, i), evt.index)

    for gallery, fn, inputs in ((p.v_gallery, pick_variation, [p.v_seed, p.v_strength, p.v_count, p.v_vseed]),
                                (p.path_gallery, pick_frame, [p.frames, p.method])):
        gallery.select(fn, [p.target, p.seed_a, p.seed_b, *inputs], [p.seed_a, p.seed_b, p.target, p.picked],
                       show_progress="hidden", **PRIVATE).then(**s.ends).then(**PRIVATE, **s.morph).then(**s.marked)


def _links(demo: gr.Blocks, p: Page, engine: Engine, s: SimpleNamespace) -> None:
    """"Copy link" writes the page's state as a query string; opening such a link restores it, then draws."""
    state = [p.seed, p.count, p.trunc, p.seed_a, p.seed_b, p.target, p.t, p.method, p.frames, p.gif_size, p.v_seed,
             p.v_strength, p.v_count, p.v_vseed, p.d_seed]  # in links.KEYS order
    p.copy_link.click(None, [*state, *p.sliders, *p.named], p.link_box, js=LINK_JS, **PRIVATE)
    keys = [*links.KEYS, *(f"d{i + 1}" for i in range(NUM_DIRECTIONS)), *(f"n{i + 1}" for i in range(NUM_NAMED))]

    def restore(request: gr.Request):
        """A link's query string (demo.links) → the controls; unusable values are named in a notice."""
        values, notes = links.restore(dict(request.query_params) if request else {}, p.limits, engine.info.nz,
                                      p.named_limits)
        if notes:
            # escaped: Gradio renders a notice's text as (sanitised) HTML, and a link's keys are anyone's text
            gr.Warning(html.escape("This link: " + "; ".join(notes)), duration=MESSAGE_SECONDS * 2)
        return ([values[k] if k in values else gr.skip() for k in keys]
                + [gr.Tabs(selected=values["tab"]) if "tab" in values else gr.skip()])

    demo.load(None, None, None, js=live.config_js(engine), **PRIVATE)
    demo.load(restore, None, [*state, *p.sliders, *p.named, p.tabs], show_progress="hidden", **PRIVATE).then(
        **s.shown).then(**s.ends).then(**PRIVATE, **s.morph).then(
        **PRIVATE, **s.directions).then(**PRIVATE, **s.variations)
