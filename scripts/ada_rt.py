"""ADA's overfitting heuristic for a checkpoint's discriminator: would an adaptive augmentation probability go up?

    python scripts/ada_rt.py runs/anime/snapshots/epoch_040.pt [more checkpoints] [--batches 64]

StyleGAN2-ADA (Karras et al. 2020) raises the augmentation probability p while r_t = E[sign(D(real))] is above
a target of 0.6 (D calls more than 80 % of the training faces real: it is overfitting) and lowers it below. For
each checkpoint this prints one JSON line: r_t on training faces and the same for G's faces, with DiffAugment's
colour transforms applied to none, half or all of the images (translation and cutout as the run had them), D in
train mode on batches of the run's size, as in training. Why: issue #13 asked for an adaptive colour probability;
this says where such a controller would take it (docs/training.md, twenty-first pass).
"""
from __future__ import annotations

import argparse
from dataclasses import asdict
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer import checkpoint  # noqa: E402
from trainer.augment import diff_augment  # noqa: E402
from trainer.config import as_trained  # noqa: E402
from trainer.data import load_images, to_float  # noqa: E402
from trainer.export import generator_from_checkpoint  # noqa: E402
from trainer.model import Discriminator  # noqa: E402

COLOR_PS = (0.0, 0.5, 1.0)


@torch.no_grad()
def r_t(d: torch.nn.Module, batches: list[torch.Tensor], policy: str, color_p: float, seed: int = 0) -> float:
    """E[sign(D(x))] over the batches (in [-1, 1]; ADA's target is 0.6), each batch augmented by the policy."""
    torch.manual_seed(seed)  # the augmentations' draws
    signs = [torch.sign(d(diff_augment(x, policy, color_p)).float()).flatten() for x in batches]
    return float(torch.cat(signs).mean())


@torch.no_grad()
def verdicts(state: dict, images: torch.Tensor, batches: int, seed: int = 1) -> dict:
    """r_t on real batches and on G's faces (raw G, train mode, as D sees them in training) for each colour p."""
    cfg = asdict(as_trained(state["config"]))  # settings older checkpoints lack, as they were trained
    d = Discriminator(cfg["ndf"], cfg["image_size"], cfg["d_norm"], cfg["mbstd"])
    d.load_state_dict(state["discriminator"])
    g, _ = generator_from_checkpoint(state, use_ema=False)
    d.train(), g.train()  # BatchNorm on each batch's own statistics, as in a training step
    gen = torch.Generator().manual_seed(seed)
    bs = cfg["batch_size"]
    real = [to_float(images[torch.randint(len(images), (bs,), generator=gen)]) for _ in range(batches)]
    fake = [g(torch.randn(bs, cfg["nz"], generator=gen)) for _ in range(batches)]
    return {"epoch": state["epoch"], "trained_color_p": cfg["color_p"],
            "r_t_real": {p: round(r_t(d, real, cfg["diffaug"], p), 3) for p in COLOR_PS},
            "r_t_fake": {p: round(r_t(d, fake, cfg["diffaug"], p), 3) for p in COLOR_PS}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", help="run folders or checkpoint files")
    p.add_argument("--batches", type=int, default=64, help="batches of the run's size, real and fake each")
    p.add_argument("--data", default="", help="images (default: the data the first checkpoint names)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    states = [checkpoint.load(c) for c in a.checkpoints]
    cfg = states[0]["config"]
    images = load_images(a.data or cfg["data"], cfg["image_size"])
    for path, state in zip(a.checkpoints, states):
        print(json.dumps({"checkpoint": str(path), **verdicts(state, images, a.batches)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
