"""Make the README's images from the shipped model (and the run's metrics for the curve).

    python scripts/readme_images.py [--model exported/generator.onnx] [--metrics runs/anime/metrics.csv]
                                    [--pictures DIR_OF_FACES]

Writes docs/grid.png (seeds 0–63), docs/morph_strip.png and docs/morph.gif (seed 24 → 42, slerp), docs/colorize.png
(generated faces: original | made gray | colourised by the shipped colouriser), docs/directions.png and
docs/named.png (each slider the Edit tab shows, on three faces across its range), with --pictures docs/projection.png
(each picture | the encoder's face | after refine) and, when the metrics file exists, docs/training_curve.png. All
faces are generated (--pictures: give faces of another generator, or your own drawings); no training image is used.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.colorizer import ColorizerEngine, read_picture, to_gray  # noqa: E402
from demo.engine import Engine  # noqa: E402
from demo.generate import main as generate  # noqa: E402
from demo.images import grid  # noqa: E402
from demo.latents import seeds_to_z  # noqa: E402
from demo.projection import Projector  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(ROOT / "exported" / "generator.onnx"))
    p.add_argument("--metrics", default=str(ROOT / "runs" / "anime" / "metrics.csv"))
    p.add_argument("--out", default=str(ROOT / "docs"))
    p.add_argument("--colorizer", default=str(ROOT / "exported" / "colorizer.onnx"))
    p.add_argument("--encoder", default=str(ROOT / "exported" / "encoder.onnx"))
    p.add_argument("--pictures", help="a folder of face pictures for docs/projection.png (not training images)")
    p.add_argument("--pair", type=int, nargs=2, default=[24, 42], help="seeds of the morph")
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    model = ["--model", a.model]  # the grid, strip and GIF come from the command-line generator, as a user would make them
    generate(model + ["--seeds", "0-63", "--grid", str(out / "grid.png"), "--scale", "2"])
    generate(model + ["--morph", *map(str, a.pair), "--frames", "10", "--grid", str(out / "morph_strip.png"), "--columns", "10"])
    generate(model + ["--morph", *map(str, a.pair), "--frames", "24", "--gif", str(out / "morph.gif")])
    eng = Engine(a.model)
    # each SeFa direction the app shows, applied to 3 faces at -5 … +5
    rows = []
    for i in eng.info.useful_directions:
        for seed in (1, 2, 3):
            for amt in np.linspace(-5, 5, 5):
                vec = np.zeros(eng.num_directions, np.float32)
                vec[i] = amt
                rows.append(eng.edit(seed, vec))
    if rows:
        grid(np.stack(rows), 15).save(out / "directions.png")
    rows = []  # each named direction on 3 faces, from one end of its slider to the other
    for d, m in zip(eng.info.named, eng.info.named_meta):
        for seed in (1, 2, 3):
            base = seeds_to_z([seed])[0]
            rows.extend(eng.render(base[None] + np.linspace(-1, 1, 5, dtype=np.float32)[:, None] * m["limit"] * d))
    if rows:
        grid(np.stack(rows), 15).save(out / "named.png")
    if a.pictures:
        pics = sorted(p for p in Path(a.pictures).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
        proj = Projector(eng, a.encoder)
        cells = []
        for pic in pics[:8]:
            quick, fine = proj.project(read_picture(pic).rgb), proj.project(read_picture(pic).rgb, refine=True)
            cells += [quick.picture, quick.face, fine.face]
        grid(np.stack(cells).repeat(2, axis=1).repeat(2, axis=2), 6).save(out / "projection.png")
    if Path(a.colorizer).exists():  # three rows: generated faces, made gray, coloured again from gray
        faces = eng.faces(range(100, 110))
        gray = np.stack([to_gray(f) for f in faces])
        col = ColorizerEngine(a.colorizer).colorize_batch(gray)
        big = np.concatenate([faces, gray, col]).repeat(2, axis=1).repeat(2, axis=2)
        grid(big, len(faces)).save(out / "colorize.png")
    if Path(a.metrics).exists():
        from trainer.metrics import plot_losses

        plot_losses(Path(a.metrics), out / "training_curve.png")
    print(f"wrote {', '.join(sorted(x.name for x in out.glob('*.png'))) } and morph.gif to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
