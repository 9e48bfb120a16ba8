"""The colouriser's trainer, its export and the RGB↔Lab conversion inside the exported graph."""
import csv
import json
import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import lab2rgb, rgb2lab

from tests.conftest import TINY, TINY_COLORIZER
from trainer import checkpoint


def lab_np(rgb_u8: np.ndarray) -> np.ndarray:
    return rgb2lab(rgb_u8.astype(np.float64) / 255)


# ---- Lab ------------------------------------------------------------------------------------------------
def test_rgb_to_lab_matches_scikit_image():
    from trainer.lab import rgb_to_lab

    rng = np.random.default_rng(0)
    x = rng.random((2, 24, 24, 3))
    x[0, 0, :8] = [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5], [0.01, 0.0, 0.02], [1, 1, 0]]
    got = rgb_to_lab(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    assert np.abs(got - rgb2lab(x)).max() < 1e-6


def test_lab_to_rgb_matches_scikit_image_including_out_of_gamut():
    from trainer.lab import lab_to_rgb

    rng = np.random.default_rng(1)
    lab = np.stack([rng.uniform(0, 100, (16, 16)), rng.uniform(-110, 110, (16, 16)), rng.uniform(-110, 110, (16, 16))], -1)
    with warnings.catch_warnings():  # skimage warns about the negative Z values it clips
        warnings.simplefilter("ignore")
        ref = lab2rgb(lab)
    got = lab_to_rgb(torch.from_numpy(lab)[None].permute(0, 3, 1, 2))[0].permute(1, 2, 0).numpy()
    assert np.abs(got - ref).max() < 1e-6


def test_in_gamut_conversion_keeps_lightness_where_clipping_would_not():
    from trainer.lab import lab_to_rgb, lab_to_rgb_in_gamut, rgb_to_lab

    gen = torch.Generator().manual_seed(0)
    lab = torch.stack([torch.rand(48, 48, generator=gen) * 100, torch.rand(48, 48, generator=gen) * 220 - 110,
                       torch.rand(48, 48, generator=gen) * 220 - 110])[None].double()
    clipped = (rgb_to_lab(lab_to_rgb(lab))[:, 0] - lab[:, 0]).abs()
    kept = (rgb_to_lab(lab_to_rgb_in_gamut(lab))[:, 0] - lab[:, 0]).abs()
    assert clipped.max() > 10 and kept.max() < 0.1
    inside = rgb_to_lab(torch.rand(1, 3, 16, 16, generator=gen).double())  # colours already in gamut are untouched
    assert torch.allclose(lab_to_rgb_in_gamut(inside), lab_to_rgb(inside), atol=1e-6)


def test_split_and_join_scale_as_documented():
    from trainer.lab import join, split

    rgb = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)  # pure red: L 53.2, a 80.1, b 67.2
    L, ab = split(rgb)
    assert L.item() == pytest.approx(0.5324, abs=1e-3) and ab.flatten().tolist() == pytest.approx([0.728, 0.611], abs=1e-3)
    assert torch.allclose(join(L, ab), rgb, atol=1e-5)


# ---- the trainer ------------------------------------------------------------------------------------------
def test_training_writes_checkpoint_sheet_and_held_out_scores(colorizer_run, image_dir):
    state = checkpoint.load(colorizer_run, "colorizer")
    assert state["model"] == "colorizer" and state["epoch"] == 2 and state["num_held_out"] == 8
    assert state["num_images"] == 56  # 64 images, the last 8 never trained on
    sheet = Image.open(colorizer_run / "samples" / "epoch_002.png")
    # 8 held-out faces as gray | colourised | original triplets, 12 images a row: one row of 12 (+ padding)
    assert sheet.size == (12 * 33 + 1, 2 * 33 + 1)
    px = np.asarray(sheet.convert("RGB")).astype(int)
    gray_tile = px[1:33, 1:33]  # the first face's gray version has no colour
    assert np.abs(gray_tile[..., 0] - gray_tile[..., 1]).max() <= 1
    with open(colorizer_run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows][-1] == "14" and all(r["step"].isdigit() for r in rows)  # one header only
    scored = [r for r in rows if r["val_l1"]]
    assert len(scored) == 2 and all(0 < float(r["val_l1"]) < 1 and float(r["real_colourfulness"]) > 0 for r in scored)


def test_resume_continues_where_it_stopped(colorizer_run, image_dir, tmp_path):
    from trainer.colorize import main

    out = tmp_path / "resumed"
    args = ["--data", str(image_dir), "--out", str(out), *TINY_COLORIZER]
    assert main([*args, "--epochs", "1"]) == 0
    assert main(["--out", str(out), "--resume", "--epochs", "2"]) == 0
    a, b = checkpoint.load(out), checkpoint.load(colorizer_run)
    assert a["step"] == b["step"] == 14
    for k in a["generator"]:  # same seed, same batches, same flips: the same weights as the run done in one go
        assert torch.allclose(a["generator"][k], b["generator"][k], atol=1e-5), k


