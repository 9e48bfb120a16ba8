import csv
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
from PIL import Image

from tests.conftest import ROOT, TINY
from trainer import checkpoint
from trainer.train import main


def test_run_writes_checkpoint_samples_metrics(trained_run):
    state = checkpoint.load(trained_run)
    assert state["step"] == 8 and state["epoch"] == 2 and state["batch_in_epoch"] == 0
    assert state["config"]["image_size"] == 32 and state["ema"] is not None
    for key in ("generator", "discriminator", "opt_g", "opt_d", "torch_rng"):
        assert key in state
    grid = Image.open(trained_run / "samples" / "epoch_002.png")
    assert grid.size == (8 * 33 + 1, 8 * 33 + 1)  # 64 fixed seeds, 8×8, 1 px padding
    rows = list(csv.DictReader(open(trained_run / "metrics.csv")))
    assert [int(r["step"]) for r in rows] == [2, 4, 6, 8]
    assert all(float(r["loss_d"]) > 0 for r in rows)
    assert (trained_run / "loss.png").stat().st_size > 1000


def test_resume_continues_and_matches_uninterrupted(trained_run, image_dir, tmp_path):
    resumed = tmp_path / "resumed"
    shutil.copytree(trained_run, resumed)
    assert main(["--out", str(resumed), "--resume", "--epochs", "3"]) == 0
    state = checkpoint.load(resumed)
    assert state["step"] == 12 and state["epoch"] == 3
    straight = tmp_path / "straight"
    assert main(["--data", str(image_dir), "--out", str(straight), "--epochs", "3", *TINY]) == 0
    other = checkpoint.load(straight)
    for k, v in other["generator"].items():
        assert torch.equal(v, state["generator"][k]), k


def test_resume_can_lower_the_learning_rates(trained_run, tmp_path):
    resumed = tmp_path / "finetune"
    shutil.copytree(trained_run, resumed)
    assert main(["--out", str(resumed), "--resume", "--epochs", "3", "--lr-g", "5e-5", "--lr-d", "1e-5"]) == 0
    state = checkpoint.load(resumed)
    assert state["step"] == 12
    assert [g["lr"] for g in state["opt_g"]["param_groups"]] == [5e-5]  # the saved Adam state had 2e-4
    assert [g["lr"] for g in state["opt_d"]["param_groups"]] == [1e-5]
    assert state["config"]["lr_g"] == 5e-5 and state["config"]["lr_d"] == 1e-5


def test_sample_grid_uses_fixed_seeds(trained_run, tmp_path):
    a = Image.open(trained_run / "samples" / "last.png").tobytes()
    resumed = tmp_path / "again"
    shutil.copytree(trained_run, resumed)
    main(["--out", str(resumed), "--resume", "--epochs", "2"])  # nothing left to train: same weights
    assert Image.open(resumed / "samples" / "last.png").tobytes() == a


def test_nan_guard_keeps_last_good_checkpoint(image_dir, tmp_path, monkeypatch, capsys):
    import trainer.train as tt

    real = tt.d_loss
    calls = {"n": 0}

    def poisoned(kind, r, f):
        calls["n"] += 1
        loss = real(kind, r, f)
        return loss * float("nan") if calls["n"] > 6 else loss  # epoch 1 = steps 1-4 fine, step 7 NaN

    monkeypatch.setattr(tt, "d_loss", poisoned)
    out = tmp_path / "nan"
    assert main(["--data", str(image_dir), "--out", str(out), "--epochs", "5", *TINY]) == 1
    err = capsys.readouterr().err
    assert "diverged" in err and "NaN" in err.replace("nan", "NaN")
    state = checkpoint.load(out)
    assert state["step"] == 4  # the end of epoch 1; nothing from the poisoned steps
    assert all(torch.isfinite(v).all() for v in state["generator"].values() if v.is_floating_point())


def test_existing_run_needs_resume(trained_run, image_dir, capsys):
    assert main(["--data", str(image_dir), "--out", str(trained_run), "--epochs", "2", *TINY]) == 2
    assert "--resume" in capsys.readouterr().err


def test_resume_refuses_changed_architecture(trained_run, tmp_path):
    with pytest.raises(SystemExit):
        main(["--out", str(trained_run), "--resume", "--ngf", "16"])


def test_corrupt_checkpoint_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "checkpoint.pt").write_bytes(b"PK\x03\x04 garbage")
    assert main(["--out", str(tmp_path), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "checkpoint.pt" in err and "not a readable checkpoint" in err and "Traceback" not in err


def test_missing_and_empty_data_are_clear_errors(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "nope"), "--out", str(tmp_path / "r1")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["--data", str(tmp_path / "empty"), "--out", str(tmp_path / "r2")]) == 2
    assert "no readable images" in capsys.readouterr().err


def test_sigterm_saves_and_exits_zero(image_dir, tmp_path):
    out = tmp_path / "sig"
    cmd = [sys.executable, "-m", "trainer.train", "--data", str(image_dir), "--out", str(out), "--epochs", "1000", *TINY]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "SIGTERM" in err and "--resume" in err
    state = checkpoint.load(out)
    assert state["step"] >= 4
