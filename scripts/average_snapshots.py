"""Average the EMA generators of several snapshots of one run into a new checkpoint (post-hoc weight averaging).

    python scripts/average_snapshots.py runs/long3/snapshots/epoch_2{30,35,40,45,50}.pt --out runs/long3_avg.pt

Why: the run's EMA has a half-life of ~44 k images; averaging snapshots a few epochs apart late in the decay is a
longer average taken after the fact (as SWA does), to see whether a longer EMA would have helped without retraining.
The output is the last snapshot with its `ema` weights replaced by the plain mean and BatchNorm statistics
re-estimated for them, so `scripts/fid_of_run.py` and `python -m trainer.export` take it as they take any checkpoint.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer import checkpoint  # noqa: E402
from trainer.export import generator_from_checkpoint  # noqa: E402
from trainer.train import recalibrate_bn  # noqa: E402


def average(paths: list[str]) -> dict:
    """The last state with `ema` = the mean of every state's EMA parameters (BatchNorm stats re-estimated)."""
    states = [checkpoint.load(p, kind="dcgan") for p in paths]
    if any(s.get("ema") is None for s in states):
        raise SystemExit("every snapshot needs EMA weights")
    shapes = {(s["config"]["nz"], s["config"]["ngf"], s["config"]["image_size"]) for s in states}
    if len(shapes) > 1:
        raise SystemExit(f"snapshots of different generators (nz, ngf, image size: {sorted(shapes)}): average one run's")
    g, _ = generator_from_checkpoint(states[-1])
    with torch.no_grad():
        for name, p in g.named_parameters():
            p.copy_(torch.stack([s["ema"][name].float() for s in states]).mean(0))
    recalibrate_bn(g, states[-1]["config"]["nz"])
    out = dict(states[-1])
    out["ema"] = {k: v.clone() for k, v in g.state_dict().items()}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("snapshots", nargs="+", help="checkpoint files of one run, oldest first")
    p.add_argument("--out", required=True, help="checkpoint file to write")
    a = p.parse_args(argv)
    try:
        checkpoint.save(average(a.snapshots), a.out)
    except checkpoint.CheckpointError as e:
        raise SystemExit(str(e)) from None
    print(f"averaged {len(a.snapshots)} EMA generators → {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
