"""Trainer settings: one dataclass per model that is also its command line.

RunConfig holds what every trainer has (data, run folder, epochs, limits, logging); each model's config
extends it (Config here for the DCGAN, ColorizerConfig in trainer.colorize). Each field's default and help
live once in the dataclass; `build_parser` turns the fields into flags (`lr_g` → `--lr-g`).
"""
from __future__ import annotations

import argparse
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from demo.latents import NZ
from trainer import checkpoint
from trainer.augment import check_policy
from trainer.losses import LOSSES
from trainer.model import D_NORMS, G_UPSAMPLES, SIZES

LR_DECAYS = ("cosine", "constant")
TAIL_SHARE = 3 / 7  # --color-tail's default as a share of --epochs: the measured 30 of 70
USAGE = """Train a DCGAN on a folder or .zip of faces.

    python -m trainer.train --data ../shared/datasets/anime-faces-64.zip --out runs/anime
    python -m trainer.train --out runs/anime --resume --epochs 60

Every epoch (and on Ctrl-C / SIGTERM / --max-minutes) the run folder gets an
atomic checkpoint.pt, a sample grid of fixed seeds under samples/, and rows
in metrics.csv. Export the result with `python -m trainer.export`.
"""


def option(help: str, **argparse_kwargs: Any) -> Any:
    """A field's help text (and any extra argparse options) for build_parser."""
    return {"help": help, **argparse_kwargs}


@dataclass
class RunConfig:
    """What every trainer takes (trainer.loop reads these)."""
    data: str = field(default="", metadata=option("folder of images (searched recursively) or a .zip of images"))
    out: str = field(default="runs/run", metadata=option("run folder for checkpoint, samples and metrics"))
    epochs: int = field(default=30, metadata=option("total epochs to reach"))
    batch_size: int = field(default=64, metadata=option(
        "images per step, over all processes under torchrun (each takes batch/world size)"))
    image_size: int = field(default=64, metadata=option("training resolution", choices=SIZES))
    channels_last: bool = field(default=True, metadata=option("NHWC memory layout (faster convolutions on CPU)"))
    bf16: bool | None = field(default=None, metadata=option(
        "bfloat16 autocast for forward passes (weights and optimiser stay float32); "
        "default: on where the CPU or GPU has native bfloat16 (about 1.6× the steps per minute)"))
    seed: int = field(default=0, metadata=option("makes the run reproducible on one machine"))
    max_minutes: float = field(default=0.0, metadata=option(
        "stop cleanly after this many minutes of this session (0 = no limit); after one epoch it says which "
        "--epochs would fill them, since the rate decays over --epochs"))
    max_steps: int = field(default=0, metadata=option(
        "stop cleanly once the run has made N steps in all (0 = no limit): equal compute for comparing recipes "
        "when the machine's speed varies, where --max-minutes would not be"))
    max_images: int = field(default=0, metadata=option("use only the first N images (0 = all)"))
    threads: int = field(default=0, metadata=option("torch CPU threads (0 = all cores)"))
    log_every: int = field(default=10, metadata=option("steps between metrics.csv rows"))
    checkpoint_every: int = field(default=0, metadata=option("also checkpoint every N steps (0 = per epoch only)"))
    snapshot_every: int = field(default=0, metadata=option("keep a copy of the checkpoint every N epochs (0 = off)"))
    flip: bool = field(default=False, metadata=option(
        "mirror a random half of each batch (for the DCGAN on anime faces it scored worse: docs/training.md)"))


