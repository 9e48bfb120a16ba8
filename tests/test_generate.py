"""python -m demo.generate: faces to files with the app's engine and seed convention."""
import json
import numpy as np
import pytest
from PIL import Image

from demo.engine import Engine
from demo.generate import main, parse_seeds
from tests.conftest import model_copy


@pytest.fixture(scope="module")
def engine(exported_model):
    return Engine(exported_model, threads=1)


def test_seed_lists():
    assert parse_seeds("0-3,10, 7") == [0, 1, 2, 3, 10, 7]
    for bad, msg in (("5-2", "runs backwards"), ("x", "whole number"), ("-1", "first seed"), ("", "at least one"),
                     ("0-20000", "at most 10,000")):
        with pytest.raises(ValueError, match=msg):
            parse_seeds(bad)


def test_faces_and_grid_match_the_app(exported_model, engine, tmp_path):
    out, sheet = tmp_path / "faces", tmp_path / "grid.png"
    assert main(["--model", str(exported_model), "--seeds", "5-8", "--truncation", "0.7", "--out", str(out),
                 "--grid", str(sheet), "--columns", "2"]) == 0
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == [f"seed_{s:07d}.png" for s in range(5, 9)]
    want = engine.faces([5, 6, 7, 8], 0.7)
    for f, w in zip(files, want):
        assert np.array_equal(np.asarray(Image.open(f).convert("RGB")), w)  # lossless, the app's face at that truncation
    assert Image.open(sheet).size == (2 * 32 + 2, 2 * 32 + 2)  # 2×2 faces of 32 px, 2 px gap


def test_morph_frames_and_gif(exported_model, engine, tmp_path):
    gif = tmp_path / "m.gif"
    assert main(["--model", str(exported_model), "--morph", "3", "9", "--frames", "5", "--out", str(tmp_path / "f"),
                 "--gif", str(gif)]) == 0
    frames = sorted((tmp_path / "f").glob("*.png"))
    assert len(frames) == 5
    assert np.array_equal(np.asarray(Image.open(frames[0]).convert("RGB")), engine.faces([3])[0])
    assert np.array_equal(np.asarray(Image.open(frames[-1]).convert("RGB")), engine.faces([9])[0])
    anim = Image.open(gif)
    assert anim.n_frames == 2 * 5 - 2 and anim.size == (64, 64)


