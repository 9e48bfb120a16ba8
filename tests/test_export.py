import hashlib
import json

import numpy as np
import onnx
import pytest
import torch

from demo.latents import NZ, PIXEL_RANGE, seeds_to_z
from trainer import checkpoint
from trainer.export import ExportError, check_parity, generator_from_checkpoint, main


def test_onnx_interface_and_parity(exported_model, trained_run):
    model = onnx.load(str(exported_model))
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == "z" and out.name == "image"
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert dims == ["batch", NZ]
    ops = [n.op_type for n in model.graph.node]
    assert "BatchNormalization" not in ops  # folded
    assert ops.count("Gemm") == 1 and ops.index("Gemm") < ops.index("ConvTranspose")  # 1×1 first layer: one matmul
    g, which = generator_from_checkpoint(checkpoint.load(trained_run))
    assert which == "ema"
    assert check_parity(g, exported_model, NZ) <= 1e-4


def test_parity_check_fails_loudly(exported_model, trained_run):
    g, _ = generator_from_checkpoint(checkpoint.load(trained_run))
    with torch.no_grad():
        g.main[0].weight.add_(0.5)  # a generator the file no longer matches
    with pytest.raises(ExportError, match="differs from PyTorch"):
        check_parity(g, exported_model, NZ)


def test_metadata(exported_model):
    meta = json.loads(exported_model.with_suffix(".json").read_text())
    assert meta["nz"] == NZ and meta["image_size"] == 32 and meta["pixel_range"] == list(PIXEL_RANGE)
    assert "RandomState(seed)" in meta["seed_convention"]
    assert meta["sha256"] == hashlib.sha256(exported_model.read_bytes()).hexdigest()
    tr = meta["training"]
    assert tr["steps"] == 8 and tr["num_images"] == 64 and tr["epochs"] == 2 and tr["weights"] == "ema"
    assert tr["options"]["ngf"] == 8 and "exported_at" in meta
    d = np.load(exported_model.parent / meta["directions"]["file"])
    assert d.shape == (8, NZ)
    assert np.allclose(np.linalg.norm(d, axis=1), 1, atol=1e-5)
    assert np.allclose(d @ d.T, np.eye(8), atol=1e-4)  # eigenvectors: orthonormal


def test_export_cli_bad_checkpoint(tmp_path, capsys):
    (tmp_path / "checkpoint.pt").write_bytes(b"garbage")
    assert main(["--checkpoint", str(tmp_path), "--out", str(tmp_path / "g.onnx")]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "g.onnx").exists()


def test_failed_export_leaves_nothing_behind(trained_run, tmp_path, monkeypatch):
    """A parity failure leaves neither the new file nor a *.tmp; an existing export is kept as it was."""
    import trainer.export as te

    out = tmp_path / "g.onnx"
    te.export(trained_run, out)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def fails(*a, **k):
        raise ExportError("differs from PyTorch (test)")

    monkeypatch.setattr(te, "check_parity", fails)
    assert main(["--checkpoint", str(trained_run), "--out", str(out)]) == 2
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no *.tmp, nothing replaced


def test_useful_directions_are_decided_at_export(exported_model):
    meta = json.loads(exported_model.with_suffix(".json").read_text())["directions"]
    change = meta["mean_change_at_3"]
    assert len(change) == 8 and all(c > 0 for c in change)
    assert meta["useful"] == [i for i, c in enumerate(change) if c >= 6.0]
    limits = meta["identity_limits"]  # how far each direction goes before the face becomes another character
    assert len(limits) == 8 and all(0.5 <= x <= 6.0 and x * 2 == int(x * 2) for x in limits)


