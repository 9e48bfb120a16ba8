"""The DCGAN training loop: `python -m trainer.train --help` (settings: trainer/config.py).

One step: D learns real-vs-fake on a batch (DiffAugment on everything it sees; the loss is --loss), with
--gamma > 0 every --reg-every steps D's gradients on real and fake images are penalised (R1 + R2), then G
learns to fool the updated D; an exponential moving average of G is what gets sampled and exported.
"""
from __future__ import annotations

import copy
import math
import os
import signal
import sys
import time
import warnings
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.optim.swa_utils import update_bn
from torchvision.utils import save_image
from tqdm import tqdm

from demo.latents import PIXEL_RANGE, seeds_to_z
from trainer import checkpoint
from trainer.augment import diff_augment
from trainer.config import Config, ConfigError, check_config, config_from_args
from trainer.data import DataError, load_images, to_float
from trainer.distributed import Dist, setup
from trainer.losses import d_loss, g_loss, gradient_penalty
from trainer.metrics import plot_losses, truncate_metrics, write_metrics
from trainer.model import Discriminator, Generator, init_weights

SAMPLE_SEEDS = list(range(64))  # the faces shown in every sample grid


class Diverged(RuntimeError):
    """Losses became NaN or infinite."""


def native_bf16() -> bool:
    """True where the training device runs bfloat16 natively (a CUDA GPU that supports it, or a CPU
    where oneDNN has bf16 instructions); elsewhere bf16 autocast is emulated and slow."""
    try:
        if torch.cuda.is_available():
            return bool(torch.cuda.is_bf16_supported())
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _plain(sd: dict) -> dict:
    """A state dict without DDP's 'module.' prefix."""
    return {k.removeprefix("module."): v for k, v in sd.items()}


@torch.no_grad()
def recalibrate_bn(g: nn.Module, nz: int, batches: int = 8, batch_size: int = 128, seed: int = 1234,
                   device: torch.device | None = None) -> None:
    """Re-estimate BatchNorm running stats for the current weights (torch.optim.swa_utils.update_bn over a
    fixed set of latents). The EMA generator's weights are an average, so the running statistics it inherited
    belong to other weights; fresh estimates make its eval-mode output match its train mode."""
    gen = torch.Generator().manual_seed(seed)
    update_bn([torch.randn(batch_size, nz, generator=gen) for _ in range(batches)], g, device=device)


