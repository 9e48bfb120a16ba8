"""Validate what people (and API clients) send, with messages they can act on.

Every handler takes raw values, so a seed typed as text, a float, NaN or 2**64
arrives here rather than crashing inside a component; each function raises
ValueError naming the field and the allowed range.
"""
from __future__ import annotations

import math

import numpy as np

from demo.latents import METHODS, NZ, SeedError, check_seed, decode_z, is_code

MAX_COUNT = 64  # faces per /generate
MAX_FRAMES = 64  # frames per /interpolate
MAX_VARIATIONS = 32
TRUNCATION = (0.1, 2.0)
NUM_DIRECTIONS = 8  # unnamed (SeFa) directions /directions always takes, whatever the model ships
NUM_NAMED = 6  # named directions a model ships at most (trainer.directions finds them; /directions takes this many)
STRENGTH = (0.05, 1.0)  # the Variations slider's range (the API takes 0 to 2)


def seed(value: object, name: str = "seed") -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{name} is missing: type a whole number from 0 to 4294967295")
    try:
        return check_seed(value)
    except SeedError as e:
        raise ValueError(str(e).replace("seed", name, 1)) from None


def face(value: object, name: str = "seed", nz: int = NZ) -> int | np.ndarray:
    """A face as people and API clients name it: a seed, or a face code ("z.…", what /project returns)."""
    if is_code(value):
        try:
            return decode_z(str(value), nz)
        except SeedError as e:
            raise ValueError(f"{name}: {e}") from None
    return seed(value, name)


def _number(value: object, name: str) -> float:
    if value is None or isinstance(value, bool):
        raise ValueError(f"{name} is missing")
    try:
        x = float(value.strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a number, got {str(value)[:40]!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x}")
    return x


def integer(value: object, name: str, lo: int, hi: int) -> int:
    x = _number(value, name)
    if x != int(x):
        raise ValueError(f"{name} must be a whole number, got {x:g}")
    if not lo <= x <= hi:
        raise ValueError(f"{name} must be from {lo} to {hi}, got {int(x)}")
    return int(x)


def real(value: object, name: str, lo: float, hi: float) -> float:
    x = _number(value, name)
    if not lo <= x <= hi:
        raise ValueError(f"{name} must be from {lo:g} to {hi:g}, got {x:g}")
    return x


def method(value: object) -> str:
    if value not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {str(value)[:40]!r}")
    return str(value)
