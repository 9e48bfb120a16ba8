"""The encoder's training: `python -m trainer.encoder --help`.

An encoder E maps a 64×64 face to the z whose generated face is closest to it, so a visitor's own picture can be
morphed and edited like any generated face. The generator is an exported generator.onnx (the very file the app
runs; its sha256 goes into the encoder's metadata, and the app refuses an encoder trained for another one), loaded
back into PyTorch and frozen. Each step trains E on two batches:

- generated faces G(z), where the answer is known: ‖E(G(z)) − z‖² and |G(E(G(z))) − G(z)|;
- real faces x, through G: |G(E(x)) − x| (+ --feature-weight × the distance between the features that a trained
  discriminator sees in both, with --features RUN: a DCGAN run folder whose D has learned what faces look like),
  plus a small pull of |E(x)|² towards nz (z stays where the generator was trained).

Everything else (data decoded once, checkpoints, --resume, --max-minutes, metrics, EMA) is trainer.loop's and
trainer.ema's, shared with the other two trainers. The last --holdout faces are never trained on: the sample sheet
(picture | the model's closest face) and the held-out error in metrics.csv come from them.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.utils import save_image

from demo.engine import ModelError, file_sha256, read_metadata
from demo.latents import seeds_to_z
from trainer import checkpoint, loop
from trainer.config import RUN_RESUMABLE, ConfigError, RunConfig, as_trained, check_run, option, parse_config
from trainer.data import DataError, held_out, to_float
from trainer.distributed import Dist
from trainer.ema import EMA
from trainer.loop import StopFlag, Task, native_bf16
from trainer.model import Discriminator, Encoder, FoldedGenerator, Generator

PROG = "python -m trainer.encoder"
USAGE = """Train an encoder (face → z) for an exported generator, on a folder or .zip of faces.

    python -m trainer.encoder --generator exported/generator.onnx --data ../shared/datasets/anime-faces-64.zip \\
        --out runs/encoder
    python -m trainer.encoder --out runs/encoder --resume --epochs 30

Export the result with `python -m trainer.export --checkpoint runs/encoder` (writes encoder.onnx there); the app
loads exported/encoder.onnx (or --encoder FILE) for its "Your face" tab.
"""
SHEET_FACES = 24
SCORE_FACES = 512


@dataclass
class EncoderConfig(RunConfig):
    """The encoder's settings (python -m trainer.encoder)."""
    out: str = field(default="runs/encoder", metadata=option("run folder for checkpoint, samples and metrics"))
    generator: str = field(default="exported/generator.onnx", metadata=option(
        "the exported generator (.onnx with its .json) the encoder learns to invert"))
    features: str = field(default="", metadata=option(
        "a DCGAN run folder (or checkpoint) whose discriminator's features give the perceptual term; \"\" = pixels only"))
    epochs: int = field(default=12, metadata=option("total epochs to reach"))
    batch_size: int = field(default=32, metadata=option("real faces per step (and as many generated ones)"))
    nef: int = field(default=32, metadata=option("encoder width (channels at its first map)"))
    lr: float = field(default=5e-4, metadata=option("Adam learning rate (cosine decay to a tenth over --epochs)"))
    z_weight: float = field(default=1.0, metadata=option("weight of ‖E(G(z)) − z‖² on generated faces"))
    pixel_weight: float = field(default=1.0, metadata=option("weight of the mean |Δpixel| (in [-1, 1]) of both batches"))
    feature_weight: float = field(default=1.0, metadata=option("weight of the discriminator-feature distance (--features)"))
    prior_weight: float = field(default=0.01, metadata=option("weight of the pull of |E(x)|²/nz towards 1 on real faces"))
    ema_kimg: float = field(default=10.0, metadata=option("half-life of the encoder's moving average (kimg); 0 = none"))
    ema_rampup: float = field(default=0.05, metadata=option("early on, the half-life is at most this share of images seen"))
    flip: bool = field(default=True, metadata=option("mirror a random half of each batch of real faces"))
    init: str = field(default="", metadata=option(
        "an encoder run folder (or checkpoint) whose averaged weights start this one: retargets the encoder of a "
        "generator to its retrained successor in a fraction of the epochs; \"\" = from scratch"))
    holdout: int = field(default=2000, metadata=option(
        "faces held aside (the last N, at most a fifth of the data): never trained on; samples and scores"))


RESUMABLE = RUN_RESUMABLE | {"lr", "feature_weight", "prior_weight"}


def config_from_args(argv: list[str] | None = None) -> tuple[EncoderConfig, bool]:
    return parse_config(argv, EncoderConfig, "encoder", PROG, USAGE, RESUMABLE)


def check_config(cfg: EncoderConfig, native_bf16: bool) -> None:
    check_run(cfg, native_bf16)
    for name in ("z_weight", "pixel_weight", "feature_weight", "prior_weight", "ema_kimg", "ema_rampup", "holdout"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"--{name.replace('_', '-')} must not be negative, got {getattr(cfg, name)}")
    if not cfg.lr > 0:
        raise ConfigError("--lr must be positive")
    if not (cfg.z_weight or cfg.pixel_weight):
        raise ConfigError("--z-weight and --pixel-weight are both 0: nothing to learn")


