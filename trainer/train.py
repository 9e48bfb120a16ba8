"""Train a DCGAN on a folder or .zip of faces.

    python -m trainer.train --data ../shared/datasets/anime-faces-64.zip --out runs/anime --epochs 30
    python -m trainer.train --out runs/anime --resume --epochs 40

Every epoch (and on Ctrl-C / SIGTERM / --max-minutes) the run folder gets an
atomic checkpoint.pt, a sample grid of fixed seeds under samples/, and a row
in metrics.csv. Export the result with `python -m trainer.export`.
"""
from __future__ import annotations

import argparse
import copy
import csv
import os
import signal
import sys
import time
import warnings
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torchvision.utils import save_image
from tqdm import tqdm

from demo.latents import NZ, PIXEL_RANGE, seeds_to_z
from trainer import checkpoint
from trainer.augment import check_policy, diff_augment
from trainer.data import DataError, load_images, to_float
from trainer.distributed import Dist, setup
from trainer.losses import LOSSES, d_loss, g_loss
from trainer.model import SIZES, Discriminator, Generator, init_weights

SAMPLE_SEEDS = list(range(64))  # the faces shown in every sample grid


@dataclass
class Config:
    data: str = ""
    out: str = "runs/anime"
    epochs: int = 30
    batch_size: int = 64
    image_size: int = 64
    nz: int = NZ
    ngf: int = 32  # half the paper's 64: ~3.5× the steps per CPU-minute, far lower FID at equal time
    ndf: int = 32
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    loss: str = "bce"
    ema: float = 0.999
    diffaug: str = "translation,cutout"
    spectral_norm: bool = False
    channels_last: bool = True
    sync_bn: bool = False
    bf16: bool | None = None  # None = on where the CPU has native bfloat16 (AVX512-BF16/AMX)
    seed: int = 0
    max_minutes: float = 0.0
    max_images: int = 0
    threads: int = 0
    log_every: int = 10
    checkpoint_every: int = 0
    snapshot_every: int = 0


# What may change when a run is resumed; everything else must match the checkpoint. The learning rates
# may change so that a run that has levelled off can be fine-tuned at a lower rate.
RESUMABLE = {"data", "epochs", "max_minutes", "threads", "log_every", "checkpoint_every", "snapshot_every",
             "lr_g", "lr_d"}


class Diverged(RuntimeError):
    """Losses became NaN or infinite."""


def build_parser() -> argparse.ArgumentParser:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m trainer.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a("--data", help="folder of images (searched recursively) or a .zip of images")
    a("--out", default=d.out, help="run folder for checkpoint, samples and metrics (default %(default)s)")
    a("--epochs", type=int, default=d.epochs, help="total epochs to reach (default %(default)s)")
    a("--resume", action="store_true", help="continue the run in --out; its config comes from the checkpoint")
    a("--batch-size", type=int, default=d.batch_size,
      help="images per step, over all processes under torchrun (each takes batch/world size; default %(default)s)")
    a("--image-size", type=int, default=d.image_size, choices=SIZES, help="training resolution (default %(default)s)")
    a("--seed", type=int, default=d.seed, help="makes the run reproducible on one machine (default %(default)s)")
    a("--max-minutes", type=float, default=d.max_minutes, help="stop cleanly after this much training time (0 = no limit)")
    a("--nz", type=int, default=d.nz, help="latent size (default %(default)s, the app's convention)")
    a("--ngf", type=int, default=d.ngf, help="generator width (default %(default)s; the paper's 64 is ~3.5× slower per step)")
    a("--ndf", type=int, default=d.ndf, help="discriminator width (default %(default)s)")
    a("--lr-g", type=float, default=d.lr_g, help="generator Adam learning rate (default %(default)s)")
    a("--lr-d", type=float, default=d.lr_d, help="discriminator Adam learning rate (default %(default)s)")
    a("--beta1", type=float, default=d.beta1, help="Adam beta1 (default %(default)s)")
    a("--beta2", type=float, default=d.beta2, help="Adam beta2 (default %(default)s)")
    a("--loss", choices=LOSSES, default=d.loss, help="bce = non-saturating logistic; hinge (default %(default)s)")
    a("--ema", type=float, default=d.ema,
      help="decay of the generator's moving average, warmed up as min(ema, (1+step)/(10+step)); 0 = off (default %(default)s)")
    a("--diffaug", default=d.diffaug,
      help='DiffAugment policy for D: comma list of color,translation,cutout; "" = off (default %(default)s)')
    a("--spectral-norm", action=argparse.BooleanOptionalAction, default=d.spectral_norm,
      help="spectral norm on D's convs instead of BatchNorm")
    a("--channels-last", action=argparse.BooleanOptionalAction, default=d.channels_last,
      help="NHWC memory layout (faster convolutions on CPU)")
    a("--bf16", action=argparse.BooleanOptionalAction, default=d.bf16,
      help="bfloat16 autocast for forward passes (weights and optimiser stay float32); "
           "default: on when the CPU has native bfloat16 (about 2x the steps per minute; docs/training.md)")
    a("--sync-bn", action=argparse.BooleanOptionalAction, default=d.sync_bn,
      help="under torchrun: BatchNorm statistics over the global batch (SyncBatchNorm; CUDA only)")
    a("--max-images", type=int, default=d.max_images, help="use only the first N images (0 = all)")
    a("--threads", type=int, default=d.threads, help="torch CPU threads (0 = all cores)")
    a("--log-every", type=int, default=d.log_every, help="steps between metrics.csv rows (default %(default)s)")
    a("--checkpoint-every", type=int, default=d.checkpoint_every, help="also checkpoint every N steps (0 = per epoch only)")
    a("--snapshot-every", type=int, default=d.snapshot_every, help="keep a copy of the checkpoint every N epochs (0 = off)")
    return p


