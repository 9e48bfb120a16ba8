"""The DCGAN training loop: `python -m trainer.train --help` (settings: trainer/config.py).

One step: D learns real-vs-fake on a batch (DiffAugment on everything it sees; the loss is --loss, plus --lecam
× the LeCam regulariser against running means of D's logits), with --gamma > 0 every --reg-every steps D's
gradients on real and fake images are penalised (R1 + R2), then G learns to fool the updated D; an exponential
moving average of G is what gets sampled and exported.
"""
from __future__ import annotations

import copy
import math
import sys
from pathlib import Path

import torch
from torch import nn
from torch.optim.swa_utils import update_bn
from torchvision.utils import save_image

from demo.latents import PIXEL_RANGE, seeds_to_z
from trainer import loop
from trainer.augment import diff_augment
from trainer.config import Config, check_config, config_from_args
from trainer.data import to_float
from trainer.distributed import Dist
from trainer.ema import EMA
from trainer.loop import Diverged, StopFlag, Task, native_bf16, set_lr  # noqa: F401 (Diverged, StopFlag: API)
from trainer.losses import d_loss, g_loss, gradient_penalty, lecam
from trainer.model import Discriminator, Generator, init_weights

SAMPLE_SEEDS = list(range(64))  # the faces shown in every sample grid
LECAM_DECAY = 0.99  # of the running means of D's logits that LeCam compares with (the paper's)


@torch.no_grad()
def recalibrate_bn(g: nn.Module, nz: int, batches: int = 8, batch_size: int = 128, seed: int = 1234,
                   device: torch.device | None = None) -> None:
    """Re-estimate BatchNorm running stats for the current weights (torch.optim.swa_utils.update_bn over a
    fixed set of latents). The EMA generator's weights are an average, so the running statistics it inherited
    belong to other weights; fresh estimates make its eval-mode output match its train mode."""
    gen = torch.Generator().manual_seed(seed)
    update_bn([torch.randn(batch_size, nz, generator=gen) for _ in range(batches)], g, device=device)


