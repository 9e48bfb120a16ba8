"""End to end through the server: full HTTP round trips of the API next to the bare model time.

    python -m benchmarks.server [--calls 50] [--json out.json]

Starts app.py on a free loopback port, then for each request kind measures p50/p95 of
POST /gradio_api/call/<name> + reading its event stream to the end (what any client pays
before it has the file URLs) — each call a new session, and again with one session_hash reused as browsers and
gradio_client do — the same through gradio_client (which also downloads every
file, one request each), the app's handler called in-process (model + resize + encode + files; the
rest of the HTTP time is Gradio's), the engine's own time for the same work, and — the target's
yardstick — a bare PyTorch eager forward of batch 16 in this same run.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from pathlib import Path

import numpy as np


def pct(xs: list[float], q: int) -> float:
    return statistics.quantiles(xs, n=100)[q - 1] if len(xs) > 1 else xs[0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=50)
    p.add_argument("--model", default="exported/generator.onnx")
    p.add_argument("--json")
    a = p.parse_args(argv)

    import httpx
    import torch
    from gradio_client import Client

    from demo.engine import Engine
    from demo.latents import seeds_to_z
    from demo.images import save_animation, upscale
    from demo.ui import FACE_FORMAT, SCALE, Handlers
    from scripts.load_test import call, free_port, start_app
    from trainer.model import Generator

    port = free_port()
    proc = start_app(port)
    url = f"http://127.0.0.1:{port}/"
    eng = Engine(a.model)
    handlers = Handlers(eng)
    rnd = random.Random(0)
    cases = [  # (label, endpoint, random valid arguments, the bare model work)
        ("generate 1", "generate", lambda: [rnd.randint(0, 10**6), 1, 1.0], lambda: eng.faces([1])),
        ("generate 16", "generate", lambda: [rnd.randint(0, 10**6), 16, 1.0], lambda: eng.faces(range(16))),
        ("generate 64", "generate", lambda: [rnd.randint(0, 10**6), 64, 1.0], lambda: eng.faces(range(64))),
        ("morph", "morph", lambda: [rnd.randint(0, 10**6), rnd.randint(0, 10**6), 0.5, "slerp"],
         lambda: eng.path(1, 2, [0.5])),
        ("interpolate 16 + GIF", "interpolate", lambda: [rnd.randint(0, 10**6), rnd.randint(0, 10**6), 16, "slerp"],
         lambda: eng.path(1, 2, np.linspace(0, 1, 16))),
    ]
    opts = eng.info.meta.get("training", {}).get("options", {})
    g = Generator(eng.info.nz, opts.get("ngf", 64), eng.info.image_size).eval()
    z16 = torch.from_numpy(seeds_to_z(range(16)))
    torch.set_num_threads(os.cpu_count() or 1)
    eager: list[float] = []

    @torch.no_grad()
    def time_eager() -> None:  # run before and after the HTTP runs; the median of both is the yardstick
        for _ in range(3):
            g(z16)
        for _ in range(a.calls):
            t = time.perf_counter()
            g(z16)
            eager.append(time.perf_counter() - t)

    time_eager()

    rows = []
    try:
        client = Client(url, verbose=False)
        with httpx.Client(base_url=url, timeout=120) as h:
            for label, name, args, bare in cases:
                for _ in range(3):
                    call(h, name, args())
                http_ms, session_ms, client_ms, handler_ms, bare_ms = [], [], [], [], []
                for _ in range(a.calls):
                    t = time.perf_counter()
                    event, payload = call(h, name, args())
                    http_ms.append((time.perf_counter() - t) * 1000)
                    assert event == "complete", payload
                session = uuid.uuid4().hex  # as a browser or gradio_client does: Gradio builds its session state once
                for _ in range(a.calls):
                    t = time.perf_counter()
                    event, payload = call(h, name, args(), session)
                    session_ms.append((time.perf_counter() - t) * 1000)
                    assert event == "complete", payload
                for _ in range(max(5, a.calls // 5)):
                    t = time.perf_counter()
                    client.predict(*args(), api_name=f"/{name}")
                    client_ms.append((time.perf_counter() - t) * 1000)
                for _ in range(a.calls):
                    t = time.perf_counter()
                    getattr(handlers, name)(*args())
                    handler_ms.append((time.perf_counter() - t) * 1000)
                for _ in range(a.calls):
                    t = time.perf_counter()
                    faces = bare()
                    bare_ms.append((time.perf_counter() - t) * 1000)
                rows.append({"request": label, "http_p50_ms": pct(http_ms, 50), "http_p95_ms": pct(http_ms, 95),
                             "http_session_p50_ms": pct(session_ms, 50),
                             "gradio_client_p50_ms": pct(client_ms, 50), "handler_p50_ms": pct(handler_ms, 50),
                             "model_p50_ms": pct(bare_ms, 50)})
        # where the rest of the time goes, for the heaviest request
        faces = eng.path(1, 2, np.linspace(0, 1, 16))
        t = time.perf_counter()
        imgs = [upscale(f, SCALE) for f in faces]
        up_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        save_animation(imgs, Path("/tmp/_bench.gif"))
        gif_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        import io
        for im in imgs:
            im.save(io.BytesIO(), **FACE_FORMAT)  # as demo.ui writes them
        encode_ms = (time.perf_counter() - t) * 1000
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    time_eager()
    eager16 = statistics.median(eager) * 1000

    print(f"PyTorch eager forward, batch 16 (this run): {eager16:.1f} ms  → target for /generate 16: ≤ {2 * eager16:.0f} ms")
    print(f"{'request':<22} {'HTTP p50':>9} {'HTTP p95':>9} {'same session p50':>17} {'gradio_client p50':>18} "
          f"{'handler p50':>12} {'model p50':>10} {'HTTP/model':>11}")
    for r in rows:
        print(f"{r['request']:<22} {r['http_p50_ms']:>7.1f}ms {r['http_p95_ms']:>7.1f}ms {r['http_session_p50_ms']:>15.1f}ms "
              f"{r['gradio_client_p50_ms']:>16.1f}ms "
              f"{r['handler_p50_ms']:>10.1f}ms {r['model_p50_ms']:>8.1f}ms {r['http_p50_ms'] / r['model_p50_ms']:>10.1f}×")
    print(f"interpolate 16 pieces (serial): upscale {up_ms:.1f} ms, GIF encode {gif_ms:.1f} ms, "
          f"16 JPEG encodes {encode_ms:.1f} ms")
    if a.json:
        Path(a.json).write_text(json.dumps({"eager16_ms": eager16, "rows": rows,
                                            "breakdown_ms": {"upscale": up_ms, "gif": gif_ms, "jpeg16": encode_ms}},
                                           indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
