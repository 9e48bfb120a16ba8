"""scripts/fid_one_thread.py: the shared FID tool's onnxruntime sessions made with one thread (so `taskset` holds)."""
import numpy as np
import onnxruntime as ort

from demo.latents import NZ
from scripts.fid_one_thread import one_thread_session


def test_sessions_get_one_thread_and_keep_the_callers_options(exported_model):
    plain = ort.InferenceSession(str(exported_model), providers=["CPUExecutionProvider"])
    assert plain.get_session_options().intra_op_num_threads == 0  # ORT's default: a thread per core, pinned by ORT
    mine = ort.SessionOptions()
    mine.log_severity_level = 3
    for kwargs in ({}, {"sess_options": mine}):
        s = one_thread_session(str(exported_model), providers=["CPUExecutionProvider"], **kwargs)
        opts = s.get_session_options()
        assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (1, 1)
    assert opts.log_severity_level == 3  # the caller's other options are kept
    z = np.zeros((2, NZ), np.float32)
    np.testing.assert_array_equal(s.run(None, {"z": z})[0], plain.run(None, {"z": z})[0])


def test_fid_of_run_one_thread_reaches_the_tools_sessions(exported_model, tmp_path):
    """fid_of(one_thread=True) runs the tool through scripts/fid_one_thread.py: the tool's own sessions get one thread."""
    from scripts.fid_of_run import fid_of

    tool = tmp_path / "tool.py"  # stands in for the shared tool: reports its session's threads as its JSON line
    tool.write_text(
        "import argparse, json, onnxruntime as ort\n"
        "p = argparse.ArgumentParser(); p.add_argument('--real'); p.add_argument('--onnx'); p.add_argument('--n')\n"
        "a = p.parse_args()\n"
        "o = ort.InferenceSession(a.onnx, providers=['CPUExecutionProvider']).get_session_options()\n"
        "print(json.dumps({'threads': [o.intra_op_num_threads, o.inter_op_num_threads], 'n': int(a.n)}))\n")
    assert fid_of(exported_model, 7, tool=tool, one_thread=True) == {"threads": [1, 1], "n": 7}
    assert fid_of(exported_model, 7, tool=tool)["threads"] == [0, 0]


def test_shared_paths_load_nothing_and_point_beside_the_repo():
    """scripts/shared_paths.py is where the shared tool and faces are named once; a benchmark that only needs the
    faces' path must not pay for onnxruntime (it did when the paths lived in fid_one_thread.py)."""
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, scripts.shared_paths as s; print('onnxruntime' in sys.modules, s.REAL, s.TOOL)"
    root = Path(__file__).resolve().parent.parent
    loaded, real, tool = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                                        check=True).stdout.split()
    assert loaded == "False"
    assert Path(real) == root.parent / "shared" / "datasets" / "anime-faces-64.zip"
    assert Path(tool) == root.parent / "shared" / "tools" / "fid.py"
