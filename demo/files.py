"""The files the app answers with: where they live, how they are written, when they go.

Responses' images and GIFs live in one temp folder per process that Gradio serves as a static path: Gradio then
neither hashes nor copies them into its cache. Folders older than FILE_TTL are pruned once a minute (disk use is
bounded; Gradio's cache never shrinks), and the whole folder is removed when the process exits.
"""
from __future__ import annotations

import atexit
import io
import functools
import os
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import gradio as gr
import numpy as np
from gradio.components.gallery import GalleryData, GalleryImage
from gradio.data_classes import FileData, ImageData
from gradio.utils import get_upload_folder  # where Gradio stores uploads (its own _check_allowed reads the same)
from PIL import Image

from demo.images import upscale

SCALE = 2  # faces are shown and downloaded at 2× (Lanczos)
# Gallery faces are sent as JPEG at quality 95 without chroma subsampling: ≥ 44 dB PSNR against lossless (no visible
# difference), 1/3 the bytes of a PNG (9 vs 29 KB at 128 px, which matters on a Space) and ~20× faster to encode.
# A single face (Morph, Directions) is one small PNG: lossless for whoever saves it, and cheap at one image.
JPEG = dict(format="JPEG", quality=95, subsampling=0)
PNG = dict(format="PNG", compress_level=1)
FILE_TTL = 30 * 60
HOUSEKEEPING_EVERY = 60  # seconds between prunes of old files (and of Gradio's finished-call records)
ENCODERS = min(4, os.cpu_count() or 1)  # Pillow releases the GIL while resizing and encoding


@functools.cache
def output_root() -> Path:
    """This process's temp folder for response files, registered once as a Gradio static path (Gradio checks each
    returned file against its static paths, so one entry per process keeps that check short however many apps are
    built) and removed when the process exits."""
    root = Path(tempfile.mkdtemp(prefix="anime-gan-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    gr.set_static_paths([root])
    return root


class ForeignFileError(ValueError):
    """A file value in a request that names a file the visitor did not upload and the app did not make."""


def request_path(value: object, uploads: bool = True) -> Path:
    """The real path of a file value that arrived in a request, if the app may read it: a file this process made
    (its output folder) or, with uploads=True, one the visitor uploaded (Gradio's upload folder). Anything else is
    refused before it is opened: a server path, `../` out of those folders, a symlink out of them (the real path
    counts), a URL. Handlers take raw values (preprocess=False), and Gradio checks a file value's path only when
    the value says it is a FileData: this is the check for the rest."""
    path = value.get("path") if isinstance(value, dict) else value
    if not isinstance(path, (str, Path)) or not str(path).strip():
        raise ForeignFileError("no file: upload one")
    real = Path(os.path.realpath(str(path)))
    roots = [output_root()] + ([Path(get_upload_folder())] if uploads else [])
    if not any(real.is_relative_to(os.path.realpath(r)) for r in roots):
        raise ForeignFileError("that file was not uploaded to this app: upload the picture itself"
                               if uploads else "that file was not made by this app")
    return real


def gallery(items: Sequence[tuple[str, str]]) -> list[dict]:
    """(image path, caption) pairs as the Gallery value Gradio sends, for events with postprocess=False.
    Gallery.postprocess would build the same thing but start a new thread pool and guess each file's type
    on every call (~7 ms of a 42 ms /generate of 16, py-spy)."""
    return GalleryData(root=[GalleryImage(image=ImageData(path=p, orig_name=Path(p).name, mime_type=_mime(p)),
                                          caption=c) for p, c in items]).model_dump()


def file_value(path: Path, mime_type: str) -> dict:
    """A File component's value that carries its size (the File box reads "size unknown" without it)."""
    return FileData(path=str(path), orig_name=path.name, size=path.stat().st_size, mime_type=mime_type).model_dump()


def _mime(path: str) -> str:
    return "image/png" if path.endswith(".png") else "image/jpeg"


class Outputs:
    """One app's share of the output folder: fresh folders per response, faces written in parallel, old
    folders pruned once a minute (`on_prune` runs then too: the app uses it for Gradio's records)."""

    def __init__(self, on_prune: Callable[[], None] | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="app-", dir=output_root()))
        self.on_prune = on_prune
        self.pool = ThreadPoolExecutor(ENCODERS, thread_name_prefix=f"encode-{self.root.name}")
        self._last_prune = 0.0
        self._prune_lock = threading.Lock()  # two requests can cross the minute mark together

    def faces(self, faces: np.ndarray | Sequence[Image.Image], fmt: dict = JPEG) -> list[str]:
        """Faces ([N, H, W, 3] uint8, or PIL images already enlarged) → files at SCALE×, written in parallel."""
        d = self.new_dir()
        ext = "png" if fmt["format"] == "PNG" else "jpg"
        paths = [str(d / f"face_{i:02d}.{ext}") for i in range(len(faces))]

        def write(i: int) -> None:
            img = faces[i]
            (img if isinstance(img, Image.Image) else upscale(img, SCALE)).save(paths[i], **fmt)

        list(self.pool.map(write, range(len(faces))))
        return paths

    def zip(self, faces: Sequence[tuple[str, np.ndarray]], name: str) -> Path:
        """(file name, face [H, W, 3] uint8) pairs → one zip of lossless PNGs at SCALE×, for "Download all"."""
        path = self.new_dir() / name

        def png(face: np.ndarray) -> bytes:
            buf = io.BytesIO()
            upscale(face, SCALE).save(buf, **PNG)
            return buf.getvalue()

        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:  # PNG is compressed already
            for (fname, _), data in zip(faces, self.pool.map(png, [f for _, f in faces])):
                z.writestr(fname, data)
        return path

    def new_dir(self) -> Path:
        """A fresh folder for one response; once a minute, folders older than FILE_TTL are removed."""
        now = time.time()
        with self._prune_lock:
            due = now - self._last_prune >= HOUSEKEEPING_EVERY
            if due:
                self._last_prune = now
        if due:
            for old in self.root.iterdir():
                if now - old.stat().st_mtime > FILE_TTL:
                    shutil.rmtree(old, ignore_errors=True)
            if self.on_prune is not None:
                self.on_prune()
        d = self.root / uuid.uuid4().hex
        d.mkdir()
        return d

    def close(self) -> None:
        """Stop the encoder threads and remove this app's files."""
        self.pool.shutdown(wait=True)
        shutil.rmtree(self.root, ignore_errors=True)
