"""FID of the colouriser: colour the held-out faces made gray, and score them against real faces with the shared tool.

    python scripts/fid_of_colorizer.py runs/colorizer              # a run folder or checkpoint (exported to a temp file)
    python scripts/fid_of_colorizer.py exported/colorizer.onnx     # an export, run as the app runs it
    python scripts/fid_of_colorizer.py --gray                      # calibration: the gray faces themselves

The faces are the run's held-out ones (the last --holdout of the data, never trained on), so the figure says how
the model does on faces it has not seen. Prints one JSON line: the tool's FID/KID plus the colourfulness
(Hasler & Süsstrunk) of the coloured and of the real faces, and the run's minutes and step.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.colorizer import ColorizerEngine, to_gray  # noqa: E402
from trainer import checkpoint  # noqa: E402
from trainer.data import held_out  # noqa: E402
from trainer.data import load_images  # noqa: E402
from trainer.export import export  # noqa: E402
from trainer.metrics import colourfulness  # noqa: E402
from scripts.shared_paths import REAL, TOOL as FID_TOOL  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", help="run folder, checkpoint, or colorizer.onnx")
    p.add_argument("--gray", action="store_true", help="score the gray faces instead (calibration)")
    p.add_argument("--data", default=str(REAL))
    p.add_argument("--holdout", type=int, default=2000, help="as the run's --holdout (default %(default)s)")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--label", default="")
    a = p.parse_args(argv)
    if not (a.model or a.gray):
        p.error("give a model, or --gray")
    faces = load_images(a.data, 64)
    held = faces[len(faces) - held_out(len(faces), a.holdout):][: a.n].permute(0, 2, 3, 1).numpy()
    info: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        onnx = None
        if a.model and not a.gray:
            onnx = Path(a.model)
            if onnx.suffix != ".onnx":
                state = checkpoint.load(onnx, "colorizer")
                info = {"step": state["step"], "train_minutes": round(state["train_seconds"] / 60, 1),
                        "epoch": state["epoch"], "options": {k: state["config"].get(k) for k in (
                            "gan_weight", "l1_weight", "ngf", "ndf", "batch_size", "ema_kimg", "threads")}}
                export(a.model, tmp / "colorizer.onnx")
                onnx = tmp / "colorizer.onnx"
        engine = ColorizerEngine(onnx, threads=0) if onnx else None
        out = tmp / "faces"
        out.mkdir()
        made = []
        for i in range(0, len(held), 256):
            gray = np.stack([to_gray(f) for f in held[i:i + 256]])
            batch = gray if engine is None else engine.colorize_batch(gray)
            made.append(batch)
            for j, f in enumerate(batch):
                Image.fromarray(f).save(out / f"{i + j:05d}.png")
        made = np.concatenate(made)
        res = subprocess.run([sys.executable, str(FID_TOOL), "--real", str(REAL), "--fake", str(out), "--n", str(a.n)],
                             check=True, capture_output=True, text=True).stdout
    result = json.loads(res.strip().splitlines()[-1])
    as_t = lambda x: torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255  # noqa: E731
    print(json.dumps({"label": a.label or ("gray" if a.gray else Path(a.model).name), **result,
                      "colourfulness": round(colourfulness(as_t(made)), 2),
                      "real_colourfulness": round(colourfulness(as_t(held)), 2), **info}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
