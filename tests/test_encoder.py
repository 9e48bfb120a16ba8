"""The encoder: training through the shared loop, export parity, the generator pairing, projection and face codes."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, model_copy


def test_face_codes_round_trip_and_damaged_ones_are_refused():
    from demo import params
    from demo.latents import decode_z, encode_z, seed_to_z

    z = seed_to_z(7)
    code = encode_z(z)
    assert code.startswith("z.") and len(code) < 280
    back = decode_z(code)
    assert np.abs(back - z).max() < 2e-3  # float16
    assert encode_z(back) == code  # the decoded z is the face from then on: it writes the same code again
    assert isinstance(params.face(code, "seed A"), np.ndarray) and params.face("42") == 42
    for bad, message in (("z.abc", "holds 1 numbers"), ("z.!!!!", "damaged"), (encode_z(z[:50]), "need 100")):
        with pytest.raises(ValueError, match=message):
            params.face(bad, "seed A")
    with pytest.raises(ValueError, match="seed A"):
        params.face("z." + "A" * 10, "seed A")
    inf = np.full(100, np.inf, np.float32)
    with pytest.raises(ValueError, match="out of range"):
        decode_z("z." + __import__("base64").urlsafe_b64encode(inf.astype("<f2").tobytes()).decode().rstrip("="))


def test_encoder_trains_resumes_and_exports_with_its_generator(encoder_run, exported_encoder, exported_model):
    import onnxruntime as ort
    import torch

    from trainer import checkpoint
    from demo.engine import file_sha256
    from trainer.model import Encoder

    state = checkpoint.load(encoder_run, "encoder")
    assert state["model"] == "encoder" and state["epoch"] == 2 and state["num_held_out"] == 8
    assert state["generator_sha256"] == file_sha256(exported_model)
    meta = json.loads(exported_encoder.with_suffix(".json").read_text())
    assert meta["format"] == "anime-face-encoder/1" and meta["nz"] == 100 and meta["image_size"] == 32
    assert meta["generator"]["sha256"] == json.loads(exported_model.with_suffix(".json").read_text())["sha256"]
    # parity: onnxruntime's z equals PyTorch's EMA encoder's on a batch of pictures
    net = Encoder(100, state["config"]["nef"], 32)
    net.load_state_dict(state["ema"])
    x = np.random.default_rng(1).uniform(-1, 1, (5, 3, 32, 32)).astype(np.float32)
    got = ort.InferenceSession(str(exported_encoder)).run(None, {"image": x})[0]
    with torch.no_grad():
        want = net.eval()(torch.from_numpy(x)).numpy()
    assert got.shape == (5, 100) and np.abs(got - want).max() < 1e-4
    lines = (encoder_run / "metrics.csv").read_text().splitlines()
    assert "val_pixel_error" in lines[0] and lines[-1].split(",")[lines[0].split(",").index("val_pixel_error")]


@pytest.mark.parametrize("damage, message", [("hash", "sha256"), ("json", "metadata file is missing")])
def test_a_generator_that_is_not_its_export_is_one_clear_line(exported_model, tmp_path, image_dir, capsys,
                                                              damage, message):
    """--generator whose .onnx is not the file its .json hashed (swapped or re-written), or that has no .json: the
    encoder refuses it as the app would, before training for a generator nobody has."""
    from tests.conftest import TINY_ENCODER
    from trainer.encoder import main

    gen = model_copy(exported_model, tmp_path / "gen", sha256="0" * 64)
    if damage == "json":
        gen.with_suffix(".json").unlink()
    run = tmp_path / "run"
    assert main(["--generator", str(gen), "--data", str(image_dir), "--out", str(run), "--epochs", "1",
                 *TINY_ENCODER]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1, err
    assert not (run / "checkpoint.pt").exists()


def test_resuming_after_the_generator_file_changed_is_refused(trained_run, exported_model, tmp_path, image_dir,
                                                             capsys):
    """The generator at --generator was re-exported since the run started: resuming would train for another one."""
    from tests.conftest import TINY_ENCODER
    from trainer.encoder import main
    from trainer.export import export

    gen = model_copy(exported_model, tmp_path / "gen")
    run = tmp_path / "run"
    args = ["--generator", str(gen), "--data", str(image_dir), "--out", str(run), *TINY_ENCODER]
    assert main([*args, "--epochs", "1"]) == 0
    export(trained_run, gen, use_ema=False)  # another generator file at the same path
    capsys.readouterr()
    assert main(["--out", str(run), "--resume", "--epochs", "2"]) == 2
    assert "trained for another generator" in capsys.readouterr().err


def test_init_starts_from_another_encoder_for_a_retrained_generator(encoder_run, trained_run, exported_model,
                                                                     tmp_path, image_dir, capsys):
    """--init: a new generator file (not the one encoder_run learned), and the new run's first weights are
    encoder_run's averaged ones; it trains for the new file, resumes without re-reading --init, and an --init of
    another shape or kind is one clear line."""
    import torch

    from tests.conftest import TINY_ENCODER
    from trainer import checkpoint
    from trainer.encoder import main
    from trainer.export import export

    gen = tmp_path / "retrained.onnx"
    export(trained_run, gen, use_ema=False)  # another generator than encoder_run's
    run = tmp_path / "run"
    base = ["--generator", str(gen), "--data", str(image_dir), *TINY_ENCODER]
    assert main([*base, "--out", str(run), "--init", str(encoder_run), "--epochs", "1", "--max-steps", "1",
                 "--lr", "1e-12"]) == 0  # one step that moves nothing: the weights are still the init's
    start, old = checkpoint.load(run, "encoder"), checkpoint.load(encoder_run, "encoder")
    assert all(torch.allclose(v, start["generator"][k], atol=1e-6) for k, v in old["ema"].items())
    assert start["generator_sha256"] != old["generator_sha256"]
    moved = tmp_path / "gone"
    shutil.move(str(encoder_run), str(moved))  # --init is read once, at the start
    try:
        assert main(["--out", str(run), "--resume", "--max-steps", "0"]) == 0
    finally:
        shutil.move(str(moved), str(encoder_run))
    capsys.readouterr()
    assert main([*base, "--out", str(tmp_path / "wide"), "--init", str(encoder_run), "--nef", "16",
                 "--epochs", "1"]) == 2
    assert "--nef 8 at 32 px; this run is nz 100, --nef 16" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "dcgan"), "--init", str(trained_run), "--epochs", "1"]) == 2
    assert "a dcgan checkpoint, not an encoder one" in capsys.readouterr().err


def test_projector_refuses_an_encoder_for_another_generator(exported_encoder, exported_model):
    from demo.engine import Engine
    from demo.projection import MismatchError, Projector

    engine = Engine(exported_model, threads=1)
    engine.info.meta["sha256"] = "f" * 64  # as if the app ran another generator file
    with pytest.raises(MismatchError, match="trained for another generator"):
        Projector(engine, exported_encoder, threads=1)


def test_app_named_encoder_for_another_generator_is_one_clear_line(exported_encoder, exported_model, tmp_path):
    """--encoder that belongs to another generator: the app does not start, and says which and what to do."""
    enc = tmp_path / "encoder.onnx"
    shutil.copy(exported_encoder, enc)
    meta = json.loads(exported_encoder.with_suffix(".json").read_text())
    meta["generator"]["sha256"] = "0" * 64
    enc.with_suffix(".json").write_text(json.dumps(meta))
    r = subprocess.run([sys.executable, str(ROOT / "app.py"), "--model", str(exported_model), "--encoder", str(enc),
                        "--port", "1"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 2
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("error:") and "trained for another generator" in line and "trainer.encoder" in line


def test_projection_finds_the_models_own_face_and_refine_never_loses(exported_encoder, exported_model):
    """A face the model made itself: refine's answer is at least as close as the encoder's, and every projection
    is a face code whose face is the one returned."""
    from demo.engine import Engine
    from demo.latents import decode_z
    from demo.projection import Projector, pixel_error

    engine = Engine(exported_model, threads=1)
    proj = Projector(engine, exported_encoder, threads=1)
    for seed in (3, 11):
        face = engine.faces([seed])[0]
        quick, fine = proj.project(face), proj.project(face, refine=True)
        assert fine.error <= quick.error
        for p in (quick, fine):
            assert np.array_equal(engine.render(decode_z(p.code)[None])[0], p.face)
            assert p.error == pytest.approx(float(pixel_error(p.face[None], face)[0]))
            assert 0 <= p.closeness <= 100
    big = np.repeat(np.repeat(engine.faces([3])[0], 5, axis=0), 7, axis=1)  # any size: its centre square
    assert proj.project(big).picture.shape == (32, 32, 3)


def test_the_default_encoder_beside_another_model_turns_your_face_off_and_the_app_runs(exported_model):
    """`python app.py --model mine.onnx` with the shipped encoder (trained for the shipped generator): the app starts,
    and /project says why Your face is off."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from scripts.app_process import running_app

    with running_app(["app.py", "--host", "127.0.0.1", "--model", str(exported_model), "--threads", "1"]) as (_, url):
        c = Client(url, verbose=False)
        assert len(c.predict(1, 2, api_name="/generate")) == 2
        with pytest.raises(AppError, match="trained for another generator"):
            c.predict(None, True, api_name="/project")
