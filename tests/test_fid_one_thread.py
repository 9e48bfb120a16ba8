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