def config_from_args(argv: list[str] | None = None) -> tuple[Config, bool]:
    """Parse the CLI into a Config; with --resume, merge it onto the checkpoint's config."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.resume:
        if not args.data:
            parser.error("--data is required for a new run (or pass --resume to continue one)")
        cfg = Config(**{f.name: getattr(args, f.name) for f in fields(Config)})
        return cfg, False
    for action in parser._actions:  # re-parse to learn which flags were typed
        action.default = argparse.SUPPRESS
    typed = vars(parser.parse_args(argv))
    state = checkpoint.load(args.out)
    saved = state["config"]
    cfg = Config(**{**asdict(Config()), **{k: v for k, v in saved.items() if k in {f.name for f in fields(Config)}}})
    cfg.out = args.out
    for key, value in typed.items():
        if key in ("resume", "out"):
            continue
        if key in RESUMABLE:
            setattr(cfg, key, value)
        elif getattr(cfg, key) != value:
            parser.error(f"--{key.replace('_', '-')} was {getattr(cfg, key)!r} in this run; "
                         f"start a new --out to change it")
    return cfg, True


def native_bf16() -> bool:
    """True where the training device runs bfloat16 natively (a CUDA GPU that supports it, or a CPU
    where oneDNN has bf16 instructions); elsewhere bf16 autocast is emulated and slow."""
    try:
        if torch.cuda.is_available():
            return bool(torch.cuda.is_bf16_supported())
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def check_config(cfg: Config) -> None:
    if cfg.bf16 is None:
        cfg.bf16 = native_bf16()  # resolved once and stored, so a resumed run keeps it
    check_policy(cfg.diffaug)
    if cfg.batch_size < 1 or cfg.epochs < 1:
        raise ValueError("--batch-size and --epochs must be at least 1")
    if not 0 <= cfg.ema < 1:
        raise ValueError("--ema must be in [0, 1)")


def _plain(sd: dict) -> dict:
    """A state dict without DDP's 'module.' prefix."""
    return {k.removeprefix("module."): v for k, v in sd.items()}


