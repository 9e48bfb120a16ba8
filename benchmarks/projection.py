"""Projection quality and speed: how close the model's face gets to a picture, four ways, on the same faces.

    python -m benchmarks.projection [--encoder exported/encoder.onnx] [--n 200] [--gd-n 8] [--json out.json]

(a) the encoder alone, (b) the encoder + the app's refine step, (c) the best of --random seeds (the baseline an
encoder must beat), (d) PyTorch gradient descent on z (Adam on the pixel error, from the encoder's z) for
--gd-seconds per face: a ceiling. Faces: the real faces the encoder never trained on (the last --holdout of the
shared data set, as trainer.encoder holds them aside), --n of them spread evenly; (d) runs on the first --gd-n,
and every method is also reported on those alone, side by side. Figures: mean |Δpixel| (of 255) and the distance
between the FID Inception's pool features of picture and face (the shared tool's network), and the time per face
(CPU, this process's threads).
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.engine import Engine  # noqa: E402
from demo.latents import seeds_to_z  # noqa: E402
from demo.projection import Projector, pixel_error  # noqa: E402
from scripts.shared_paths import REAL, TOOL  # noqa: E402

METHODS = ("encoder", "encoder+refine", "best_random_seed", "gradient_descent")


def random_best(engine: Engine, picture: np.ndarray, n: int = 10_000, batch: int = 500) -> tuple[int, float]:
    """The seed (of 0 … n-1) whose face is closest to the picture, and its error: the baseline an encoder must beat."""
    best, best_err = 0, float("inf")
    for start in range(0, n, batch):
        seeds = range(start, min(n, start + batch))
        errs = pixel_error(engine.render(seeds_to_z(seeds, engine.info.nz)), picture)
        i = int(np.argmin(errs))
        if errs[i] < best_err:
            best, best_err = seeds[i], float(errs[i])
    return best, best_err


def held_out_faces(zip_path: Path, holdout: int, n: int) -> np.ndarray:
    """n of the last `holdout` faces of the zip (sorted names, as trainer.data reads them), evenly spread."""
    with zipfile.ZipFile(zip_path) as z:
        names = sorted(x for x in z.namelist() if x.lower().endswith((".jpg", ".jpeg", ".png", ".webp")))[-holdout:]
        pick = np.linspace(0, len(names) - 1, min(n, len(names))).round().astype(int)
        return np.stack([np.asarray(Image.open(io.BytesIO(z.read(names[i]))).convert("RGB").resize((64, 64)))
                         for i in pick])


def inception():
    spec = importlib.util.spec_from_file_location("fid_tool", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.features


def gradient_descent(generator_onnx: Path, target: np.ndarray, z0: np.ndarray, seconds: float) -> np.ndarray:
    """Adam on z for `seconds`, minimising the mean |Δpixel| through the PyTorch copy of the generator."""
    import torch

    from trainer.encoder import load_generator

    g, _ = load_generator(generator_onnx)
    x = torch.from_numpy(target.transpose(2, 0, 1)[None].astype(np.float32) / 127.5 - 1)
    z = torch.tensor(z0[None], requires_grad=True)
    opt = torch.optim.Adam([z], lr=0.03)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        loss = (g(z) - x).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return z.detach().numpy()[0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.projection", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(ROOT / "exported" / "generator.onnx"))
    p.add_argument("--encoder", default=str(ROOT / "exported" / "encoder.onnx"))
    p.add_argument("--real", default=str(REAL), help="the faces (zip); the last --holdout are the test faces")
    p.add_argument("--holdout", type=int, default=2000)
    p.add_argument("--n", type=int, default=200, help="test faces for (a)–(c)")
    p.add_argument("--gd-n", type=int, default=8, help="of those, how many get (d) too")
    p.add_argument("--gd-seconds", type=float, default=60.0)
    p.add_argument("--random", type=int, default=10_000, help="seeds (c) searches")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", help="write the figures here too")
    a = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    engine = Engine(a.model, threads=a.threads)
    proj = Projector(engine, a.encoder, threads=a.threads)
    faces = held_out_faces(Path(a.real), a.holdout, a.n)
    out: dict[str, list] = {m: [] for m in METHODS}
    times: dict[str, list] = {m: [] for m in METHODS}
    for i, face in enumerate(faces):
        t = time.perf_counter()
        r = proj.project(face)
        times["encoder"].append(time.perf_counter() - t)
        out["encoder"].append(r.face)
        t = time.perf_counter()
        r2 = proj.project(face, refine=True)
        times["encoder+refine"].append(time.perf_counter() - t)
        out["encoder+refine"].append(r2.face)
        t = time.perf_counter()
        seed, _ = random_best(engine, face, a.random)
        times["best_random_seed"].append(time.perf_counter() - t)
        out["best_random_seed"].append(engine.faces([seed])[0])
        if i < a.gd_n:
            z0 = proj.encode(face[None])[0]
            t = time.perf_counter()
            z = gradient_descent(Path(a.model), face, z0, a.gd_seconds)
            times["gradient_descent"].append(time.perf_counter() - t)
            out["gradient_descent"].append(engine.render(z[None])[0])
        print(f"face {i + 1}/{len(faces)}", file=sys.stderr, flush=True)
    features = inception()
    real_f = features(list(faces))
    rows = {}
    for subset, k in (("all", len(faces)), ("gd_faces", min(a.gd_n, len(faces)))):
        for m in METHODS:
            if len(out[m]) < k or k == 0:
                continue
            rec = np.stack(out[m][:k])
            f = features(list(rec))
            rows[f"{subset}/{m}"] = {
                "faces": k,
                "pixel_error": round(float(np.mean([pixel_error(rec[j:j + 1], faces[j])[0] for j in range(k)])), 2),
                "inception_distance": round(float(np.linalg.norm(f - real_f[:k], axis=1).mean()), 2),
                "ms_per_face": round(1000 * float(np.median(times[m][:k])), 1),
            }
    for name, row in rows.items():
        print(f"{name:32s} {row}")
    result = {"model": Path(a.model).name, "encoder": Path(a.encoder).name, "threads": a.threads,
              "random_seeds": a.random, "gd_seconds": a.gd_seconds, "rows": rows}
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
