"""The "Your face" tab's endpoints: a picture in (read as Colourise reads it: same checks, same messages), the
model's closest face, its face code and how close it is out (demo.projection does the work)."""
from __future__ import annotations

from typing import Any

import gradio as gr

from demo.files import PNG, Outputs
from demo.handlers import MESSAGE_SECONDS, Colorize, friendly
from demo.projection import Projection, Projector, to_square

NO_PICTURE = "no picture: upload one, paste one, or take one with the camera"


class YourFace:
    """Projection endpoints over one Projector (None: the app runs without one, and `missing` says why)."""

    def __init__(self, projector: Projector | None, out: Outputs, missing: str = ""):
        self.projector = projector
        self.out = out
        self.missing = missing

    def _projector(self) -> Projector:
        if self.projector is None:
            raise ValueError(self.missing or "this app runs without an encoder (exported/encoder.onnx)")
        return self.projector

    def _project(self, image: Any, refine: Any) -> Projection:
        projector = self._projector()
        if not (image.get("path") if isinstance(image, dict) else image):
            raise ValueError(NO_PICTURE)
        if not isinstance(refine, bool) and refine not in (0, 1, None, "true", "false"):
            raise ValueError(f"refine must be true or false, got {str(refine)[:20]!r}")
        pic = Colorize.picture(image)
        for note in pic.notes:
            gr.Warning(note, duration=MESSAGE_SECONDS)
        return projector.project(pic.rgb, refine in (True, 1, "true"))

    @friendly
    def check(self, image: Any) -> None:
        """An upload as the page sends it, refused with the reason before anything is drawn from it."""
        self._projector()
        Colorize.picture(image)

    @friendly
    def project(self, image: Any, refine: Any = False) -> tuple[str, str, float]:
        """/project: a picture → (the model's closest face as a PNG, its face code, closeness in %). The code goes
        wherever a seed goes (/morph, /interpolate, /variations, /directions, a link's a=, b=, v=, dseed=)."""
        p = self._project(image, refine)
        return self.out.faces(p.face[None], PNG)[0], p.code, p.closeness

    @friendly
    def seen(self, image: Any) -> str | None:
        """The square of the picture the model compares its face with (its centre, at the model's size)."""
        if not (image.get("path") if isinstance(image, dict) else image):
            return None
        return self.out.faces(to_square(Colorize.picture(image).rgb, self._projector().size)[None], PNG)[0]
