"""Generator inference: our ONNX engine vs the same generator in PyTorch eager, in one run.

    python -m benchmarks.inference [--model exported/generator.onnx] [--runs 30] [--json out.json]

Batch-1 latency and batch-64 throughput, median of --runs after warm-up, plus
achieved GFLOP/s from the model's counted FLOPs. PyTorch runs the unfolded
generator (BatchNorm in eval mode), built from the exported JSON's options
(timing does not depend on the weights' values).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np


def flops_per_image(g) -> float:
    """2·MACs of every ConvTranspose2d (the rest — BN, ReLU, Tanh — is noise next to them)."""
    import torch

    total, x = 0, torch.zeros(1, g.nz, 1, 1)
    for m in g.main:
        if isinstance(m, torch.nn.ConvTranspose2d):
            h, w = x.shape[-2:]
            total += 2 * m.in_channels * m.out_channels * m.kernel_size[0] * m.kernel_size[1] * h * w
        x = m(x)
    return float(total)


def timeit(fn, runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="exported/generator.onnx")
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args(argv)

    import torch

    from demo.engine import Engine
    from trainer.model import FoldedGenerator, Generator

    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    eng = Engine(a.model, threads=threads)
    opts = eng.info.meta.get("training", {}).get("options", {})
    g = Generator(eng.info.nz, opts.get("ngf", 64), eng.info.image_size).eval()
    folded = FoldedGenerator(g).eval()
    flops = flops_per_image(g)

    rows = []
    for batch in (1, 16, 64):
        z = np.random.RandomState(0).standard_normal((batch, eng.info.nz)).astype(np.float32)
        zt = torch.from_numpy(z)
        with torch.no_grad():
            t_eager = timeit(lambda: g(zt), a.runs)
            t_fold = timeit(lambda: folded(zt), a.runs)
        t_ort_raw = timeit(lambda: eng.session.run(None, {"z": z}), a.runs)
        t_engine = timeit(lambda: eng.render(z), a.runs)  # + uint8 conversion, as the app uses it
        rows.append({"batch": batch, "torch_eager_ms": t_eager * 1e3, "torch_folded_ms": t_fold * 1e3,
                     "onnxruntime_ms": t_ort_raw * 1e3, "engine_ms": t_engine * 1e3,
                     "speedup_vs_eager": t_eager / t_ort_raw, "engine_img_per_s": batch / t_engine,
                     "ort_gflops": flops * batch / t_ort_raw / 1e9})

    print(f"model {a.model}: {eng.info.image_size}px, {flops / 1e6:.0f} MFLOP/image, provider {eng.provider}, "
          f"{threads} threads, torch {torch.__version__}")
    print(f"{'batch':>5} {'torch eager':>12} {'torch folded':>13} {'onnxruntime':>12} {'engine':>9} "
          f"{'ort/eager':>10} {'img/s':>8} {'GFLOP/s':>8}")
    for r in rows:
        print(f"{r['batch']:>5} {r['torch_eager_ms']:>10.2f}ms {r['torch_folded_ms']:>11.2f}ms {r['onnxruntime_ms']:>10.2f}ms "
              f"{r['engine_ms']:>7.2f}ms {r['speedup_vs_eager']:>9.2f}× {r['engine_img_per_s']:>8.0f} {r['ort_gflops']:>8.1f}")
    if a.json:
        Path(a.json).write_text(json.dumps({"flops_per_image": flops, "threads": threads, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
