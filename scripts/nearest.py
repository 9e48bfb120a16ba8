"""Memorisation check: is a generated face a copy of a training image?

    python scripts/nearest.py --data ../shared/datasets/anime-faces-64.zip [--n 16] [--out runs/nearest.png]

For n generated faces (seeds 0..n-1) finds the nearest training image by pixel L2 and compares those
distances with the nearest-neighbour distances *between real images* (n training images against the rest):
copies would sit far below that real-vs-real baseline. The side-by-side picture holds training images,
so it is written under runs/ (not committed).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.engine import Engine  # noqa: E402
from demo.images import grid  # noqa: E402


def squared_distances(queries: np.ndarray, bank: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """[len(queries), len(bank)] mean squared pixel differences (0–255 units) of every query to every bank image."""
    q = queries.reshape(len(queries), -1).astype(dtype)
    b = bank.reshape(len(bank), -1).astype(dtype)
    d2 = (q ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * q @ b.T
    return np.maximum(d2, 0) / q.shape[1]


def nearest(queries: np.ndarray, bank: np.ndarray, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(index, RMS pixel distance in 0–255 units) of each query's nearest image in bank. exclude: each query's own
    index in bank, skipped by index (a distance threshold missed it: float32 leaves ~0.05 RMS of an image to itself)."""
    d2 = squared_distances(queries, bank)
    if exclude is not None:
        d2[np.arange(len(d2)), exclude] = np.inf
    idx = d2.argmin(1)
    return idx, np.sqrt(d2[np.arange(len(d2)), idx])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--model", default=str(ROOT / "exported" / "generator.onnx"))
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--out", default=str(ROOT / "runs" / "nearest.png"))
    a = p.parse_args(argv)
    from trainer.data import load_images

    real = load_images(a.data, 64).permute(0, 2, 3, 1).numpy()
    fake = Engine(a.model).faces(range(a.n))
    fi, fd = nearest(fake, real)
    rng = np.random.RandomState(0)
    probe = rng.choice(len(real), a.n, replace=False)
    _, rd = nearest(real[probe], real, exclude=probe)
    pairs = np.stack([x for i in range(a.n) for x in (fake[i], real[fi[i]])])
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    grid(pairs, 8).save(a.out)
    print(json.dumps({"generated_to_nearest_train_rms": {"min": round(float(fd.min()), 1), "median": round(float(np.median(fd)), 1)},
                      "real_to_nearest_other_real_rms": {"min": round(float(rd.min()), 1), "median": round(float(np.median(rd)), 1)},
                      "pairs_image": a.out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