@dataclass
class Config(RunConfig):
    """The DCGAN's settings (python -m trainer.train)."""
    out: str = field(default="runs/anime", metadata=option("run folder for checkpoint, samples and metrics"))
    epochs: int = field(default=40, metadata=option(
        "total epochs to reach; the learning rate decays over them "
        "(40 × 18k faces: about an hour on one core of a CPU with native bfloat16; one without trains in float32 and made "
        "4.2 steps/s at batch 16, about three hours at that speed)"))
    batch_size: int = field(default=16, metadata=option(
        "images per step, over all processes under torchrun (each takes batch/world size); "
        "on a CPU smaller batches win at equal minutes: 16 beat 32 at the one-core hour (docs/training.md); "
        "on a GPU, where a step of 32 should cost about what one of 16 does, give 32 or more"))
    nz: int = field(default=NZ, metadata=option("latent size (the app's convention)"))
    ngf: int = field(default=32, metadata=option("generator width (the paper's 64 is ~3.5× slower per step)"))
    ndf: int = field(default=32, metadata=option("discriminator width"))
    g_upsample: str = field(default="transpose", metadata=option(
        "how G doubles its maps: transpose = the paper's 4×4 stride-2 ConvTranspose; nearest = nearest-neighbour "
        "upsampling then a 3×3 conv (no checkerboard, but at the one-core hour 61.5 FID@2k against 49.2, and a second seed "
        "collapsed: docs/training.md, R33)", choices=G_UPSAMPLES))
    loss: str = field(default="bce", metadata=option(
        "bce = non-saturating logistic (DCGAN); rpgan = relativistic pairing (R3GAN; with --gamma > 0); hinge",
        choices=LOSSES))
    gamma: float = field(default=0.0, metadata=option(
        "weight of the R1 + R2 gradient penalties on D (γ/2·(R1+R2)); 0 = off; needs --d-norm none or spectral"))
    reg_every: int = field(default=8, metadata=option(
        "apply the gradient penalties every N steps, scaled by N (lazy regularisation, as StyleGAN2)"))
    lecam: float = field(default=0.03, metadata=option(
        "weight of the LeCam regulariser on D (Tseng et al. 2021): squared penalty on real logits above the running "
        "mean of fake ones and fake logits below that of real ones; works with BatchNorm; 0 = off "
        "(0.03: level with 0 after 21,610 one-core steps, 5.9 FID@5k better at the end of a 140-epoch run; "
        "0.3 held D at chance and a long run collapsed to one face: docs/training.md)"))
    d_norm: str = field(default="batch", metadata=option(
        "normalisation in D: none (needed for per-image gradient penalties), batch (DCGAN), spectral (SN-GAN)",
        choices=D_NORMS))
    d_joint: bool | None = field(default=None, metadata=option(
        "D judges the real and the fake batch in one call, so its BatchNorm normalises both with the same statistics "
        "(apart, each batch is normalised by its own); default: on where D has BatchNorm (--d-norm batch). Over a "
        "20-epoch run 58.3 / 50.7 FID@5k (two seeds) against 71.3 / 80.5, and fewer broken faces by a blind count "
        "(docs/training.md, runs R23 and R24); 12–14%% slower per step; --no-d-joint for two calls"))
    mbstd: bool = field(default=True, metadata=option(
        "minibatch-std feature before D's last layer: D sees how alike the faces of a batch are "
        "(40.3 FID@5k at the end of a 140-epoch run against 47.0 / 47.5 without it: docs/training.md); "
        "--no-mbstd turns it off"))
    lr_g: float = field(default=2e-4, metadata=option("generator Adam learning rate"))
    lr_d: float = field(default=2e-4, metadata=option("discriminator Adam learning rate"))
    beta1: float = field(default=0.5, metadata=option("Adam beta1 (DCGAN's 0.5; StyleGAN2/R3GAN use 0)"))
    beta2: float = field(default=0.999, metadata=option("Adam beta2 (StyleGAN2/R3GAN use 0.99)"))
    lr_decay: str = field(default="cosine", metadata=option(
        "learning-rate schedule over --epochs: cosine down to --lr-final × the rate, or constant", choices=LR_DECAYS))
    lr_final: float = field(default=0.1, metadata=option("the rate at the last epoch, as a fraction of --lr-g/--lr-d"))
    ema_kimg: float = field(default=44.3, metadata=option(
        "half-life of the generator's moving average, in thousands of images (44.3 = decay 0.999 per step of 64); 0 = no EMA"))
    ema_rampup: float = field(default=0.05, metadata=option(
        "early on, the half-life is at most this fraction of the images seen so far (0 = no ramp-up)"))
    diffaug: str = field(default="color,translation,cutout", metadata=option(
        'DiffAugment policy for D: comma list of color,translation,cutout; "" = off '
        "(colour keeps D from winning outright: measured in docs/training.md)"))
    color_p: float = field(default=1.0, metadata=option(
        "probability that an image D sees gets DiffAugment's colour transforms (the rest keep their colours)"))
    color_tail: int | None = field(default=None, metadata=option(
        "over the last N epochs of --epochs, D's colour probability is --tail-color-p instead of --color-p, so that D "
        "sees truer colours once G is good; 0 = off; default: 3/7 of --epochs, rounded (60 of 140, 30 of 70, 19 of 45),"
        " fixed when the run starts. Measured (docs/training.md, runs R26 to R31): over 140 epochs "
        "(the last 60 at 0.5) 28.6 / 31.4 FID@5k on two seeds, saturation 63 / 60; over 70 epochs (the last 30) 37.5 / "
        "35.5, saturation 58 / 59, against 33.4 and 52.5 with no tail; --tail-color-p 0 left a bar at the left edge of "
        "many faces"))
    tail_color_p: float = field(default=0.5, metadata=option("the colour probability over the last --color-tail epochs"))
    topk: float = field(default=1.0, metadata=option(
        "top-k training (Sinha et al. 2020): G learns only from the fakes D rates most real, a share that shrinks "
        "geometrically from the whole batch to this one by half-way through --epochs, then stays (the paper's 0.99 "
        "per epoch reaches its 0.5 at epoch 69 of 140); 1 = off (default). Measured (docs/training.md, run R36): 0.5 "
        "over 10 epochs scored 118.8 / 145.2 FID@2k on two seeds against 84.4 / 89.5, with a quarter to a third of "
        "the faces broken"))
    sync_bn: bool = field(default=False, metadata=option(
        "under torchrun: BatchNorm statistics over the global batch (SyncBatchNorm; CUDA only)"))