def test_bad_input_is_one_line(exported_model, tmp_path, capsys):
    for args, msg in ((["--seeds", "abc"], "whole number"), (["--seeds", "1", "--truncation", "9"], "--truncation must be"),
                      (["--morph", "1", "2", "--frames", "1"], "--frames must be from 2"),
                      (["--seeds", "1", "--model", str(tmp_path / "none.onnx")], "model file not found")):
        base = [] if "--model" in args else ["--model", str(exported_model)]
        assert main(base + args + ["--out", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err
        assert msg in err and err.startswith("error:"), err
    with pytest.raises(SystemExit):
        main(["--model", str(exported_model), "--seeds", "1"])  # nowhere to write
    assert "say where to write" in capsys.readouterr().err


def test_before_after_sheet_puts_each_model_on_its_side(exported_model, engine, tmp_path):
    """scripts/before_after.py: old model's faces left, new model's right, the same seeds, captions above."""
    from scripts.before_after import main as before_after

    other = model_copy(exported_model, tmp_path / "other")  # the same model in another file: both halves show its faces
    out = tmp_path / "ba.png"
    assert before_after(["--old", str(exported_model), "--new", str(other), "--seeds", "0-3", "--columns", "2",
                         "--scale", "1", "--out", str(out)]) == 0
    sheet = np.asarray(Image.open(out).convert("RGB"))
    side = 2 * 32 + 2  # 2×2 faces of 32 px, 2 px gap
    assert sheet.shape == (22 + side, side + 16 + side, 3)
    want = engine.faces([0])[0]
    assert np.array_equal(sheet[22:22 + 32, :32], want)                       # seed 0, old model, top left
    assert np.array_equal(sheet[22:22 + 32, side + 16:side + 16 + 32], want)  # seed 0, new model, top left of its half
    assert (sheet[:22] < 128).any()  # a caption is drawn


def test_face_stats_measure_saturation_contrast_and_spread(exported_model, trained_run, image_dir, capsys):
    """scripts/face_stats.py: known pixels give known figures; a run folder scores as its exported model."""
    from scripts.face_stats import face_stats, main as stats_main

    gray = np.full((2, 4, 4, 3), 128, np.uint8)
    red = np.zeros((2, 4, 4, 3), np.uint8)
    red[..., 0] = 255
    assert face_stats(gray) == {"saturation": 0.0, "value": 128.0, "rgb": [128.0, 128.0, 128.0],
                                "contrast_std": 0.0, "spread_rms": 0.0}
    assert face_stats(red)["saturation"] == 255.0 and face_stats(red)["rgb"] == [255.0, 0.0, 0.0]
    assert face_stats(np.concatenate([gray[:1], red[:1]]))["spread_rms"] == round(((127 ** 2 + 2 * 128 ** 2) / 3) ** 0.5, 1)
    assert stats_main(["--data", str(image_dir), "--n", "8", str(exported_model), str(trained_run)]) == 0
    real, onnx, run = (json.loads(line) for line in capsys.readouterr().out.strip().splitlines())
    assert real["source"] == "real" and real["n"] == 8 and real["saturation"] > 0
    assert {k: v for k, v in onnx.items() if k != "source"} == {k: v for k, v in run.items() if k != "source"}


def test_blind_count_shuffles_numbers_and_reads_back_the_model(exported_model, engine, tmp_path):
    """scripts/blind_count.py: every (model, seed) once on the numbered sheet, in the cell its key says; `score`
    counts the broken numbers per model and refuses numbers not on the sheets."""
    from scripts.blind_count import main as blind, score

    other = model_copy(exported_model, tmp_path / "other")
    out = tmp_path / "blind"
    assert blind(["sheet", "--models", str(exported_model), str(other), "--seeds", "0-3", "--columns", "4",
                  "--scale", "1", "--per-sheet", "8", "--out", str(out)]) == 0
    key = json.loads((out / "key.json").read_text())
    assert sorted((c["model"], c["seed"]) for c in key) == sorted((str(m), s) for m in (exported_model, other)
                                                                   for s in range(4))
    assert [c["seed"] for c in key] != [0, 1, 2, 3, 0, 1, 2, 3]  # shuffled
    sheet = np.asarray(Image.open(out / "sheet_1.png").convert("RGB"))
    for c in key:
        x, y = (c["number"] % 4) * 36, (c["number"] // 4) * 52 + 16  # 32 px faces, 4 px gap, 16 px number band
        assert np.array_equal(sheet[y:y + 32, x:x + 32], engine.faces([c["seed"]])[0])
    first_two = {key[0]["model"], key[1]["model"]}
    counts = score(out / "key.json", [0, 1])
    assert sum(v["broken"] for v in counts.values()) == 2 and all(v["faces"] == 4 for v in counts.values())
    assert all(counts[m]["broken"] == [key[0]["model"], key[1]["model"]].count(m) for m in first_two)
    assert blind(["score", "--key", str(out / "key.json"), "--broken", "8"]) == 2  # no face 8 on these sheets


def test_nearest_real_to_real_never_matches_an_image_with_itself():
    """scripts/nearest.py's baseline: each probe's nearest *other* training image. Noise images are all far apart
    (RMS ≈ 104), so a distance near 0 means the probe found itself (float error once hid that from a threshold)."""
    from scripts.nearest import nearest

    bank = np.random.RandomState(0).randint(0, 256, (50, 64, 64, 3)).astype(np.uint8)
    probe = np.array([1, 2, 5, 7, 30])
    idx, dist = nearest(bank[probe], bank, exclude=probe)
    assert not np.any(idx == probe)
    assert dist.min() > 90
    bank[40] = bank[2]  # a real duplicate elsewhere in the bank is still found
    idx, dist = nearest(bank[probe], bank, exclude=probe)
    assert idx[1] == 40 and dist[1] < 1


def test_project_writes_the_closest_face_and_its_code_morphs(exported_model, exported_encoder, engine, tmp_path,
                                                             capsys):
    """--project: the face for the printed code, as the app's /project makes it; the code then works as --morph's A."""
    from demo.latents import decode_z

    pic = tmp_path / "me.png"
    Image.fromarray(engine.faces([4])[0]).resize((80, 60)).save(pic)
    base = ["--model", str(exported_model), "--encoder", str(exported_encoder)]
    assert main([*base, "--project", str(pic), "--out", str(tmp_path / "p")]) == 0
    code = capsys.readouterr().out.split("face code: ")[1].split()[0]
    face = np.asarray(Image.open(tmp_path / "p" / "project_me.png").convert("RGB"))
    np.testing.assert_array_equal(face, engine.render(decode_z(code)[None])[0])
    assert main([*base, "--morph", code, "7", "--frames", "3", "--out", str(tmp_path / "m")]) == 0
    first = sorted((tmp_path / "m").glob("*.png"))[0]
    assert first.name.startswith("morph_own-") and np.array_equal(np.asarray(Image.open(first).convert("RGB")), face)
    assert main([*base, "--project", str(tmp_path / "none.png"), "--out", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err
