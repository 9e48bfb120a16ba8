import csv
import math
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from tests.conftest import ROOT, TINY
from trainer import checkpoint
from trainer.config import Config, as_trained
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
    assert all(float(r["lecam"]) > 0 for r in rows)  # the LeCam regulariser is part of the default recipe
    assert state["config"]["mbstd"] and state["discriminator"]["main.9.weight"].shape[1] == 8 * 4 + 1  # and minibatch-std
    assert all(float(r["loss_d"]) > 0 for r in rows)
    assert (trained_run / "loss.png").stat().st_size > 1000


@pytest.mark.parametrize("flags", [[], ["--lecam", "0"]], ids=["default", "no_lecam"])
def test_resume_continues_and_matches_uninterrupted(trained_run, image_dir, tmp_path, monkeypatch, flags):
    """A 3-epoch run stopped mid-epoch (step 6 of 12) and resumed ends with exactly the weights of one that ran straight
    (with the default --lecam 0.03 the running means of D's logits travel in the checkpoint; and without it)."""
    import trainer.train as tt
    from trainer.config import config_from_args

    resumed = tmp_path / "resumed"
    cfg, _ = config_from_args(["--data", str(image_dir), "--out", str(resumed), "--epochs", "3", *TINY, *flags])
    stop = tt.StopFlag()
    real_step = tt.Trainer.train_step

    def step_then_stop(self, batch):
        stats = real_step(self, batch)
        if self.step == 6:
            stop.reason = "test"
        return stats

    monkeypatch.setattr(tt.Trainer, "train_step", step_then_stop)
    tt.run(cfg, stop=stop)
    monkeypatch.undo()
    assert checkpoint.load(resumed)["step"] == 6
    assert main(["--out", str(resumed), "--resume"]) == 0
    state = checkpoint.load(resumed)
    assert state["step"] == 12 and state["epoch"] == 3
    straight = tmp_path / "straight"
    assert main(["--data", str(image_dir), "--out", str(straight), "--epochs", "3", *TINY, *flags]) == 0
    other = checkpoint.load(straight)
    for part in ("generator", "discriminator", "ema"):
        for k, v in other[part].items():
            assert torch.equal(v, state[part][k]), (part, k)


def test_resume_can_lower_the_learning_rates(trained_run, tmp_path):
    resumed = tmp_path / "finetune"
    shutil.copytree(trained_run, resumed)
    assert main(["--out", str(resumed), "--resume", "--epochs", "3", "--lr-g", "5e-5", "--lr-d", "1e-5"]) == 0
    state = checkpoint.load(resumed)
    assert state["step"] == 12
    # the saved Adam state had 2e-4; the last step (11 of 12) ran at the schedule's factor for step 11
    cosine = state["config"]["lr_decay"] == "cosine"
    scale = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 11 / 12)) if cosine else 1.0
    assert [g["lr"] for g in state["opt_g"]["param_groups"]] == [pytest.approx(5e-5 * scale)]
    assert [g["lr"] for g in state["opt_d"]["param_groups"]] == [pytest.approx(1e-5 * scale)]
    assert state["config"]["lr_g"] == 5e-5 and state["config"]["lr_d"] == 1e-5


def test_resume_can_change_the_colour_probability(trained_run, tmp_path, monkeypatch):
    """A run may end with colour on fewer images (D then sees truer colours): --color-p applies from the resume."""
    import trainer.train as train_mod
    seen = []
    real_augment = train_mod.diff_augment
    monkeypatch.setattr(train_mod, "diff_augment", lambda x, policy, p=1.0: seen.append(p) or real_augment(x, policy, p))
    resumed = tmp_path / "tail"
    shutil.copytree(trained_run, resumed)
    assert main(["--out", str(resumed), "--resume", "--epochs", "3", "--color-p", "0", "--color-tail", "0"]) == 0
    state = checkpoint.load(resumed)
    assert state["step"] == 12 and state["config"]["color_p"] == 0.0
    assert seen and set(seen) == {0.0}