# What may change when any run is resumed (limits, logging, the data's location); everything else must match the
# checkpoint. Each trainer adds its own: here the learning rates, so that a run that has levelled off can be
# fine-tuned at a lower rate, and the colour probability, so that a run can end with D seeing truer colours.
RUN_RESUMABLE = {"data", "epochs", "max_minutes", "max_steps", "threads", "log_every", "checkpoint_every",
                 "snapshot_every"}
RESUMABLE = RUN_RESUMABLE | {"lr_g", "lr_d", "lr_final", "color_p", "color_tail", "tail_color_p"}
# What checkpoints written before a setting existed were trained with (so they resume as they were trained).
LEGACY = {"gamma": 0.0, "d_norm": "batch", "mbstd": False, "lr_decay": "constant", "beta1": 0.5, "beta2": 0.999,
          "loss": "bce", "ema_kimg": 44.3, "ema_rampup": 0.0, "flip": False, "lecam": 0.0, "color_p": 1.0,
          "d_joint": False, "color_tail": 0, "g_upsample": "transpose", "topk": 1.0}


class ConfigError(ValueError):
    """A setting that cannot work; main() reports it as one line (other ValueErrors are bugs and keep their traceback)."""


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser(defaults: bool = True, cls: type[RunConfig] | None = None, prog: str = "python -m trainer.train",
                 usage: str = USAGE) -> argparse.ArgumentParser:
    """A trainer's CLI, made from its config class's fields (default: the DCGAN's Config). defaults=False gives
    a parser whose result holds only the flags actually typed (argument_default=SUPPRESS), which --resume needs."""
    cls = cls or Config
    p = argparse.ArgumentParser(prog=prog, description=usage, formatter_class=argparse.RawDescriptionHelpFormatter,
                                argument_default=None if defaults else argparse.SUPPRESS)
    p.add_argument("--resume", action="store_true", help="continue the run in --out; its config comes from the checkpoint")
    for f in fields(cls):
        kw = dict(f.metadata)
        default = f.default if f.default is not MISSING else None
        if defaults:
            kw["default"] = default
            if default not in (None, "") and f.name not in ("data",):
                kw["help"] += " (default %(default)s)"
        if f.type in ("bool", "bool | None"):
            kw["action"] = argparse.BooleanOptionalAction
        else:
            kw["type"] = {"int": int, "int | None": int, "float": float, "str": str}[f.type]
        p.add_argument(_flag(f.name), **kw)
    return p


def as_trained(saved: dict[str, Any], cls: type[RunConfig] | None = None,
               legacy: dict[str, Any] | None = LEGACY) -> Any:
    """A checkpoint's stored config as the run was trained: settings it predates take their LEGACY value, not
    today's default (an old run must resume, export and be measured as it was trained, e.g. without minibatch-std)."""
    cls = cls or Config
    names = {f.name for f in fields(cls)}
    cfg = cls(**{**asdict(cls()), **(legacy or {}), **{k: v for k, v in saved.items() if k in names}})
    if "d_norm" in names and "d_norm" not in saved and saved.get("spectral_norm"):
        cfg.d_norm = "spectral"
    return cfg


