"""The colouriser's training: `python -m trainer.colorize --help`.

pix2pix on Lab: a U-Net takes a face's lightness (L/100) and predicts its colour (ab/110); a patch
discriminator judges (L, ab) pairs. One step: D learns real pairs from (L, predicted ab) pairs, then the U-Net
learns to fool it while staying close to the true colours (--l1-weight × |ab - ab_true| + --gan-weight ×
the adversarial loss). L1 alone averages the plausible colours of hair and eyes into brown; the GAN term is
what makes them commit to one. --gan-weight 0 trains the L1-only baseline (no D).

Everything else (data decoded once, checkpoints, --resume, --max-minutes, metrics, EMA) is trainer.loop's and
trainer.ema's, shared with the DCGAN. The last --holdout faces are never trained on: the sample sheet
(gray | colourised | original) and the held-out scores in metrics.csv come from them.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.utils import save_image

from trainer import lab, loop
from trainer.config import RUN_RESUMABLE, ConfigError, RunConfig, option, check_run, parse_config
from trainer.data import held_out
from trainer.distributed import Dist
from trainer.ema import EMA
from trainer.loop import StopFlag, Task, native_bf16
from trainer.losses import d_loss, g_loss
from trainer.metrics import colourfulness
from trainer.unet import PatchDiscriminator, UNet

PROG = "python -m trainer.colorize"
USAGE = """Train the colouriser (grayscale face → colour) on a folder or .zip of colour faces.

    python -m trainer.colorize --data ../shared/datasets/anime-faces-64.zip --out runs/colorizer
    python -m trainer.colorize --out runs/colorizer --resume --epochs 30

Every epoch (and on Ctrl-C / SIGTERM / --max-minutes) the run folder gets an atomic checkpoint.pt, a sheet of
held-out faces under samples/ (gray | colourised | original) and rows in metrics.csv. Export the result with
`python -m trainer.export --checkpoint runs/colorizer` (writes colorizer.onnx there).
"""
SHEET_FACES = 24  # held-out faces on every sample sheet
SCORE_FACES = 512  # held-out faces scored every epoch


@dataclass
class ColorizerConfig(RunConfig):
    """The colouriser's settings (python -m trainer.colorize)."""
    out: str = field(default="runs/colorizer", metadata=option("run folder for checkpoint, samples and metrics"))
    epochs: int = field(default=20, metadata=option("total epochs to reach"))
    ngf: int = field(default=32, metadata=option("U-Net width (channels of its first level)"))
    ndf: int = field(default=32, metadata=option("patch discriminator width"))
    l1_weight: float = field(default=100.0, metadata=option("weight of |ab - ab_true| (pix2pix's 100)"))
    gan_weight: float = field(default=1.0, metadata=option(
        "weight of the adversarial loss; 0 = the L1-only baseline (no discriminator is trained)"))
    lr_g: float = field(default=2e-4, metadata=option("U-Net Adam learning rate"))
    lr_d: float = field(default=2e-4, metadata=option("discriminator Adam learning rate"))
    beta1: float = field(default=0.5, metadata=option("Adam beta1 (pix2pix's 0.5)"))
    beta2: float = field(default=0.999, metadata=option("Adam beta2"))
    ema_kimg: float = field(default=10.0, metadata=option(
        "half-life of the U-Net's moving average, in thousands of images; 0 = no EMA"))
    ema_rampup: float = field(default=0.05, metadata=option(
        "early on, the half-life is at most this fraction of the images seen so far (0 = no ramp-up)"))
    flip: bool = field(default=True, metadata=option("mirror a random half of each batch (more faces to learn from)"))
    holdout: int = field(default=2000, metadata=option(
        "faces held aside (the last N, at most a fifth of the data): never trained on; samples and scores"))


# What may change on --resume: besides limits and logging, the rates and the loss weights, so that a run can be
# fine-tuned (e.g. a lower --l1-weight once the colours are right on average, for bolder ones).
RESUMABLE = RUN_RESUMABLE | {"lr_g", "lr_d", "l1_weight", "gan_weight"}


def config_from_args(argv: list[str] | None = None) -> tuple[ColorizerConfig, bool]:
    return parse_config(argv, ColorizerConfig, "colorizer", PROG, USAGE, RESUMABLE)


def check_config(cfg: ColorizerConfig, native_bf16: bool) -> None:
    check_run(cfg, native_bf16)
    for name in ("l1_weight", "gan_weight", "ema_kimg", "ema_rampup", "holdout"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"--{name.replace('_', '-')} must not be negative, got {getattr(cfg, name)}")
    if not (cfg.l1_weight or cfg.gan_weight):
        raise ConfigError("--l1-weight and --gan-weight are both 0: nothing to learn")
    if not (cfg.lr_g > 0 and cfg.lr_d > 0):
        raise ConfigError("--lr-g and --lr-d must be positive")


