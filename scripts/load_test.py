"""Drive the app with many concurrent clients on loopback and report what they saw.

    python scripts/load_test.py --clients 32 --seconds 60            # starts app.py itself on a free port
    python scripts/load_test.py --url http://127.0.0.1:7860/ --clients 32 --seconds 60

Each client loops over a mix of /generate (16 faces), /morph and /interpolate (16 frames + GIF) through
the raw HTTP API (POST /gradio_api/call/<name>, then the event stream to its end), all with valid
inputs. Prints requests/s, p50/p95/p99 latency per endpoint, the error count (must be 0), and the
server's RSS before, every few seconds during, and after the load (a leak shows as growth that never levels off).
Every loop is bounded in count and time and only talks to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.app_process import call, free_port, start_app, stop  # noqa: E402
MIX = [("generate", lambda r: [r.randint(0, 10**6), 16, 1.0]),
       ("morph", lambda r: [r.randint(0, 10**6), r.randint(0, 10**6), round(r.random(), 3), "slerp", 1.0]),
       ("interpolate", lambda r: [r.randint(0, 10**6), r.randint(0, 10**6), 16, r.choice(["slerp", "lerp"]), 1.0])]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_load(url: str, clients: int, seconds: float, seed: int = 0, on_half=None) -> dict:
    results: list[tuple[str, float, str]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(i: int) -> None:
        rnd = random.Random(seed * 1000 + i)
        with httpx.Client(base_url=url, timeout=120) as h:
            for _ in range(100_000):  # bounded
                if time.monotonic() >= stop_at:
                    return
                name, args = MIX[rnd.randrange(len(MIX))]
                t = time.perf_counter()
                try:
                    event, payload = call(h, name, args(rnd))
                except httpx.HTTPError as e:
                    event, payload = "exception", repr(e)
                with lock:
                    results.append((name, time.perf_counter() - t, "" if event == "complete" else f"{event}: {payload[:120]}"))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    if on_half:  # sample the server's memory while the load runs
        while any(th.is_alive() for th in threads):
            time.sleep(min(10.0, seconds / 6))
            on_half(time.monotonic() - t0)
    for th in threads:
        th.join()
    wall = time.monotonic() - t0
    report = {"clients": clients, "seconds": round(wall, 1), "requests": len(results),
              "requests_per_s": round(len(results) / wall, 2),
              "errors": sum(1 for r in results if r[2]), "error_samples": sorted({r[2] for r in results if r[2]})[:5],
              "endpoints": {}}
    for name, _ in MIX:
        lat = sorted(r[1] * 1000 for r in results if r[0] == name and not r[2])
        if lat:
            q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
            report["endpoints"][name] = {"n": len(lat), "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1),
                                         "p99_ms": round(q[98], 1)}
    return report


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares growth of (seconds, MB) samples, in MB per minute."""
    if len(points) < 2:
        return float("nan")
    t, m = (np.array(x, float) for x in zip(*points))
    return round(float(np.polyfit(t, m, 1)[0]) * 60, 2)


def thirds(samples: list) -> dict[str, list]:
    """First, middle and last third of the run's RSS samples: a leak keeps its slope, a cache fills and flattens."""
    k = len(samples) // 3
    return {"first": samples[:k], "middle": samples[k:2 * k], "last": samples[2 * k:]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running app (default: start app.py on a free loopback port)")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--json", help="also write the report here")
    a = p.parse_args(argv)
    proc = None
    url = a.url
    if not url:
        port = free_port()
        proc = start_app(port)
        url = f"http://127.0.0.1:{port}/"
    if not url.startswith(("http://127.", "http://localhost")):
        raise SystemExit("load tests only target this machine's loopback")
    try:
        rss = {}
        if proc:
            with httpx.Client(base_url=url, timeout=60) as h:  # warm up: first calls load caches
                for name, args in MIX:
                    call(h, name, args(random.Random(1)))
            rss["before_mb"] = round(rss_mb(proc.pid), 1)
        samples: list[tuple[float, float]] = []
        report = run_load(url, a.clients, a.seconds,
                          on_half=(lambda t: samples.append((round(t), round(rss_mb(proc.pid), 1)))) if proc else None)
        if proc:
            rss["during_mb"] = samples
            rss["after_mb"] = round(rss_mb(proc.pid), 1)
            rss["slope_mb_per_min"] = {part: slope(chunk) for part, chunk in thirds(samples).items()}
        report["server_rss"] = rss
    finally:
        if proc:
            stop(proc)
    print(json.dumps(report, indent=2))
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=2))
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