class Trainer:
    """Holds the models, optimisers and counters of one run."""

    def __init__(self, cfg: Config, data: torch.Tensor, dist: Dist | None = None):
        self.cfg = cfg
        self.data = data
        self.dist = dist or Dist()
        dev = self.dist.device
        torch.manual_seed(cfg.seed)  # the same seed on every rank: identical init, identical global z
        self.G = Generator(cfg.nz, cfg.ngf, cfg.image_size)
        self.D = Discriminator(cfg.ndf, cfg.image_size, cfg.d_norm, cfg.mbstd)
        init_weights(self.G)
        if cfg.d_norm == "batch":  # DCGAN's N(0, 0.02) suits a D whose BatchNorm rescales every layer;
            init_weights(self.D)   # without it, PyTorch's default (fan-in scaled) init keeps the logits alive
        # the EMA copy stays a plain Generator: rank 0 alone samples from it
        self.ema = copy.deepcopy(self.G).to(dev).eval().requires_grad_(False) if cfg.ema_kimg > 0 else None
        if cfg.sync_bn and self.dist.enabled:
            self.G = nn.SyncBatchNorm.convert_sync_batchnorm(self.G)
            self.D = nn.SyncBatchNorm.convert_sync_batchnorm(self.D)
        self.G.to(dev)
        self.D.to(dev)
        if cfg.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        # DDP averages G's and D's gradients over ranks; single-process runs use the modules themselves.
        self.G_train: nn.Module = DDP(self.G) if self.dist.enabled else self.G
        self.D_train: nn.Module = DDP(self.D) if self.dist.enabled else self.D
        self.opt_g = torch.optim.Adam(self.G.parameters(), cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
        self.epoch = 0  # epochs completed
        self.batch_in_epoch = 0  # batches of the current epoch already done
        self.step = 0
        self.train_seconds = 0.0
        self._ema_calibrated_at: int | None = None  # step whose weights the EMA's BN statistics belong to
        self.penalties = {"r1": float("nan"), "r2": float("nan")}  # the latest R1/R2 (logged every row)

    # ---- one step -------------------------------------------------------
    @property
    def global_batch(self) -> int:
        return min(self.cfg.batch_size, len(self.data))

    @property
    def steps_per_epoch(self) -> int:
        return max(1, len(self.data) // self.cfg.batch_size)

    def batch(self) -> torch.Tensor:
        """This rank's share of the next global batch. The epoch's order depends only on (seed, epoch),
        so a resumed run — with any number of processes — sees the same global batches."""
        perm = torch.randperm(len(self.data), generator=torch.Generator().manual_seed(self.cfg.seed * 100_003 + self.epoch))
        bs = self.global_batch
        idx = perm[self.batch_in_epoch * bs:(self.batch_in_epoch + 1) * bs][self.dist.shard(bs)]
        x = to_float(self.data[idx]).to(self.dist.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.cfg.channels_last else x

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.dist.device.type, dtype=torch.bfloat16, enabled=bool(self.cfg.bf16))

    def D_logits(self, x: torch.Tensor, d: nn.Module) -> torch.Tensor:
        with self.autocast():
            return d(diff_augment(x, self.cfg.diffaug)).float()

    def lr_scale(self) -> float:
        """The learning rates' factor at this step: a cosine from 1 down to lr_final over cfg.epochs."""
        if self.cfg.lr_decay == "constant":
            return 1.0
        done = min(1.0, self.step / (self.cfg.epochs * self.steps_per_epoch))
        return self.cfg.lr_final + (1 - self.cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * done))

    def _check(self, name: str, loss: torch.Tensor) -> None:
        if not torch.isfinite(self.dist.mean(loss)):
            raise Diverged(f"{name} loss is {loss.item()}")

    def train_step(self, real: torch.Tensor) -> dict[str, float]:
        cfg = self.cfg
        scale = self.lr_scale()
        for opt, lr in ((self.opt_g, cfg.lr_g), (self.opt_d, cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * scale
        # z for the whole global batch from the shared RNG stream, then this rank's slice:
        # N processes together see the same latents as one process would.
        z = torch.randn(self.global_batch, cfg.nz)[self.dist.shard(self.global_batch)].to(self.dist.device)
        with self.autocast():
            fake = self.G_train(z)
        # D: real up, fake down
        d_real = self.D_logits(real, self.D_train)
        d_fake = self.D_logits(fake.detach(), self.D_train)
        loss_d = d_loss(cfg.loss, d_real, d_fake)
        self._check("discriminator", loss_d)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        if cfg.gamma and self.step % cfg.reg_every == 0:
            self.penalties = self.penalise_d(real, fake.detach())
        # G: fool the updated D (through the bare D: its gradients here are not wanted, so no all-reduce).
        # rpgan pairs each fake with a real: the real logits from D's step above stand in (only fakes carry G's gradient).
        loss_g = g_loss(cfg.loss, self.D_logits(fake, self.D), d_real.detach())
        self._check("generator", loss_g)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.step += 1
        self.update_ema()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                "d_real": d_real.mean().item(), "d_fake": d_fake.mean().item(), **self.penalties, "lr_scale": scale}

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
        self._check("gradient penalty", loss)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.dist.average_gradients(self.D)  # the bare D (DDP cannot differentiate twice): average by hand
        self.opt_d.step()
        return {"r1": r1.item(), "r2": r2.item()}

    @torch.no_grad()
    def update_ema(self) -> None:
        """EMA with a half-life of ema_kimg thousand images, shorter early on (ramp-up: at most ema_rampup ×
        the images seen), as in StyleGAN2-ADA: early averages would otherwise drag in the first, noisy weights."""
        if self.ema is None:
            return
        half_life = self.cfg.ema_kimg * 1000
        if self.cfg.ema_rampup:
            half_life = min(half_life, self.step * self.global_batch * self.cfg.ema_rampup)
        beta = 0.5 ** (self.global_batch / max(half_life, 1e-8))
        for pe, p in zip(self.ema.parameters(), self.G.parameters()):
            pe.lerp_(p, 1 - beta)

    # ---- what gets exported / sampled -----------------------------------
    def inference_generator(self) -> Generator:
        """The generator to sample from: the EMA one (BN recalibrated) if kept, else G in eval mode."""
        if self.ema is not None:
            if self._ema_calibrated_at != self.step:  # samples and checkpoint of one epoch share the work
                recalibrate_bn(self.ema, self.cfg.nz, device=self.dist.device)
                self._ema_calibrated_at = self.step
            return self.ema
        g = copy.deepcopy(self.G).to(memory_format=torch.contiguous_format).eval()
        return g

    @torch.no_grad()
    def save_samples(self, path: Path) -> None:
        g = self.inference_generator()
        z = torch.from_numpy(seeds_to_z(SAMPLE_SEEDS, self.cfg.nz)).to(self.dist.device)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(g(z), path, nrow=8, normalize=True, value_range=PIXEL_RANGE, padding=1)

    # ---- checkpoints ----------------------------------------------------
    def state(self) -> dict:
        """Everything needed to continue; module states are saved unwrapped (no DDP/SyncBN
        prefixes), so any number of processes can resume them."""
        return {
            "config": asdict(self.cfg),
            "generator": _plain(self.G.state_dict()),
            "discriminator": _plain(self.D.state_dict()),
            # BN stats recalibrated, so the checkpoint's EMA is ready to export
            "ema": _plain(self.inference_generator().state_dict()) if self.ema is not None else None,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "step": self.step,
            "train_seconds": self.train_seconds,
            "num_images": len(self.data),
            "steps_per_epoch": self.steps_per_epoch,
            "torch_rng": torch.get_rng_state(),
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    def load_state(self, state: dict) -> None:
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
            self._ema_calibrated_at = None
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for opt, lr in ((self.opt_g, self.cfg.lr_g), (self.opt_d, self.cfg.lr_d)):
            for group in opt.param_groups:  # the saved state carries the old rate; the config's wins
                group["lr"] = lr
        self.epoch, self.batch_in_epoch, self.step = state["epoch"], state["batch_in_epoch"], state["step"]
        self.train_seconds = state.get("train_seconds", 0.0)
        torch.set_rng_state(state["torch_rng"])

    def save_checkpoint(self) -> Path:
        out = Path(self.cfg.out)
        checkpoint.save(self.state(), out / checkpoint.FILENAME)
        return out / checkpoint.FILENAME


class StopFlag:
    """Set by SIGINT/SIGTERM; the loop checks it between steps so the checkpoint is consistent."""

    def __init__(self) -> None:
        self.reason = ""

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        if self.reason:  # second Ctrl-C: stop now (the last checkpoint is still intact)
            raise KeyboardInterrupt
        self.reason = signal.Signals(signum).name


def run(cfg: Config, resume: bool = False, stop: StopFlag | None = None, dist: Dist | None = None) -> Trainer:
    """Train until cfg.epochs, cfg.max_minutes, or a stop signal; checkpoint on the way out.

    Under torchrun every rank runs this loop on its share of each global batch;
    only rank 0 writes files, and stop decisions are agreed by all ranks."""
    dist = dist or Dist()
    check_config(cfg, native_bf16())
    if cfg.batch_size % dist.world_size:
        raise ConfigError(f"--batch-size {cfg.batch_size} must divide evenly over {dist.world_size} processes")
    out = Path(cfg.out)
    if not resume and (out / checkpoint.FILENAME).exists():
        raise FileExistsError(f"{out} already holds a run: pass --resume to continue it, or choose another --out")
    torch.set_num_threads(cfg.threads or max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", 1))))
    state = checkpoint.load(out) if resume else None
    if not cfg.data:
        raise DataError("no --data given and the checkpoint does not name its data")
    with warnings.catch_warnings(record=True) as caught:  # skipped files: one plain line, not a warnings traceback
        warnings.simplefilter("always")
        data = load_images(cfg.data, cfg.image_size, cfg.max_images or None)
    if dist.is_main:
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
    tr = Trainer(cfg, data, dist)
    main = dist.is_main
    say = (lambda msg: print(msg, file=sys.stderr)) if main else (lambda msg: None)
    if state is not None:
        tr.load_state(state)
        say(f"resumed {out} at epoch {tr.epoch}, step {tr.step}")
    if main:
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob(checkpoint.FILENAME + ".*.tmp"):  # left by a run killed mid-write
            stale.unlink(missing_ok=True)
        if state is not None and (dropped := truncate_metrics(out / "metrics.csv", tr.step)):
            say(f"metrics.csv: dropped {dropped} row(s) logged after the checkpoint's step {tr.step}")
    stop = stop or StopFlag()
    bs = tr.global_batch
    say(f"{len(data)} images, {tr.steps_per_epoch} steps/epoch of {bs}"
        + (f" ({dist.world_size} processes × {bs // dist.world_size})" if dist.enabled else "")
        + f", epochs {tr.epoch}→{cfg.epochs}")
    if len(data) < cfg.batch_size:
        say(f"note: only {len(data)} images, fewer than --batch-size {cfg.batch_size}: every step uses all of them")
    elif rest := len(data) % cfg.batch_size:
        say(f"note: each epoch reshuffles and leaves out {rest} image(s) that do not fill a last batch "
            f"(different ones every epoch)")

    session_start = time.monotonic()
    last_save = tr.step
    while tr.epoch < cfg.epochs and not stop.reason:
        bar = tqdm(total=tr.steps_per_epoch, initial=tr.batch_in_epoch, desc=f"epoch {tr.epoch + 1}/{cfg.epochs}",
                   unit="step", dynamic_ncols=True, mininterval=1.0 if sys.stderr.isatty() else 30.0, disable=not main)
        t_log, n_log = time.monotonic(), 0
        while tr.batch_in_epoch < tr.steps_per_epoch:
            t0 = time.monotonic()
            stats = tr.train_step(tr.batch())
            tr.batch_in_epoch += 1
            tr.train_seconds += time.monotonic() - t0
            n_log += bs
            bar.update(1)
            if main and (tr.step % cfg.log_every == 0 or tr.batch_in_epoch == tr.steps_per_epoch):
                ips = n_log / max(time.monotonic() - t_log, 1e-9)
                bar.set_postfix(D=f"{stats['loss_d']:.3f}", G=f"{stats['loss_g']:.3f}", img_s=f"{ips:.0f}")
                write_metrics(out / "metrics.csv", {"step": tr.step, "epoch": tr.epoch + tr.batch_in_epoch / tr.steps_per_epoch,
                                                     "minutes": round(tr.train_seconds / 60, 3),
                                                     **{k: round(v, 5) for k, v in stats.items()},
                                                     "img_per_s": round(ips, 1)})
                t_log, n_log = time.monotonic(), 0
            if cfg.max_minutes and time.monotonic() - session_start >= cfg.max_minutes * 60 - 1e-9:
                stop.reason = stop.reason or f"--max-minutes {cfg.max_minutes:g}"
            if dist.any(bool(stop.reason)):
                stop.reason = stop.reason or "another process's stop"
                break
            if cfg.checkpoint_every and tr.step - last_save >= cfg.checkpoint_every:
                if main:
                    tr.save_checkpoint()
                last_save = tr.step
        bar.close()
        if tr.batch_in_epoch >= tr.steps_per_epoch:
            tr.epoch += 1
            tr.batch_in_epoch = 0
            if main:  # the checkpoint first: a failure writing the picture must not lose the epoch
                tr.save_checkpoint()
                if cfg.snapshot_every and tr.epoch % cfg.snapshot_every == 0:
                    checkpoint.copy(out / checkpoint.FILENAME, out / "snapshots" / f"epoch_{tr.epoch:03d}.pt")
                tr.save_samples(out / "samples" / f"epoch_{tr.epoch:03d}.png")
            last_save = tr.step
    if main:
        if tr.step != last_save or stop.reason:
            tr.save_checkpoint()
        tr.save_samples(out / "samples" / "last.png")
        plot_losses(out / "metrics.csv", out / "loss.png")
    return tr


def main(argv: list[str] | None = None) -> int:
    dist = Dist()
    try:
        cfg, resume = config_from_args(argv)
        stop = StopFlag()
        stop.install()
        dist = setup()
        tr = run(cfg, resume, stop, dist)
    except (DataError, checkpoint.CheckpointError, FileExistsError, ConfigError) as e:  # bad input; bugs keep their traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Diverged as e:
        print(f"error: training diverged ({e}). The last good checkpoint in {cfg.out} is kept; "
              f"resume it with a lower --lr-g/--lr-d in a new run, or check the data.", file=sys.stderr)
        return 1
    finally:
        dist.close()
    if not dist.is_main:
        return 0
    where = Path(cfg.out) / checkpoint.FILENAME
    if stop.reason:
        print(f"stopped by {stop.reason} at epoch {tr.epoch}, step {tr.step}; checkpoint saved to {where}.\n"
              f"Resume with: python -m trainer.train --out {cfg.out} --resume", file=sys.stderr)
    else:
        print(f"done: {tr.epoch} epochs, {tr.step} steps, {tr.train_seconds / 60:.1f} min. Export with:\n"
              f"  python -m trainer.export --checkpoint {cfg.out}      # writes {Path(cfg.out) / 'generator.onnx'}\n"
              f"and try it with:\n  python app.py --model {Path(cfg.out) / 'generator.onnx'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