class ColorizerTrainer(Task):
    """The U-Net, the patch D, their optimisers and the U-Net's EMA (the loop in trainer.loop does the rest)."""

    KIND = "colorizer"
    EPOCH_METRICS = ("val_l1", "val_colourfulness", "real_colourfulness")

    def __init__(self, cfg: ColorizerConfig, data: torch.Tensor, dist: Dist | None = None):
        n_held = held_out(len(data), cfg.holdout)
        super().__init__(cfg, data[:len(data) - n_held], dist)
        self.held = data[len(data) - n_held:]
        dev = self.dist.device
        torch.manual_seed(cfg.seed)
        self.G = UNet(cfg.ngf, cfg.image_size).to(dev)
        self.D = PatchDiscriminator(cfg.ndf).to(dev)
        self.ema = EMA(self.G, cfg.ema_kimg, cfg.ema_rampup, dev) if cfg.ema_kimg > 0 else None
        self.G_train, self.D_train, self.opt_g, self.opt_d = self.gan_pair(self.G, self.D)

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(L/100, ab/110) of the next batch (half of it mirrored: --flip, on by default here)."""
        rgb = self.batch_images().to(self.dist.device).float() / 255
        L, ab = lab.split(rgb)
        return self.layout(L), self.layout(ab)

    def train_step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        cfg = self.cfg
        L, ab = batch
        with self.autocast():
            fake = self.G_train(L).float()
        stats = {}
        if cfg.gan_weight:
            with self.autocast():
                d_real, d_fake = self.D_train(L, ab).float(), self.D_train(L, fake.detach()).float()
            loss_d = d_loss("bce", d_real, d_fake)
            self.check("discriminator", loss_d)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            stats = {"loss_d": loss_d.item(), "d_real": d_real.mean().item(), "d_fake": d_fake.mean().item()}
        l1 = F.l1_loss(fake, ab)
        loss_g = cfg.l1_weight * l1
        if cfg.gan_weight:
            with self.autocast():  # through the bare D: its gradients here are not wanted (no all-reduce)
                adv = g_loss("bce", self.D(L, fake).float())
            loss_g = loss_g + cfg.gan_weight * adv
            stats["adv"] = adv.item()
        self.update_g(loss_g)
        return {"loss_g": loss_g.item(), "l1": l1.item(), **stats}

    # ---- what gets exported / sampled -----------------------------------
    def inference_net(self) -> UNet:
        return self.ema.net if self.ema is not None else self.G.eval()

    @torch.no_grad()
    def colourise(self, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """uint8 RGB faces → (their gray version, the colourised one), both RGB in [0, 1]."""
        was_training = self.G.training
        net = self.inference_net()
        grays, cols = [], []
        for i in range(0, len(images), batch):
            L, _ = lab.split(images[i:i + batch].to(self.dist.device).float() / 255)
            grays.append(lab.join(L, torch.zeros_like(L).repeat(1, 2, 1, 1)))
            cols.append(lab.join(L, net(self.layout(L)).float()))
        self.G.train(was_training)
        return torch.cat(grays), torch.cat(cols)

    def save_samples(self, path: Path) -> None:
        faces = self.held[:SHEET_FACES] if len(self.held) else self.data[:SHEET_FACES]
        gray, col = self.colourise(faces)
        real = faces.to(gray.device).float() / 255
        triplets = torch.stack([gray, col, real], dim=1).flatten(0, 1)  # gray | colourised | original, per face
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(triplets, path, nrow=12, padding=1, pad_value=1.0)

    def epoch_metrics(self) -> dict[str, float]:
        """Held-out L1 in ab/110 and colourfulness (Hasler & Süsstrunk) of the colourised faces and of the originals:
        L1 alone can lower the first while draining the second."""
        faces = self.held[:SCORE_FACES]
        if not len(faces):
            return {}
        _, col = self.colourise(faces)
        real = faces.to(col.device).float() / 255
        _, ab_true = lab.split(real)
        _, ab_pred = lab.split(col)
        return {"val_l1": F.l1_loss(ab_pred, ab_true).item(), "val_colourfulness": colourfulness(col),
                "real_colourfulness": colourfulness(real)}

    def model_state(self) -> dict:
        return {**super().model_state(), "num_held_out": len(self.held)}


def run(cfg: ColorizerConfig, resume: bool = False, stop: StopFlag | None = None,
        dist: Dist | None = None) -> ColorizerTrainer:
    """Train the colouriser (trainer.loop.run: until cfg.epochs, cfg.max_minutes, cfg.max_steps or a stop signal)."""
    check_config(cfg, native_bf16())
    return loop.run(ColorizerTrainer, cfg, resume, stop, dist)


def main(argv: list[str] | None = None) -> int:
    return loop.main(lambda: config_from_args(argv), run, PROG, "colorizer.onnx",
                     lambda cfg, onnx: f"--colorizer {onnx}")


if __name__ == "__main__":
    sys.exit(main())
