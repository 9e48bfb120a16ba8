"""Your own face in the model: a picture → the latent z of the model's closest face, through the exported encoder.

The encoder (trained by trainer.encoder for one generator file, whose sha256 its metadata records) reads a 64×64
face in the generator's pixel range and answers z in one pass; `refine` then tries nudges of z around it through
the generator and keeps the closest (a few hundred ms on a CPU). The z is kept as its face code (demo.latents),
so what Morph, Edit, a link and the browser use is exactly the face shown here.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from demo.engine import Engine, ModelError, make_session, pick_providers, read_metadata, thread_count
from demo.latents import PIXEL_RANGE, decode_z, encode_z

FORMAT = "anime-face-encoder/1"
INPUT, OUTPUT = "image", "z"
DEFAULT_ENCODER = Path(__file__).resolve().parent.parent / "exported" / "encoder.onnx"
ENCODER_ENV = "ANIME_GAN_ENCODER"
REFINE_ROUNDS = 6  # rounds of REFINE_TRIES nudges each: ≈ 6 batches of 64 through the generator
REFINE_TRIES = 63


class MismatchError(ModelError):
    """An encoder trained for another generator than the one the app runs."""


@dataclass
class Projection:
    picture: np.ndarray  # [S, S, 3] uint8: the square the encoder saw
    face: np.ndarray  # [S, S, 3] uint8: the model's face for `code`
    code: str  # the face code of its z (demo.latents.encode_z)
    error: float  # mean |Δpixel| between picture and face, of 255
    closeness: float  # 100 = the same picture; 0 = as far apart as two of the model's own faces, on average
    ms: float  # time taken


def encoder_path(cli_value: str | None = None) -> Path:
    """--encoder beats $ANIME_GAN_ENCODER beats exported/encoder.onnx."""
    return Path(cli_value or os.environ.get(ENCODER_ENV) or DEFAULT_ENCODER).expanduser()


def to_square(rgb: np.ndarray, size: int) -> np.ndarray:
    """The centre square of a picture at size×size (Lanczos): what the encoder and the trainer's data see."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    img = Image.fromarray(np.ascontiguousarray(rgb[top:top + side, left:left + side]))
    return np.asarray(img if side == size else img.resize((size, size), Image.LANCZOS), np.uint8)


def pixel_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean |Δpixel| (of 255) of each face in a [B, S, S, 3] batch against one [S, S, 3] face."""
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).reshape(len(a), -1).mean(axis=1)


class Projector:
    """The encoder in onnxruntime, tied to one Engine's generator (thread-safe)."""

    def __init__(self, engine: Engine, path: str | Path | None = None, threads: int | None = None):
        import onnxruntime as ort

        self.engine = engine
        self.path = encoder_path(str(path) if path else None)
        self.meta = self._read_meta(self.path)
        want, have = (self.meta.get("generator") or {}).get("sha256"), engine.info.meta.get("sha256")
        if not want or want != have:
            raise MismatchError(
                f"{self.path.name} was trained for another generator ({str(want)[:12]}…) than {engine.info.path.name} "
                f"({str(have)[:12]}…): train one for it with `python -m trainer.encoder --generator "
                f"{engine.info.path}` and export it, or run the generator it belongs to")
        self.size = engine.info.image_size
        if int(self.meta.get("image_size", -1)) != self.size or int(self.meta.get("nz", -1)) != engine.info.nz:
            raise ModelError(f"{self.path}: its sizes do not match the generator's")
        self.session = make_session(self.path, thread_count(threads), pick_providers(ort.get_available_providers()))
        self._lock = threading.Lock()
        ref = engine.faces(range(16))  # the model's typical distance between two of its faces: closeness 0
        self.between = float(np.mean([pixel_error(ref[i + 1:], ref[i]).mean() for i in range(len(ref) - 1)]))

    @staticmethod
    def _read_meta(path: Path) -> dict:
        return read_metadata(path, "encoder", f"train one with `python -m trainer.encoder`, export it, and point "
                                              f"--encoder / ${ENCODER_ENV} at it", FORMAT)

    def encode(self, faces: np.ndarray) -> np.ndarray:
        """[B, S, S, 3] uint8 faces → [B, nz] latents."""
        lo, hi = PIXEL_RANGE
        x = np.ascontiguousarray(faces.transpose(0, 3, 1, 2), np.float32) * np.float32((hi - lo) / 255) + np.float32(lo)
        with self._lock:
            return self.session.run([OUTPUT], {INPUT: x})[0]

    def refine(self, target: np.ndarray, z: np.ndarray, rounds: int = REFINE_ROUNDS, seed: int = 0) -> np.ndarray:
        """Random search around z: each round tries REFINE_TRIES nudges (smaller each round) through the generator and
        keeps the closest face. Deterministic (seeded), so the same picture always gives the same face."""
        rng = np.random.RandomState(seed)
        best, best_err = z, float(pixel_error(self.engine.render(z[None]), target)[0])
        for r in range(rounds):
            spread = np.float32(0.5 * 0.6 ** r)
            tries = best[None] + spread * rng.standard_normal((REFINE_TRIES, len(z))).astype(np.float32)
            errs = pixel_error(self.engine.render(tries), target)
            i = int(np.argmin(errs))
            if errs[i] < best_err:
                best, best_err = tries[i], float(errs[i])
        return best

    def project(self, rgb: np.ndarray, refine: bool = False) -> Projection:
        """A picture (any size, RGB uint8) → the model's closest face, its code and how close it is."""
        t0 = time.perf_counter()
        picture = to_square(rgb, self.size)
        z = self.encode(picture[None])[0]
        if refine:
            z = self.refine(picture, z)
        code = encode_z(z)
        face = self.engine.render(decode_z(code, self.engine.info.nz)[None])[0]  # the face the code stands for
        err = float(pixel_error(face[None], picture)[0])
        return Projection(picture, face, code, err, round(100 * max(0.0, 1 - err / self.between), 1),
                          (time.perf_counter() - t0) * 1000)

