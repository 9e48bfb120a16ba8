"""Are the generated faces as colourful, as contrasty and as varied as the real ones?

    python scripts/face_stats.py --data ../shared/datasets/anime-faces-64.zip exported/generator.onnx runs/anime [--n 2000]

Prints one JSON line per source — the real faces first, then each model (an .onnx file, or a run folder /
checkpoint, exported to a temp file) — with the mean HSV saturation and value (0–255), the mean R, G, B and the
pixel standard deviation (contrast) of n faces (seeds 0..n-1 for models, the first n images for real ones), and
their spread: the mean RMS pixel distance between two of the first 1,000 (a set of look-alikes scores low).
Why: our generators' faces are paler, flatter and less varied than the real ones (docs/training.md, fourteenth
pass); FID reports that only as one number, these figures say which.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.engine import Engine  # noqa: E402
from scripts.nearest import squared_distances  # noqa: E402


def spread(faces: np.ndarray, limit: int = 1000) -> float:
    """Mean RMS pixel distance (0–255) over all pairs of the first `limit` faces."""
    q = faces[:limit]
    if len(q) < 2:
        return 0.0
    return float(np.sqrt(squared_distances(q, q, np.float64)[np.triu_indices(len(q), 1)]).mean())


def face_stats(faces: np.ndarray) -> dict[str, float | list[float]]:
    """faces: [N, H, W, 3] uint8 RGB."""
    hsv = np.stack([np.asarray(Image.fromarray(f).convert("HSV")) for f in faces]).astype(np.float64)
    return {"saturation": round(hsv[..., 1].mean(), 1), "value": round(hsv[..., 2].mean(), 1),
            "rgb": [round(v, 1) for v in faces.reshape(-1, 3).mean(0).tolist()],
            "contrast_std": round(float(faces.std()), 1), "spread_rms": round(spread(faces), 1)}


def model_faces(source: str, n: int) -> np.ndarray:
    path = Path(source)
    if path.suffix == ".onnx":
        return Engine(path, threads=1).faces(range(n))
    from trainer.export import export  # a run folder or checkpoint: torch only here, not in the app

    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "generator.onnx"
        export(source, onnx_path)
        return Engine(onnx_path, threads=1).faces(range(n))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help=".onnx files, run folders or checkpoints")
    p.add_argument("--data", required=True, help="the real faces (folder or .zip)")
    p.add_argument("--n", type=int, default=2000)
    a = p.parse_args(argv)
    from trainer.data import load_images

    real = load_images(a.data, 64, limit=a.n).permute(0, 2, 3, 1).numpy()
    print(json.dumps({"source": "real", "n": len(real), **face_stats(real)}))
    for source in a.models:
        print(json.dumps({"source": source, "n": a.n, **face_stats(model_faces(source, a.n))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
