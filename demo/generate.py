"""Generate faces to files, without the UI: the same engine and seed convention as the app (no torch).

    python -m demo.generate --seeds 0-15 --out faces/              # faces/seed_0000000.png … one PNG per seed
    python -m demo.generate --seeds 0-63 --grid grid.png           # one 8×8 sheet
    python -m demo.generate --morph 7 42 --frames 24 --out morph/ --gif morph.gif
    python -m demo.generate --seeds 42 --truncation 0.7 --model runs/mine/generator.onnx --out .
    python -m demo.generate --project me.png --out faces/            # the model's closest face; prints its face code

Seed `s` here is the face the app shows for seed `s` (caption `s`), at the same truncation.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from demo import params
from demo.engine import Engine, ModelError, SettingsError
from demo.colorizer import read_picture
from demo.images import grid, save_animation, upscale
from demo.latents import face_label
from demo.projection import Projector

MAX_FACES = 10_000  # per call: enough for any sheet or folder, bounded memory (64 px faces: 120 MB)


def parse_seeds(text: str) -> list[int]:
    """"0-63", "1,5,9", "42" or a mix ("0-3,10") → seeds in order; every seed checked as the app does."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if sep:
            a, b = params.seed(lo, "first seed of a range"), params.seed(hi, "last seed of a range")
            if b < a:
                raise ValueError(f"seed range {part!r} runs backwards")
            if b - a + 1 + len(seeds) > MAX_FACES:
                raise ValueError(f"at most {MAX_FACES:,} faces per call")
            seeds.extend(range(a, b + 1))
        else:
            seeds.append(params.seed(part))
    if not seeds:
        raise ValueError("--seeds needs at least one seed, e.g. 42, 0-15 or 1,5,9")
    if len(seeds) > MAX_FACES:
        raise ValueError(f"at most {MAX_FACES:,} faces per call")
    return seeds


def write_faces(faces: np.ndarray, names: list[str], folder: Path, scale: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{n}.png" for n in names]
    for face, path in zip(faces, paths):
        upscale(face, scale).save(path)
    return paths


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demo.generate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--seeds", help='faces to make: "42", "0-63" or "1,5,9"')
    what.add_argument("--morph", nargs=2, metavar=("FACE_A", "FACE_B"),
                      help="a path from one face to another (each a seed or a face code)")
    what.add_argument("--project", metavar="PICTURE", help="the model's closest face to a picture (needs the encoder)")
    p.add_argument("--no-refine", action="store_true", help="with --project: the encoder's answer alone (faster)")
    p.add_argument("--encoder", help="encoder .onnx for --project (default: $ANIME_GAN_ENCODER or exported/encoder.onnx)")
    p.add_argument("--frames", type=int, default=16, help=f"frames of --morph, 2–{params.MAX_FRAMES} (default %(default)s)")
    p.add_argument("--method", default="slerp", choices=["slerp", "lerp"], help="path of --morph (default %(default)s)")
    p.add_argument("--truncation", type=float, default=1.0,
                   help="< 1: safer, more average faces; > 1: wilder (default %(default)s, as in the app)")
    p.add_argument("--out", help="folder for one PNG per face or frame")
    p.add_argument("--grid", help="also write all faces as one sheet (PNG) to this file")
    p.add_argument("--columns", type=int, default=8, help="faces per row of --grid (default %(default)s)")
    p.add_argument("--gif", help="with --morph: also write a looping GIF (A → B → A) to this file")
    p.add_argument("--scale", type=int, default=1, choices=[1, 2, 4], help="enlarge faces with Lanczos (default %(default)s)")
    p.add_argument("--model", help="generator .onnx (default: $ANIME_GAN_MODEL or exported/generator.onnx)")
    p.add_argument("--threads", type=int, default=0, help="onnxruntime threads (default 0 = every core)")
    return p


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    a = p.parse_args(argv)
    if not (a.out or a.grid or a.gif):
        p.error("say where to write: --out FOLDER, --grid FILE.png and/or --gif FILE.gif")
    if a.gif and not a.morph:
        p.error("--gif goes with --morph")
    try:
        psi = params.real(a.truncation, "--truncation", *params.TRUNCATION)
        if a.columns < 1:
            raise ValueError("--columns must be at least 1")
        engine = Engine(a.model, threads=a.threads or None)
        if a.project:
            if not Path(a.project).is_file():
                raise ValueError(f"--project {a.project}: no such file")
            projection = Projector(engine, a.encoder, threads=a.threads or None).project(
                read_picture(a.project).rgb, refine=not a.no_refine)
            faces, names = projection.face[None], [f"project_{Path(a.project).stem}"]
            print(f"face code: {projection.code}\ncloseness: {projection.closeness:.1f}% "
                  f"({projection.ms:.0f} ms)")
        elif a.morph:
            sa, sb = (params.face(a.morph[0], "face A", engine.info.nz), params.face(a.morph[1], "face B", engine.info.nz))
            n = params.integer(a.frames, "--frames", 2, params.MAX_FRAMES)
            ts = np.linspace(0.0, 1.0, n)
            faces = engine.path(sa, sb, ts, a.method, psi)
            names = [f"morph_{face_label(sa)}_{face_label(sb)}_{i:02d}" for i in range(n)]
        else:
            seeds = parse_seeds(a.seeds)  # each checked in range, as the app does
            faces = engine.faces(seeds, psi)
            names = [f"seed_{s:07d}" for s in seeds]
    except (ValueError, ModelError, SettingsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    written = []
    if a.out:
        written += write_faces(faces, names, Path(a.out), a.scale)
    if a.grid:
        sheet = grid(faces, a.columns)
        if a.scale > 1:
            sheet = sheet.resize((sheet.width * a.scale, sheet.height * a.scale))
        Path(a.grid).parent.mkdir(parents=True, exist_ok=True)
        sheet.save(a.grid)
        written.append(Path(a.grid))
    if a.gif:
        Path(a.gif).parent.mkdir(parents=True, exist_ok=True)
        written.append(save_animation([upscale(f, max(a.scale, 2)) for f in faces], a.gif, fps=15))
    shown = ", ".join(str(w) for w in written[:3]) + (f" … ({len(written)} files)" if len(written) > 3 else "")
    print(f"wrote {shown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