def test_each_trainer_refuses_the_others_checkpoint(colorizer_run, trained_run, tmp_path, capsys):
    from trainer.colorize import main as colorize
    from trainer.train import main as train

    assert train(["--out", str(colorizer_run), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "a colorizer checkpoint, not a dcgan one" in err and "python -m trainer.colorize" in err
    assert colorize(["--out", str(trained_run), "--resume"]) == 2
    assert "a dcgan checkpoint, not a colorizer one" in capsys.readouterr().err


def test_l1_only_baseline_trains_no_discriminator(image_dir, tmp_path):
    from trainer.colorize import main

    out = tmp_path / "l1"
    assert main(["--data", str(image_dir), "--out", str(out), "--epochs", "1", "--gan-weight", "0", *TINY_COLORIZER]) == 0
    state = checkpoint.load(out)
    with open(out / "metrics.csv") as f:
        header = next(csv.reader(f))
    assert "loss_d" not in header and "l1" in header
    assert state["opt_d"]["state"] == {}  # D never stepped


def test_bad_settings_are_one_line_errors(image_dir, tmp_path, capsys):
    from trainer.colorize import main

    assert main(["--data", str(image_dir), "--out", str(tmp_path / "x"), "--l1-weight", "0", "--gan-weight", "0"]) == 2
    assert "nothing to learn" in capsys.readouterr().err
    assert main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "y")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_interrupt_keeps_a_resumable_checkpoint(image_dir, tmp_path):
    """A stop (Ctrl-C/SIGTERM/--max-minutes all set the same flag) mid-epoch saves where it was."""
    from trainer import loop
    from trainer.colorize import ColorizerConfig, run

    cfg = ColorizerConfig(data=str(image_dir), out=str(tmp_path / "stop"), image_size=32, batch_size=8, ngf=8, ndf=8,
                          threads=1, holdout=8, epochs=3)
    stop = loop.StopFlag()
    real = loop.Task.batch_images

    def batch_then_stop(self):
        if self.step == 3:
            stop.reason = "SIGTERM"
        return real(self)

    loop.Task.batch_images = batch_then_stop
    try:
        run(cfg, stop=stop)
    finally:
        loop.Task.batch_images = real
    state = checkpoint.load(cfg.out)
    assert (state["epoch"], state["batch_in_epoch"], state["step"]) == (0, 4, 4)


# ---- the export -------------------------------------------------------------------------------------------
def test_export_contract_any_size_keeps_lightness(exported_colorizer):
    import onnxruntime as ort

    meta = json.loads(exported_colorizer.with_suffix(".json").read_text())
    assert meta["format"] == "anime-face-colorizer/1" and meta["image_size"] == 32
    assert meta["input"]["name"] == "image" and meta["training"]["held_out"] == 8
    sess = ort.InferenceSession(str(exported_colorizer), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for shape in ((1, 32, 32), (2, 97, 61), (1, 300, 200)):
        b, h, w = shape
        gray = np.repeat(rng.integers(0, 256, (b, h, w, 1), dtype=np.uint8), 3, axis=3)
        out = sess.run(None, {"image": gray.transpose(0, 3, 1, 2).astype(np.float32) / 255})[0]
        assert out.shape == (b, 3, h, w) and out.min() >= 0 and out.max() <= 1
        got = out.transpose(0, 2, 3, 1).astype(np.float64)
        # the output's Lab lightness is the input's, at every pixel (out-of-gamut colours are toned down, not clipped)
        dl = np.abs(rgb2lab(got)[..., 0] - lab_np(gray)[..., 0])
        assert dl.max() < 0.1, (shape, dl.max())


def test_a_colour_picture_and_its_gray_version_give_the_same_result(exported_colorizer):
    """Only lightness is used: R = G = B gray input and the colour original colour the same."""
    from demo.colorizer import ColorizerEngine, to_gray

    eng = ColorizerEngine(exported_colorizer, threads=1)
    rgb = np.random.default_rng(2).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    gray = to_gray(rgb)
    assert np.abs(lab_np(gray)[..., 0] - lab_np(rgb)[..., 0]).max() < 0.3  # the gray view keeps the lightness
    diff = np.abs(eng.colorize(rgb).astype(int) - eng.colorize(gray))
    # the gray version's lightness is rounded to 8 bits; that can move a pixel across a chroma step at the gamut's edge
    assert diff.mean() < 0.5 and np.percentile(diff, 99) <= 2


def test_export_checks_parity_and_keeps_the_old_file_on_failure(colorizer_run, tmp_path, monkeypatch):
    import trainer.export as te

    out = tmp_path / "colorizer.onnx"
    te.export(colorizer_run, out)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def fails(*a, **k):
        raise te.ExportError("differs from PyTorch (test)")

    monkeypatch.setattr(te, "parity", fails)
    assert te.main(["--checkpoint", str(colorizer_run), "--out", str(out)]) == 2
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_export_cli_default_out_is_colorizer_onnx_in_the_run(colorizer_run, capsys):
    from trainer.export import main

    assert main(["--checkpoint", str(colorizer_run)]) == 0
    assert (colorizer_run / "colorizer.onnx").is_file() and (colorizer_run / "colorizer.json").is_file()
    assert "--colorizer" in capsys.readouterr().err


def test_dcgan_trainer_cli_still_parses_its_own_flags():
    from trainer.config import build_parser

    args = build_parser().parse_args(["--data", "x", *TINY])
    assert args.ngf == 8 and not hasattr(args, "l1_weight")