def test_color_tail_switches_the_colour_probability_for_the_last_epochs(image_dir, tmp_path, monkeypatch):
    """--color-tail N: the last N epochs of --epochs use --tail-color-p (one command for what a resume with
    --color-p did by hand); the probability in use is logged in metrics.csv."""
    import trainer.train as train_mod
    seen = []  # (step, p) of every augmentation
    real_augment = train_mod.diff_augment
    trainers = []
    monkeypatch.setattr(train_mod, "diff_augment",
                        lambda x, policy, p=1.0: seen.append((trainers[0].step, p)) or real_augment(x, policy, p))
    real_init = train_mod.Trainer.__init__
    monkeypatch.setattr(train_mod.Trainer, "__init__", lambda self, *a, **k: trainers.append(self) or real_init(self, *a, **k))
    out = tmp_path / "tail"
    assert main(["--data", str(image_dir), "--out", str(out), "--epochs", "3", "--color-tail", "1",
                 "--tail-color-p", "0", *TINY]) == 0  # 64 images, batch 16: 4 steps an epoch, the tail from step 8
    assert {p for step, p in seen if step < 8} == {1.0} and {p for step, p in seen if step >= 8} == {0.0}
    with open(out / "metrics.csv") as f:
        logged = {int(r["step"]): float(r["color_p"]) for r in csv.DictReader(f)}
    assert logged == {2: 1.0, 4: 1.0, 6: 1.0, 8: 1.0, 10: 0.0, 12: 0.0}  # a row's step is counted after its update


def test_color_tail_defaults_to_three_sevenths_of_the_epochs_fixed_at_the_start(image_dir, tmp_path):
    """No --color-tail: the last round(3/7 · --epochs) epochs (the measured 30 of 70) use --tail-color-p; the count
    is stored, so resuming with more --epochs keeps it, and --color-tail 0 still turns the tail off."""
    def logged(out):
        with open(out / "metrics.csv") as f:
            return {int(r["step"]): float(r["color_p"]) for r in csv.DictReader(f)}

    out = tmp_path / "default"
    assert main(["--data", str(image_dir), "--out", str(out), "--epochs", "3", *TINY]) == 0  # 4 steps an epoch
    assert checkpoint.load(out)["config"]["color_tail"] == 1  # round(9/7)
    assert logged(out) == {2: 1.0, 4: 1.0, 6: 1.0, 8: 1.0, 10: 0.5, 12: 0.5}
    assert main(["--out", str(out), "--resume", "--epochs", "5"]) == 0  # the tail stays 1 epoch: epochs 4-5 at 1.0
    assert checkpoint.load(out)["config"]["color_tail"] == 1
    assert {s: p for s, p in logged(out).items() if s > 12} == {14: 1.0, 16: 1.0, 18: 0.5, 20: 0.5}
    off = tmp_path / "off"
    assert main(["--data", str(image_dir), "--out", str(off), "--epochs", "3", "--color-tail", "0", *TINY]) == 0
    assert set(logged(off).values()) == {1.0}


@pytest.mark.parametrize("flags, message", [(["--color-tail", "3"], "--color-tail must be at least 0 and less than"),
                                            (["--tail-color-p", "1.5"], "--tail-color-p must be in [0, 1]")])
def test_bad_color_tail_settings_are_one_line_errors(image_dir, tmp_path, capsys, flags, message):
    assert main(["--data", str(image_dir), "--out", str(tmp_path / "bad"), "--epochs", "3", *flags, *TINY]) != 0
    assert message in capsys.readouterr().err


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


def test_checkpoints_from_before_mbstd_was_default_resume_without_it(image_dir, tmp_path):
    """A run saved before the config had `mbstd` was trained without minibatch-std: it must resume as it was
    (LEGACY), not get today's default D, whose last layer has one more input channel."""
    out = tmp_path / "old"
    assert main(["--data", str(image_dir), "--out", str(out), "--epochs", "1", *TINY, "--no-mbstd"]) == 0
    state = checkpoint.load(out)
    del state["config"]["mbstd"]
    checkpoint.save(state, out / "checkpoint.pt")
    assert main(["--out", str(out), "--resume", "--epochs", "2"]) == 0
    state = checkpoint.load(out)
    assert state["epoch"] == 2 and state["config"]["mbstd"] is False
    assert state["discriminator"]["main.8.weight"].shape[1] == 8 * 4 and "main.9.weight" not in state["discriminator"]


