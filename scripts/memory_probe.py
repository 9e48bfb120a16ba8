"""Where does the server's memory go under load? Python heap (tracemalloc) vs the process's RSS.

    python scripts/memory_probe.py --seconds 600 --clients 32

Runs the app in this process with tracemalloc on, drives it from a scripts/load_test.py subprocess, and every
--every seconds prints RSS, the bytes Python has allocated (tracemalloc), and the live object count. At the end
it prints the allocation sites that grew most between the first sample after warm-up and the last.
If Python's traced bytes stay flat while RSS grows, the growth is native (allocator arenas, onnxruntime),
not a Python-level leak. Only talks to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from scripts.app_process import call_url, free_port  # noqa: E402
from scripts.load_test import MIX, rss_mb  # noqa: E402


def records(demo) -> dict[str, int]:
    """How many entries Gradio's per-session and per-event records hold (each should stop at a cap)."""
    q = demo._queue
    return dict(sessions=len(demo.state_holder.session_data), last_used=len(demo.state_holder.time_last_used),
                messages=len(q.pending_messages_per_session), event_ids=len(q.pending_event_ids_session),
                events=len(q.event_ids_to_events), analytics=len(q.event_analytics))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=600)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--every", type=float, default=30)
    p.add_argument("--frames", type=int, default=1, help="traceback depth tracemalloc keeps (more = slower)")
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--no-trace", action="store_true", help="RSS and Gradio's record counts only (full speed)")
    p.add_argument("--census", action="store_true",
                   help="also count live objects by type and print the types that grew (a Python-level leak shows here)")
    p.add_argument("--json", help="also write the samples here")
    a = p.parse_args(argv)

    from demo.engine import Engine
    from demo.ui import LAUNCH_KWARGS, build

    if not a.no_trace:
        tracemalloc.start(a.frames)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    demo = build(Engine())
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **LAUNCH_KWARGS)
    for name, args in MIX:  # warm-up: first calls fill caches
        call_url(url, name, args(random.Random(1)))

    load = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "load_test.py"), "--url", url,
                             "--clients", str(a.clients), "--seconds", str(a.seconds)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(load.stdout), daemon=True)
    reader.start()

    samples, first = [], None
    census: list[Counter] = []
    t0 = time.monotonic()
    while load.poll() is None:
        time.sleep(min(a.every, 5.0) if not samples else a.every)
        gc.collect()
        traced, _ = tracemalloc.get_traced_memory()
        row = dict(t=round(time.monotonic() - t0), rss_mb=round(rss_mb(os.getpid()), 1),
                   traced_mb=round(traced / 2**20, 1), objects=len(gc.get_objects()), **records(demo))
        if a.census:
            census.append(Counter(type(o).__qualname__ for o in gc.get_objects()))
        samples.append(row)
        print(json.dumps(row), flush=True)
        if first is None and row["t"] >= 60 and tracemalloc.is_tracing():
            first = tracemalloc.take_snapshot()
    last = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
    reader.join(timeout=10)
    report = "".join(out)
    print(report[report.find("{"):][:400] if "{" in report else report[-2000:])
    if first is not None and last is not None:
        print(f"\nTop {a.top} allocation sites by growth since t≈60 s:")
        for stat in last.compare_to(first, "traceback")[:a.top]:
            print(f"{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+8d} blocks  (now {stat.size / 1024:.0f} KiB)")
            for line in stat.traceback.format()[-2 * a.frames:]:
                print("     ", line)
    if len(census) > 3:  # from the end of the first third (caches full) to the end
        grew = census[-1] - census[len(census) // 3]
        print(f"\nObject types that grew from sample {len(census) // 3} to the last ({sum(grew.values())} objects):")
        for name, n in grew.most_common(a.top):
            print(f"{n:+8d}  {name}")
    if a.json:
        Path(a.json).write_text(json.dumps(samples, indent=1))
    demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
