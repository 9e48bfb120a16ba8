"""Pillow helpers: any picture to RGB, display upscaling, strips and grids, looping animations."""
from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image


def to_rgb(img: Image.Image) -> Image.Image:
    """Any mode (RGBA, LA, P, L, I;16, CMYK…) → RGB; transparency is composited on white."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, img).convert("RGB")
    if img.mode.startswith("I;16") or img.mode == "I":  # 16-bit gray: 0–65535 → 0–255 (8-bit data stored as I: as is)
        arr = np.asarray(img, dtype=np.float32)
        img = Image.fromarray(np.clip(arr / (257 if arr.max() > 255 else 1), 0, 255).round().astype(np.uint8))
    return img.convert("RGB")


def data_uri(face: np.ndarray, scale: int = 2) -> str:
    """A small face as a PNG data: URI (for a thumbnail inside HTML: no file, no request)."""
    buf = io.BytesIO()
    upscale(face, scale).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def upscale(face: np.ndarray, scale: int) -> Image.Image:
    """A [H, W, 3] uint8 face as a PIL image, enlarged with Lanczos (faces are 64 px;
    a browser's own bilinear stretch looks blurrier)."""
    img = Image.fromarray(face)
    return img if scale == 1 else img.resize((img.width * scale, img.height * scale), Image.LANCZOS)


def grid(faces: np.ndarray, columns: int, pad: int = 2, background: int = 255) -> Image.Image:
    """Faces [N, H, W, 3] laid out in rows of `columns` with a thin gap."""
    n, h, w, _ = faces.shape
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    canvas = np.full((rows * h + (rows - 1) * pad, columns * w + (columns - 1) * pad, 3), background, np.uint8)
    for i, f in enumerate(faces):
        r, c = divmod(i, columns)
        canvas[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = f
    return Image.fromarray(canvas)


def ping_pong(frames: Sequence[Image.Image]) -> list[Image.Image]:
    """A → B → A without repeating the turning frames, so the loop has no stutter."""
    frames = list(frames)
    return frames + frames[-2:0:-1]


def save_animation(frames: Sequence[Image.Image], path: str | Path, fps: float = 12.0) -> Path:
    """Write a looping animated GIF or WebP (by suffix), back and forth."""
    path = Path(path)
    seq = ping_pong(frames)
    duration = max(20, int(round(1000 / fps)))
    if path.suffix.lower() == ".webp":
        seq[0].save(path, save_all=True, append_images=seq[1:], duration=duration, loop=0, lossless=True, method=0)
    else:  # quantise each frame with the fast octree (Pillow's default median cut is ~25× slower here)
        seq = [im.quantize(256, method=Image.Quantize.FASTOCTREE) for im in seq]
        seq[0].save(path, save_all=True, append_images=seq[1:], duration=duration, loop=0, optimize=False, disposal=2)
    return path
