"""What each endpoint does: raw UI/API values in (validated by demo.params), files out.

Handlers receive raw values (preprocess=False), so any bad input becomes one readable gr.Error and the
server keeps serving.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import gradio as gr
import numpy as np
from PIL import Image

from demo import params
from demo.colorizer import ColorizerEngine, Picture, PictureError, read_picture, to_gray
from demo.engine import Engine
from demo.files import PNG, SCALE, Outputs, file_value, gallery, request_path
from demo.images import save_animation, upscale
from demo.latents import SEED_MAX, encode_z, face_label, face_z, interpolate
from demo.picks import own_face, seed_of

DIRECTION_RANGE = 6.0  # SeFa slider range (in units of z's std)
GIF_SIZES = (128, 256, 512)  # px a side of the Morph GIF
NUM_DIRECTIONS = params.NUM_DIRECTIONS  # /directions always takes this many amounts (the API never changes)
NUM_NAMED = params.NUM_NAMED  # … and this many named ones


MESSAGE_SECONDS = 6  # a refused value's message fades, so messages do not pile up


def friendly(fn: Callable) -> Callable:
    """Turn validation errors into a gr.Error the UI shows (and API clients receive)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValueError as e:
            raise gr.Error(str(e), duration=MESSAGE_SECONDS, print_exception=False) from None

    return wrapper