def test_as_trained_fills_what_an_old_checkpoint_predates_with_how_it_was_trained():
    """Scripts that rebuild D or report options read a checkpoint through as_trained: a config saved before
    minibatch-std, LeCam or colour augmentation existed means a run trained without them (LEGACY), not today's
    defaults; what the checkpoint does store wins."""
    cfg = as_trained({"ndf": 24, "batch_size": 64, "spectral_norm": True})
    assert (cfg.mbstd, cfg.lecam, cfg.lr_decay, cfg.d_norm) == (False, 0.0, "constant", "spectral")
    assert (cfg.ndf, cfg.batch_size) == (24, 64)
    today = Config()
    assert (today.mbstd, today.lecam) == (True, 0.03)  # so the assertions above are not today's defaults


def test_resume_refuses_changed_architecture(trained_run, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--out", str(trained_run), "--resume", "--ngf", "16"])
    assert e.value.code == 2
    assert "--ngf was 8 in this run; start a new --out to change it" in capsys.readouterr().err


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


def test_max_steps_stops_at_equal_compute_and_resumes_past_it(image_dir, tmp_path, capsys):
    """--max-steps stops mid-epoch at exactly that step (the equal-steps protocol of docs/training.md), keeps the
    schedule of --epochs, and a resume with a higher limit continues to it; one at the limit trains nothing."""
    out = tmp_path / "capped"
    assert main(["--data", str(image_dir), "--out", str(out), "--epochs", "3", "--max-steps", "5", *TINY]) == 0
    err = capsys.readouterr().err
    assert "stopped by --max-steps 5 at epoch 1, step 5" in err and "--resume --max-steps 0" in err  # not a no-op hint
    state = checkpoint.load(out)
    assert (state["step"], state["epoch"], state["batch_in_epoch"]) == (5, 1, 1)
    assert main(["--out", str(out), "--resume", "--max-steps", "9"]) == 0
    assert checkpoint.load(out)["step"] == 9
    weights = checkpoint.load(out)["generator"]
    assert main(["--out", str(out), "--resume"]) == 0  # the limit is kept from the checkpoint
    assert "stopped by --max-steps 9 at epoch 2, step 9" in capsys.readouterr().err
    after = checkpoint.load(out)
    assert after["step"] == 9 and all(torch.equal(v, after["generator"][k]) for k, v in weights.items())
    assert main(["--out", str(out), "--resume", "--max-steps", "0"]) == 0  # 0 lifts it: on to the end of --epochs
    assert checkpoint.load(out)["step"] == 12


def test_budget_advice_says_when_the_schedule_and_the_minutes_disagree():
    """--max-minutes cuts the run, --epochs sets the decay: the loop names the --epochs that fit the budget."""
    from trainer.loop import budget_advice

    # 562 steps/epoch at 10 steps/s, 59 minutes left after epoch 1: 35,400 more steps reach epoch 63
    short = budget_advice(562, 562, 108, 10.0, 59 * 60)
    assert "stops this session near epoch 63 of 108" in short and "resume to go on" in short
    assert "start the run with --epochs 63 to finish" in short
    assert budget_advice(562, 562, 63, 10.0, 59 * 60) is None  # 62 epochs left, 62.99 fit: no note
    slack = budget_advice(562, 562, 40, 10.0, 59 * 60)
    assert "--epochs 63 would fill it" in slack and "ends 22 min before" in slack


def test_a_budget_far_longer_than_the_schedule_is_announced(image_dir, tmp_path, capsys):
    assert main(["--data", str(image_dir), "--out", str(tmp_path / "r"), "--epochs", "2", "--max-minutes", "60",
                 *TINY]) == 0
    err = capsys.readouterr().err
    assert "before the --max-minutes budget; --epochs" in err and "done: 2 epochs" in err
    onnx = tmp_path / "r" / "generator.onnx"  # the next steps, as commands to paste
    assert f"python -m trainer.export --checkpoint {tmp_path / 'r'}" in err and f"python app.py --model {onnx}" in err


def rows(run) -> list[dict]:
    return list(csv.DictReader(open(run / "metrics.csv")))


def test_metrics_never_repeat_steps_after_a_crash_and_resume(trained_run, tmp_path):
    """A run killed after its last checkpoint had logged steps past it; the resumed run logs them again.
    The rows past the checkpoint's step must go, or the loss plot draws backwards."""
    crashed = tmp_path / "crashed"
    shutil.copytree(trained_run, crashed)
    with open(crashed / "metrics.csv", "a") as f:  # what a run killed at step 11 had logged past step 8
        f.write("10,2.5,0.01,0.7,0.7,0,0,0,0,1,100\n")
    assert main(["--out", str(crashed), "--resume", "--epochs", "3"]) == 0
    steps = [int(r["step"]) for r in rows(crashed)]
    assert steps == [2, 4, 6, 8, 10, 12], steps


def test_checkpoint_is_saved_before_the_sample_grid(image_dir, tmp_path, monkeypatch):
    """A failure writing epoch 2's sample grid must not lose epoch 2's checkpoint."""
    import trainer.train as tt

    real = tt.Trainer.save_samples

    def failing(self, path):
        if self.epoch == 2:
            raise OSError(28, "No space left on device")
        return real(self, path)

    monkeypatch.setattr(tt.Trainer, "save_samples", failing)
    out = tmp_path / "full"
    with pytest.raises(OSError, match="No space"):
        main(["--data", str(image_dir), "--out", str(out), "--epochs", "3", *TINY])
    state = checkpoint.load(out)
    assert state["epoch"] == 2 and state["step"] == 8


def test_unexpected_errors_keep_their_traceback(image_dir, tmp_path, monkeypatch):
    """Only bad input becomes a one-line "error: …" and exit 2; a bug anywhere else must surface with its traceback."""
    import trainer.train as tt

    def broken(*a, **k):
        raise ValueError("a bug deep inside")

    monkeypatch.setattr(tt.Trainer, "train_step", broken)
    with pytest.raises(ValueError, match="a bug deep inside"):
        main(["--data", str(image_dir), "--out", str(tmp_path / "bug"), "--epochs", "1", *TINY])


def test_d_joint_is_on_by_default_with_batchnorm_and_off_without(image_dir, tmp_path):
    """The default D (BatchNorm) judges real and fake in one call; asking for a D without BatchNorm turns that off
    rather than failing on a setting the user never gave; the choice is stored, so a resumed run keeps it."""
    for flags, joint in (([], True), (["--d-norm", "none"], False), (["--d-norm", "spectral"], False),
                         (["--no-d-joint"], False)):
        out = tmp_path / ("r" + "".join(flags))
        assert main(["--data", str(image_dir), "--out", str(out), "--epochs", "1", "--max-steps", "1", *TINY, *flags]) == 0
        assert checkpoint.load(out)["config"]["d_joint"] is joint, flags


def test_bad_settings_are_one_line_errors(image_dir, tmp_path, capsys):
    for flags, message in ((["--diffaug", "blur"], "--diffaug: unknown augmentation 'blur'"),
                           (["--gamma", "-1"], "--gamma must not be negative"),
                           (["--lr-final", "0"], "--lr-final must be in (0, 1]"),
                           (["--color-p", "1.5"], "--color-p must be in [0, 1]"),
                           (["--d-norm", "batch", "--gamma", "1"], "needs --d-norm none or spectral"),
                           (["--d-norm", "none", "--d-joint"], "--d-joint only changes a D with BatchNorm"),
                           (["--topk", "0"], "--topk must be in (0, 1], got 0.0"),
                           (["--topk", "1.5"], "--topk must be in (0, 1], got 1.5"),
                           (["--topk", "0.5", "--loss", "rpgan"], "--topk needs --loss bce or hinge")):
        assert main(["--data", str(image_dir), "--out", str(tmp_path / "x"), "--epochs", "1", *TINY, *flags]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err


def test_truncated_checkpoint_message_is_one_whole_sentence(trained_run, tmp_path, capsys):
    data = (trained_run / "checkpoint.pt").read_bytes()
    (tmp_path / "checkpoint.pt").write_bytes(data[:len(data) // 2])
    assert main(["--out", str(tmp_path), "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.endswith(".") and "truncated" in err, err
    assert "there is a high" not in err


def test_images_left_out_of_batches_are_announced(tmp_path, capsys):
    from tests.conftest import make_images

    data = make_images(tmp_path / "70", n=70)
    assert main(["--data", str(data), "--out", str(tmp_path / "a"), "--epochs", "1", *TINY]) == 0
    assert "leaves out 6 image(s) that do not fill a last batch" in capsys.readouterr().err  # 70 = 4 × 16 + 6
    few = make_images(tmp_path / "10", n=10)
    assert main(["--data", str(few), "--out", str(tmp_path / "b"), "--epochs", "1", *TINY]) == 0
    assert "only 10 images, fewer than --batch-size 16" in capsys.readouterr().err


R3 = ["--loss", "rpgan", "--gamma", "0.1", "--reg-every", "2", "--d-norm", "none", "--mbstd", "--beta1", "0",
      "--beta2", "0.99", "--lr-decay", "cosine"]


def test_r3gan_options_penalise_d_and_decay_the_rate(image_dir, tmp_path):
    """The R3GAN-style options: R1/R2 are computed every --reg-every steps and logged; the rate follows a cosine."""
    out = tmp_path / "r3"
    assert main(["--data", str(image_dir), "--out", str(out), "--epochs", "3", *TINY, *R3]) == 0
    r = rows(out)
    assert all(float(x["r1"]) > 0 and float(x["r2"]) > 0 for x in r)
    scales = [float(x["lr_scale"]) for x in r]
    assert scales == sorted(scales, reverse=True) and scales[0] > 0.9 and scales[-1] < 0.2
    state = checkpoint.load(out)
    assert state["config"]["loss"] == "rpgan" and state["config"]["d_norm"] == "none" and state["config"]["mbstd"]
    assert all(torch.isfinite(v).all() for v in state["discriminator"].values() if v.is_floating_point())


def test_lecam_penalises_only_logits_past_the_other_sides_running_mean():
    from trainer.losses import lecam

    real, fake = torch.tensor([3.0, -1.0]), torch.tensor([-2.0, 1.0])
    # reals above the fake mean -1: (3 + 1)² and 0 → 8; fakes below the real mean 1: (1 + 2)² and 0 → 4.5
    assert lecam(real, fake, torch.tensor(1.0), torch.tensor(-1.0)).item() == pytest.approx(12.5)
    assert lecam(real, fake, torch.tensor(-5.0), torch.tensor(5.0)).item() == 0.0


def test_lecam_keeps_d_from_pulling_its_logits_apart(image_dir, tmp_path):
    """On 64 faces D soon tells real from fake; a strong --lecam holds its real and fake logits together
    (the gap between them over the last steps is a fraction of the unregularised run's), and its value is logged."""
    gaps = {}
    for weight in ("0", "10"):
        out = tmp_path / f"lecam{weight}"
        assert main(["--data", str(image_dir), "--out", str(out), "--epochs", "6", *TINY, "--lecam", weight,
                     "--lr-d", "1e-3"]) == 0
        r = rows(out)[-6:]
        gaps[weight] = sum(float(x["d_real"]) - float(x["d_fake"]) for x in r) / len(r)
        logged = [float(x["lecam"]) for x in r]
        assert all(math.isnan(v) for v in logged) if weight == "0" else all(0 < v < 100 for v in logged), logged
    assert gaps["0"] > 1.0 and gaps["10"] < gaps["0"] / 3, gaps
    avg = checkpoint.load(tmp_path / "lecam10")["logit_avg"]
    assert avg.shape == (2,) and torch.isfinite(avg).all() and avg.abs().sum() > 0  # D's real and fake running means


def test_ema_half_life_ramps_up(image_dir):
    """EMA half-life = min(ema_kimg, rampup × images seen): early on the average follows G closely."""
    from trainer.config import Config
    from trainer.data import load_images
    from trainer.train import Trainer

    tr = Trainer(Config(data=str(image_dir), image_size=32, ngf=8, ndf=8, batch_size=16, ema_kimg=10, ema_rampup=0.05),
                 load_images(image_dir, 32))
    p_ema, p_g = next(tr.ema.net.parameters()), next(tr.G.parameters())
    with torch.no_grad():
        p_g.add_(1.0)
    tr.step = 10  # 160 images seen → half-life 8 images → beta = 0.5 ** (16 / 8) = 0.25
    before = p_ema.detach().clone()
    tr.ema.update(tr.G, tr.step, tr.global_batch)
    assert torch.allclose(p_ema, before + 0.75 * (p_g - before), atol=1e-6)


def tiny_trainer(image_dir, **changes):
    """A DCGAN Trainer on the tiny images, 32 px, widths 8, no augmentation (one step takes milliseconds)."""
    from trainer.config import Config
    from trainer.data import load_images
    from trainer.train import Trainer

    return Trainer(Config(data=str(image_dir), image_size=32, ngf=8, ndf=8, batch_size=16, diffaug="", **changes),
                   load_images(image_dir, 32))


@pytest.mark.parametrize("joint", [False, True])
def test_generator_step_leaves_discriminator_gradients_alone(image_dir, joint):
    """G's update must not compute (or add to) D's weight gradients: they would be thrown away (with --d-joint too,
    where G's step puts reals through D again)."""
    tr = tiny_trainer(image_dir, d_joint=joint)
    seen = {}
    d_step, g_step = tr.opt_d.step, tr.opt_g.step
    tr.opt_d.step = lambda *a, **k: (seen.__setitem__("d", [p.grad.clone() for p in tr.D.parameters()]), d_step(*a, **k))[1]
    tr.opt_g.step = lambda *a, **k: (seen.__setitem__("g", [p.grad.clone() for p in tr.D.parameters()]), g_step(*a, **k))[1]
    tr.train_step(tr.batch())
    assert all(torch.equal(a, b) for a, b in zip(seen["d"], seen["g"]))  # D's grads untouched by G's backward
    assert all(p.requires_grad for p in tr.D.parameters())  # D trains again next step


@pytest.mark.parametrize("joint", [False, True])
def test_d_joint_normalises_real_and_fake_together(image_dir, joint):
    """--d-joint: each BatchNorm of D sees the real and the fake batch at once, in D's step and in G's; without it,
    every call holds one kind only."""
    tr = tiny_trainer(image_dir, d_joint=joint)
    seen = []
    bn = next(m for m in tr.D.modules() if isinstance(m, torch.nn.BatchNorm2d))
    bn.register_forward_hook(lambda m, inp, out: seen.append(inp[0].shape[0]))
    stats = tr.train_step(tr.batch())
    assert seen == ([32, 32] if joint else [16, 16, 16])
    assert math.isfinite(stats["loss_g"]) and all(p.requires_grad for p in tr.D.parameters())


def test_topk_share_shrinks_geometrically_to_its_floor_by_half_way(image_dir):
    """--topk ν: G learns from every fake at step 0, from √ν of them a quarter of the way, from ν half-way and after."""
    tr = tiny_trainer(image_dir, topk=0.25, epochs=4)
    half = 2 * tr.steps_per_epoch
    shares = []
    for step in (0, half // 2, half, 3 * half // 2):
        tr.step = step
        shares.append(tr.topk_share())
    assert shares == pytest.approx([1.0, 0.5, 0.25, 0.25], abs=0.02)
    assert tiny_trainer(image_dir).topk_share() == 1.0  # off by default


@pytest.mark.parametrize("topk, kept", [(1.0, 16), (0.25, 4)])
def test_topk_generator_loss_sees_only_the_fakes_d_rates_highest(image_dir, monkeypatch, topk, kept):
    """With the share at ν, G's loss gets the k = ν·batch largest logits of D on the fakes, not a random k."""
    import trainer.train as train

    tr = tiny_trainer(image_dir, topk=topk, epochs=1)
    tr.step = tr.steps_per_epoch  # past half-way: the share is at its floor
    seen, logits = {}, []
    real_g_loss = train.g_loss
    monkeypatch.setattr(train, "g_loss", lambda loss, fake, real: (seen.setdefault("fake", fake.detach()),
                                                                  real_g_loss(loss, fake, real))[1])
    d_logits = tr.D_logits
    monkeypatch.setattr(tr, "D_logits", lambda x, d, **k: (logits.append(out := d_logits(x, d, **k)), out)[1])
    stats = tr.train_step(tr.batch())
    every = logits[-1].detach().flatten()  # G's step is the last call of D
    assert seen["fake"].numel() == kept and stats["topk"] == topk
    assert torch.equal(seen["fake"].sort().values, every.sort().values[-kept:])


def test_diverged_generator_step_leaves_discriminator_trainable(image_dir, monkeypatch):
    """The NaN guard stops a step midway: D must not be left frozen for whoever catches Diverged."""
    import trainer.train as train

    tr = tiny_trainer(image_dir)
    monkeypatch.setattr(train, "g_loss", lambda *a: torch.tensor(float("nan")))
    with pytest.raises(train.Diverged, match="generator"):
        tr.train_step(tr.batch())
    assert all(p.requires_grad for p in tr.D.parameters())


def test_flip_mirrors_about_half_of_each_batch(image_dir):
    """--flip: the same batch as without it, each face either as stored or exactly mirrored, both kinds present."""
    plain = tiny_trainer(image_dir)
    flipped = tiny_trainer(image_dir, flip=True)
    torch.manual_seed(0)
    a = plain.batch_images()
    torch.manual_seed(0)
    b = flipped.batch_images()
    same = (a == b).flatten(1).all(1)
    mirrored = (a.flip(-1) == b).flatten(1).all(1)
    assert bool((same | mirrored).all())
    assert 0 < int((mirrored & ~same).sum()) < len(a)
    assert not (a[0].flip(-1) == a[0]).all()  # the test images are not symmetric (else it proves nothing)


def test_metrics_log_the_share_of_real_faces_d_calls_real(image_dir):
    """r_t = E[sign(D(real))] (ADA's heuristic, the collapse warning): computed on the real logits of the D step."""
    tr = tiny_trainer(image_dir)
    real_logits = torch.tensor([2.0] * 12 + [-1.0] * 4)  # 12 of 16 called real: r_t = (12 - 4) / 16 = 0.5
    calls = []
    d_logits = tr.D_logits

    def logits(x, d):  # D's own logits for the graph, replaced in value on the first (real) call only
        out = d_logits(x, d).flatten()
        calls.append(len(calls))
        return out - out.detach() + real_logits if len(calls) == 1 else out

    tr.D_logits = logits
    stats = tr.train_step(tr.batch())
    assert stats["r_t"] == 0.5 and stats["d_real"] == pytest.approx(1.25)


def test_metrics_gain_new_columns_under_one_header(tmp_path):
    """A run resumed by a trainer that logs a new column: one header (the union), every value under its own name."""
    from trainer.metrics import write_metrics

    path = tmp_path / "metrics.csv"
    write_metrics(path, {"step": 10, "loss_d": 0.5, "d_fake": -1.0})
    write_metrics(path, {"step": 20, "loss_d": 0.4, "r_t": 0.75, "d_fake": -2.0})
    write_metrics(path, {"step": 30, "loss_d": 0.3, "r_t": 1.0, "d_fake": -3.0})
    lines = path.read_text().splitlines()
    assert lines[0] == "step,loss_d,d_fake,r_t" and sum(line.startswith("step") for line in lines) == 1
    rows = list(csv.DictReader(open(path)))
    assert [(r["step"], r["d_fake"], r["r_t"]) for r in rows] == [("10", "-1.0", ""), ("20", "-2.0", "0.75"),
                                                                   ("30", "-3.0", "1.0")]


def test_bf16_is_native_only_where_the_cpu_has_bf16_instructions(monkeypatch):
    """oneDNN calls bf16 supported on every AVX-512 CPU, where it emulates it: on one without AVX512_BF16 a bf16
    step took 2.6x as long as a float32 one, so there the default must be float32; with the instruction, bf16."""
    import trainer.loop as tl

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    monkeypatch.setattr(tl, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512bw", "avx512vl"}))
    assert tl.native_bf16() is False
    monkeypatch.setattr(tl, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert tl.native_bf16() is True
    monkeypatch.setattr(tl, "cpu_flags", lambda: frozenset({"fp", "asimd", "bf16"}))  # Arm's FEAT_BF16
    assert tl.native_bf16() is True
    monkeypatch.setattr(tl, "cpu_flags", lambda: None)  # no /proc/cpuinfo (macOS, Windows): oneDNN decides
    assert tl.native_bf16() is True
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    monkeypatch.setattr(tl, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert tl.native_bf16() is False


def test_cpu_flags_reads_this_machines_cpuinfo():
    """The flags come from /proc/cpuinfo where there is one (every CPU lists at least one flag there)."""
    from trainer.loop import cpu_flags

    flags = cpu_flags()
    if Path("/proc/cpuinfo").exists():
        assert flags and all(isinstance(f, str) and f == f.strip() and f for f in flags)
    else:
        assert flags is None


def test_float32_on_a_cpu_without_bfloat16_is_announced(image_dir, tmp_path, monkeypatch, capsys):
    """Where the CPU has no native bf16 the run trains in float32, far slower than on the CPUs the README's hour was
    measured on: the start-up says so (and says when a forced --bf16 would be emulated)."""
    import trainer.loop as tl
    import trainer.train as tt
    from trainer.loop import precision_note

    assert precision_note(False, "cpu", native=True) is None and precision_note(True, "cuda", native=False) is None
    assert "emulated" in precision_note(True, "cpu", native=False)
    for native in (False, True):
        monkeypatch.setattr(tl, "native_bf16", lambda: native)
        monkeypatch.setattr(tt, "native_bf16", lambda: native)
        assert main(["--data", str(image_dir), "--out", str(tmp_path / f"r{native}"), "--epochs", "1", *TINY]) == 0
        err = capsys.readouterr().err
        assert ("training in float32: this CPU has no native bfloat16" in err) is (not native)
        assert checkpoint.load(tmp_path / f"r{native}")["config"]["bf16"] is native


def test_the_training_benchmark_sets_only_real_options(image_dir):
    """benchmarks/training.py builds its rows from Config overrides; one that is not a field kills the benchmark
    before its first figure (its "no EMA" row once passed `ema=`, and it called check_config the old way)."""
    import ast
    import dataclasses

    from benchmarks.training import ours_for
    from tests.conftest import ROOT
    from trainer.config import Config
    from trainer.data import load_images

    tr, steps, _ = ours_for(load_images(image_dir, 32), 0.001, batch_size=4, image_size=32, ngf=8, ndf=8,
                            diffaug="", ema_kimg=0.0)
    assert tr.ema is None and tr.cfg.bf16 in (True, False) and steps >= 1  # the overrides reached the trainer

    src = (ROOT / "benchmarks" / "training.py").read_text()
    fields = {f.name for f in dataclasses.fields(Config)}
    used = {kw.arg for node in ast.walk(ast.parse(src)) if isinstance(node, ast.Call)
            and getattr(node.func, "id", "") == "ours_for" for kw in node.keywords if kw.arg}
    assert used, "no ours_for(...) calls found"
    assert used - {"batch_size", "compiled"} <= fields, used - fields
