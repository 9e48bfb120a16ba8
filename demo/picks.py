"""Picked faces A and B: which seed a gallery caption names, and the A/B badges on the gallery's captions.

The gallery's value comes back from the browser, so every face in it must be one this app made (demo.files).
"""
from __future__ import annotations

from typing import Any

from demo import params
from demo.files import request_path


def seed_of(caption: Any) -> int | None:
    """The seed at the start of a gallery caption ("42", "42 · A"), or None."""
    try:
        return params.seed(str(caption or "").split(" ")[0])
    except ValueError:
        return None


def own_face(value: Any) -> str:
    """The path of a face this app made, as a file value sent back by the browser; any other path is refused."""
    return str(request_path(value, uploads=False))


def badge(items: list[dict], a: int | None, b: int | None) -> list[dict]:
    """The gallery's wire form with each caption reset to its seed and "· A" / "· B" added to the picked faces."""
    out = []
    for item in items or []:
        own_face(item.get("image") if isinstance(item, dict) else None)
        s = seed_of(item.get("caption"))
        marks = [m for m, picked in (("A", a), ("B", b)) if s is not None and s == picked]
        out.append({**item, "caption": " · ".join([str(s) if s is not None else str(item.get("caption") or "")] + marks)})
    return out
