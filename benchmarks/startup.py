"""Start-up time and install footprint.

    python -m benchmarks.startup [--runs 3] [--json out.json]

1. Seconds from `python app.py` to the first successful /generate (median of --runs), next to a bare
   `python -c "import gradio, onnxruntime"` measured in the same run (Gradio's import is the floor).
2. Installed size of what requirements.txt pulls in (the packages and all their dependencies, as
   installed here) vs the same plus torch + torchvision (what a PyTorch-served demo would need).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def time_import() -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio, onnxruntime"], check=True, env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    return time.perf_counter() - t


def time_app() -> float:
    from scripts.app_process import call, free_port, stop

    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT,
                            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/", timeout=30) as h:
            while time.perf_counter() - t < 120:
                try:
                    if call(h, "generate", [1, 1, 1.0])[0] == "complete":
                        return time.perf_counter() - t
                except httpx.HTTPError:
                    time.sleep(0.05)
        raise RuntimeError("app did not answer within 120 s")
    finally:
        stop(proc)


def _name(req: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def closure(roots: list[str]) -> dict[str, int]:
    """Installed bytes of each distribution reachable from `roots` through their (unconditional) requirements."""
    seen: dict[str, int] = {}
    todo = [_name(r) for r in roots]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        try:
            dist = metadata.distribution(n)
        except metadata.PackageNotFoundError:
            continue
        size = 0
        for f in dist.files or []:
            try:
                size += (dist.locate_file(f)).stat().st_size
            except OSError:
                pass
        seen[n] = size
        for req in dist.requires or []:
            if "extra ==" not in req:
                todo.append(_name(req))
    return seen


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    a = p.parse_args(argv)
    imp = statistics.median(time_import() for _ in range(a.runs))
    app = statistics.median(time_app() for _ in range(a.runs))
    reqs = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.strip() and not line.startswith("#")]
    runtime = closure(reqs)
    with_torch = closure(reqs + ["torch", "torchvision"])
    mb = lambda d: sum(d.values()) / 1e6  # noqa: E731
    print(f"import gradio, onnxruntime: {imp:.2f} s;  python app.py → first /generate: {app:.2f} s  ({app / imp:.2f}× the import)")
    print(f"requirements.txt closure: {len(runtime)} packages, {mb(runtime):.0f} MB;  + torch/torchvision: "
          f"{len(with_torch)} packages, {mb(with_torch):.0f} MB  ({mb(with_torch) / mb(runtime):.1f}× larger)")
    if a.json:
        Path(a.json).write_text(json.dumps({"import_s": imp, "app_first_generate_s": app, "runtime_mb": mb(runtime),
                                            "with_torch_mb": mb(with_torch)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
