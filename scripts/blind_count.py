"""A blind by-eye count of broken faces: several generators' faces shuffled into one numbered sheet.

    python scripts/blind_count.py sheet --models runs/a/generator.onnx exported/generator.onnx \
        --seeds 64-95 --out /tmp/blind                  # writes /tmp/blind/sheet_*.png and key.json
    # look at the sheets, write down the numbers of the broken faces, then:
    python scripts/blind_count.py score --key /tmp/blind/key.json --broken 3,17,40-42

Counting faces while knowing which model made them invites seeing what one expects; here the cells are shuffled
(a fixed order in key.json) and numbered, and the model behind each number is only read back by `score`.
All faces are generated (seed → z is the app's convention).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.engine import Engine  # noqa: E402
from demo.generate import parse_seeds  # noqa: E402
from demo.images import upscale  # noqa: E402


def numbered_sheet(faces: list[np.ndarray], first: int, columns: int, scale: int) -> Image.Image:
    """Faces in rows, each with its number in a band above it."""
    size, band, gap = faces[0].shape[0] * scale, 16, 4
    rows = -(-len(faces) // columns)
    out = Image.new("RGB", (columns * (size + gap), rows * (size + band + gap)), "white")
    draw, font = ImageDraw.Draw(out), ImageFont.load_default(size=13)
    for i, face in enumerate(faces):
        x, y = (i % columns) * (size + gap), (i // columns) * (size + band + gap)
        draw.text((x + 2, y + 1), str(first + i), fill="black", font=font)
        out.paste(upscale(face, scale), (x, y + band))
    return out


def make_sheets(models: list[str], seeds: list[int], out: Path, per_sheet: int, columns: int, scale: int,
                shuffle_seed: int) -> list[Path]:
    """Generate every model's faces for `seeds`, shuffle them, write the numbered sheets and key.json (number → model, seed)."""
    cells = [(m, s) for m in models for s in seeds]
    faces = {}
    for m in models:
        faces.update({(m, s): face for s, face in zip(seeds, Engine(m).faces(seeds, 1.0))})
    order = np.random.default_rng(shuffle_seed).permutation(len(cells))
    key = [{"number": i, "model": cells[j][0], "seed": cells[j][1]} for i, j in enumerate(order)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "key.json").write_text(json.dumps(key, indent=0))
    paths = []
    for start in range(0, len(key), per_sheet):
        chunk = key[start:start + per_sheet]
        imgs = [faces[c["model"], c["seed"]] for c in chunk]
        path = out / f"sheet_{start // per_sheet + 1}.png"
        numbered_sheet(imgs, start, columns, scale).save(path)
        paths.append(path)
    return paths


def score(key_file: Path, broken: list[int]) -> dict[str, dict[str, int]]:
    """Faces and broken faces per model, from the numbers noted on the sheets."""
    key, broken_set = json.loads(key_file.read_text()), set(broken)
    if unknown := sorted(broken_set - {c["number"] for c in key}):
        raise ValueError(f"no face numbered {unknown[:5]} on these sheets (0–{len(key) - 1})")
    counts: dict[str, dict[str, int]] = {}
    for c in key:
        row = counts.setdefault(c["model"], {"faces": 0, "broken": 0})
        row["faces"] += 1
        row["broken"] += c["number"] in broken_set
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sheet", help="write the shuffled, numbered sheets and key.json")
    s.add_argument("--models", nargs="+", required=True, help="generators (.onnx) to compare")
    s.add_argument("--seeds", default="64-95", help="the same seeds from each model (default %(default)s)")
    s.add_argument("--out", required=True, help="folder for the sheets and key.json")
    s.add_argument("--per-sheet", type=int, default=48)
    s.add_argument("--columns", type=int, default=8)
    s.add_argument("--scale", type=int, default=2, choices=[1, 2, 4])
    s.add_argument("--shuffle-seed", type=int, default=0)
    c = sub.add_parser("score", help="which model the broken faces came from")
    c.add_argument("--key", required=True, help="key.json written by `sheet`")
    c.add_argument("--broken", default="", help='numbers of the broken faces: "3,17,40-42"')
    a = p.parse_args(argv)
    try:
        if a.cmd == "sheet":
            for path in make_sheets(a.models, parse_seeds(a.seeds), Path(a.out), a.per_sheet, a.columns, a.scale,
                                    a.shuffle_seed):
                print(path)
        else:
            broken = parse_seeds(a.broken) if a.broken.strip() else []
            print(json.dumps(score(Path(a.key), broken), indent=1))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
