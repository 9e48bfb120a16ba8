"""Kill a training run with SIGKILL again and again, resume it each time, and
check that nothing is lost and that it ends where an uninterrupted run ends.

    python scripts/fault_drill.py --kills 8          # prints a JSON report, exits 1 on any failure

What it checks after every kill: the checkpoint loads (weights_only), its step
never goes back past the last checkpoint seen complete before the kill; at the
end: the step count is right and the generator, discriminator and EMA weights
equal, bit for bit, those of an uninterrupted run with the same seed.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer import checkpoint  # noqa: E402

TRAIN = ["--image-size", "32", "--batch-size", "16", "--ngf", "16", "--ndf", "16", "--threads", "1",
         "--checkpoint-every", "3", "--log-every", "5", "--seed", "7"]


def make_data(folder: Path, n: int = 96) -> Path:
    rng = np.random.RandomState(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(rng.randint(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")
    return folder


def start(data: Path, out: Path, epochs: int) -> subprocess.Popen:
    resume = ["--resume"] if (out / checkpoint.FILENAME).exists() else ["--data", str(data)]
    return subprocess.Popen([sys.executable, "-m", "trainer.train", "--out", str(out), "--epochs", str(epochs), *resume, *TRAIN],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def current_step(out: Path) -> int:
    try:
        return checkpoint.load(out)["step"]
    except checkpoint.CheckpointError:
        return -1  # none yet


def wait_until(ready, proc: subprocess.Popen, timeout: float) -> bool:
    """Poll ready() while the run is alive; True once it holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if ready():
            return True
        time.sleep(0.0005)
    return False


def drill(workdir: Path, kills: int = 6, epochs: int = 4, seed: int = 0) -> dict:
    rnd = random.Random(seed)
    data = make_data(workdir / "data")
    ref, out = workdir / "reference", workdir / "killed"
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "trainer.train", "--data", str(data), "--out", str(ref), "--epochs", str(epochs), *TRAIN],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ref_seconds = time.monotonic() - t0
    events, failures = [], []
    for k in range(kills):
        before = current_step(out)
        proc = start(data, out, epochs)
        during_write = k % 2 == 1  # every other kill aims at a checkpoint being written
        if during_write:
            if before < 0:  # aim at a write that replaces a checkpoint, not at the very first one
                wait_until((out / checkpoint.FILENAME).exists, proc, ref_seconds)
            hit = wait_until(lambda: any(out.glob(checkpoint.FILENAME + ".*.tmp")), proc, ref_seconds)  # a write under way
        else:
            time.sleep(rnd.uniform(0.3, max(0.5, ref_seconds / 2)))
            hit = False
        seen = current_step(out)  # the last checkpoint complete before the kill
        if proc.poll() is not None:
            events.append({"kill": k + 1, "note": "run finished before the kill", "step": seen})
            break
        proc.kill()
        proc.wait()
        try:
            after = checkpoint.load(out)["step"] if (out / checkpoint.FILENAME).exists() else -1
        except checkpoint.CheckpointError as e:
            failures.append(f"kill {k + 1}: checkpoint unreadable: {e}")
            break
        leftovers = len(list(out.glob("*.tmp")))
        events.append({"kill": k + 1, "aimed_at_write": during_write, "temp_file_seen": hit,
                       "step_before_start": before, "step_seen_before_kill": seen, "step_after_kill": after,
                       "orphan_temp_files": leftovers})
        if after < max(seen, before):
            failures.append(f"kill {k + 1}: checkpoint went back from step {max(seen, before)} to {after}")
    proc = start(data, out, epochs)
    _, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        failures.append(f"final resume failed: {err.strip()[-300:]}")
        return {"ok": False, "failures": failures, "events": events}
    a, b = checkpoint.load(ref), checkpoint.load(out)
    if a["step"] != b["step"]:
        failures.append(f"final step {b['step']} != uninterrupted {a['step']}")
    max_diff = 0.0
    for part in ("generator", "discriminator", "ema"):
        for name, t in a[part].items():
            if t.is_floating_point():
                max_diff = max(max_diff, float((t - b[part][name]).abs().max()))
    if max_diff != 0.0:
        failures.append(f"weights differ from the uninterrupted run by up to {max_diff:.3g}")
    return {"ok": not failures, "kills": len([e for e in events if "aimed_at_write" in e]),
            "kills_during_write": sum(bool(e.get("temp_file_seen")) for e in events),
            "final_step": b["step"], "reference_step": a["step"], "max_weight_diff": max_diff,
            "failures": failures, "events": events}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=8)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--seed", type=int, default=0, help="seed of the random kill times")
    p.add_argument("--keep", help="work in this folder and keep it (default: a temp folder, removed)")
    a = p.parse_args(argv)
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="fault-drill-"))
    try:
        report = drill(work, a.kills, a.epochs, a.seed)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
