"""The Gradio app: the page (demo.layout), its events (demo.events) and the housekeeping around them.

What each endpoint computes is in demo.handlers, the files it answers with in demo.files, the picks' badges in
demo.picks, the words in demo.texts, the styling in demo/web/app.css and the browser side in demo/web (live.js: the
live sliders; page.js: labels, pick outlines, "copied").

Every event that runs the model shares one concurrency group ("model"), so at most `concurrency` of them
compute at once across all endpoints, and `queue_size` more wait; past that a request is refused with
"queue is full".
"""
from __future__ import annotations

import atexit
from pathlib import Path

import gradio as gr

from demo import live
from demo.colorizer import ColorizerEngine
from demo.engine import Engine
from demo.events import wire
from demo.handlers import Colorize, Handlers
from demo.layout import layout
from demo.projection import Projector
from demo.records import SESSION_CAPACITY, forget_finished_calls_from_worker
from demo.yourface import YourFace

QUEUE_SIZE = 64
CONCURRENCY = 2  # = cores here; onnxruntime already uses every core for one batch

CSS = (Path(__file__).resolve().parent / "web" / "app.css").read_text()
LAUNCH_KWARGS = dict(css=CSS, show_error=True, state_session_capacity=SESSION_CAPACITY, max_file_size="50mb",
                     head=live.head())


def build(engine: Engine, colorizer: ColorizerEngine | None = None, queue_size: int = QUEUE_SIZE,
          concurrency: int = CONCURRENCY, projector: Projector | None = None, no_projector: str = "") -> gr.Blocks:
    """The whole app. Work is bounded: at most `concurrency` model requests compute at once, whichever endpoints
    they call (each capped at 64 faces/frames, or one picture of at most MAX_SIDE px a side), and `queue_size`
    wait. Without a colouriser the Colourise tab says so and /colorize answers with that message; without an
    encoder, Your face (no_projector: why)."""
    app: list[gr.Blocks] = []  # the Blocks, once built: its finished-call records are pruned with the files
    h = Handlers(engine, on_prune=lambda: app and forget_finished_calls_from_worker(app[0]))
    atexit.register(h.close)
    atexit.register(engine.close)
    with gr.Blocks(title="Anime Face Generator", delete_cache=(1800, 3600)) as demo:
        page = layout(engine, colorizer, projector, no_projector)
        wire(demo, page, h, Colorize(colorizer, h.out), YourFace(projector, h.out, no_projector), engine, concurrency)
    demo.queue(max_size=queue_size, default_concurrency_limit=concurrency)
    app.append(demo)
    return demo