def test_export_defaults_to_the_run_folder(trained_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    assert main(["--checkpoint", str(run)]) == 0
    assert (run / "generator.onnx").is_file() and (run / "generator.json").is_file()


def test_annotate_an_older_export(exported_model, tmp_path):
    """An export made before usefulness and identity limits existed gets them from its ONNX file alone, measured
    through onnxruntime: the same figures the export itself computes with PyTorch."""
    import shutil

    for f in exported_model.parent.glob("generator.*"):
        shutil.copy(f, tmp_path / f.name)
    meta_path = tmp_path / "generator.json"
    meta = json.loads(meta_path.read_text())
    full = meta["directions"]
    meta["directions"] = {k: full[k] for k in ("file", "method", "eigenvalues")}
    meta_path.write_text(json.dumps(meta))
    assert main(["--annotate", str(tmp_path / "generator.onnx")]) == 0
    got = json.loads(meta_path.read_text())["directions"]
    assert got["useful"] == full["useful"] and got["identity_limits"] == full["identity_limits"]
    assert np.allclose(got["mean_change_at_3"], full["mean_change_at_3"], atol=0.05)


def test_average_snapshots_is_the_mean_of_the_ema_weights_with_fresh_bn_stats(trained_run, tmp_path):
    """scripts/average_snapshots.py: EMA parameters averaged, BatchNorm statistics re-estimated for the average,
    and the result exports like any checkpoint."""
    from scripts.average_snapshots import main as average

    state = checkpoint.load(trained_run)
    shifted = {**state, "ema": {k: v.clone() for k, v in state["ema"].items()}}
    first = next(k for k, v in shifted["ema"].items() if v.is_floating_point())
    shifted["ema"][first] += 2.0
    checkpoint.save(shifted, tmp_path / "b.pt")
    assert average([str(checkpoint.resolve(trained_run)), str(tmp_path / "b.pt"), "--out", str(tmp_path / "avg.pt")]) == 0
    avg = checkpoint.load(tmp_path / "avg.pt")
    assert torch.allclose(avg["ema"][first], state["ema"][first] + 1.0, atol=1e-6)
    bn_mean = next(k for k in avg["ema"] if k.endswith("running_mean"))
    assert not torch.allclose(avg["ema"][bn_mean], state["ema"][bn_mean])  # the shifted weights moved the statistics
    assert avg["generator"].keys() == state["generator"].keys() and avg["step"] == state["step"]
    assert main(["--checkpoint", str(tmp_path / "avg.pt"), "--out", str(tmp_path / "avg.onnx")]) == 0


def test_average_snapshots_refuses_other_generators_and_missing_files(trained_run, tmp_path):
    from scripts.average_snapshots import main as average

    state = checkpoint.load(trained_run)
    checkpoint.save({**state, "config": {**state["config"], "ngf": 16}}, tmp_path / "wider.pt")
    with pytest.raises(SystemExit, match="different generators"):
        average([str(checkpoint.resolve(trained_run)), str(tmp_path / "wider.pt"), "--out", str(tmp_path / "a.pt")])
    with pytest.raises(SystemExit, match="no checkpoint there"):
        average([str(tmp_path / "missing.pt"), "--out", str(tmp_path / "a.pt")])
    assert not (tmp_path / "a.pt").exists()


def test_a_nearest_upsampling_generator_exports_and_loads_back(image_dir, tmp_path):
    """--g-upsample nearest: trained, exported (Resize in the graph, parity-checked) and loaded back for the encoder."""
    from tests.conftest import TINY
    from trainer.encoder import load_generator
    from trainer.train import main as train

    run = tmp_path / "near"
    assert train(["--data", str(image_dir), "--out", str(run), "--epochs", "1", "--g-upsample", "nearest", *TINY]) == 0
    out = tmp_path / "near.onnx"
    meta = main(["--checkpoint", str(run), "--out", str(out)]) == 0 and json.loads(out.with_suffix(".json").read_text())
    assert meta["training"]["options"]["g_upsample"] == "nearest"
    ops = [n.op_type for n in onnx.load(str(out)).graph.node]
    assert ops.count("Resize") == 3 and ops.count("ConvTranspose") == 0 and ops.count("Conv") == 3
    g, _ = load_generator(out)  # raises unless it matches onnxruntime to 1e-4
    assert g(torch.from_numpy(seeds_to_z([0], NZ))).shape == (1, 3, 32, 32)