def parse_config(argv: list[str] | None, cls: type[RunConfig], kind: str, prog: str, usage: str,
                 resumable: set[str], legacy: dict[str, Any] | None = None) -> tuple[Any, bool]:
    """Parse a trainer's CLI into its config; with --resume, merge the typed flags onto the checkpoint's config
    (only the `resumable` ones may differ from it; `legacy` fills settings older checkpoints lack)."""
    parser = build_parser(True, cls, prog, usage)
    args = parser.parse_args(argv)
    if not args.resume:
        if not args.data:
            parser.error("--data is required for a new run (or pass --resume to continue one)")
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)}), False
    typed = vars(build_parser(False, cls, prog, usage).parse_args(argv))
    cfg = as_trained(checkpoint.load(args.out, kind)["config"], cls, legacy)
    cfg.out = args.out
    for key, value in typed.items():
        if key in ("resume", "out"):
            continue
        if key in resumable:
            setattr(cfg, key, value)
        elif getattr(cfg, key) != value:
            parser.error(f"{_flag(key)} was {getattr(cfg, key)!r} in this run; start a new --out to change it")
    return cfg, True


def config_from_args(argv: list[str] | None = None) -> tuple[Config, bool]:
    """The DCGAN trainer's CLI → Config."""
    return parse_config(argv, Config, "dcgan", "python -m trainer.train", USAGE, RESUMABLE, LEGACY)


def check_run(cfg: RunConfig, native_bf16: bool) -> None:
    """Checks every trainer's settings need; resolves bf16=None once (stored, so a resumed run keeps it)."""
    if cfg.bf16 is None:
        cfg.bf16 = native_bf16
    for name in ("batch_size", "epochs", "log_every"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{_flag(name)} must be at least 1, got {getattr(cfg, name)}")
    for name in ("max_minutes", "max_steps", "max_images", "threads", "checkpoint_every", "snapshot_every"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"{_flag(name)} must not be negative, got {getattr(cfg, name)}")


def check_config(cfg: Config, native_bf16: bool) -> None:
    """Refuse DCGAN settings that cannot work, with the flag to change."""
    check_run(cfg, native_bf16)
    try:
        check_policy(cfg.diffaug)
    except ValueError as e:
        raise ConfigError(f"--diffaug: {e}") from None
    if cfg.reg_every < 1:
        raise ConfigError(f"--reg-every must be at least 1, got {cfg.reg_every}")
    if not 0 < cfg.topk <= 1:
        raise ConfigError(f"--topk must be in (0, 1], got {cfg.topk}")
    if cfg.topk < 1 and cfg.loss == "rpgan":
        raise ConfigError("--topk needs --loss bce or hinge: rpgan's generator loss pairs every fake with a real")
    for name in ("color_p", "tail_color_p"):
        if not 0 <= getattr(cfg, name) <= 1:
            raise ConfigError(f"{_flag(name)} must be in [0, 1], got {getattr(cfg, name)}")
    if cfg.color_tail is None:  # resolved once and stored, so a resumed run keeps its tail when --epochs grows
        cfg.color_tail = round(TAIL_SHARE * cfg.epochs)
    if not 0 <= cfg.color_tail < cfg.epochs:
        raise ConfigError(f"--color-tail must be at least 0 and less than --epochs ({cfg.epochs}), got {cfg.color_tail}")
    for name in ("gamma", "lecam", "ema_kimg", "ema_rampup"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"{_flag(name)} must not be negative, got {getattr(cfg, name)}")
    if not (cfg.lr_g > 0 and cfg.lr_d > 0):
        raise ConfigError("--lr-g and --lr-d must be positive")
    if not 0 < cfg.lr_final <= 1:
        raise ConfigError(f"--lr-final must be in (0, 1], got {cfg.lr_final}")
    if not (0 <= cfg.beta1 < 1 and 0 <= cfg.beta2 < 1):
        raise ConfigError("--beta1 and --beta2 must be in [0, 1)")
    if cfg.d_joint is None:  # resolved once and stored, so a resumed run keeps it
        cfg.d_joint = cfg.d_norm == "batch"
    if cfg.d_joint and cfg.d_norm != "batch":
        raise ConfigError("--d-joint only changes a D with BatchNorm (--d-norm batch): without it, judging real and "
                          "fake in one call gives the same logits")
    if cfg.gamma and cfg.d_norm == "batch":
        raise ConfigError("--gamma > 0 needs --d-norm none or spectral: with BatchNorm in D, one image's "
                          "gradient depends on the whole batch")
