"""The lent-GPU path prepared here: the compact data copy (scripts/pack_faces.py) and the one-call job
(scripts/device_train.py), run on the CPU at toy size so a device lease is never the first run."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import onnxruntime as ort
import pytest

from scripts.device_train import epochs_that_fit
from scripts.device_train import main as device_main
from scripts.pack_faces import main as pack_main
from scripts.pack_faces import pack
from tests.conftest import TINY
from trainer.data import load_images


def test_epochs_that_fit_takes_the_wanted_schedule_or_the_longest_that_finishes():
    assert epochs_that_fit(100.0, 600, 1124, 140) == 45    # 100 steps/s × 600 s × 0.85 = 51,000 steps = 45.4 epochs
    assert epochs_that_fit(1000.0, 600, 1124, 140) == 140  # fits: the schedule asked for, not a longer one
    assert epochs_that_fit(0.5, 60, 1124, 140) == 1        # not even one epoch: one (the run stops at its budget)
    assert epochs_that_fit(0.0, 600, 1124, 140) == 1


def test_pack_keeps_every_readable_face_in_order_and_close_to_the_original(image_dir, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for p in sorted(image_dir.rglob("*.*"))[:12]:
        (src / f"{p.parent.name}_{p.name}").write_bytes(p.read_bytes())
    (src / "zz_broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    dst = tmp_path / "packed.zip"
    assert pack(src, dst) == (12, 1)
    names = zipfile.ZipFile(dst).namelist()
    assert len(names) == 12 and all(n.endswith(".webp") for n in names) and names == sorted(names)
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        before = load_images(src, 32).float()
    after = load_images(dst, 32).float()
    assert after.shape == before.shape == (12, 3, 32, 32)
    assert (after - before).abs().mean() < 4.0  # WebP q90: a few levels of 255, not another picture
    assert (after - before.roll(1, 0)).abs().mean() > 4 * (after - before).abs().mean()  # and the same order


def test_pack_refuses_a_missing_source_and_leaves_no_file(tmp_path, capsys):
    assert pack_main([str(tmp_path / "nope"), str(tmp_path / "out.zip")]) == 1
    assert "no such folder or file" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_device_job_trains_exports_and_returns_at_most_eight_small_files(image_dir, tmp_path):
    out, run = tmp_path / "OUT", tmp_path / "run"
    rc = device_main(["--data", str(image_dir), "--out", str(out), "--run", str(run), "--minutes", "1.5",
                      "--epochs", "2", "--probe-steps", "3", "--reserve", "0.3", "--", *TINY])
    assert rc == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["env.json", "generator.directions.npy", "generator.json", "generator.onnx", "metrics.csv",
                     "samples.png", "slim.pt", "train.log"]  # the device tool returns at most 8 files, 16 MiB each
    assert all((out / f).stat().st_size < 16 * 2**20 for f in files)
    env = json.loads((out / "env.json").read_text())
    assert env["epochs"] == 2 and env["steps_per_s"] > 0 and env["stages"]["export"] == "ok"
    assert env["stages"]["train"]["epoch"] == 2 and env["stages"]["train"]["step"] == 8  # 64 images, batch 16
    s = ort.InferenceSession(str(out / "generator.onnx"), providers=["CPUExecutionProvider"])
    img = s.run(None, {"z": np.random.RandomState(0).randn(2, 100).astype(np.float32)})[0]
    assert img.shape == (2, 3, 32, 32) and -1 <= img.min() < img.max() <= 1 and img.std() > 0.01

    from trainer.export import export  # the slim checkpoint exports to the same generator here
    again = tmp_path / "again.onnx"
    export(out / "slim.pt", again)
    z = np.random.RandomState(1).randn(4, 100).astype(np.float32)
    s2 = ort.InferenceSession(str(again), providers=["CPUExecutionProvider"])
    assert np.allclose(s.run(None, {"z": z})[0], s2.run(None, {"z": z})[0], atol=1e-5)
