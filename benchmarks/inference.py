"""Generator inference: our ONNX engine vs the same generator in PyTorch eager, in one run.

    python -m benchmarks.inference [--model exported/generator.onnx] [--rounds 20] [--json out.json]

Batch 1, 16 and 64: the median time over --rounds × 5 timed calls, plus achieved GFLOP/s from the
model's counted FLOPs. Each contender runs in its own worker process (the onnxruntime one never
imports torch, like the app), and the workers take turns in short blocks, so neither one's idle
thread pool competes with the other's run. This shared machine has slow spells of several
seconds; the speed-up is therefore the median of per-round ratios (each round's onnxruntime block
against the eager block right beside it), with the spread of those ratios. PyTorch runs the unfolded
generator (BatchNorm in eval mode), built from the exported JSON's options; timing does not depend
on the weights' values.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np

BATCHES = (1, 16, 64)
CONTENDERS = ("torch_eager", "torch_folded", "onnxruntime", "engine")
CALLS_PER_BLOCK = 5


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


def gemm_gflops(n: int = 2048, runs: int = 7) -> float:
    """What this machine's BLAS reaches on one big float32 matrix product (numpy, all cores): a practical
    ceiling for the generator's convolutions, which are matrix products too."""
    a, b = np.random.RandomState(0).standard_normal((2, n, n)).astype(np.float32)
    a @ b
    best = min(timeit_once(lambda: a @ b) for _ in range(runs))
    return 2 * n ** 3 / best / 1e9


