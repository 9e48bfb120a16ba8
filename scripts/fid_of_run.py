"""FID of a run's checkpoint: export it to a temp ONNX file and score it with the shared FID tool.

    python scripts/fid_of_run.py runs/anime [--no-ema] [--n 2000] [--one-thread]

Prints one JSON line: the tool's figures plus the run's step, training minutes and options,
so results of different runs can be tabulated (docs/training.md). --one-thread scores through
scripts/fid_one_thread.py, so that `taskset -c N` holds beside a training run on the other core.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer import checkpoint  # noqa: E402
from trainer.config import as_trained  # noqa: E402
from trainer.export import export  # noqa: E402
from scripts import fid_one_thread  # noqa: E402
from scripts.shared_paths import REAL, TOOL as FID_TOOL  # noqa: E402


def fid_of(onnx_path: Path, n: int, real: Path = REAL, tool: Path = FID_TOOL, one_thread: bool = False) -> dict:
    """The shared tool's JSON figures for an ONNX generator (one onnxruntime thread with one_thread)."""
    runner = [str(Path(fid_one_thread.__file__)), "--tool", str(tool)] if one_thread else [str(tool)]
    out = subprocess.run([sys.executable, *runner, "--real", str(real), "--onnx", str(onnx_path), "--n", str(n)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="run folder or checkpoint file")
    p.add_argument("--no-ema", action="store_true", help="score the raw generator instead of the EMA one")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--label", default="")
    p.add_argument("--one-thread", action="store_true", help="onnxruntime on one thread (scoring beside training)")
    a = p.parse_args(argv)
    state = checkpoint.load(a.checkpoint)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "generator.onnx"
        meta = export(a.checkpoint, onnx_path, use_ema=not a.no_ema)
        result = fid_of(onnx_path, a.n, one_thread=a.one_thread)
    cfg = asdict(as_trained(state["config"]))  # an old run's options as it was trained, not today's defaults
    print(json.dumps({"label": a.label or Path(a.checkpoint).name, **result, "weights": meta["training"]["weights"],
                      "step": state["step"], "train_minutes": round(state["train_seconds"] / 60, 1),
                      "epoch": state["epoch"], "options": {k: cfg.get(k) for k in (
                          "batch_size", "ngf", "ndf", "lr_g", "lr_d", "loss", "gamma", "lecam", "d_norm", "d_joint", "mbstd",
                          "ema_kimg", "lr_decay", "diffaug", "color_p", "color_tail", "tail_color_p", "flip", "g_upsample", "topk", "bf16",
                          "threads")}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
