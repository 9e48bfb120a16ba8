"""The shared FID tool with onnxruntime on one thread, for scoring beside a training run on the other core.

    taskset -c 1 python scripts/fid_one_thread.py --real ../shared/datasets/anime-faces-64.zip --onnx runs/a/generator.onnx --n 5000

Why: onnxruntime pins its intra-op threads to cores of its own choosing, ignoring `taskset`, so a FID run "pinned"
to core 0 had two of its threads on core 1 and cut a training run pinned there to a third of its speed
(twenty-seventh pass of issue #13: 9.6 → ~3 steps/s). One thread per session keeps it on its core; the scores are the same computation.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

import onnxruntime as ort

TOOL = Path(__file__).resolve().parent.parent.parent / "shared" / "tools" / "fid.py"
_session = ort.InferenceSession


def one_thread_session(*args, **kwargs) -> ort.InferenceSession:
    options = kwargs.get("sess_options") or ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    kwargs["sess_options"] = options
    return _session(*args, **kwargs)


if __name__ == "__main__":
    ort.InferenceSession = one_thread_session
    sys.argv = [str(TOOL), *sys.argv[1:]]
    runpy.run_path(str(TOOL), run_name="__main__")
