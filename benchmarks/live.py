"""The live controls in headless Chromium: slider input → a changed face on screen, browser path vs server path.

    python -m benchmarks.live [--steps 30] [--json out.json]

Starts app.py on loopback, then in Debian's Chromium (Playwright, never a downloaded browser):
- first visit: the bytes a new visitor downloads before the first faces, and the bytes and seconds from opening
  Morph until the first live face (the runtime is fetched lazily, so these are separate);
- for Morph's t slider and the Edit tab's first direction slider, --steps positions one after another: the time from the
  input event to the changed face having been painted (the next animation frame after it), p50 and p95, and the
  queue requests sent meanwhile — for the browser path, and, side by side in the same run, for the server path
  (the same page with the runtime's wasm file blocked, which is the fallback every visitor without WebAssembly gets).
Each step waits for its face before the next input, so the figures are per-frame latencies, not throughput.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.app_process import running_app  # noqa: E402
from scripts.chromium import CHROMIUM, FLAGS  # noqa: E402

LOADED = "([sel, n]) => [...document.querySelectorAll(sel)].filter(i => i.complete && i.naturalWidth > 0).length >= n"
STEP_JS = """async ([sel, target, values]) => {
  const el = document.querySelector(sel), root = document.getElementById(target);
  const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  const frame = () => new Promise(r => requestAnimationFrame(r));
  const times = [];
  for (const v of values) {
    const img0 = root.querySelector('img'), src0 = img0 && img0.src, f0 = window.animeLive.state.frames;
    const t0 = performance.now();
    set.call(el, String(v));
    el.dispatchEvent(new Event('input', {bubbles: true}));
    while (performance.now() - t0 < 10000) {
      const img = root.querySelector('img');
      const live = window.animeLive.state.frames > f0 && !window.animeLive.state.busy;
      const served = img && img.src !== src0 && img.complete && img.naturalWidth > 0;
      if (live || served) break;
      await frame();
    }
    await frame();  // the frame that shows it
    if (performance.now() - t0 < 10000) times.push(performance.now() - t0);  // (a face that never came is left out)
    await new Promise(r => setTimeout(r, 30));
  }
  return times;
}"""


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def scrub(page, tab: str, slider: str, target: str, steps: int) -> dict:
    print(f"  {tab}: {steps} steps of {slider}", file=sys.stderr, flush=True)
    page.get_by_role("tab", name=tab).click()
    page.wait_for_function(LOADED, arg=[f"#{target} img", 1], timeout=60_000)
    joins: list[str] = []
    page.on("request", lambda r: "/queue/join" in r.url and joins.append(r.url))
    lo, hi, step = page.evaluate(f"() => {{ const e = document.querySelector('{slider}'); return [+e.min, +e.max, +e.step]; }}")
    grid = [round(lo + i * step, 4) for i in range(int(round((hi - lo) / step)) + 1)]
    sweep = grid[1:-1] + grid[-2:0:-1]  # back and forth over the slider's own steps: every input changes the value
    values = [sweep[i % len(sweep)] for i in range(steps)]
    page.set_default_timeout(120_000)
    times = page.evaluate(STEP_JS, [slider, target, values])
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(pct(times, 0.95), 1),
            "steps": len(times), "queue_requests": len(joins)}


def visit(browser, url: str, block_wasm: bool, steps: int) -> dict:
    print(f"visit ({'wasm blocked' if block_wasm else 'browser path'})", file=sys.stderr, flush=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sizes: list[tuple[str, int]] = []
    page.on("requestfinished", lambda r: sizes.append((r.url, r.sizes()["responseBodySize"])))
    if block_wasm:
        page.route("**/*.wasm", lambda route: route.fulfill(status=404, body="blocked"))
    t0 = time.monotonic()
    page.goto(url, wait_until="load", timeout=60_000)
    page.wait_for_function(LOADED, arg=["#gallery img", 16], timeout=60_000)
    first_paint_s = time.monotonic() - t0
    page.wait_for_timeout(1000)
    first_bytes = sum(s for _, s in sizes)
    n_first = len(sizes)
    t1 = time.monotonic()
    page.get_by_role("tab", name="Morph").click()
    page.wait_for_function("() => window.animeLive && ['ready', 'failed'].includes(window.animeLive.state.status)",
                           timeout=120_000)
    status = page.evaluate("() => window.animeLive.state.status")
    out = {"path": "server (wasm blocked)" if block_wasm else "browser", "status": status,
           "first_visit_bytes": first_bytes, "first_faces_s": round(first_paint_s, 2)}
    if status == "ready":
        page.locator("#t input[type=range]").fill("0.55")
        page.wait_for_function("() => window.animeLive.state.frames > 0", timeout=60_000)
        out["first_live_face_s"] = round(time.monotonic() - t1, 2)
        out["live_runtime_bytes"] = sum(s for _, s in sizes[n_first:])
    out["morph"] = scrub(page, "Morph", "#t input[type=range]", "morph", steps)
    first_dir = page.evaluate("() => { const d = [...document.querySelectorAll('[id^=dir] input[type=range]')]; "
                              "return d.length ? '#' + d[0].closest('[id^=dir]').id : null; }")
    page.get_by_role("tab", name="Edit").click()
    page.wait_for_timeout(300)
    first_dir = first_dir or page.evaluate(
        "() => { const d = [...document.querySelectorAll('[id^=dir] input[type=range]')]; "
        "return d.length ? '#' + d[0].closest('[id^=dir]').id : null; }")
    if first_dir:
        out["directions"] = scrub(page, "Edit", f"{first_dir} input[type=range]", "edit", steps)
    context.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with running_app(["app.py", "--host", "127.0.0.1"]) as (_, url), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        results = [visit(browser, url, False, a.steps), visit(browser, url, True, a.steps)]
        browser.close()
    print(f"{'path':24} {'control':10} {'p50 ms':>8} {'p95 ms':>8} {'requests':>9}")
    for r in results:
        for control in ("morph", "directions"):
            if control in r:
                c = r[control]
                print(f"{r['path']:24} {control:10} {c['p50_ms']:8.1f} {c['p95_ms']:8.1f} {c['queue_requests']:9d}")
    b = results[0]
    print(f"first visit: {b['first_visit_bytes'] / 1e6:.2f} MB before the first faces ({b['first_faces_s']} s); "
          f"opening Morph fetches {b.get('live_runtime_bytes', 0) / 1e6:.2f} MB more, first live face after "
          f"{b.get('first_live_face_s', float('nan'))} s")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
