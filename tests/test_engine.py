import json
import shutil

import numpy as np
import pytest

from demo.engine import BUCKETS, Engine, ModelError


@pytest.fixture(scope="module")
def engine(exported_model):
    return Engine(exported_model, threads=1)


def test_faces_shape_and_provider(engine):
    import onnxruntime as ort

    x = engine.faces([1, 2, 3])
    assert x.shape == (3, 32, 32, 3) and x.dtype == np.uint8
    assert engine.provider == engine.session.get_providers()[0]  # what onnxruntime really runs, as the footer says
    want = "CUDAExecutionProvider" if "CUDAExecutionProvider" in ort.get_available_providers() else "CPUExecutionProvider"
    assert engine.provider == want


def test_provider_choice():
    from demo.engine import pick_providers

    assert pick_providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert pick_providers(["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_thread_settings(monkeypatch):
    import os

    from demo.engine import SettingsError, thread_count

    monkeypatch.delenv("ANIME_GAN_THREADS", raising=False)
    assert thread_count(None) == thread_count(0) == (os.cpu_count() or 1) and thread_count(3) == 3
    monkeypatch.setenv("ANIME_GAN_THREADS", "5")
    assert thread_count(None) == 5 and thread_count(2) == 2  # the flag wins
    for bad, msg in (("two", "must be a whole number"), ("-2", "must be 0 (every core) or more"), ("1.5", "must be a whole number")):
        monkeypatch.setenv("ANIME_GAN_THREADS", bad)
        with pytest.raises(SettingsError, match=r"\$ANIME_GAN_THREADS " + msg.replace("(", r"\(").replace(")", r"\)")):
            thread_count(None)
    with pytest.raises(SettingsError, match="--threads must be 0"):
        thread_count(-1)


def test_same_seed_same_pixels_any_batch_position(engine):
    alone = engine.faces([7])[0]
    assert np.array_equal(engine.faces([7])[0], alone)
    batch = engine.faces([5, 6, 7, 8, 9])  # padded to bucket 16, seed 7 in the middle
    assert np.array_equal(batch[2], alone)
    big = engine.faces(list(range(0, 100)))  # crosses MAX_BATCH chunks
    assert np.array_equal(big[7], alone) and big.shape[0] == 100
    assert not np.array_equal(batch[0], batch[1])


def test_interpolation_endpoints(engine):
    for m in ("slerp", "lerp"):
        path = engine.path(3, 4, np.linspace(0, 1, 5), m)
        assert np.array_equal(path[0], engine.faces([3])[0])
        assert np.array_equal(path[-1], engine.faces([4])[0])
    s = engine.path(3, 4, [0.5], "slerp")[0].astype(int)
    l = engine.path(3, 4, [0.5], "lerp")[0].astype(int)
    assert np.abs(s - l).mean() > 0.5  # the two paths really differ mid-way


def test_paths_apply_truncation(engine):
    """A path at truncation 0.5 starts and ends at the seeds' faces at 0.5, not at 1."""
    ends = engine.path(3, 4, [0.0, 1.0], "slerp", 0.5)
    assert np.array_equal(ends[0], engine.faces([3], 0.5)[0]) and np.array_equal(ends[1], engine.faces([4], 0.5)[0])
    assert not np.array_equal(ends[0], engine.faces([3], 1.0)[0])


def test_variations_are_seeded(engine):
    a = engine.variations(3, 4, 0.5, variation_seed=1)
    assert a.shape[0] == 5 and np.array_equal(a[0], engine.faces([3])[0])
    assert np.array_equal(a, engine.variations(3, 4, 0.5, variation_seed=1))
    assert not np.array_equal(a[1:], engine.variations(3, 4, 0.5, variation_seed=2)[1:])


def test_directions(engine):
    assert engine.info.directions.shape == (8, 100)
    base = engine.edit(3, [])
    assert np.array_equal(base, engine.faces([3])[0])
    assert not np.array_equal(engine.edit(3, [4.0]), base)


def test_truncation_zero_gives_mean_face(engine):
    a, b = engine.faces([1, 2], truncation=1e-9)
    assert np.abs(a.astype(int) - b).max() <= 1


def test_missing_model(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        Engine(tmp_path / "nope.onnx")


def test_corrupt_model(tmp_path, exported_model):
    bad = tmp_path / "generator.onnx"
    bad.write_bytes(exported_model.read_bytes()[:5000])
    meta = json.loads(exported_model.with_suffix(".json").read_text())
    meta.pop("sha256")
    bad.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        Engine(bad)
    meta["sha256"] = "0" * 64
    bad.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="sha256"):
        Engine(bad)


def test_missing_or_bad_metadata(tmp_path, exported_model):
    m = tmp_path / "generator.onnx"
    shutil.copy(exported_model, m)
    with pytest.raises(ModelError, match="metadata file is missing"):
        Engine(m)
    m.with_suffix(".json").write_text("{not json")
    with pytest.raises(ModelError, match="unreadable model metadata"):
        Engine(m)


def test_buckets_are_few():
    assert BUCKETS == tuple(sorted(BUCKETS)) and len(BUCKETS) <= 4


@pytest.mark.parametrize("threads", [2, 3])
def test_sliced_batches_match_single_faces(exported_model, engine, threads):
    """Big CPU batches run as one single-threaded slice per core; every face must equal the one-thread,
    one-at-a-time render, wherever it lands in a slice (3 threads slice 16 and 64 unevenly)."""
    sliced = Engine(exported_model, threads=threads)
    assert sliced._split is not None
    seeds = list(range(40, 140))  # chunks of 64 and 36 (→ bucket 64): both sliced
    got = sliced.faces(seeds)
    want = np.stack([engine.faces([s])[0] for s in seeds])
    assert got.shape == want.shape and np.array_equal(got, want)
    assert np.array_equal(sliced.faces(seeds[:16]), want[:16])