@torch.no_grad()
def recalibrate_bn(g: nn.Module, nz: int, batches: int = 8, batch_size: int = 128, seed: int = 1234,
                   device: torch.device | None = None) -> None:
    """Re-estimate BatchNorm running stats for the current weights.

    The EMA generator's weights are an average, so the running statistics it
    inherited belong to other weights; fresh estimates (cumulative average
    over a fixed set of latents) make eval-mode output match its train mode."""
    bns = [m for m in g.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    gen = torch.Generator().manual_seed(seed)
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    g.train()
    for _ in range(batches):
        g(torch.randn(batch_size, nz, generator=gen).to(device or "cpu"))
    for m in bns:
        m.momentum = 0.1
    g.eval()


class Trainer:
    """Holds the models, optimisers and counters of one run."""

    def __init__(self, cfg: Config, data: torch.Tensor, dist: Dist | None = None):
        self.cfg = cfg
        self.data = data
        self.dist = dist or Dist()
        dev = self.dist.device
        torch.manual_seed(cfg.seed)  # the same seed on every rank: identical init, identical global z
        self.G = Generator(cfg.nz, cfg.ngf, cfg.image_size)
        self.D = Discriminator(cfg.ndf, cfg.image_size, cfg.spectral_norm)
        init_weights(self.G)
        init_weights(self.D)
        # the EMA copy stays a plain Generator: rank 0 alone samples from it
        self.ema = copy.deepcopy(self.G).to(dev).eval().requires_grad_(False) if cfg.ema > 0 else None
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

    def train_step(self, real: torch.Tensor) -> dict[str, float]:
        cfg = self.cfg
        # z for the whole global batch from the shared RNG stream, then this rank's slice:
        # N processes together see the same latents as one process would.
        z = torch.randn(self.global_batch, cfg.nz)[self.dist.shard(self.global_batch)].to(self.dist.device)
        with self.autocast():
            fake = self.G_train(z)
        # D: real up, fake down
        d_real = self.D_logits(real, self.D_train)
        d_fake = self.D_logits(fake.detach(), self.D_train)
        loss_d = d_loss(cfg.loss, d_real, d_fake)
        if not torch.isfinite(self.dist.mean(loss_d)):
            raise Diverged(f"discriminator loss is {loss_d.item()}")
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        # G: fool the updated D (through the bare D: its gradients here are not wanted, so no all-reduce)
        loss_g = g_loss(cfg.loss, self.D_logits(fake, self.D))
        if not torch.isfinite(self.dist.mean(loss_g)):
            raise Diverged(f"generator loss is {loss_g.item()}")
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.step += 1
        self.update_ema()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                "d_real": torch.sigmoid(d_real).mean().item(), "d_fake": torch.sigmoid(d_fake).mean().item()}

    @torch.no_grad()
    def update_ema(self) -> None:
        if self.ema is None:
            return
        decay = min(self.cfg.ema, (1 + self.step) / (10 + self.step))
        for pe, p in zip(self.ema.parameters(), self.G.parameters()):
            pe.lerp_(p, 1 - decay)

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


def write_metrics(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)


def run(cfg: Config, resume: bool = False, stop: StopFlag | None = None, dist: Dist | None = None) -> Trainer:
    """Train until cfg.epochs, cfg.max_minutes, or a stop signal; checkpoint on the way out.

    Under torchrun every rank runs this loop on its share of each global batch;
    only rank 0 writes files, and stop decisions are agreed by all ranks."""
    dist = dist or Dist()
    check_config(cfg)
    if cfg.batch_size % dist.world_size:
        raise ValueError(f"--batch-size {cfg.batch_size} must divide evenly over {dist.world_size} processes")
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
    stop = stop or StopFlag()
    bs = tr.global_batch
    say(f"{len(data)} images, {tr.steps_per_epoch} steps/epoch of {bs}"
        + (f" ({dist.world_size} processes × {bs // dist.world_size})" if dist.enabled else "")
        + f", epochs {tr.epoch}→{cfg.epochs}")

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
            if main:
                tr.save_samples(out / "samples" / f"epoch_{tr.epoch:03d}.png")
                tr.save_checkpoint()
                if cfg.snapshot_every and tr.epoch % cfg.snapshot_every == 0:
                    checkpoint.copy(out / checkpoint.FILENAME, out / "snapshots" / f"epoch_{tr.epoch:03d}.pt")
            last_save = tr.step
    if main:
        if tr.step != last_save or stop.reason:
            tr.save_checkpoint()
        tr.save_samples(out / "samples" / "last.png")
        plot_losses(out / "metrics.csv", out / "loss.png")
    return tr


def plot_losses(csv_path: Path, png_path: Path) -> None:
    """Training curve (D and G loss vs step) from metrics.csv."""
    if not csv_path.exists():
        return
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    step = [int(r["step"]) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=110)
    for key, label in (("loss_d", "D loss"), ("loss_g", "G loss")):
        ys = [float(r[key]) for r in rows]
        k = max(1, len(ys) // 50)  # light smoothing so the trend is readable
        sm = [sum(ys[max(0, i - k):i + 1]) / len(ys[max(0, i - k):i + 1]) for i in range(len(ys))]
        ax.plot(step, ys, alpha=0.25)
        ax.plot(step, sm, label=label, color=ax.lines[-1].get_color())
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    dist = Dist()
    try:
        cfg, resume = config_from_args(argv)
        stop = StopFlag()
        stop.install()
        dist = setup()
        tr = run(cfg, resume, stop, dist)
    except (DataError, checkpoint.CheckpointError, FileExistsError, ValueError) as e:
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
              f"  python -m trainer.export --checkpoint {cfg.out} --out exported/generator.onnx", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
