"""Does the exported (eval-mode) generator make the faces G made in training (train mode)?

    python scripts/bn_modes.py runs/anime/checkpoint.pt [--n 1024] [--batch-size 16]

For the EMA and the raw generator of a checkpoint, prints one JSON line per way of normalising its BatchNorm
layers, with scripts/face_stats.py's figures of n faces (seeds 0..n-1): eval mode with the statistics the checkpoint
holds, eval mode after `recalibrate_bn` as the trainer runs it (what is exported) and in batches of the training size,
and train mode (each batch normalised by its own statistics, as D saw G's faces) at the training batch size.
Why: batch 16's faces were the palest of issue #13; this rules the export in or out (docs/training.md, twentieth pass).
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.latents import seeds_to_z, to_uint8  # noqa: E402
from scripts.face_stats import face_stats  # noqa: E402
from trainer import checkpoint  # noqa: E402
from trainer.export import generator_from_checkpoint  # noqa: E402
from trainer.train import recalibrate_bn  # noqa: E402


@torch.no_grad()
def faces(g: torch.nn.Module, z: torch.Tensor, train_mode: bool, batch_size: int):
    """[N, H, W, 3] uint8 faces of g, in batches of batch_size, BatchNorm in train or eval mode."""
    g.train(train_mode)
    return to_uint8(torch.cat([g(z[i:i + batch_size]) for i in range(0, len(z), batch_size)]).float().numpy())


def modes(g: torch.nn.Module, nz: int, n: int, batch_size: int) -> dict[str, dict]:
    """face_stats of g's faces under each normalisation (g itself is left untouched)."""
    z = torch.from_numpy(seeds_to_z(range(n), nz))
    out = {"eval, saved statistics": face_stats(faces(copy.deepcopy(g), z, False, 128))}
    for label, kwargs in (("eval, recalibrated (the EMA as exported)", {}),  # recalibrate_bn's own defaults
                          (f"eval, recalibrated in batches of {batch_size}",
                           {"batches": max(1, 1024 // batch_size), "batch_size": batch_size})):
        gg = copy.deepcopy(g)
        recalibrate_bn(gg, nz, **kwargs)
        out[label] = face_stats(faces(gg, z, False, 128))
    out[f"train mode, batch {batch_size}"] = face_stats(faces(copy.deepcopy(g), z, True, batch_size))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="run folder or checkpoint file")
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--batch-size", type=int, default=0, help="train-mode batch (default: the run's)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    state = checkpoint.load(a.checkpoint)
    cfg = state["config"]
    for use_ema in ([True, False] if state.get("ema") is not None else [False]):
        g, which = generator_from_checkpoint(state, use_ema)
        for mode, stats in modes(g, cfg["nz"], a.n, a.batch_size or cfg["batch_size"]).items():
            print(json.dumps({"weights": which, "mode": mode, **stats}, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