def timeit_once(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def model_meta(model: str) -> dict:
    """The exported JSON beside the .onnx (nz, image size, training options)."""
    return json.loads(Path(model).with_suffix(".json").read_text())


def torch_generator(meta: dict):
    """The same generator in PyTorch, unfolded and in eval mode, built from the export's metadata
    (timing does not depend on the weights' values)."""
    from trainer.model import Generator

    ngf = meta.get("training", {}).get("options", {}).get("ngf", 64)
    return Generator(meta["nz"], ngf, meta["image_size"]).eval()


def _forward(kind: str, model: str, threads: int) -> Callable[[np.ndarray], object]:
    """The function one contender times: latents [B, nz] → images."""
    if kind in ("onnxruntime", "engine"):
        from demo.engine import Engine

        eng = Engine(model, threads=threads)
        name = eng.session.get_inputs()[0].name
        return eng.render if kind == "engine" else (lambda z: eng.session.run(None, {name: z}))
    import torch

    from trainer.model import FoldedGenerator

    torch.set_num_threads(threads)
    g = torch_generator(model_meta(model))
    net = FoldedGenerator(g).eval() if kind == "torch_folded" else g

    def run(z: np.ndarray):
        with torch.no_grad():
            return net(torch.from_numpy(z))
    return run


def _worker(kind: str, model: str, threads: int, conn) -> None:
    """Serve timing requests: (batch, calls) → that many timed calls, after two untimed ones."""
    fn = _forward(kind, model, threads)
    nz = model_meta(model)["nz"]
    conn.send("ready")
    while (msg := conn.recv()) is not None:
        batch, calls = msg
        z = np.random.RandomState(batch).standard_normal((batch, nz)).astype(np.float32)
        for _ in range(2):
            fn(z)
        conn.send([timeit_once(lambda: fn(z)) for _ in range(calls)])


def measure(model: str, threads: int, rounds: int) -> dict[tuple[str, int], list[list[float]]]:
    """Seconds per call of every contender at every batch size, one list per round, the contenders taking turns."""
    ctx = mp.get_context("spawn")
    workers = {}
    for kind in CONTENDERS:
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(kind, model, threads, there), daemon=True)
        proc.start()
        workers[kind] = (proc, here)
    for proc, conn in workers.values():
        if conn.recv() != "ready":
            raise RuntimeError("a benchmark worker failed to start")
    times: dict[tuple[str, int], list[list[float]]] = {(k, b): [] for k in CONTENDERS for b in BATCHES}
    try:
        for r in range(rounds):
            order = CONTENDERS[r % len(CONTENDERS):] + CONTENDERS[:r % len(CONTENDERS)]  # nobody always goes first
            for batch in BATCHES:
                for kind in order:
                    time.sleep(0.02)  # let the previous worker's spinning threads go idle
                    workers[kind][1].send((batch, CALLS_PER_BLOCK))
                    times[(kind, batch)].append(workers[kind][1].recv())
    finally:
        for proc, conn in workers.values():
            conn.send(None)
            proc.join(timeout=10)
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="exported/generator.onnx")
    p.add_argument("--rounds", type=int, default=20, help="turns each contender takes per batch size (default %(default)s)")
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args(argv)
    if a.rounds < 2:
        p.error("--rounds must be at least 2: the speed-up's spread is taken over rounds")

    import onnxruntime as ort
    import torch

    threads = os.cpu_count() or 1
    meta = model_meta(a.model)
    flops = flops_per_image(torch_generator(meta))
    peak = gemm_gflops()
    times = measure(a.model, threads, a.rounds)
    med = {key: statistics.median(t for block in blocks for t in block) for key, blocks in times.items()}

    rows = []
    for b in BATCHES:
        def paired(kind: str) -> list[float]:
            return sorted(statistics.median(e) / statistics.median(o)
                          for e, o in zip(times[("torch_eager", b)], times[(kind, b)]))
        ratios, engine_ratios = paired("onnxruntime"), paired("engine")
        rows.append({"batch": b, **{f"{k}_ms": med[(k, b)] * 1e3 for k in CONTENDERS},
                     "speedup_vs_eager": statistics.median(ratios),
                     "speedup_quartiles": statistics.quantiles(ratios, n=4, method="inclusive")[::2],
                     "engine_speedup_vs_eager": statistics.median(engine_ratios),
                     "engine_speedup_quartiles": statistics.quantiles(engine_ratios, n=4, method="inclusive")[::2],
                     "engine_img_per_s": b / med[("engine", b)],
                     "ort_gflops": flops * b / med[("onnxruntime", b)] / 1e9,
                     "engine_gflops": flops * b / med[("engine", b)] / 1e9,
                     "calls": sum(map(len, times[("onnxruntime", b)]))})

    print(f"model {a.model}: {meta['image_size']}px, {flops / 1e6:.0f} MFLOP/image, {threads} threads, "
          f"torch {torch.__version__}, onnxruntime {ort.__version__}; median of {rows[0]['calls']} calls each, "
          f"in {a.rounds} interleaved rounds")
    print(f"this machine's float32 matrix product (numpy, 2048², {threads} threads): {peak:.0f} GFLOP/s")
    print("onnxruntime = one session.run on all threads; engine = Engine.render, what the app calls (slices a big")
    print("batch over the cores, returns uint8 faces); each ratio is the median of per-round ratios (quartiles)")
    print(f"{'batch':>5} {'torch eager':>12} {'torch folded':>13} {'onnxruntime':>12} {'engine':>9} "
          f"{'ort/eager':>17} {'engine/eager':>17} {'img/s':>7} {'GFLOP/s':>8}")
    for r in rows:
        q1, q3 = r["speedup_quartiles"]
        e1, e3 = r["engine_speedup_quartiles"]
        print(f"{r['batch']:>5} {r['torch_eager_ms']:>10.2f}ms {r['torch_folded_ms']:>11.2f}ms {r['onnxruntime_ms']:>10.2f}ms "
              f"{r['engine_ms']:>7.2f}ms {r['speedup_vs_eager']:>6.2f}× ({q1:.2f}–{q3:.2f}) "
              f"{r['engine_speedup_vs_eager']:>6.2f}× ({e1:.2f}–{e3:.2f}) {r['engine_img_per_s']:>7.0f} {r['engine_gflops']:>8.1f}"
              f" ({r['engine_gflops'] / peak:.0%} of the matrix product's)")
    if a.json:
        Path(a.json).write_text(json.dumps({"flops_per_image": flops, "threads": threads, "rounds": a.rounds, "gemm_gflops": peak,
                                            "onnxruntime": ort.__version__, "torch": torch.__version__,
                                            "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
