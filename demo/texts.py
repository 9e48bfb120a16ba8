"""The words the page shows: plain ones in the flow, the technical facts in the collapsed "About this model".

Kept apart from the layout (demo.layout) so that wording can change without touching events, and so that a test can
check the flow for jargon in one place.
"""
from __future__ import annotations

from demo.colorizer import MAX_SIDE
from demo.engine import Engine
from demo.latents import is_code

TITLE = "# Anime Face Generator"
TAGLINE = "Every face is made up by a neural network. **Click a face** to pick it, then blend, vary or edit it."
HOW_TO = ("**Generate** draws faces from a seed: the number under each face makes that face again. Click a face to "
          "pick it as **A**, another for **B**, then open **Morph** to blend them. **Variations** and **Edit** start "
          "from the last face you picked.")
PATH_CHOICES = [("curved (faces stay crisp)", "slerp"), ("straight", "lerp")]
VARIETY_INFO = "lower: safer, more typical faces; higher: wilder ones"
EDIT_HELP = ("Each named slider changes one thing about the face, measured from its pixels (the small faces show "
             "either end). Under **More directions** are the ways the network itself learned to vary faces: what "
             "each one changes was found, not named: try them.")
EDIT_NONE = "This model ships no slider that visibly changes a face."
COLORIZE_HELP = ("A second network colours a gray face from its shading. Upload a grayscale manga face or any "
                 "picture (a colour one is made gray first), paste one, or send a face from Morph or Edit. Pictures "
                 f"up to {MAX_SIDE} px a side keep their size and their lines.")
YOUR_FACE_HELP = ("Upload or paste an anime face (or take one with the camera): the model finds **its own face closest to "
                  "yours**. Then morph it into another face, edit it or vary it like any generated face. The face "
                  "code is that face: paste it wherever a seed goes, or share the page's link.")
YOUR_FACE_MISSING = ("**No encoder is installed for this generator** (exported/encoder.onnx). Train one with "
                     "`python -m trainer.encoder --generator path/to/generator.onnx`, export it with "
                     "`python -m trainer.export`, and start the app with `--encoder path/to/encoder.onnx`.")
COLORIZE_MISSING = ("**No colouriser model is installed** (exported/colorizer.onnx). Train one with "
                    "`python -m trainer.colorize`, export it with `python -m trainer.export`, and start the app with "
                    "`--colorizer path/to/colorizer.onnx`.")


def face_name(face: object) -> str:
    """How the page names a picked face: by its seed, or "a custom face" for a face code (a projected picture, a
    variation or a path frame: faces with no seed)."""
    return "a custom face" if is_code(face) else f"face {face}"


def picked(a: object, b: object) -> str:
    """The line beside the A/B thumbnails."""
    return f"**A** = {face_name(a)} · **B** = {face_name(b)} — open **Morph** to blend them"


def _count(x: object, what: str) -> str | None:
    return f"{x:,} {what}" if isinstance(x, int) and not isinstance(x, bool) else None


def footer(engine: Engine) -> str:
    """What model runs where; training figures only where the metadata has them (any of them may be missing)."""
    meta = engine.info.meta
    tr = meta.get("training") if isinstance(meta.get("training"), dict) else {}
    ev = meta.get("evaluation") if isinstance(meta.get("evaluation"), dict) else {}
    parts = [f"model `{engine.info.path.name}` · {engine.info.image_size}×{engine.info.image_size} px · z ∈ ℝ^{engine.info.nz}",
             f"runs on **{engine.provider}** ({engine.threads} threads)"]
    trained = [t for t in (_count(tr.get("steps"), "steps"), _count(tr.get("num_images"), "faces")) if t]
    if trained:
        parts.append("trained " + " on ".join(trained))
    if isinstance(ev.get("fid"), (int, float)):
        parts.append(f"FID@{ev.get('n_fake', '?')} {ev['fid']:.1f}")
    return " · ".join(parts)


def about(engine: Engine) -> str:
    """The technical facts, for the collapsed "About this model"."""
    return "\n".join([
        "- **Generator**: a DCGAN (Radford et al. 2015) trained on 18k anime faces, run by ONNX Runtime. A seed "
        "becomes a latent vector z (`numpy.random.RandomState(seed).standard_normal(nz)`), z becomes a face.",
        "- **Morph**: *curved* is spherical interpolation (slerp) between the two z, *straight* is linear (lerp), "
        "which passes through the more average faces near the middle. The Morph and Edit sliders redraw in your "
        "browser (onnxruntime-web, WebAssembly) with no server round trip.",
        "- **Variety** is the truncation ψ: z is scaled by ψ before the face is drawn.",
        "- **Edit**: unsupervised latent directions (SeFa: eigenvectors of the first layer's weights).",
        "- **Your face**: an encoder (a convolutional network trained on the generator's own faces and on real ones "
        "through it) maps a 64×64 picture to the z of the model's closest face; *Refine* tries nudges of z around "
        "it and keeps the closest. Closeness: 100% = the same pixels, 0% = as far apart as two random faces.",
        "- **Colourise**: a conditional GAN (pix2pix: U-Net + patch discriminator) predicts the colour channels of "
        "Lab at 64 px and lays them on the picture's own lightness.",
        "- " + footer(engine),
    ])
