"""End to end through the server: full HTTP round trips of the API next to the bare model time.

    python -m benchmarks.server [--rounds 10] [--json out.json]

Starts app.py, and beside it the obvious alternative (benchmarks/textbook_app.py: a minimal Gradio app
serving the textbook PyTorch generator), each on a free loopback port. A round trip is POST
/gradio_api/call/<name> + reading its event stream to the end (what any client pays before it has the
file URLs). Per request kind it reports p50/p95 with each call a new session, p50 with one
session_hash reused (as browsers and gradio_client do), gradio_client (which also downloads every
file, one request each), the app's handler called in-process (model + resize + encode + files; the
rest of the HTTP time is Gradio's) and the engine's own time for the same work. Beside them: Gradio's
floor (a no-op endpoint of the minimal app), the alternative's /generate 16, and the target's
yardstick, a bare PyTorch eager forward of batch 16 — of our generator and of the textbook one.

This shared machine has slow spells of several seconds, so everything measured over HTTP or in
process takes turns in short blocks of --block calls (after 2 untimed ones), --rounds times over. An idle Gradio server
is not idle (its queue polls every millisecond: ~7% of a core), so each turn runs with the other
server stopped (SIGSTOP), and in-process turns with both stopped.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import time
import uuid
from pathlib import Path
from typing import Callable

import numpy as np


def pct(xs: list[float], q: int) -> float:
    return statistics.quantiles(xs, n=100)[q - 1] if len(xs) > 1 else xs[0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--block", type=int, default=5, help="calls per turn (default %(default)s)")
    p.add_argument("--model", default="exported/generator.onnx")
    p.add_argument("--json")
    a = p.parse_args(argv)

    import httpx
    import torch
    from gradio_client import Client

    from benchmarks.inference import torch_generator
    from demo.engine import Engine
    from demo.images import save_animation, upscale
    from demo.latents import seeds_to_z
    from demo.files import JPEG, SCALE
    from demo.handlers import Handlers
    from scripts.app_process import call, free_port, start_app, stop
    from trainer.model import Generator

    ours_port, alt_port = free_port(), free_port()
    ours, alt = start_app(ours_port), start_app(alt_port, ["-m", "benchmarks.textbook_app"])
    url, alt_url = f"http://127.0.0.1:{ours_port}/", f"http://127.0.0.1:{alt_port}/"
    eng = Engine(a.model)
    handlers = Handlers(eng)
    rnd = random.Random(0)
    seed = lambda: rnd.randint(0, 10**6)  # noqa: E731
    cases = [  # (label, endpoint, random valid arguments, the bare model work)
        ("generate 1", "generate", lambda: [seed(), 1, 1.0], lambda: eng.faces([1])),
        ("generate 16", "generate", lambda: [seed(), 16, 1.0], lambda: eng.faces(range(16))),
        ("generate 64", "generate", lambda: [seed(), 64, 1.0], lambda: eng.faces(range(64))),
        ("morph", "morph", lambda: [seed(), seed(), 0.5, "slerp", 1.0], lambda: eng.path(1, 2, [0.5])),
        ("interpolate 16 + GIF", "interpolate", lambda: [seed(), seed(), 16, "slerp", 1.0],
         lambda: eng.path(1, 2, np.linspace(0, 1, 16))),
    ]
    torch.set_num_threads(os.cpu_count() or 1)
    z16 = torch.from_numpy(seeds_to_z(range(16)))
    g_ours = torch_generator(eng.info.meta)
    g_textbook = Generator(100, 64, 64).eval()

    times: dict[str, list[float]] = {}

    def turn(key: str, fn: Callable[[], object], awake=()) -> None:
        for proc in (ours, alt):
            os.kill(proc.pid, signal.SIGCONT if proc in awake else signal.SIGSTOP)
        time.sleep(0.02)  # let the previous turn's spinning threads go idle
        for _ in range(2):  # untimed: wake this turn's threads (and the server just resumed)
            fn()
        for _ in range(a.block):
            t = time.perf_counter()
            fn()
            times.setdefault(key, []).append((time.perf_counter() - t) * 1000)

    def ok(h, name: str, args: list, session: str | None = None) -> None:
        event, payload = call(h, name, args, session)
        assert event == "complete", (name, event, payload)

    rows = []
    try:
        with httpx.Client(base_url=url, timeout=120) as h, httpx.Client(base_url=alt_url, timeout=120) as alt_h:
            session = uuid.uuid4().hex  # one kept session, as a browser tab or gradio_client has
            for label, name, args, bare in cases:  # warm-up
                for _ in range(3):
                    ok(h, name, args(), session)
            for _ in range(3):
                ok(alt_h, "generate", [seed(), 16])
            for r in range(a.rounds):
                with torch.no_grad():
                    turn("eager 16", lambda: g_ours(z16))
                    turn("textbook eager 16", lambda: g_textbook(z16))
                turn("floor", lambda: ok(alt_h, "noop", []), [alt])
                turn("textbook app 16", lambda: ok(alt_h, "generate", [seed(), 16]), [alt])
                for label, name, args, bare in cases:
                    turn(f"{label} http", lambda: ok(h, name, args()), [ours])
                    turn(f"{label} session", lambda: ok(h, name, args(), session), [ours])
                    turn(f"{label} handler", lambda: getattr(handlers, name)(*args()))
                    turn(f"{label} model", bare)
            os.kill(ours.pid, signal.SIGCONT)
            client = Client(url, verbose=False)
            for label, name, args, bare in cases:  # downloads dominate it; no need to interleave
                for _ in range(max(5, a.rounds)):
                    t = time.perf_counter()
                    client.predict(*args(), api_name=f"/{name}")
                    times.setdefault(f"{label} client", []).append((time.perf_counter() - t) * 1000)
                rows.append({"request": label, "http_p50_ms": pct(times[f"{label} http"], 50),
                             "http_p95_ms": pct(times[f"{label} http"], 95),
                             "http_session_p50_ms": pct(times[f"{label} session"], 50),
                             "gradio_client_p50_ms": pct(times[f"{label} client"], 50),
                             "handler_p50_ms": pct(times[f"{label} handler"], 50),
                             "model_p50_ms": pct(times[f"{label} model"], 50)})
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
            im.save(io.BytesIO(), **JPEG)  # as demo.files writes gallery faces
        encode_ms = (time.perf_counter() - t) * 1000
    finally:
        for proc in (ours, alt):
            os.kill(proc.pid, signal.SIGCONT)
            stop(proc)

    med = {k: statistics.median(v) for k, v in times.items()}
    eager16, textbook16, floor = med["eager 16"], med["textbook eager 16"], med["floor"]
    gen16 = next(r for r in rows if r["request"] == "generate 16")
    print(f"{a.rounds} rounds of {a.block} calls per kind, interleaved")
    print(f"{'request':<22} {'HTTP p50':>9} {'HTTP p95':>9} {'same session p50':>17} {'gradio_client p50':>18} "
          f"{'handler p50':>12} {'model p50':>10}")
    for r in rows:
        print(f"{r['request']:<22} {r['http_p50_ms']:>7.1f}ms {r['http_p95_ms']:>7.1f}ms {r['http_session_p50_ms']:>15.1f}ms "
              f"{r['gradio_client_p50_ms']:>16.1f}ms {r['handler_p50_ms']:>10.1f}ms {r['model_p50_ms']:>8.1f}ms")
    print(f"Gradio's floor (no-op endpoint, minimal app): {floor:.1f} ms p50")
    print(f"Alternative (minimal Gradio app, textbook PyTorch generator) /generate 16: {med['textbook app 16']:.1f} ms p50, "
          f"ours {gen16['http_p50_ms']:.1f} ms ({med['textbook app 16'] / gen16['http_p50_ms']:.1f}× faster)")
    print(f"PyTorch eager batch 16: our generator {eager16:.1f} ms → target ≤ {2 * eager16:.1f} ms; "
          f"textbook generator {textbook16:.1f} ms → ≤ {2 * textbook16:.1f} ms")
    print(f"  of the {2 * eager16:.1f} ms, Gradio's floor and the model leave "
          f"{2 * eager16 - floor - gen16['model_p50_ms']:.1f} ms for 16 images, their files and Gradio's per-file work")
    print(f"interpolate 16 pieces (serial): upscale {up_ms:.1f} ms, GIF encode {gif_ms:.1f} ms, "
          f"16 JPEG encodes {encode_ms:.1f} ms")
    if a.json:
        Path(a.json).write_text(json.dumps({
            "rounds": a.rounds, "block": a.block, "eager16_ms": eager16, "textbook_eager16_ms": textbook16,
            "gradio_floor_ms": floor, "textbook_app_generate16_ms": med["textbook app 16"], "rows": rows,
            "breakdown_ms": {"upscale": up_ms, "gif": gif_ms, "jpeg16": encode_ms}}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
