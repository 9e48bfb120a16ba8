"""The colouriser at run time: any picture in, the same picture coloured out, through onnxruntime.

The exported graph (trainer.export) takes RGB in [0, 1] of any size and returns RGB with the input's Lab
lightness: the colour science and the resizing live inside it. Here: reading uploads safely (bounded memory,
clear messages), the gray version people see beside the result, and running the graph.
"""
from __future__ import annotations

import io
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from demo.engine import ModelError, make_session, pick_providers, read_metadata, thread_count
from demo.images import to_rgb

# The contract shared with trainer.export (one place, recorded in the metadata)
FORMAT = "anime-face-colorizer/1"
INPUT, OUTPUT = "image", "colorized"
MAX_SIDE = 2048  # longer sides are scaled down to this before colouring (with a note)
MAX_PIXELS = 64_000_000  # pictures with more pixels are refused before decoding (a JPEG is decoded smaller instead)
MAX_BYTES = 50 * 1024 * 1024

DEFAULT_COLORIZER = Path(__file__).resolve().parent.parent / "exported" / "colorizer.onnx"
COLORIZER_ENV = "ANIME_GAN_COLORIZER"


class PictureError(ValueError):
    """An upload that is not a picture the colouriser can use (the message says why)."""


@dataclass
class Picture:
    rgb: np.ndarray  # [H, W, 3] uint8
    notes: list[str]  # what was done to it on the way (first frame of an animation, scaled down, …)


def read_picture(data: bytes | str | Path) -> Picture:
    """Decode an upload into RGB uint8, refusing what cannot be used with a message a person can act on.
    Memory stays bounded: the size is read from the header before any pixel is decoded."""
    if not isinstance(data, bytes):
        path = Path(data)
        size = path.stat().st_size if path.is_file() else -1
        if size < 0:
            raise PictureError("the file did not arrive (no such upload)")
        if size > MAX_BYTES:
            raise PictureError(f"the file is {size / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB")
        data = path.read_bytes()
    if not data:
        raise PictureError("the file is empty (0 bytes): upload a picture (PNG, JPEG, WebP, GIF, BMP, TIFF)")
    if len(data) > MAX_BYTES:
        raise PictureError(f"the file is {len(data) / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB")
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > MAX_PIXELS and img.format == "JPEG":
                img.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG decodes at 1/2…1/8 scale: never the full pixels
            if img.size[0] * img.size[1] > MAX_PIXELS:
                raise PictureError(f"the picture is {w}×{h} ({w * h / 1e6:.0f} megapixels); the limit is "
                                   f"{MAX_PIXELS / 1e6:.0f} megapixels: scale it down first")
            if getattr(img, "n_frames", 1) > 1:
                notes.append(f"an animation of {img.n_frames} frames: used its first frame")
                img.seek(0)
            img.load()
            img = to_rgb(ImageOps.exif_transpose(img))
    except PictureError:
        raise
    except UnidentifiedImageError:
        raise PictureError("not a picture this app can read: upload a PNG, JPEG, WebP, GIF, BMP or TIFF") from None
    except Image.DecompressionBombError:  # Pillow refuses to even open pictures this big
        raise PictureError(f"the picture has more than {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} megapixels; "
                           f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels: scale it down first") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise PictureError(f"the picture is damaged or cut short ({str(e)[:120] or type(e).__name__})") from None
    if max(img.size) > MAX_SIDE:
        before = img.size
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
        notes.append(f"scaled down from {before[0]}×{before[1]} to {img.size[0]}×{img.size[1]} "
                     f"(the limit is {MAX_SIDE} px a side)")
    elif (w, h) != img.size:
        notes.append(f"decoded at {img.size[0]}×{img.size[1]} (from {w}×{h})")
    if min(img.size) < 8:
        raise PictureError(f"the picture is {img.size[0]}×{img.size[1]}; it needs at least 8 px a side")
    return Picture(np.asarray(img, np.uint8), notes)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 → the same picture with its colour removed: Lab lightness kept, a = b = 0. That is sRGB gray at
    the relative luminance Y (the colouriser keeps exactly this lightness, so gray and result line up)."""
    c = rgb.astype(np.float32) / 255
    lin = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    y = lin @ np.float32([0.212671, 0.715160, 0.072169])
    g = np.where(y > 0.0031308, 1.055 * np.maximum(y, 0.0031308) ** (1 / 2.4) - 0.055, 12.92 * y)
    return np.repeat((np.clip(g, 0, 1) * 255 + 0.5).astype(np.uint8)[..., None], 3, axis=2)


def colorizer_path(cli_value: str | None = None) -> Path:
    """--colorizer beats $ANIME_GAN_COLORIZER beats exported/colorizer.onnx."""
    return Path(cli_value or os.environ.get(COLORIZER_ENV) or DEFAULT_COLORIZER).expanduser()


class ColorizerEngine:
    """The colouriser graph in onnxruntime (thread-safe: one picture at a time, each using every core)."""

    def __init__(self, path: str | Path | None = None, threads: int | None = None):
        import onnxruntime as ort

        self.path = colorizer_path(str(path) if path else None)
        self.meta = self._read_meta(self.path)
        self.image_size = int(self.meta.get("image_size", 64))
        self.threads = thread_count(threads)
        self.session = make_session(self.path, self.threads, pick_providers(ort.get_available_providers()))
        self.provider = self.session.get_providers()[0]
        if [i.name for i in self.session.get_inputs()] != [INPUT]:
            raise ModelError(f"{self.path}: not a colouriser (its input is not {INPUT!r})")
        self._lock = threading.Lock()
        probe = np.full((1, 16, 16, 3), 128, np.uint8)
        if self.colorize_batch(probe).shape != probe.shape:
            raise ModelError(f"{self.path}: does not return pictures of its input's size")

    @staticmethod
    def _read_meta(path: Path) -> dict:
        return read_metadata(path, "colouriser", f"train one with `python -m trainer.colorize`, export it, and point "
                                                 f"--colorizer / ${COLORIZER_ENV} at it", FORMAT)

    def colorize_batch(self, rgb: np.ndarray) -> np.ndarray:
        """[B, H, W, 3] uint8 → [B, H, W, 3] uint8, coloured from its lightness alone."""
        x = np.ascontiguousarray(rgb.transpose(0, 3, 1, 2), np.float32) / np.float32(255)
        with self._lock:
            y = self.session.run([OUTPUT], {INPUT: x})[0]
        return (np.clip(y, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)

    def colorize(self, rgb: np.ndarray) -> np.ndarray:
        """One picture [H, W, 3] uint8 (colour or gray; only its lightness counts) → coloured, same size."""
        return self.colorize_batch(rgb[None])[0]
