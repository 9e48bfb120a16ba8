"""The training loop both models share (the DCGAN in trainer.train, the colouriser in trainer.colorize).

A model plugs in as a `Task`: it owns its networks, optimisers and one `train_step`; the loop here owns
everything else the guarantees are about: the data decoded once, epochs and resumable positions in them,
atomic checkpoints (every epoch, every --checkpoint-every steps, on Ctrl-C/SIGTERM/--max-minutes),
snapshots, sample sheets, metrics.csv rows, the NaN guard's exit and the command line's error handling.
"""
from __future__ import annotations

import os
import signal
import sys
import time
import warnings
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

from trainer import checkpoint
from trainer.config import ConfigError, RunConfig
from trainer.data import DataError, load_images
from trainer.distributed import Dist, setup
from trainer.metrics import plot_losses, truncate_metrics, write_metrics


class Diverged(RuntimeError):
    """Losses became NaN or infinite."""


# CPU feature flags that mean bfloat16 arithmetic in hardware: x86's AVX512_BF16 and AMX, Arm's FEAT_BF16
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags as Linux lists them in /proc/cpuinfo (x86 "flags", Arm "Features"); None elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    flags = {f for line in text.splitlines() if line.split(":")[0].strip() in ("flags", "Features")
             for f in line.partition(":")[2].split()}
    return frozenset(flags) or None


def native_bf16() -> bool:
    """True where the training device runs bfloat16 natively (a CUDA GPU that supports it, or a CPU with bf16
    instructions); elsewhere bf16 autocast is emulated and slow. oneDNN's own check says yes on any AVX-512 CPU,
    where it emulates bf16: on one without AVX512_BF16 a step took 2.6x as long as in float32, so on Linux the
    CPU's flags decide (docs/training.md, R24)."""
    try:
        if torch.cuda.is_available():
            return bool(torch.cuda.is_bf16_supported())
        if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
            return False
    except (AttributeError, RuntimeError):
        return False
    flags = cpu_flags()
    return flags is None or bool(flags & BF16_CPU_FLAGS)


def precision_note(bf16: bool, device_type: str, native: bool) -> str | None:
    """A start-up note when the precision will cost speed: float32 because the CPU has no native bfloat16 (the
    README's "an hour on one core" was measured on CPUs that have it), or bf16 forced on where it is emulated."""
    if device_type != "cpu" or native:
        return None
    if bf16:
        return "note: --bf16 on a CPU without native bfloat16 is emulated: about 20x slower than float32 (--no-bf16)"
    return ("note: training in float32: this CPU has no native bfloat16, so a step takes longer than on one that has "
            "it (bf16 autocast makes about 1.6x the steps per minute there); docs/training.md has the speed of such a CPU")


def plain(sd: dict) -> dict:
    """A state dict without DDP's 'module.' prefix."""
    return {k.removeprefix("module."): v for k, v in sd.items()}


