"""Training throughput: our trainer vs the textbook recipe (benchmarks/textbook_dcgan.py), same data, same run.

    python -m benchmarks.training [--seconds 60] [--data ../shared/datasets/anime-faces-64.zip]
    python -m benchmarks.training --fid-minutes 15      # also: FID of each after the same wall-clock budget (long)

Throughput: each trains for --seconds (after a short warm-up) at batch 128; images/s includes the textbook
DataLoader's JPEG decoding, as it would in a real run, and for ours the in-memory batches.

FID head-to-head: both train at the same time for --fid-minutes, one torch thread each (the textbook's
DataLoader worker is a third process on the same 2 cores, which only slows ours), then each generator
is scored with ../shared/tools/fid.py --n 2000. Ours is the real command line, per-epoch samples and all.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from scripts.shared_paths import REAL  # the shared faces' path, defined once

ROOT = Path(__file__).resolve().parent.parent


def ours_for(data: torch.Tensor, seconds: float, batch_size: int = 128, compiled: bool = False, **overrides):
    """Our Trainer for `seconds` on `data` (Config fields as overrides); compiled: G and D through torch.compile
    (nn.Module.compile, which keeps their state_dict keys), after a warm-up that pays for the compiling."""
    from trainer.train import Config, Trainer, check_config, native_bf16

    cfg = Config(batch_size=batch_size, **overrides)
    check_config(cfg, native_bf16())
    tr = Trainer(cfg, data)
    if compiled:
        tr.G.compile()
        tr.D.compile()
        for _ in range(3):
            tr.train_step(tr.batch())
    t0, n = time.monotonic(), 0
    while time.monotonic() - t0 < seconds:
        tr.train_step(tr.batch())
        tr.batch_in_epoch = (tr.batch_in_epoch + 1) % tr.steps_per_epoch
        if tr.batch_in_epoch == 0:
            tr.epoch += 1
        n += 1
    return tr, n, n * batch_size / (time.monotonic() - t0)


def throughput(data_path: str, seconds: float) -> dict:
    """Images/s of the textbook recipe and of ours (fp32 bare, and with bf16/EMA/DiffAugment), batch 128, all
    cores, all at the textbook's width (our default width 32 is a further ~3.5× and is measured by FID instead)."""
    from benchmarks.textbook_dcgan import extract, train_for
    from trainer.data import load_images

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = extract(data_path, Path(tmp))
        t = time.monotonic()
        data = load_images(data_path, 64)
        decode_s = time.monotonic() - t
        train_for(root, 5)  # warm-up (workers, allocator)
        _, steps, ips = train_for(root, seconds)
        rows["textbook (fp32, DataLoader over JPEGs)"] = ips
        same = dict(ngf=64, ndf=64)  # the textbook's architecture, so images/s compare like with like
        ours_for(data, 5, bf16=False, **same)
        _, _, ips = ours_for(data, seconds, bf16=False, diffaug="", ema_kimg=0.0, **same)
        rows["ours, fp32, no EMA/DiffAugment (in-memory data, channels_last)"] = ips
        _, _, ips = ours_for(data, seconds, **same)
        rows["ours, bf16 where native, EMA, DiffAugment (ngf=ndf=64)"] = ips
        _, _, ips = ours_for(data, seconds, compiled=True, **same)
        rows["the same, G and D through torch.compile"] = ips
        base = rows["textbook (fp32, DataLoader over JPEGs)"]
        print(f"one-off decode of the data set into memory: {decode_s:.1f} s ({len(data)} images)")
        print(f"{'trainer':<66} {'img/s':>7} {'vs textbook':>12}")
        for k, v in rows.items():
            print(f"{k:<66} {v:>7.1f} {v / base:>11.2f}×")
    return {"img_per_s": rows, "decode_s": decode_s}


def head_to_head(data: str, minutes: float, n: int = 2000) -> dict:
    """Textbook recipe vs our trainer's defaults, side by side for the same wall-clock minutes; FID of each."""
    from scripts.fid_of_run import fid_of

    data = str(Path(data).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        procs = {
            "textbook": subprocess.Popen([sys.executable, "-m", "benchmarks.textbook_dcgan", "--data", data,
                                          "--minutes", str(minutes), "--onnx", str(tmp / "textbook.onnx")], cwd=ROOT),
            "ours": subprocess.Popen([sys.executable, "-m", "trainer.train", "--data", data, "--out", str(tmp / "ours"),
                                      "--epochs", "1000", "--max-minutes", str(minutes), "--threads", "1"], cwd=ROOT,
                                     stderr=subprocess.DEVNULL),
        }
        for name, proc in procs.items():
            if proc.wait() != 0:
                raise RuntimeError(f"{name} training failed (exit {proc.returncode})")
        subprocess.run([sys.executable, "-m", "trainer.export", "--checkpoint", str(tmp / "ours"),
                        "--out", str(tmp / "ours.onnx")], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        fids = {}
        for name in procs:
            fids[name] = fid_of(tmp / f"{name}.onnx", n)
            print(f"{name}: FID@{n} after {minutes:g} min = {fids[name]['fid']:.1f} "
                  f"(KID×1e3 {fids[name]['kid_x1000']:.1f})", flush=True)
    return {"minutes": minutes, "threads_each": 1, **fids}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(REAL))
    p.add_argument("--seconds", type=float, default=60, help="throughput run length per trainer (0 = skip)")
    p.add_argument("--fid-minutes", type=float, default=0, help="also train each this long and compare FID@2000")
    p.add_argument("--json")
    a = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)

    result = throughput(a.data, a.seconds) if a.seconds > 0 else {}

    if a.fid_minutes:
        result["fid_after_minutes"] = head_to_head(a.data, a.fid_minutes)
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
