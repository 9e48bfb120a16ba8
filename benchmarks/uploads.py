"""What one Colourise request spends reading its upload: decoded once (the app) vs once per step, in one run.

    python -m benchmarks.uploads [--rounds 15] [--json out.json]

A Colourise request reads its upload three times (the check that refuses a bad file, the gray preview, the
model's input). The app decodes it once and shares the read-only pixels (`demo.handlers.decoded`); the
alternative decodes it at each step (`read_picture` three times). Pictures: 512² and 2048² PNG and a 2048² JPEG,
written into a temporary upload folder. The two contenders take turns within each round (this machine has
slow spells), the decode cache is emptied before every "once" request, and the figure is the median over rounds.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

READS = 3  # check, gray preview, colorize


def picture(side: int, seed: int = 0) -> Image.Image:
    """A smooth picture with some grain: compresses like a drawing, not like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    rgb = np.stack([np.sin(6 * x + 2 * y), np.cos(5 * y - 3 * x), np.sin(4 * (x + y))], axis=2) * 90 + 128
    rgb += rng.normal(0, 6, rgb.shape)
    return Image.fromarray(rgb.clip(0, 255).astype(np.uint8))


def measure(folder: Path, rounds: int) -> dict:
    """Both ways of reading each picture, written into `folder` (the upload folder for the app's path check)."""
    os.environ["GRADIO_TEMP_DIR"] = str(folder)  # before Gradio is imported: uploads live here
    from demo.colorizer import read_picture
    from demo.handlers import Colorize, decoded

    cases = {"png_512": (512, "PNG"), "png_2048": (2048, "PNG"), "jpeg_2048": (2048, "JPEG")}
    results = {}
    for name, (side, fmt) in cases.items():
        path = folder / f"{name}.{fmt.lower()}"
        picture(side).save(path, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        once, each = [], []
        for _ in range(rounds):
            decoded.cache_clear()
            t = time.perf_counter()
            pics = [Colorize.picture(str(path)) for _ in range(READS)]
            once.append(time.perf_counter() - t)
            t = time.perf_counter()
            others = [read_picture(path) for _ in range(READS)]
            each.append(time.perf_counter() - t)
            assert all(np.array_equal(q.rgb, r.rgb) for q, r in zip(pics, others))  # same pixels either way
        r = results[name] = {"bytes": path.stat().st_size, "side": side, "reads": READS,
                             "decode_once_ms": round(1000 * statistics.median(once), 1),
                             "decode_each_ms": round(1000 * statistics.median(each), 1)}
        print(f"{name:10s} {r['bytes'] / 2**20:5.1f} MiB  decode once {r['decode_once_ms']:7.1f} ms   "
              f"decode at each of {READS} reads {r['decode_each_ms']:7.1f} ms")
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--json", type=Path, help="also write the figures here")
    a = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="uploads-bench-") as tmp:
        results = measure(Path(tmp), a.rounds)
    if a.json:
        a.json.write_text(json.dumps({"rounds": a.rounds, "cases": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
