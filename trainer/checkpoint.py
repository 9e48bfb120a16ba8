"""Checkpoint files: written atomically, read without unpickling arbitrary objects."""
from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch

FILENAME = "checkpoint.pt"


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, truncated or not ours."""


def resolve(path: str | Path) -> Path:
    """A run folder or a checkpoint file → the checkpoint file."""
    path = Path(path).expanduser()
    return path / FILENAME if path.is_dir() else path


def save(state: dict[str, Any], path: str | Path) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the old one:
    a kill at any moment leaves either the old or the new checkpoint, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def replace_atomically(write: Callable[[Path], object], path: str | Path) -> None:
    """write(temp file) then rename it over `path`: a failure leaves the old file, and no temp file, behind.
    For the small files beside a run or an export (metrics, metadata, copies); checkpoints use save()."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def copy(src: str | Path, dst: str | Path) -> None:
    """Atomic copy of a checkpoint file (snapshots)."""
    replace_atomically(lambda tmp: shutil.copyfile(src, tmp), dst)


TRAINERS = {"dcgan": "python -m trainer.train", "colorizer": "python -m trainer.colorize",
            "encoder": "python -m trainer.encoder"}


def kind_of(state: dict[str, Any]) -> str:
    """Which trainer wrote a checkpoint ("dcgan" for those written before the colouriser existed)."""
    return str(state.get("model", "dcgan"))


def load(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Load with weights_only=True (tensors and plain containers only); with `kind`, refuse another
    trainer's checkpoint (a colouriser run resumed by the DCGAN trainer, or the reverse)."""
    path = resolve(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # a whole file, but with objects other than tensors and plain containers
        raise CheckpointError(f"{path}: not a readable checkpoint: it holds Python objects other than tensors, so it "
                              f"was not written by trainer.train and was not loaded (loading it could run code).") from None
    except Exception:  # truncated zip, garbage bytes (torch's own message runs on for several lines)
        raise CheckpointError(f"{path}: not a readable checkpoint: the file is truncated or is not a PyTorch file; "
                              f"resume from a copy under snapshots/ if the run kept one, or start a new --out.") from None
    if not isinstance(state, dict) or "generator" not in state or "config" not in state:
        raise CheckpointError(f"{path}: not a checkpoint written by trainer.train, trainer.colorize or trainer.encoder")
    if kind is not None and kind_of(state) != kind:
        article = "an" if kind[:1] in "aeiou" else "a"
        raise CheckpointError(f"{path}: a {kind_of(state)} checkpoint, not {article} {kind} one: continue it with "
                              f"{TRAINERS.get(kind_of(state), 'its own trainer')} --out {path.parent} --resume")
    return state
