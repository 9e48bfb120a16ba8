"""Training throughput: our trainer vs the textbook recipe (benchmarks/textbook_dcgan.py), same data, same run.

    python -m benchmarks.training [--seconds 60] [--data ../shared/datasets/anime-faces-64.zip]
    python -m benchmarks.training --fid-minutes 30      # also: FID of each after the same wall-clock budget (long)

Throughput: each trains for --seconds (after a short warm-up) at batch 128; images/s includes the textbook
DataLoader's JPEG decoding, as it would in a real run, and for ours the in-memory batches.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def ours_for(data: torch.Tensor, seconds: float, batch_size: int = 128, **overrides):
    from trainer.train import Config, Trainer, check_config

    cfg = Config(batch_size=batch_size, **overrides)
    check_config(cfg)
    tr = Trainer(cfg, data)
    t0, n = time.monotonic(), 0
    while time.monotonic() - t0 < seconds:
        tr.train_step(tr.batch())
        tr.batch_in_epoch = (tr.batch_in_epoch + 1) % tr.steps_per_epoch
        if tr.batch_in_epoch == 0:
            tr.epoch += 1
        n += 1
    return tr, n, n * batch_size / (time.monotonic() - t0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "anime-faces-64.zip"))
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--fid-minutes", type=float, default=0, help="also train each this long and compare FID@2000")
    p.add_argument("--json")
    a = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)

    from benchmarks.textbook_dcgan import extract, train_for
    from trainer.data import load_images

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = extract(a.data, Path(tmp))
        t = time.monotonic()
        data = load_images(a.data, 64)
        decode_s = time.monotonic() - t
        train_for(root, 5)  # warm-up (workers, allocator)
        _, steps, ips = train_for(root, a.seconds)
        rows["textbook (fp32, DataLoader over JPEGs)"] = ips
        ours_for(data, 5, bf16=False)
        _, _, ips = ours_for(data, a.seconds, bf16=False, diffaug="", ema=0.0)
        rows["ours, fp32, no EMA/DiffAugment (in-memory data, channels_last)"] = ips
        _, _, ips = ours_for(data, a.seconds)
        rows["ours, defaults (bf16 where native, EMA, DiffAugment)"] = ips
        base = rows["textbook (fp32, DataLoader over JPEGs)"]
        print(f"one-off decode of the data set into memory: {decode_s:.1f} s ({len(data)} images)")
        print(f"{'trainer':<66} {'img/s':>7} {'vs textbook':>12}")
        for k, v in rows.items():
            print(f"{k:<66} {v:>7.1f} {v / base:>11.2f}×")
        result = {"img_per_s": rows, "decode_s": decode_s}

        if a.fid_minutes:
            from scripts.fid_of_run import fid_of
            from trainer.model import FoldedGenerator

            fids = {}
            for name, make in (("textbook", lambda: train_for(root, a.fid_minutes * 60)[0].G),
                               ("ours", lambda: ours_for(data, a.fid_minutes * 60)[0].inference_generator())):
                g = make().eval().to(memory_format=torch.contiguous_format)
                onnx_path = Path(tmp) / f"{name}.onnx"
                torch.onnx.export(FoldedGenerator(g), (torch.zeros(2, 100),), str(onnx_path), dynamo=False,
                                  input_names=["z"], output_names=["image"], dynamic_axes={"z": {0: "b"}, "image": {0: "b"}})
                fids[name] = fid_of(onnx_path, 2000)
                print(f"{name}: FID@2000 after {a.fid_minutes:g} min = {fids[name]['fid']:.1f}", flush=True)
            result["fid_after_minutes"] = {"minutes": a.fid_minutes, **fids}
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
