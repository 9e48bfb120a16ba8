"""What minibatch-std (`--mbstd`) costs a training step, with its variance as torch.var and as spelled out.

    python -m benchmarks.mbstd [--rounds 5] [--threads 1] [--json out.json]

Three discriminators at the default width take turns in one process, each timed on the default batch (32) under the
trainer's bf16 autocast: forward + backward of D (what a training step does with D three times), 30 × --rounds calls
each after 5 untimed ones, taking turns call by call; figures are medians. "torch.var" is MinibatchStd as R14 of issue #13
trained it (8.7–9 steps/s on one core against 10.4–11.3 without --mbstd); "spelled out" is trainer.model's today.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from trainer.model import Discriminator, MinibatchStd


class TorchVarMinibatchStd(MinibatchStd):
    """The first MinibatchStd: torch.var over the group dimension (slow on CPU, same result)."""

    @staticmethod
    def group_std(y: torch.Tensor) -> torch.Tensor:
        return (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=[1, 2, 3])


def discriminators(ndf: int = 32) -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    plain = Discriminator(ndf, 64)
    fast = Discriminator(ndf, 64, mbstd=True)
    slow = Discriminator(ndf, 64, mbstd=True)
    slow.load_state_dict(fast.state_dict())
    i = next(i for i, m in enumerate(slow.main) if isinstance(m, MinibatchStd))
    slow.main[i] = TorchVarMinibatchStd(slow.main[i].group)
    return {"no minibatch-std": plain, "--mbstd, torch.var": slow, "--mbstd, spelled out": fast}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="torch threads (the hour protocol trains on one)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--json")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    x = torch.randn(a.batch, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    ds = {k: d.to(memory_format=torch.channels_last) for k, d in discriminators().items()}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outs = {k: d(x).float() for k, d in ds.items()}
    spread = (outs["--mbstd, torch.var"] - outs["--mbstd, spelled out"]).abs().max().item()

    def step(d: torch.nn.Module) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = d(x)
        y.float().sum().backward()

    times: dict[str, list[float]] = {k: [] for k in ds}
    for k, d in ds.items():
        for _ in range(5):
            step(d)
    for _ in range(a.rounds * 30):
        for k, d in ds.items():  # one call each in turn, so that drift in the machine's speed hits all three alike
            t = time.perf_counter()
            step(d)
            times[k].append(time.perf_counter() - t)
    base = statistics.median(times["no minibatch-std"])
    rows = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(f"D forward + backward, batch {a.batch}, width 32, {a.threads} thread(s), bf16 autocast")
    print(f"{'discriminator':<24} {'ms':>7} {'extra over none':>16}")
    for k, ms in rows.items():
        print(f"{k:<24} {ms:>7.2f} {ms - base * 1000:>+15.2f}")
    print(f"largest logit difference, torch.var vs spelled out: {spread:.2e}")
    if a.json:
        Path(a.json).write_text(json.dumps({"ms": rows, "batch": a.batch, "threads": a.threads,
                                            "max_logit_difference": spread}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
