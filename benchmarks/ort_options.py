"""The onnxruntime settings the engine could use, timed against each other in one run.

    python -m benchmarks.ort_options [--model exported/generator.onnx] [--rounds 15] [--json out.json]

Graph optimisation levels, intra-op threads (1 vs all cores), IO binding (input and output
bound to buffers that are reused call after call), and the engine's own way of running a batch (one
single-threaded slice per core). All variants live in this one process and take turns in blocks
of 5 calls (after 2 untimed ones), --rounds times over; each figure is the median of all calls.
What the engine keeps: all optimisations, every core, no IO binding, slices from batch 16.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort

from benchmarks.inference import model_meta
from demo.engine import Engine, make_session

BATCHES = (1, 16, 64)
CPU = ["CPUExecutionProvider"]
LEVELS = {"disable all": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
          "all": "ORT_ENABLE_ALL"}


def io_bound(sess: ort.InferenceSession, z: np.ndarray) -> Callable[[], object]:
    """A run with z and the output bound to fixed buffers: nothing is allocated per call."""
    out = np.empty((len(z), *sess.get_outputs()[0].shape[1:]), np.float32)
    binding = sess.io_binding()
    binding.bind_cpu_input(sess.get_inputs()[0].name, z)
    binding.bind_output(sess.get_outputs()[0].name, "cpu", 0, np.float32, list(out.shape), out.ctypes.data)
    keep = (z, out)  # the binding holds raw pointers into these: they must outlive it

    def run() -> tuple:
        sess.run_with_iobinding(binding)
        return keep
    return run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="exported/generator.onnx")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--json")
    a = p.parse_args(argv)

    cores = os.cpu_count() or 1
    nz = model_meta(a.model)["nz"]
    full = make_session(a.model, cores, CPU)
    sessions = {f"level: {name}": make_session(a.model, cores, CPU, level) for name, level in LEVELS.items()}
    sessions["threads: 1"] = make_session(a.model, 1, CPU)
    engine = Engine(a.model, threads=cores)
    variants: dict[str, dict[int, Callable[[], object]]] = {}
    for b in BATCHES:
        z = np.random.RandomState(b).standard_normal((b, nz)).astype(np.float32)
        for name, sess in sessions.items():
            variants.setdefault(name, {})[b] = (lambda s, z: lambda: s.run(None, {"z": z}))(sess, z)
        variants.setdefault("IO binding", {})[b] = io_bound(full, z)
        variants.setdefault("engine (slices from 16, uint8 out)", {})[b] = (lambda z: lambda: engine.render(z))(z)

    times: dict[tuple[str, int], list[float]] = {}
    for r in range(a.rounds):
        names = list(variants)
        names = names[r % len(names):] + names[:r % len(names)]
        for b in BATCHES:
            for name in names:
                fn = variants[name][b]
                time.sleep(0.01)
                for _ in range(2):
                    fn()
                for _ in range(5):
                    t = time.perf_counter()
                    fn()
                    times.setdefault((name, b), []).append((time.perf_counter() - t) * 1000)

    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"onnxruntime {ort.__version__}, {cores} cores; p50 ms over {a.rounds} × 5 calls, interleaved")
    print(f"{'variant':<38}" + "".join(f"{f'batch {b}':>10}" for b in BATCHES))
    for name in variants:
        print(f"{name:<38}" + "".join(f"{med[(name, b)]:>8.2f}ms" for b in BATCHES))
    if a.json:
        Path(a.json).write_text(json.dumps({"onnxruntime": ort.__version__, "cores": cores, "rounds": a.rounds,
                                            "p50_ms": {name: {b: med[(name, b)] for b in BATCHES} for name in variants}},
                                           indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