def load_generator(path: str | Path) -> tuple[FoldedGenerator, dict]:
    """An exported generator.onnx back in PyTorch (BatchNorm folded, as exported), frozen, with its metadata.
    Checked against onnxruntime, so the encoder learns the generator the app really runs."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    path = Path(path)
    try:
        meta = read_metadata(path, "generator", "export one with `python -m trainer.export`")
    except ModelError as e:  # missing, unreadable, or not the file its export hashed
        raise DataError(str(e)) from None
    try:
        nz, size, ngf = int(meta["nz"]), int(meta["image_size"]), int(meta["training"]["options"]["ngf"])
        upsample = as_trained(meta["training"]["options"]).g_upsample  # an export from before the option: transpose
        weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(str(path)).graph.initializer}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"{path}: not an exported generator with its .json ({type(e).__name__}: {e})") from None
    g = FoldedGenerator(Generator(nz, ngf, size, upsample))
    state = g.state_dict()
    for name in state:
        if name in weights:
            state[name] = weights[name].reshape(state[name].shape)
        elif name.endswith(".bias"):
            state[name] = torch.zeros_like(state[name])  # a zero bias the exporter folded away
        else:
            raise DataError(f"{path}: has no weight {name!r}: not a generator of this project's shape")
    g.load_state_dict(state)
    g.eval().requires_grad_(False)
    z = seeds_to_z(range(4), nz)
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"z": z})[0]
    with torch.no_grad():
        diff = float(np.abs(g(torch.from_numpy(z)).numpy() - ref).max())
    if diff > 1e-4:
        raise DataError(f"{path}: loaded back into PyTorch it differs from onnxruntime by {diff:.1e}")
    return g, meta


def load_features(run: str | Path, image_size: int) -> Discriminator:
    """A trained DCGAN's discriminator, frozen, for the perceptual term."""
    state = checkpoint.load(run, "dcgan")
    cfg = as_trained(state["config"])
    if cfg.image_size != image_size:
        raise ConfigError(f"--features {run}: trained at {cfg.image_size} px, the generator makes {image_size} px")
    d = Discriminator(cfg.ndf, cfg.image_size, cfg.d_norm, cfg.mbstd)
    d.load_state_dict(state["discriminator"])
    return d.eval().requires_grad_(False)


def feature_maps(d: Discriminator, x: torch.Tensor) -> list[torch.Tensor]:
    """D's activations after each of its LeakyReLUs (its view of the face at every scale)."""
    out = []
    for layer in list(d.main)[:-1]:  # all but the last conv (the logit)
        x = layer(x)
        if isinstance(layer, nn.LeakyReLU):
            out.append(x)
    return out


