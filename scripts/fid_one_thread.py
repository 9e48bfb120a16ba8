"""The shared FID tool with onnxruntime on one thread, for scoring beside a training run on the other core.

    taskset -c 1 python scripts/fid_one_thread.py --real ../shared/datasets/anime-faces-64.zip --onnx runs/a/generator.onnx --n 5000

Why: onnxruntime pins its intra-op threads to cores of its own choosing, ignoring `taskset`, so a FID run "pinned"
to core 0 had two of its threads on core 1 and cut a training run pinned there to a third of its speed
(R27 of issue #13: 9.6 → ~3 steps/s). One thread per session keeps it on its core; the scores are the same computation.
`--tool PATH` runs another script the same way (tests use a stand-in); scripts/fid_of_run.py --one-thread calls this.
"""
from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the repo's packages
from scripts.shared_paths import TOOL  # noqa: E402

_session = ort.InferenceSession


def one_thread_session(*args, **kwargs) -> ort.InferenceSession:
    options = kwargs.get("sess_options") or ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    kwargs["sess_options"] = options
    return _session(*args, **kwargs)


def main(argv: list[str]) -> None:
    """Run the tool (--tool, default the shared one) with the rest of argv, its sessions on one thread."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--tool", type=Path, default=TOOL)
    a, rest = p.parse_known_args(argv)
    ort.InferenceSession = one_thread_session
    sys.argv = [str(a.tool), *rest]
    runpy.run_path(str(a.tool), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
