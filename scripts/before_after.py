"""Two generators side by side on the same seeds, for judging a new model against the one it replaces.

    python scripts/before_after.py --old runs/shipped_before/generator.onnx --new exported/generator.onnx \
        --seeds 0-31 --out docs/before_after.png

Left: the old model's faces, right: the new one's, the same seed in the same cell (seed → z is the app's
convention, so the cells are comparable only for models with the same latent size). All faces are generated.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.generate import main as generate  # noqa: E402


def side_by_side(old: Image.Image, new: Image.Image, labels: tuple[str, str], gap: int = 16, band: int = 22) -> Image.Image:
    """The two grids with a caption above each."""
    w, h = old.width + gap + new.width, band + max(old.height, new.height)
    out = Image.new("RGB", (w, h), "white")
    out.paste(old, (0, band))
    out.paste(new, (old.width + gap, band))
    draw, font = ImageDraw.Draw(out), ImageFont.load_default(size=14)
    draw.text((4, 3), labels[0], fill="black", font=font)
    draw.text((old.width + gap + 4, 3), labels[1], fill="black", font=font)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--old", required=True, help="the generator being replaced (.onnx)")
    p.add_argument("--new", required=True, help="the new generator (.onnx)")
    p.add_argument("--seeds", default="0-31")
    p.add_argument("--columns", type=int, default=4)
    p.add_argument("--scale", type=int, default=2, choices=[1, 2, 4],
                   help="enlarge the sheets, so 64-px faces are judged at a visible size")
    p.add_argument("--labels", nargs=2, default=["before", "after"])
    p.add_argument("--out", default="before_after.png")
    a = p.parse_args(argv)
    sheets = []
    with tempfile.TemporaryDirectory() as tmp:  # each sheet is demo.generate's grid, as a user would make it
        for i, model in enumerate((a.old, a.new)):
            path = Path(tmp) / f"{i}.png"
            if generate(["--model", model, "--seeds", a.seeds, "--columns", str(a.columns), "--scale", str(a.scale),
                         "--grid", str(path)]):
                return 2  # generate printed the error
            sheets.append(Image.open(path).convert("RGB"))
    side_by_side(*sheets, labels=tuple(a.labels)).save(a.out)
    print(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