class Handlers:
    """Plain functions over one Engine; each maps UI/API values to outputs. Each endpoint's parse_* method
    validates its values alone, so the UI can check typed values first and keep the last good result on screen."""

    def __init__(self, engine: Engine, on_prune: Callable[[], None] | None = None):
        self.engine = engine
        self.out = Outputs(on_prune)
        self.useful_directions = engine.info.useful_directions[:NUM_DIRECTIONS]

    def close(self) -> None:
        self.out.close()

    # ---- validation, one per endpoint ------------------------------------
    @staticmethod
    def parse_generate(seed: Any, count: Any, truncation: Any = 1.0) -> tuple[int, int, float]:
        s = params.seed(seed)
        n = params.integer(count, "count", 1, params.MAX_COUNT)
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        if s + n - 1 > SEED_MAX:
            raise ValueError(f"seed + count - 1 must stay ≤ {SEED_MAX}; lower the seed")
        return s, n, psi

    def face(self, value: Any, name: str = "seed") -> int | np.ndarray:
        """A seed or a face code (demo.latents.encode_z) of this model's latent size."""
        return params.face(value, name, self.engine.info.nz)

    def parse_morph(self, seed_a: Any, seed_b: Any, t: Any, method: Any = "slerp", truncation: Any = 1.0):
        return (self.face(seed_a, "seed A"), self.face(seed_b, "seed B"), params.real(t, "t", 0.0, 1.0),
                params.method(method), params.real(truncation, "truncation", *params.TRUNCATION))

    def parse_interpolate(self, seed_a: Any, seed_b: Any, frames: Any, method: Any = "slerp", truncation: Any = 1.0,
                          gif_size: Any = GIF_SIZES[0]):
        size = params.integer(gif_size, "GIF size", GIF_SIZES[0], GIF_SIZES[-1])
        if size not in GIF_SIZES:
            raise ValueError(f"GIF size must be one of {', '.join(map(str, GIF_SIZES))}, got {size}")
        return (self.face(seed_a, "seed A"), self.face(seed_b, "seed B"),
                params.integer(frames, "frames", 2, params.MAX_FRAMES), params.method(method),
                params.real(truncation, "truncation", *params.TRUNCATION), size)

    def parse_variations(self, seed: Any, strength: Any, count: Any, variation_seed: Any, truncation: Any = 1.0):
        return (self.face(seed), params.real(strength, "strength", 0.0, 2.0),
                params.integer(count, "count", 1, params.MAX_VARIATIONS), params.seed(variation_seed, "variation seed"),
                params.real(truncation, "truncation", *params.TRUNCATION))

    def parse_directions(self, seed: Any, *amounts: Any, truncation: Any = 1.0, named: tuple = ()):
        s = self.face(seed)
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        if len(amounts) > NUM_DIRECTIONS:
            raise ValueError(f"at most {NUM_DIRECTIONS} direction amounts, got {len(amounts)}")
        if len(named) > NUM_NAMED:
            raise ValueError(f"at most {NUM_NAMED} named amounts, got {len(named)}")
        vals = [params.real(v, f"direction {i + 1}", -DIRECTION_RANGE, DIRECTION_RANGE) for i, v in enumerate(amounts)]
        nvals = [params.real(v, f"named {i + 1}", -DIRECTION_RANGE, DIRECTION_RANGE) for i, v in enumerate(named)]
        for what, values, k in (("direction", vals, self.engine.num_directions),
                                ("named", nvals, len(self.engine.info.named))):
            if any(values[k:]):
                first = next(i for i, v in enumerate(values) if i >= k and v)
                raise ValueError(f"{what} {first + 1}: this model ships {k} {what} direction(s); leave the others at 0")
        return s, vals[:self.engine.num_directions], psi, nvals[:len(self.engine.info.named)]

    # ---- the endpoints ---------------------------------------------------
    @friendly
    def generate(self, seed: Any, count: Any, truncation: Any = 1.0) -> list[dict]:
        s, n, psi = self.parse_generate(seed, count, truncation)
        seeds = list(range(s, s + n))
        return gallery(list(zip(self.out.faces(self.engine.faces(seeds, psi)), map(str, seeds))))

    @friendly
    def morph(self, seed_a: Any, seed_b: Any, t: Any, method: Any = "slerp", truncation: Any = 1.0) -> str:
        a, b, tt, m, psi = self.parse_morph(seed_a, seed_b, t, method, truncation)
        return self.out.faces(self.engine.path(a, b, [tt], m, psi), PNG)[0]

    @friendly
    def ends(self, seed_a: Any, seed_b: Any, truncation: Any = 1.0) -> tuple[str, str]:
        """The faces of A and B (PNG), for the pick thumbnails and Morph's A · in-between · B row."""
        a, b, _, _, psi = self.parse_morph(seed_a, seed_b, 0.0, "slerp", truncation)
        pa, pb = self.out.faces(self.engine.faces_of([a, b], psi), PNG)
        return pa, pb

    @friendly
    def interpolate(self, seed_a: Any, seed_b: Any, frames: Any, method: Any = "slerp", truncation: Any = 1.0,
                    gif_size: Any = GIF_SIZES[0]):
        """The frames A → B (a gallery) and a looping GIF of them, gif_size px a side (128, 256 or 512)."""
        a, b, n, m, psi, size = self.parse_interpolate(seed_a, seed_b, frames, method, truncation, gif_size)
        ts = np.linspace(0.0, 1.0, n)
        pool = self.out.pool
        faces = self.engine.path(a, b, ts, m, psi)
        big = list(pool.map(lambda f: upscale(f, SCALE), faces))
        gif_scale = max(1, size // self.engine.info.image_size)
        gif_frames = big if gif_scale == SCALE else list(pool.map(lambda f: upscale(f, gif_scale), faces))
        la, lb = face_label(a), face_label(b)
        gif = pool.submit(save_animation, gif_frames, self.out.new_dir() / f"morph_{la}_{lb}_{m}_{n}_{size}px.gif")
        stills = self.out.faces(big)
        return gallery([(img, f"t={t:.3f}") for img, t in zip(stills, ts)]), file_value(gif.result(), "image/gif")

    # ---- a variation or a path frame picked as A or B: its face code (it has no seed) ---------------------------
    def variation_code(self, seed: Any, strength: Any, count: Any, variation_seed: Any, index: Any) -> str:
        """The face code of the index-th face of /variations (0: the face itself)."""
        s, st, n, vs, _ = self.parse_variations(seed, strength, count, variation_seed)
        i = params.integer(index, "index", 0, n)
        return encode_z(self.engine.variation_z(s, n, st, vs)[i])

    def frame_code(self, seed_a: Any, seed_b: Any, frames: Any, method: Any, index: Any) -> str:
        """The face code of the index-th frame of /interpolate."""
        a, b, n, m, _, _ = self.parse_interpolate(seed_a, seed_b, frames, method)
        i = params.integer(index, "index", 0, n - 1)
        z = interpolate(face_z(a, self.engine.info.nz), face_z(b, self.engine.info.nz), np.linspace(0.0, 1.0, n), m)
        return encode_z(z[i])

    # ---- "Download all": the faces on screen again, as lossless PNGs named by what makes them -----------------
    @friendly
    def zip_faces(self, items: Any, truncation: Any = 1.0) -> str:
        """The faces a gallery shows (its captions name their seeds), drawn again as PNGs."""
        items = [item for item in (items or []) if isinstance(item, dict)]
        for item in items:  # the gallery comes back from the browser: only faces this app made
            own_face(item.get("image"))
        seeds = [s for s in (seed_of(item.get("caption")) for item in items) if s is not None]
        if not seeds:
            raise ValueError("no faces to save yet")
        if len(seeds) > params.MAX_COUNT:
            raise ValueError(f"at most {params.MAX_COUNT} faces at once, got {len(seeds)}")
        psi = params.real(truncation, "truncation", *params.TRUNCATION)
        names = [f"seed_{x}.png" for x in seeds]
        return str(self.out.zip(list(zip(names, self.engine.faces(seeds, psi))), f"faces_{seeds[0]}.zip"))

    @friendly
    def zip_variations(self, seed: Any, strength: Any, count: Any, variation_seed: Any, truncation: Any = 1.0) -> str:
        s, st, n, vs, psi = self.parse_variations(seed, strength, count, variation_seed, truncation)
        faces = self.engine.variations(s, n, st, vs, psi)
        label = face_label(s)
        names = [f"seed_{label}.png"] + [f"seed_{label}_variation_{i + 1:02d}.png" for i in range(n)]
        return str(self.out.zip(list(zip(names, faces)), f"variations_{label}.zip"))

    @friendly
    def zip_path(self, seed_a: Any, seed_b: Any, frames: Any, method: Any = "slerp", truncation: Any = 1.0) -> str:
        a, b, n, m, psi, _ = self.parse_interpolate(seed_a, seed_b, frames, method, truncation)
        ts = np.linspace(0.0, 1.0, n)
        la, lb = face_label(a), face_label(b)
        names = [f"morph_{la}_{lb}_{i:02d}_t{t:.3f}.png" for i, t in enumerate(ts)]
        return str(self.out.zip(list(zip(names, self.engine.path(a, b, ts, m, psi))), f"morph_{la}_{lb}.zip"))

    @friendly
    def variations(self, seed: Any, strength: Any, count: Any, variation_seed: Any, truncation: Any = 1.0) -> list[dict]:
        s, st, n, vs, psi = self.parse_variations(seed, strength, count, variation_seed, truncation)
        imgs = self.out.faces(self.engine.variations(s, n, st, vs, psi))
        # short captions: a phone shows 4 faces a row ("42 · var 0/1" read as a fraction, "42 · variation 1" was cut)
        label = face_label(s)
        return gallery([(imgs[0], label)] + [(im, f"{label} #{i + 1}") for i, im in enumerate(imgs[1:])])

    @friendly
    def directions(self, seed: Any, direction_1: Any = 0.0, direction_2: Any = 0.0, direction_3: Any = 0.0,
                   direction_4: Any = 0.0, direction_5: Any = 0.0, direction_6: Any = 0.0, direction_7: Any = 0.0,
                   direction_8: Any = 0.0, truncation: Any = 1.0, named_1: Any = 0.0, named_2: Any = 0.0,
                   named_3: Any = 0.0, named_4: Any = 0.0, named_5: Any = 0.0, named_6: Any = 0.0) -> str:
        """The face of `seed` (a seed or a face code) moved along SeFa direction i by direction_i and along named
        direction j by named_j (the model's JSON lists what each named one changes, "named_directions.kept"). Always
        NUM_DIRECTIONS + NUM_NAMED amounts, so the API reads the same for every model; directions this model does not
        ship must stay at 0."""
        s, vals, psi, nvals = self.parse_directions(
            seed, direction_1, direction_2, direction_3, direction_4, direction_5, direction_6, direction_7, direction_8,
            truncation=truncation, named=(named_1, named_2, named_3, named_4, named_5, named_6))
        return self.out.faces(self.engine.edit(s, vals, psi, nvals)[None], PNG)[0]


LITTLE_COLOUR = 8.0  # mean colourfulness below which a result gets the "little to colour" notice


def colourfulness(rgb: np.ndarray) -> float:
    """Mean of each pixel's max − min channel (0 = gray, up to 255)."""
    x = rgb.astype(np.int16)
    return float((x.max(axis=2) - x.min(axis=2)).mean())


@functools.lru_cache(maxsize=4)
def decoded(path: str, size: int, mtime_ns: int) -> Picture:
    """One decode per upload, keyed by its file's size and time (a file written again is read again); the pixels
    are read-only, as several steps share them. At most 4 pictures of ≤ 2048² are kept (≤ 48 MB)."""
    pic = read_picture(path)
    pic.rgb.setflags(write=False)
    return pic


class Colorize:
    """The Colourise tab's endpoints: a picture in (a Gradio file value, a path, or raw bytes), PNG files out."""

    def __init__(self, colorizer: ColorizerEngine | None, out: Outputs):
        self.colorizer = colorizer
        self.out = out

    @staticmethod
    def picture(image: Any) -> Picture:
        """The upload as Gradio hands it over (preprocess=False: a FileData dict) or a plain path. Its path is
        checked on every call; its pixels are decoded once (check, preview and model all read the same upload)."""
        path = image.get("path") if isinstance(image, dict) else image
        if not path:
            raise PictureError("no picture: upload one (or send a face from Generate, Morph or Directions)")
        real = request_path(image)
        try:
            st = real.stat()
        except OSError:
            return read_picture(real)  # says the upload did not arrive
        return decoded(str(real), st.st_size, st.st_mtime_ns)

    def _save(self, rgb: np.ndarray, name: str) -> str:
        path = self.out.new_dir() / name
        Image.fromarray(rgb).save(path, **PNG)
        return str(path)

    @friendly
    def check(self, image: Any) -> None:
        """An upload as the page sends it, refused with the reason before anything is drawn from it."""
        self.picture(image)

    @friendly
    def gray(self, image: Any) -> str | None:
        """The picture as the colouriser sees it: its lightness alone."""
        if not image:
            return None
        return self._save(to_gray(self.picture(image).rgb), "gray.png")

    @friendly
    def colorize(self, image: Any) -> str:
        """Colour a picture from its lightness (any size; colour pictures are made gray first). Returns a PNG of the
        picture's own size (scaled down first past MAX_SIDE, with a notice)."""
        if self.colorizer is None:
            raise ValueError("this app runs without a colouriser model (exported/colorizer.onnx is missing): train one "
                             "with `python -m trainer.colorize` and export it")
        pic = self.picture(image)
        for note in pic.notes:
            gr.Warning(note, duration=MESSAGE_SECONDS)
        out = self.colorizer.colorize(to_gray(pic.rgb))
        if colourfulness(out) < LITTLE_COLOUR:
            gr.Warning("The colouriser found little to colour in this picture: it learned from faces with gray "
                       "shading (skin, hair, eyes), so clean line art without shading comes back mostly gray.",
                       duration=MESSAGE_SECONDS * 2)
        return self._save(out, "colorized.png")
