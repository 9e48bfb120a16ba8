"""Train, export and bring back a generator in one call of a lent GPU machine (the device tool; docs/training.md).

    python scripts/pack_faces.py ../shared/datasets/anime-faces-64.zip .data/faces-webp.zip      # here, once
    # then, as the device tool's command (carry [".data"], timeout_s 600):
    PYTHONUNBUFFERED=1 python3 scripts/device_train.py --data .data/faces-webp.zip --out "$OUT" --minutes 8.5 \
        --epochs 140 -- --batch-size 32 --color-p 0.5

Why one script: a session is lent about 15 device-minutes, a command at most 10, and a machine starts bare, so the
whole job — a speed probe, the longest schedule that fits, export, the files worth keeping — has to be one
prepared command that cannot waste the lease. The learning rate decays over --epochs, not over minutes, so the
probe's steps per second set --epochs: the wanted epochs if they fit, else as many as fit (said in env.json).

What comes back in --out (the device tool returns at most 8 files): env.json (torch, CUDA, GPU, bf16, the probe's
speed, the chosen epochs, each stage's outcome), train.log, metrics.csv, samples.png (the last grid of the 64
fixed seeds), generator.onnx + .json + .directions.npy (the export, checked against PyTorch in onnxruntime; its named
directions are left out, a ninth file: `python -m trainer.export --annotate generator.onnx` adds them here), and
slim.pt (the generator and its EMA without D and the optimisers, so `python -m trainer.export --checkpoint
slim.pt` can redo the export here if the device's failed; the full checkpoint is over the tool's 16 MiB a file).
Everything after `--` goes to `python -m trainer.train` unchanged. It also runs on a CPU (the tests do, tiny).
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLIM_KEYS = ("model", "config", "generator", "ema", "epoch", "batch_in_epoch", "step", "train_seconds", "num_images",
             "steps_per_epoch", "saved_at")


def epochs_that_fit(steps_per_s: float, seconds: float, steps_per_epoch: int, wanted: int, margin: float = 0.85) -> int:
    """The longest schedule (whole epochs, at most `wanted`, at least 1) that `seconds` of training at the probed
    speed finishes, keeping `1 - margin` for what the probe does not see (sample grids and checkpoints each epoch)."""
    if steps_per_s <= 0 or seconds <= 0:
        return 1
    return max(1, min(wanted, math.floor(steps_per_s * seconds * margin / steps_per_epoch)))


def environment() -> dict:
    import torch

    from trainer.loop import native_bf16
    cuda = torch.cuda.is_available()
    return {"torch": torch.__version__, "cuda": cuda, "cuda_version": torch.version.cuda,
            "gpu": torch.cuda.get_device_name(0) if cuda else None, "native_bf16": native_bf16()}


def trainer(args: list[str], log: Path, timeout: float | None = None) -> int:
    """`python -m trainer.train ARGS`, its output appended to `log`; the exit status (124 on timeout)."""
    cmd = [sys.executable, "-m", "trainer.train", *args]
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        try:
            return subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return 124


def slim(ckpt: Path, dst: Path) -> None:
    """The checkpoint without D and the optimisers: what trainer.export needs, a third of the size."""
    from trainer import checkpoint
    state = checkpoint.load(ckpt)
    checkpoint.save({k: state[k] for k in SLIM_KEYS if k in state}, dst)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder or .zip of faces (carried to the machine)")
    p.add_argument("--out", required=True, type=Path, help="where the files to bring back go ($OUT on the machine)")
    p.add_argument("--run", type=Path, default=ROOT / "runs" / "device",
                   help="the run folder, new or empty (default runs/device; a lent machine starts bare)")
    p.add_argument("--minutes", type=float, default=8.5, help="wall-clock for the whole script (default 8.5)")
    p.add_argument("--epochs", type=int, default=140, help="the schedule wanted, if it fits (default 140)")
    p.add_argument("--probe-steps", type=int, default=300, help="steps of the speed probe (default 300)")
    p.add_argument("--reserve", type=float, default=1.0, help="minutes kept for export and copies (default 1)")
    a = p.parse_args(argv[:split])
    extra = argv[split + 1:]
    start = time.monotonic()
    a.out.mkdir(parents=True, exist_ok=True)
    log = a.out / "train.log"
    env: dict = {**environment(), "extra_args": extra, "stages": {}}

    def note(stage: str, value: object) -> None:
        env["stages"][stage] = value
        (a.out / "env.json").write_text(json.dumps(env, indent=2) + "\n")
        print(f"{stage}: {value}", flush=True)

    note("environment", "ok")
    from trainer import checkpoint
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe"
        rc = trainer(["--data", a.data, "--out", str(probe), "--max-steps", str(a.probe_steps), "--epochs", "1000",
                      *extra], log)
        if rc != 0:
            note("probe", f"failed (exit {rc}): see train.log")
            return 1
        state = checkpoint.load(probe)
        steps_per_s = state["step"] / max(state["train_seconds"], 1e-6)
        steps_per_epoch = int(state["steps_per_epoch"])
    left = a.minutes * 60 - (time.monotonic() - start) - a.reserve * 60 - 20  # 20 s: start-up and data decoding
    epochs = epochs_that_fit(steps_per_s, left, steps_per_epoch, a.epochs)
    env.update(steps_per_s=round(steps_per_s, 1), steps_per_epoch=steps_per_epoch, epochs=epochs,
               epochs_wanted=a.epochs)
    note("probe", f"{steps_per_s:.1f} steps/s: {epochs} of {a.epochs} epochs fit in {left / 60:.1f} minutes")

    budget = a.minutes * 60 - (time.monotonic() - start) - a.reserve * 60
    rc = trainer(["--data", a.data, "--out", str(a.run), "--epochs", str(epochs), "--max-minutes",
                  f"{max(budget - 20, 1) / 60:.2f}", "--checkpoint-every", "2000", *extra], log, timeout=budget + 30)
    ckpt = a.run / checkpoint.FILENAME
    if not ckpt.is_file():
        note("train", f"failed (exit {rc}) before any checkpoint: see train.log")
        return 1
    state = checkpoint.load(ckpt)
    note("train", {"exit": rc, "epoch": state["epoch"], "step": state["step"],
                   "minutes": round(state["train_seconds"] / 60, 2), "bf16": state["config"].get("bf16")})
    slim(ckpt, a.out / "slim.pt")
    if (a.run / "metrics.csv").is_file():
        shutil.copy(a.run / "metrics.csv", a.out / "metrics.csv")
    grids = sorted((a.run / "samples").glob("epoch_*.png"))
    if grids:
        shutil.copy(grids[-1], a.out / "samples.png")
    done = subprocess.run([sys.executable, "-m", "trainer.export", "--checkpoint", str(a.run),
                           "--out", str(a.out / "generator.onnx")], cwd=ROOT, capture_output=True, text=True)
    with open(log, "a") as f:
        f.write(done.stdout + done.stderr)
    named = a.out / "generator.named.npy"
    if named.exists():  # a ninth file: the tool returns eight; `trainer.export --annotate` remakes it here
        named.unlink()
        meta_path = a.out / "generator.json"
        meta = json.loads(meta_path.read_text())
        meta.pop("named_directions", None)
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    note("export", "ok" if done.returncode == 0 else f"failed (exit {done.returncode}): see train.log")
    return 0 if done.returncode == 0 and rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
