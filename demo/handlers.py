"""What each endpoint does: raw UI/API values in (validated by demo.params), files out.

Handlers receive raw values (preprocess=False), so any bad input becomes one readable gr.Error and the
server keeps serving.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import gradio as gr
import numpy as np

from demo import params
from demo.engine import Engine
from demo.files import PNG, SCALE, Outputs, file_value, gallery
from demo.images import save_animation, upscale
from demo.latents import SEED_MAX

DIRECTION_RANGE = 6.0  # SeFa slider range (in units of z's std)
NUM_DIRECTIONS = 8  # /directions always takes this many amounts, whatever the model ships (the API never changes)


def friendly(fn: Callable) -> Callable:
    """Turn validation errors into a gr.Error the UI shows (and API clients receive)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValueError as e:
            raise gr.Error(str(e), print_exception=False) from None

    return wrapper


class Handlers:
    """Plain functions over one Engine; each maps UI/API values to outputs."""

    def __init__(self, engine: Engine, on_prune: Callable[[], None] | None = None):
        self.engine = engine
        self.out = Outputs(on_prune)
        self.useful_directions = engine.info.useful_directions[:NUM_DIRECTIONS]

    def close(self) -> None:
        self.out.close()

    @friendly
    def generate(self, seed: Any, count: Any, truncation: Any = 1.0) -> list[dict]:
        s = params.seed(seed)
        n = params.integer(count, "count", 1, params.MAX_COUNT)
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        if s + n - 1 > SEED_MAX:
            raise ValueError(f"seed + count - 1 must stay ≤ {SEED_MAX}; lower the seed")
        seeds = list(range(s, s + n))
        return gallery(list(zip(self.out.faces(self.engine.faces(seeds, psi)), map(str, seeds))))

    @friendly
    def morph(self, seed_a: Any, seed_b: Any, t: Any, method: Any = "slerp", truncation: Any = 1.0) -> str:
        a, b = params.seed(seed_a, "seed A"), params.seed(seed_b, "seed B")
        tt = params.real(t, "t", 0.0, 1.0)
        m = params.method(method)
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        return self.out.faces(self.engine.path(a, b, [tt], m, psi), PNG)[0]

    @friendly
    def interpolate(self, seed_a: Any, seed_b: Any, frames: Any, method: Any = "slerp", truncation: Any = 1.0):
        a, b = params.seed(seed_a, "seed A"), params.seed(seed_b, "seed B")
        n = params.integer(frames, "frames", 2, params.MAX_FRAMES)
        m = params.method(method)
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        ts = np.linspace(0.0, 1.0, n)
        pool = self.out.pool
        big = list(pool.map(lambda f: upscale(f, SCALE), self.engine.path(a, b, ts, m, psi)))
        gif = pool.submit(save_animation, big, self.out.new_dir() / f"morph_{a}_{b}_{m}_{n}.gif")
        stills = self.out.faces(big)
        return gallery([(img, f"t={t:.3f}") for img, t in zip(stills, ts)]), file_value(gif.result(), "image/gif")

    @friendly
    def variations(self, seed: Any, strength: Any, count: Any, variation_seed: Any, truncation: Any = 1.0) -> list[dict]:
        s = params.seed(seed)
        st = params.real(strength, "strength", 0.0, 2.0)
        n = params.integer(count, "count", 1, params.MAX_VARIATIONS)
        vs = params.seed(variation_seed, "variation seed")
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        imgs = self.out.faces(self.engine.variations(s, n, st, vs, psi))
        return gallery([(imgs[0], f"{s} (original)")] + [(im, f"{s} · variation {i + 1}") for i, im in enumerate(imgs[1:])])

    @friendly
    def directions(self, seed: Any, direction_1: Any = 0.0, direction_2: Any = 0.0, direction_3: Any = 0.0,
                   direction_4: Any = 0.0, direction_5: Any = 0.0, direction_6: Any = 0.0, direction_7: Any = 0.0,
                   direction_8: Any = 0.0, truncation: Any = 1.0) -> str:
        """The face of `seed` moved along SeFa direction i by direction_i (NUM_DIRECTIONS named parameters: the API
        reads the same for every model). Directions this model does not ship must stay at 0."""
        s = params.seed(seed)
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        amounts = (direction_1, direction_2, direction_3, direction_4, direction_5, direction_6, direction_7, direction_8)
        vals = [params.real(v, f"direction {i + 1}", -DIRECTION_RANGE, DIRECTION_RANGE) for i, v in enumerate(amounts)]
        k = self.engine.num_directions
        if any(vals[k:]):
            first = next(i for i, v in enumerate(vals) if i >= k and v)
            raise ValueError(f"direction {first + 1}: this model ships {k} direction(s); leave the others at 0")
        return self.out.faces(self.engine.edit(s, vals[:k], psi)[None], PNG)[0]