class Trainer(Task):
    """The DCGAN: G, D, their optimisers and the EMA of G (the loop in trainer.loop does the rest)."""

    KIND = "dcgan"

    def __init__(self, cfg: Config, data: torch.Tensor, dist: Dist | None = None):
        super().__init__(cfg, data, dist)
        dev = self.dist.device
        torch.manual_seed(cfg.seed)  # the same seed on every rank: identical init, identical global z
        self.G = Generator(cfg.nz, cfg.ngf, cfg.image_size, cfg.g_upsample)
        self.D = Discriminator(cfg.ndf, cfg.image_size, cfg.d_norm, cfg.mbstd)
        init_weights(self.G)
        if cfg.d_norm == "batch":  # DCGAN's N(0, 0.02) suits a D whose BatchNorm rescales every layer;
            init_weights(self.D)   # without it, PyTorch's default (fan-in scaled) init keeps the logits alive
        # the EMA copy stays a plain Generator: rank 0 alone samples from it
        self.ema = EMA(self.G, cfg.ema_kimg, cfg.ema_rampup, dev) if cfg.ema_kimg > 0 else None
        if cfg.sync_bn and self.dist.enabled:
            self.G = nn.SyncBatchNorm.convert_sync_batchnorm(self.G)
            self.D = nn.SyncBatchNorm.convert_sync_batchnorm(self.D)
        self.G.to(dev)
        self.D.to(dev)
        self.G_train, self.D_train, self.opt_g, self.opt_d = self.gan_pair(self.G, self.D)
        self._ema_calibrated_at: int | None = None  # step whose weights the EMA's BN statistics belong to
        self.penalties = {"r1": float("nan"), "r2": float("nan")}  # the latest R1/R2 (logged every row)
        self.logit_avg = torch.zeros(2, device=dev)  # running means of D's real and fake logits (LeCam), from step 0

    # ---- one step -------------------------------------------------------
    def batch(self) -> torch.Tensor:
        return self.layout(to_float(self.batch_images()).to(self.dist.device, non_blocking=True))

    def D_logits(self, x: torch.Tensor, d: nn.Module, parts: int = 1) -> torch.Tensor:
        with self.autocast():
            return d(diff_augment(x, self.cfg.diffaug, self.color_p()), parts=parts).float()

    def color_p(self) -> float:
        """D's colour probability at this step: --tail-color-p over the last --color-tail epochs, else --color-p."""
        tail = self.cfg.color_tail  # None (its default, unresolved) only in a Config check_config has not seen: no tail
        if tail and self.step >= (self.cfg.epochs - tail) * self.steps_per_epoch:
            return self.cfg.tail_color_p
        return self.cfg.color_p

    def judge(self, real: torch.Tensor, fake: torch.Tensor, d: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """D's logits of the real and the fake batch: in one call with --d-joint (one set of BatchNorm statistics
        for both), else in two."""
        if self.cfg.d_joint:
            return self.D_logits(torch.cat([real, fake]), d, parts=2).chunk(2)
        return self.D_logits(real, d), self.D_logits(fake, d)

    def topk_share(self) -> float:
        """The share of this rank's fakes G learns from (--topk): 1 at the start, --topk from half-way on."""
        if self.cfg.topk >= 1:
            return 1.0
        return max(self.cfg.topk, self.cfg.topk ** (2 * self.progress()))

    def progress(self) -> float:
        """How far through the --epochs schedule this step is (0 → 1; past 1 when resumed beyond it)."""
        return self.step / (self.cfg.epochs * self.steps_per_epoch)

    def lr_scale(self) -> float:
        """The learning rates' factor at this step: a cosine from 1 down to lr_final over cfg.epochs."""
        if self.cfg.lr_decay == "constant":
            return 1.0
        done = min(1.0, self.progress())
        return self.cfg.lr_final + (1 - self.cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * done))

    def train_step(self, real: torch.Tensor) -> dict[str, float]:
        cfg = self.cfg
        scale, color_p = self.lr_scale(), self.color_p()
        set_lr(self.opt_g, cfg.lr_g * scale)
        set_lr(self.opt_d, cfg.lr_d * scale)
        # z for the whole global batch from the shared RNG stream, then this rank's slice:
        # N processes together see the same latents as one process would.
        z = torch.randn(self.global_batch, cfg.nz)[self.dist.shard(self.global_batch)].to(self.dist.device)
        with self.autocast():
            fake = self.G_train(z)
        # D: real up, fake down
        d_real, d_fake = self.judge(real, fake.detach(), self.D_train)
        loss_d = d_loss(cfg.loss, d_real, d_fake)
        reg = self.lecam_penalty(d_real, d_fake) if cfg.lecam else None
        if reg is not None:
            loss_d = loss_d + cfg.lecam * reg
        self.check("discriminator", loss_d)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        if cfg.gamma and self.step % cfg.reg_every == 0:
            self.penalties = self.penalise_d(real, fake.detach())
        # G: fool the updated D (through the bare D: its gradients here are not wanted, so no all-reduce).
        # rpgan pairs each fake with a real: the real logits from D's step above stand in (only fakes carry G's gradient).
        # With --d-joint the fakes are judged beside reals again, so G is scored under the statistics D learnt with.
        self.D.requires_grad_(False)  # only G's gradients are wanted: skips D's weight gradients (≈8% of a step, measured)
        g_fake = self.judge(real, fake, self.D)[1] if cfg.d_joint else self.D_logits(fake, self.D)
        share = self.topk_share()
        if share < 1:  # only the fakes D finds most real teach G: the worst ones' gradients point nowhere useful
            g_fake = g_fake.flatten().topk(max(1, round(share * g_fake.numel()))).values
        loss_g = g_loss(cfg.loss, g_fake, d_real.detach())
        self.D.requires_grad_(True)  # the graph above is already built without D's weights; the NaN guard may stop here
        self.update_g(loss_g)
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                "d_real": d_real.mean().item(), "d_fake": d_fake.mean().item(),
                # ADA's overfitting heuristic E[sign(D(real))]: averaged over an epoch, 1.00 means D has won (it was
                # at epochs 40 and 50 of a run whose G collapsed: docs/training.md, R21)
                "r_t": torch.sign(d_real).mean().item(), **self.penalties,
                "lecam": reg.item() if reg is not None else float("nan"), "lr_scale": scale, "color_p": color_p,
                "topk": share}

    def lecam_penalty(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        """LeCam against running means of D's logits (averaged over ranks, so every rank holds the same ones)."""
        now = torch.cat([self.dist.mean(d.detach().mean()).reshape(1) for d in (d_real, d_fake)])
        self.logit_avg.lerp_(now, 1.0 if self.step == 0 else 1 - LECAM_DECAY)
        return lecam(d_real, d_fake, *self.logit_avg)

    def penalise_d(self, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        """Lazy R1 + R2 (StyleGAN2's schedule): every reg_every steps, one extra D update on
        gamma/2 · (|∇D(real)|² + |∇D(fake)|²) · reg_every, which on average weighs as the penalty every step would."""
        cfg = self.cfg
        penalties = []
        for x in (real, fake):
            x = x.detach().requires_grad_(True)
            penalties.append(gradient_penalty(self.D_logits(x, self.D), x))
        r1, r2 = penalties
        loss = cfg.gamma / 2 * (r1 + r2) * cfg.reg_every
        self.check("gradient penalty", loss)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.dist.average_gradients(self.D)  # the bare D (DDP cannot differentiate twice): average by hand
        self.opt_d.step()
        return {"r1": r1.item(), "r2": r2.item()}

    # ---- what gets exported / sampled -----------------------------------
    def inference_net(self) -> Generator:
        """The generator to sample from: the EMA one (BN recalibrated) if kept, else G in eval mode."""
        if self.ema is not None:
            if self._ema_calibrated_at != self.step:  # samples and checkpoint of one epoch share the work
                recalibrate_bn(self.ema.net, self.cfg.nz, device=self.dist.device)
                self._ema_calibrated_at = self.step
            return self.ema.net
        g = copy.deepcopy(self.G).to(memory_format=torch.contiguous_format).eval()
        return g

    @torch.no_grad()
    def save_samples(self, path: Path) -> None:
        g = self.inference_net()
        z = torch.from_numpy(seeds_to_z(SAMPLE_SEEDS, self.cfg.nz)).to(self.dist.device)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(g(z), path, nrow=8, normalize=True, value_range=PIXEL_RANGE, padding=1)

    def model_state(self) -> dict:
        return {**super().model_state(), "logit_avg": self.logit_avg.cpu()}

    def load_model_state(self, state: dict) -> None:
        super().load_model_state(state)
        self._ema_calibrated_at = None  # the loaded EMA's BN statistics are recalibrated before use
        if state.get("logit_avg") is not None:  # absent from checkpoints written before --lecam existed
            self.logit_avg = state["logit_avg"].float().to(self.dist.device)


def run(cfg: Config, resume: bool = False, stop: StopFlag | None = None, dist: Dist | None = None) -> Trainer:
    """Train the DCGAN (trainer.loop.run: until cfg.epochs, cfg.max_minutes, cfg.max_steps or a stop signal)."""
    check_config(cfg, native_bf16())
    return loop.run(Trainer, cfg, resume, stop, dist)


def main(argv: list[str] | None = None) -> int:
    return loop.main(lambda: config_from_args(argv), run, "python -m trainer.train", "generator.onnx",
                     lambda cfg, onnx: f"--model {onnx}")


if __name__ == "__main__":
    sys.exit(main())