class EncoderTrainer(Task):
    """E, its optimiser and EMA; the frozen generator (and optional feature D). trainer.loop does the rest."""

    KIND = "encoder"
    EPOCH_METRICS = ("val_pixel_error", "val_z_error")

    def __init__(self, cfg: EncoderConfig, data: torch.Tensor, dist: Dist | None = None):
        n_held = held_out(len(data), cfg.holdout)
        super().__init__(cfg, data[:len(data) - n_held], dist)
        self.held = data[len(data) - n_held:]
        dev = self.dist.device
        self.gen, self.gen_meta = load_generator(cfg.generator)
        self.gen = self.gen.to(dev)
        self.generator_sha256 = file_sha256(cfg.generator)
        self.nz = int(self.gen_meta["nz"])
        if int(self.gen_meta["image_size"]) != cfg.image_size:
            raise ConfigError(f"--image-size {cfg.image_size}: the generator makes {self.gen_meta['image_size']} px faces")
        self.feat = load_features(cfg.features, cfg.image_size).to(dev) if cfg.features else None
        torch.manual_seed(cfg.seed)
        self.G = Encoder(self.nz, cfg.nef, cfg.image_size).to(dev)  # "G": the network this task trains
        self.ema = EMA(self.G, cfg.ema_kimg, cfg.ema_rampup, dev) if cfg.ema_kimg > 0 else None
        self.opt_g = torch.optim.Adam(self.G.parameters(), cfg.lr, betas=(0.9, 0.99))

    def start(self) -> None:
        """--init: E (and its average) from another encoder run of the same shape, e.g. the shipped generator's."""
        if not self.cfg.init:
            return
        try:
            state = checkpoint.load(self.cfg.init, self.KIND)
        except checkpoint.CheckpointError as e:
            raise ConfigError(f"--init: {e}") from None
        weights = state.get("ema") or state["generator"]
        was = as_trained(state["config"], EncoderConfig, None)
        if state.get("nz") != self.nz or was.nef != self.cfg.nef or was.image_size != self.cfg.image_size:
            raise ConfigError(f"--init {self.cfg.init}: an encoder of nz {state.get('nz')}, --nef {was.nef} at "
                              f"{was.image_size} px; this run is nz {self.nz}, --nef {self.cfg.nef} at "
                              f"{self.cfg.image_size} px")
        self.G.load_state_dict(weights)
        if self.ema is not None:
            self.ema.net.load_state_dict(weights)

    def lr_at(self, step: int) -> float:
        """Cosine from --lr down to a tenth of it over --epochs."""
        total = self.cfg.epochs * self.steps_per_epoch
        return self.cfg.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * min(step, total) / total)))

    def batch(self) -> torch.Tensor:
        return to_float(self.batch_images().to(self.dist.device))

    def features_distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Mean over D's maps of |features(a) − features(b)|, each map scaled by b's mean magnitude."""
        maps = feature_maps(self.feat, torch.cat([a, b]))
        return sum(F.l1_loss(f[:len(a)], f[len(a):]) / (f[len(a):].abs().mean().detach() + 1e-6) for f in maps) / len(maps)

    def train_step(self, real: torch.Tensor) -> dict[str, float]:
        cfg = self.cfg
        z = torch.randn(len(real), self.nz, device=real.device)
        with torch.no_grad():
            fake = self.gen(z)
        with self.autocast():
            zz = self.G(torch.cat([fake, real])).float()
        z_fake, z_real = zz.chunk(2)
        with self.autocast():
            back = self.gen(zz).float()
        back_fake, back_real = back.chunk(2)
        loss_z = F.mse_loss(z_fake, z)
        pix = F.l1_loss(back_fake, fake) + F.l1_loss(back_real, real)
        prior = ((z_real.square().mean(dim=1) - 1) ** 2).mean()
        loss = cfg.z_weight * loss_z + cfg.pixel_weight * pix + cfg.prior_weight * prior
        stats = {"z": loss_z.item(), "pixel": pix.item()}
        if self.feat is not None and cfg.feature_weight:
            with self.autocast():
                feat = self.features_distance(back_real, real).float()
            loss = loss + cfg.feature_weight * feat
            stats["feature"] = feat.item()
        loop.set_lr(self.opt_g, self.lr_at(self.step))
        self.update_g(loss, "encoder")
        return {"loss": loss.item(), **stats}

    # ---- what gets exported / sampled -----------------------------------
    def inference_net(self) -> Encoder:
        return self.ema.net if self.ema is not None else self.G.eval()

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """uint8 faces → the generator's faces for their encodings, in [-1, 1]."""
        was = self.G.training
        net = self.inference_net()
        out = [self.gen(net(to_float(images[i:i + batch].to(self.dist.device)))) for i in range(0, len(images), batch)]
        self.G.train(was)
        return torch.cat(out)

    def save_samples(self, path: Path) -> None:
        faces = self.held[:SHEET_FACES] if len(self.held) else self.data[:SHEET_FACES]
        back = self.reconstruct(faces)
        pairs = torch.stack([to_float(faces.to(back.device)), back], dim=1).flatten(0, 1)  # picture | closest face
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(pairs, path, nrow=12, padding=1, pad_value=1.0, normalize=True, value_range=(-1, 1))

    @torch.no_grad()
    def epoch_metrics(self) -> dict[str, float]:
        """Held-out mean |Δpixel| (of 255) between a face and its reconstruction, and the z error on generated faces."""
        faces = self.held[:SCORE_FACES]
        if not len(faces):
            return {}
        back = self.reconstruct(faces)
        err = (back - to_float(faces.to(back.device))).abs().mean().item() * 127.5
        z = torch.from_numpy(seeds_to_z(range(256), self.nz)).to(back.device)
        z_err = F.mse_loss(self.inference_net()(self.gen(z)), z).item()
        return {"val_pixel_error": err, "val_z_error": z_err}

    def model_state(self) -> dict:
        return {"generator": self.G.state_dict(),
                "ema": self.inference_net().state_dict() if self.ema is not None else None,
                "opt_g": self.opt_g.state_dict(),
                "generator_sha256": self.generator_sha256, "nz": self.nz, "num_held_out": len(self.held)}

    def load_model_state(self, state: dict) -> None:
        if state.get("generator_sha256") != self.generator_sha256:
            raise checkpoint.CheckpointError(
                f"{self.cfg.out}: this encoder was trained for another generator than {self.cfg.generator} "
                f"(sha256 {str(state.get('generator_sha256'))[:12]}…, that file is {self.generator_sha256[:12]}…): "
                f"start a new --out for it")
        self.G.load_state_dict(state["generator"])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.net.load_state_dict(state["ema"])
        self.opt_g.load_state_dict(state["opt_g"])


def run(cfg: EncoderConfig, resume: bool = False, stop: StopFlag | None = None,
        dist: Dist | None = None) -> EncoderTrainer:
    check_config(cfg, native_bf16())
    if not Path(cfg.generator).is_file():
        raise DataError(f"--generator {cfg.generator}: no such file (export a generator first: python -m trainer.export)")
    return loop.run(EncoderTrainer, cfg, resume, stop, dist)


def main(argv: list[str] | None = None) -> int:
    return loop.main(lambda: config_from_args(argv), run, PROG, "encoder.onnx",
                     lambda cfg, onnx: f"--model {cfg.generator} --encoder {onnx}")


if __name__ == "__main__":
    sys.exit(main())
