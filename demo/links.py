"""Shareable links: the page's query string ↔ everything on screen.

    ?seed=42&count=16&trunc=0.7&a=45&b=51&next=A&t=0.3&method=lerp&frames=16&gif=256
     &v=51&strength=0.35&vcount=11&vseed=0&dseed=51&d1=1.5&n2=-1&tab=morph

A face (a, b, v, dseed) may also be a face code ("z.…", a projected picture's face: demo.latents.encode_z).

The browser writes these (the "Copy link" button); `restore` reads them back when a page opens, and the page then
redraws every face from them (gallery with its A/B badges, picks, Morph, Variations, Edit). A value that cannot be
used is clamped into range or ignored, and each is named in a note the visitor sees: a link never leads to an
error page.
"""
from __future__ import annotations

import math
from typing import Mapping

from demo import params
from demo.handlers import GIF_SIZES
from demo.latents import NZ, SeedError, decode_z, encode_z, is_code

TABS = {"generate": "generate", "morph": "morph_tab", "variations": "variations_tab", "edit": "directions_tab",
        "directions": "directions_tab", "your face": "yourface_tab", "yourface": "yourface_tab",
        "colourise": "colorize_tab", "colorize": "colorize_tab"}
SEEDS = ("seed", "a", "b", "v", "vseed", "dseed")
FACES = ("a", "b", "v", "dseed")  # these also take a face code (a projected picture's face, demo.latents.encode_z)
# the keys, in the order "Copy link" writes them (d1 … d8 follow)
KEYS = ("seed", "count", "trunc", "a", "b", "next", "t", "method", "frames", "gif", "v", "strength", "vcount",
        "vseed", "dseed")
MAX_LEN = 64  # longer values are ignored unread (a face code: CODE_MAX_LEN)
CODE_MAX_LEN = 400


def _clamped(raw: str, name: str, lo: float, hi: float, whole: bool, notes: list[str]) -> float | None:
    try:
        x = float(raw)
    except ValueError:
        notes.append(f"{name}={raw[:20]!r} ignored (not a number)")
        return None
    if not math.isfinite(x):
        notes.append(f"{name}={raw[:20]!r} ignored (not a finite number)")
        return None
    if whole and x != int(x):
        notes.append(f"{name}={raw[:20]} rounded to {round(x)}")
        x = float(round(x))
    if not lo <= x <= hi:
        y = min(max(x, lo), hi)
        notes.append(f"{name}={raw[:20]} clamped to {int(y) if whole else round(y, 4):g}")
        x = y
    return int(x) if whole else x


def restore(query: Mapping[str, str], direction_limits: list[float], nz: int = NZ,
            named_limits: list[float] = ()) -> tuple[dict[str, object], list[str]]:
    """Query parameters → {name: value} for the ones given and usable, plus notes on the ones that were not."""
    values: dict[str, object] = {}
    notes: list[str] = []
    known = {*KEYS, "tab", *(f"d{i + 1}" for i in range(len(direction_limits))),
             *(f"n{i + 1}" for i in range(len(named_limits)))}
    for key in sorted(set(query) - known):
        notes.append(f"{key[:20]!r} is not a setting here (ignored)")
    for key in sorted(set(query) & known):
        raw = str(query[key])
        if len(raw) > (CODE_MAX_LEN if key in FACES and is_code(raw) else MAX_LEN):
            notes.append(f"{key} ignored (too long)")
            continue
        if key in FACES and is_code(raw):
            try:
                v = encode_z(decode_z(raw, nz))  # as the app writes it
            except SeedError as e:
                notes.append(f"{key} ignored ({e})")
                v = None
        elif key in SEEDS:
            v = _clamped(raw, key, 0, 2**32 - 1, True, notes)
        elif key == "count":
            v = _clamped(raw, key, 1, params.MAX_COUNT, True, notes)
        elif key == "vcount":
            v = _clamped(raw, key, 1, params.MAX_VARIATIONS, True, notes)
        elif key == "frames":
            v = _clamped(raw, key, 2, params.MAX_FRAMES, True, notes)
        elif key == "trunc":
            v = _clamped(raw, key, *params.TRUNCATION, False, notes)
        elif key == "strength":
            v = _clamped(raw, key, *params.STRENGTH, False, notes)
        elif key == "t":
            v = _clamped(raw, key, 0.0, 1.0, False, notes)
        elif key in ("method", "next", "gif"):
            allowed = {"method": ("slerp", "lerp"), "next": ("A", "B"), "gif": tuple(map(str, GIF_SIZES))}[key]
            v = raw if raw in allowed else None
            if v is None:
                notes.append(f"{key}={raw[:20]!r} ignored ({' or '.join(allowed)})")
            elif key == "gif":
                v = int(raw)
        elif key == "tab":
            v = TABS.get(raw.lower())
            if v is None:
                notes.append(f"tab={raw[:20]!r} ignored (one of {', '.join(sorted(set(TABS) - {'colorize', 'directions'}))})")
        else:  # d1 … d8, n1 … n6: each direction's slider range
            lim = (direction_limits if key[0] == "d" else named_limits)[int(key[1:]) - 1]
            v = _clamped(raw, key, -lim, lim, False, notes)
        if v is not None:
            values[key] = v
    return values, notes
