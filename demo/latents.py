"""The latent-space conventions shared by the trainer and the app (numpy only).

One source of truth: the trainer draws its sample-grid latents with these
functions, the exporter records the constants in the model's JSON, and the app
uses the same functions, so "seed 42" is the same face everywhere.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import math
from typing import Iterable, Sequence

import numpy as np

NZ = 100  # latent size of the shipped models (the DCGAN papers' choice)
SEED_MIN, SEED_MAX = 0, 2**32 - 1  # what numpy.random.RandomState accepts
PIXEL_RANGE = (-1.0, 1.0)  # generator output range (Tanh)
SEED_CONVENTION = "z = numpy.random.RandomState(seed).standard_normal(nz).astype(float32)"
METHODS = ("slerp", "lerp")


class SeedError(ValueError):
    """A seed that is not a whole number in [SEED_MIN, SEED_MAX]."""


def check_seed(seed: object) -> int:
    """Return `seed` as an int, or raise SeedError with a message a person can act on."""
    if isinstance(seed, bool):
        raise SeedError(f"seed must be a whole number, not {seed!r}")
    if isinstance(seed, str):
        text = seed.strip()
        try:
            seed = int(text)
        except ValueError:
            raise SeedError(f"seed must be a whole number from {SEED_MIN} to {SEED_MAX}, got {text[:40]!r}") from None
    if isinstance(seed, float):
        if not math.isfinite(seed) or seed != int(seed):
            raise SeedError(f"seed must be a whole number, got {seed!r}")
        seed = int(seed)
    if isinstance(seed, np.integer):
        seed = int(seed)
    if not isinstance(seed, int):
        raise SeedError(f"seed must be a whole number, got {type(seed).__name__}")
    if not SEED_MIN <= seed <= SEED_MAX:
        raise SeedError(f"seed must be from {SEED_MIN} to {SEED_MAX}, got {seed}")
    return seed


def seed_to_z(seed: int, nz: int = NZ) -> np.ndarray:
    """The latent vector of one seed: a frozen numpy stream, identical across numpy versions."""
    return np.random.RandomState(check_seed(seed)).standard_normal(nz).astype(np.float32)


def seeds_to_z(seeds: Iterable[int], nz: int = NZ) -> np.ndarray:
    """Stack the latents of several seeds into a [len(seeds), nz] float32 array (row i == seed_to_z(seeds[i])).
    One generator, re-seeded per row: 16 seeds take 0.25 ms instead of 3 ms (building a RandomState is the slow part)."""
    seeds = [check_seed(s) for s in seeds]
    rs = np.random.RandomState()
    out = np.empty((len(seeds), nz), np.float32)
    for i, s in enumerate(seeds):
        rs.seed(s)
        out[i] = rs.standard_normal(nz)
    return out


def lerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Straight line between two latents."""
    t = np.asarray(t, np.float32)[..., None]
    return ((1 - t) * a + t * b).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Great-circle path: keeps the norm of z typical (a straight line through a
    Gaussian's middle passes through unusually short latents, which look washed out)."""
    t = np.asarray(t, np.float32)[..., None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = float(np.clip(np.dot(a / na, b / nb), -1.0, 1.0))
    omega = math.acos(cos)
    if omega < 1e-6:  # (almost) the same direction
        return lerp(a, b, t[..., 0])
    s = math.sin(omega)
    return (np.sin((1 - t) * omega) / s * a + np.sin(t * omega) / s * b).astype(np.float32)


def interpolate(a: np.ndarray, b: np.ndarray, ts: Sequence[float] | np.ndarray, method: str = "slerp") -> np.ndarray:
    """Latents along the path a → b at each t (endpoints exactly a and b)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    ts = np.asarray(ts, np.float32)
    out = (slerp if method == "slerp" else lerp)(a, b, ts)
    out[ts == 0] = a  # exact endpoints, so frame 0 is pixel-identical to the seed's own face
    out[ts == 1] = b
    return out


def to_uint8(images: np.ndarray, scratch_ok: bool = False) -> np.ndarray:
    """Generator output [B, 3, H, W] in PIXEL_RANGE → contiguous [B, H, W, 3] uint8.

    scratch_ok lets it overwrite `images` (the engine passes onnxruntime's fresh output):
    no batch-sized temporaries, each of which costs page faults on every call — at
    batch 64 that was 5 ms of work that takes 0.5 ms in place.
    """
    lo, hi = PIXEL_RANGE
    x = np.asarray(images, np.float32)
    if not (scratch_ok and x.flags.writeable and x.flags.c_contiguous):
        x = x.copy()
    np.subtract(x, lo, out=x)
    np.multiply(x, 255.0 / (hi - lo), out=x)
    np.rint(x, out=x)
    np.clip(x, 0, 255, out=x)
    return x.transpose(0, 2, 3, 1).astype(np.uint8, order="C")


# ---- a face that is not a seed: its z, written as a short text (a projected picture's face, a variation) ----------
CODE_PREFIX = "z."
CODE_CONVENTION = ("'z.' + base64url (no padding) of z as little-endian float16; the face is the decoded z "
                   "(the app, its links and the browser all decode the same text to the same z)")
CODE_LIMIT = 64.0
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"  # |z_i| beyond this is not a face of a standard-normal latent


def encode_z(z: np.ndarray) -> str:
    """A latent as its face code: float16 keeps every face the same to the eye (the z it decodes to is the face's
    z from then on) and a 100-d latent fits in 270 characters of a link."""
    half = np.clip(np.asarray(z, np.float32).ravel(), -CODE_LIMIT, CODE_LIMIT).astype("<f2")
    return CODE_PREFIX + base64.urlsafe_b64encode(half.tobytes()).decode("ascii").rstrip("=")


def is_code(value: object) -> bool:
    return isinstance(value, str) and value.strip().startswith(CODE_PREFIX)


def decode_z(code: str, nz: int = NZ) -> np.ndarray:
    """A face code → its latent [nz] float32, or SeedError saying what is wrong with the text."""
    body = str(code).strip()[len(CODE_PREFIX):]
    if body.strip(BASE64URL):
        raise SeedError("that face code is damaged (not base64url text)")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, binascii.Error):
        raise SeedError("that face code is damaged (not base64url text)") from None
    if len(raw) != 2 * nz:
        raise SeedError(f"that face code holds {len(raw) // 2} numbers; this model's faces need {nz}")
    z = np.frombuffer(raw, "<f2").astype(np.float32)
    if not np.all(np.isfinite(z)) or np.abs(z).max() > CODE_LIMIT:
        raise SeedError("that face code is damaged (numbers out of range)")
    return z


def face_z(face: int | np.ndarray, nz: int = NZ) -> np.ndarray:
    """The latent of a face: a seed's, or the latent itself."""
    if isinstance(face, np.ndarray):
        return np.asarray(face, np.float32).reshape(nz).copy()
    return seed_to_z(face, nz)


def face_label(face: int | np.ndarray) -> str:
    """A face's name in file names and captions: its seed, or "own-" and 6 hex digits of its code."""
    if isinstance(face, np.ndarray):
        return "own-" + hashlib.sha1(encode_z(face).encode()).hexdigest()[:6]
    return str(face)