class Task:
    """What the loop needs of a model. Subclasses set KIND (recorded in checkpoints, so the exporter and
    --resume know what they hold), build G, D, their optimisers opt_g, opt_d and an EMA of G (or None), and
    implement train_step, inference_net and save_samples."""

    KIND = ""
    EPOCH_METRICS: tuple[str, ...] = ()  # the columns epoch_metrics() fills (empty in the rows between epochs)

    def __init__(self, cfg: RunConfig, data: torch.Tensor, dist: Dist | None = None):
        self.cfg = cfg
        self.data = data  # the images trained on: uint8 [N, 3, S, S]
        self.dist = dist or Dist()
        self.epoch = 0  # epochs completed
        self.batch_in_epoch = 0  # batches of the current epoch already done
        self.step = 0
        self.train_seconds = 0.0

    def start(self) -> None:
        """A new run's first weights, after __init__ built the networks: as built (a subclass may start from
        another run's). Not called on --resume, whose checkpoint holds the weights."""

    # ---- batches ----------------------------------------------------------
    @property
    def global_batch(self) -> int:
        return min(self.cfg.batch_size, len(self.data))

    @property
    def steps_per_epoch(self) -> int:
        return max(1, len(self.data) // self.cfg.batch_size)

    def batch_images(self) -> torch.Tensor:
        """This rank's share of the next global batch, uint8 (with --flip, half of it mirrored). The epoch's order
        depends only on (seed, epoch), so a resumed run — with any number of processes — sees the same global batches."""
        perm = torch.randperm(len(self.data), generator=torch.Generator().manual_seed(self.cfg.seed * 100_003 + self.epoch))
        bs = self.global_batch
        images = self.data[perm[self.batch_in_epoch * bs:(self.batch_in_epoch + 1) * bs][self.dist.shard(bs)]]
        if self.cfg.flip:  # half the faces mirrored; drawn for the global batch (from the RNG the checkpoint keeps)
            flip = (torch.rand(bs) < 0.5)[self.dist.shard(bs)]
            images[flip] = images[flip].flip(-1)
        return images

    def batch(self) -> torch.Tensor:
        """The next batch as the model takes it (subclasses convert batch_images())."""
        raise NotImplementedError

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        """A batch in the models' memory layout (NHWC with --channels-last: faster convolutions on CPU)."""
        return x.contiguous(memory_format=torch.channels_last) if self.cfg.channels_last else x

    def gan_pair(self, G: torch.nn.Module, D: torch.nn.Module) -> tuple[torch.nn.Module, torch.nn.Module,
                                                                        torch.optim.Adam, torch.optim.Adam]:
        """G and D as both GAN trainers train them: in the run's layout, wrapped in DDP across ranks (DDP averages
        their gradients; one process trains the modules themselves), and one Adam each at the config's --lr-g,
        --lr-d, --beta1 and --beta2 (fields both GAN configs have)."""
        cfg = self.cfg
        if cfg.channels_last:
            G.to(memory_format=torch.channels_last)
            D.to(memory_format=torch.channels_last)
        wrap = DDP if self.dist.enabled else (lambda m: m)
        betas = (cfg.beta1, cfg.beta2)
        return (wrap(G), wrap(D), torch.optim.Adam(G.parameters(), cfg.lr_g, betas=betas),
                torch.optim.Adam(D.parameters(), cfg.lr_d, betas=betas))

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.dist.device.type, dtype=torch.bfloat16, enabled=bool(self.cfg.bf16))

    def check(self, name: str, loss: torch.Tensor) -> None:
        """The NaN guard: stop before a non-finite loss reaches the weights (the last checkpoint stays good)."""
        if not torch.isfinite(self.dist.mean(loss)):
            raise Diverged(f"{name} loss is {loss.item()}")

    def update_g(self, loss: torch.Tensor, name: str = "generator") -> None:
        """G's half of a step, as every task takes it: the NaN guard, one optimiser step, the step count, and the
        EMA following G."""
        self.check(name, loss)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.step += 1
        if self.ema is not None:
            self.ema.update(self.G, self.step, self.global_batch)

    # ---- the model's part ---------------------------------------------------
    def train_step(self, batch: torch.Tensor) -> dict[str, float]:
        raise NotImplementedError

    def inference_net(self) -> torch.nn.Module:
        """The network to sample and export: the EMA copy where there is one."""
        raise NotImplementedError

    def model_state(self) -> dict:
        """Networks and optimisers; "generator" and "ema" are what the exporter reads."""
        return {
            "generator": plain(self.G.state_dict()),
            "discriminator": plain(self.D.state_dict()),
            "ema": plain(self.inference_net().state_dict()) if self.ema is not None else None,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
        }

    def load_model_state(self, state: dict) -> None:
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.net.load_state_dict(state["ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        set_lr(self.opt_g, self.cfg.lr_g)  # the saved state carries the old rate; the config's wins
        set_lr(self.opt_d, self.cfg.lr_d)

    def save_samples(self, path: Path) -> None:
        raise NotImplementedError

    def epoch_metrics(self) -> dict[str, float]:
        """Figures measured once per epoch (held-out scores); logged with the epoch's last row."""
        return {}

    # ---- checkpoints --------------------------------------------------------
    def state(self) -> dict:
        """Everything needed to continue; module states are saved unwrapped (no DDP/SyncBN prefixes),
        so any number of processes can resume them."""
        return {
            "model": self.KIND,
            "config": asdict(self.cfg),
            **self.model_state(),
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
        self.load_model_state(state)
        self.epoch, self.batch_in_epoch, self.step = state["epoch"], state["batch_in_epoch"], state["step"]
        self.train_seconds = state.get("train_seconds", 0.0)
        torch.set_rng_state(state["torch_rng"])

    def save_checkpoint(self) -> Path:
        path = Path(self.cfg.out) / checkpoint.FILENAME
        checkpoint.save(self.state(), path)
        return path


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


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


def budget_advice(step: int, steps_per_epoch: int, epochs: int, steps_per_s: float, seconds_left: float) -> str | None:
    """What --max-minutes will do to the schedule at the speed measured so far, or None when it fits.

    The learning rate decays over --epochs, not over the minutes: a budget that ends first stops the run with the
    rate still high (a worse model than a shorter schedule that finishes), and one far longer than the schedule
    leaves training time unused. Both depend on the machine's speed, so the loop says which after one epoch."""
    steps_left = epochs * steps_per_epoch - step
    fits = steps_per_s * max(seconds_left, 0.0)
    fill = int((step + fits) // steps_per_epoch)  # epochs the rest of the budget reaches at this speed
    if steps_left > fits:
        return (f"note: at {steps_per_s:.1f} steps/s --max-minutes stops this session near epoch {fill} of {epochs}, "
                f"before the learning rate has decayed: resume to go on, or start the run with --epochs {fill} "
                f"to finish its schedule within the budget")
    if fits > 1.25 * steps_left and fill > epochs:
        return (f"note: at {steps_per_s:.1f} steps/s the schedule ends {(fits - steps_left) / steps_per_s / 60:.0f} "
                f"min before the --max-minutes budget; --epochs {fill} would fill it")
    return None


def run(task: type[Task], cfg: RunConfig, resume: bool = False, stop: StopFlag | None = None,
        dist: Dist | None = None) -> Task:
    """Train task(cfg, data, dist) until cfg.epochs, cfg.max_minutes, cfg.max_steps or a stop signal; checkpoint
    on the way out.

    Under torchrun every rank runs this loop on its share of each global batch;
    only rank 0 writes files, and stop decisions are agreed by all ranks."""
    dist = dist or Dist()
    if cfg.batch_size % dist.world_size:
        raise ConfigError(f"--batch-size {cfg.batch_size} must divide evenly over {dist.world_size} processes")
    out = Path(cfg.out)
    if not resume and (out / checkpoint.FILENAME).exists():
        raise FileExistsError(f"{out} already holds a run: pass --resume to continue it, or choose another --out")
    torch.set_num_threads(cfg.threads or max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", 1))))
    state = checkpoint.load(out, task.KIND) if resume else None
    if not cfg.data:
        raise DataError("no --data given and the checkpoint does not name its data")
    with warnings.catch_warnings(record=True) as caught:  # skipped files: one plain line, not a warnings traceback
        warnings.simplefilter("always")
        data = load_images(cfg.data, cfg.image_size, cfg.max_images or None)
    if dist.is_main:
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
    tr = task(cfg, data, dist)
    main = dist.is_main
    say = (lambda msg: print(msg, file=sys.stderr)) if main else (lambda msg: None)
    if state is not None:
        tr.load_state(state)
        say(f"resumed {out} at epoch {tr.epoch}, step {tr.step}")
    else:
        tr.start()
    if main:
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob(checkpoint.FILENAME + ".*.tmp"):  # left by a run killed mid-write
            stale.unlink(missing_ok=True)
        if state is not None and (dropped := truncate_metrics(out / "metrics.csv", tr.step)):
            say(f"metrics.csv: dropped {dropped} row(s) logged after the checkpoint's step {tr.step}")
    stop = stop or StopFlag()
    bs = tr.global_batch
    say(f"{len(tr.data)} images, {tr.steps_per_epoch} steps/epoch of {bs}"
        + (f" ({dist.world_size} processes × {bs // dist.world_size})" if dist.enabled else "")
        + f", epochs {tr.epoch}→{cfg.epochs}")
    if note := precision_note(bool(cfg.bf16), dist.device.type, native_bf16()):
        say(note)
    if len(tr.data) < cfg.batch_size:
        say(f"note: only {len(tr.data)} images, fewer than --batch-size {cfg.batch_size}: every step uses all of them")
    elif rest := len(tr.data) % cfg.batch_size:
        say(f"note: each epoch reshuffles and leaves out {rest} image(s) that do not fill a last batch "
            f"(different ones every epoch)")

    session_start = time.monotonic()
    last_save = first_step = tr.step
    first_epoch = tr.epoch
    if cfg.max_steps and tr.step >= cfg.max_steps:  # resumed past the limit: nothing to do
        stop.reason = f"--max-steps {cfg.max_steps}"
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
            last_of_epoch = tr.batch_in_epoch == tr.steps_per_epoch
            if main and (tr.step % cfg.log_every == 0 or last_of_epoch):
                ips = n_log / max(time.monotonic() - t_log, 1e-9)
                bar.set_postfix({k: f"{v:.3f}" for k, v in list(stats.items())[:2]} | {"img_s": f"{ips:.0f}"})
                scores = tr.epoch_metrics() if last_of_epoch else {}
                write_metrics(out / "metrics.csv", {"step": tr.step, "epoch": tr.epoch + tr.batch_in_epoch / tr.steps_per_epoch,
                                                     "minutes": round(tr.train_seconds / 60, 3),
                                                     **{k: round(v, 5) for k, v in stats.items()},
                                                     **{k: round(scores[k], 5) if k in scores else "" for k in tr.EPOCH_METRICS},
                                                     "img_per_s": round(ips, 1)})
                t_log, n_log = time.monotonic(), 0
            if cfg.max_minutes and time.monotonic() - session_start >= cfg.max_minutes * 60 - 1e-9:
                stop.reason = stop.reason or f"--max-minutes {cfg.max_minutes:g}"
            if cfg.max_steps and tr.step >= cfg.max_steps:
                stop.reason = stop.reason or f"--max-steps {cfg.max_steps}"
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
            if cfg.max_minutes and tr.epoch == first_epoch + 1 and not stop.reason:
                elapsed = time.monotonic() - session_start  # wall-clock, as the budget counts it
                advice = budget_advice(tr.step, tr.steps_per_epoch, cfg.epochs, (tr.step - first_step) / elapsed,
                                       cfg.max_minutes * 60 - elapsed)
                if advice:
                    say(advice)
    if main:
        if tr.step != last_save or stop.reason:
            tr.save_checkpoint()
        tr.save_samples(out / "samples" / "last.png")
        plot_losses(out / "metrics.csv", out / "loss.png")
    return tr


def main(parse: Callable[[], tuple[RunConfig, bool]], train: Callable[..., Task],
         prog: str, onnx_name: str, app_args: Callable[[RunConfig, Path], str]) -> int:
    """The command line around a trainer: parse, install the stop handler, train, and turn the expected
    failures (bad input, a diverged run) into one line and an exit code; bugs keep their traceback. A finished run
    ends with its next steps: the export (to onnx_name in the run folder) and the app on it (app_args)."""
    dist = Dist()
    cfg = None
    try:
        cfg, resume = parse()
        stop = StopFlag()
        stop.install()
        dist = setup()
        tr = train(cfg, resume, stop, dist)
    except (DataError, checkpoint.CheckpointError, FileExistsError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Diverged as e:
        print(f"error: training diverged ({e}). The last good checkpoint in {cfg.out} is kept; "
              f"resume it with lower learning rates in a new run, or check the data.", file=sys.stderr)
        return 1
    finally:
        dist.close()
    if not dist.is_main:
        return 0
    where = Path(cfg.out) / checkpoint.FILENAME
    if stop.reason:
        capped = cfg.max_steps and tr.step >= cfg.max_steps  # the checkpoint keeps the limit: a plain resume stops again
        more = " --max-steps 0   (or a higher limit)" if capped else ""
        print(f"stopped by {stop.reason} at epoch {tr.epoch}, step {tr.step}; checkpoint saved to {where}.\n"
              f"Resume with: {prog} --out {cfg.out} --resume{more}", file=sys.stderr)
    else:
        onnx = Path(cfg.out) / onnx_name
        print(f"done: {tr.epoch} epochs, {tr.step} steps, {tr.train_seconds / 60:.1f} min. Export with:\n"
              f"  python -m trainer.export --checkpoint {cfg.out}      # writes {onnx}\n"
              f"and try it with:\n  python app.py {app_args(cfg, onnx)}", file=sys.stderr)
    return 0
