"""Shared fixtures: tiny images made here, one tiny trained + exported model per session."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_images(folder: Path, n: int = 64, seed: int = 0) -> Path:
    """n small images of mixed sizes and modes (RGB, RGBA, L, P) with a blob each, so there is something to learn."""
    rng = np.random.RandomState(seed)
    folder.mkdir(parents=True, exist_ok=True)
    modes = ["RGB", "RGBA", "L", "P"]
    for i in range(n):
        h, w = rng.randint(20, 48), rng.randint(20, 48)
        yy, xx = np.mgrid[:h, :w]
        blob = np.exp(-(((yy - h / 2) / (h / 4)) ** 2 + ((xx - w / 2) / (w / 4)) ** 2))
        col = rng.randint(0, 255, 3)
        arr = (blob[..., None] * col + (1 - blob[..., None]) * 40 + rng.randint(0, 20, (h, w, 3))).clip(0, 255).astype(np.uint8)
        img = Image.fromarray(arr).convert(modes[i % 4])
        ext = "png" if modes[i % 4] in ("RGBA", "P") else "jpg"
        sub = folder / f"sub{i % 3}"  # nested folders: --data is searched recursively
        sub.mkdir(exist_ok=True)
        img.save(sub / f"img_{i:03d}.{ext}")
    return folder


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory) -> Path:
    return make_images(tmp_path_factory.mktemp("images"))


TINY = ["--image-size", "32", "--batch-size", "16", "--ngf", "8", "--ndf", "8", "--threads", "1", "--log-every", "2"]


def tiny_run(tmp_path_factory, module: str, folder: str, args: list[str]) -> Path:
    """A 2-epoch run of one trainer (trainer.train, .colorize, .encoder) through its command line."""
    import importlib

    out = tmp_path_factory.mktemp(folder) / "tiny"
    assert importlib.import_module(module).main(["--out", str(out), "--epochs", "2", *args]) == 0
    return out


def tiny_export(tmp_path_factory, run: Path, folder: str, name: str) -> Path:
    from trainer.export import export

    path = tmp_path_factory.mktemp(folder) / name
    export(run, path)
    return path


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, image_dir) -> Path:
    """A 2-epoch run on 64 tiny images (8 steps)."""
    return tiny_run(tmp_path_factory, "trainer.train", "run", ["--data", str(image_dir), *TINY])


TINY_COLORIZER = ["--image-size", "32", "--batch-size", "8", "--ngf", "8", "--ndf", "8", "--threads", "1",
                  "--log-every", "2", "--holdout", "8"]


@pytest.fixture(scope="session")
def colorizer_run(tmp_path_factory, image_dir) -> Path:
    """A 2-epoch colouriser run on the 64 tiny images (8 held out: 7 steps an epoch)."""
    return tiny_run(tmp_path_factory, "trainer.colorize", "colorizer", ["--data", str(image_dir), *TINY_COLORIZER])


@pytest.fixture(scope="session")
def exported_colorizer(colorizer_run, tmp_path_factory) -> Path:
    return tiny_export(tmp_path_factory, colorizer_run, "exported_colorizer", "colorizer.onnx")


TINY_ENCODER = ["--image-size", "32", "--batch-size", "8", "--nef", "8", "--threads", "1", "--log-every", "2",
                "--holdout", "8"]


@pytest.fixture(scope="session")
def encoder_run(tmp_path_factory, image_dir, exported_model) -> Path:
    """A 2-epoch encoder run for the tiny generator on the 64 tiny images (8 held out)."""
    return tiny_run(tmp_path_factory, "trainer.encoder", "encoder",
                    ["--generator", str(exported_model), "--data", str(image_dir), *TINY_ENCODER])


@pytest.fixture(scope="session")
def exported_encoder(encoder_run, tmp_path_factory) -> Path:
    return tiny_export(tmp_path_factory, encoder_run, "exported_encoder", "encoder.onnx")


@contextlib.contextmanager
def launched(model: Path, colorizer: Path | None = None, encoder: Path | None = None, **build_kwargs):
    """The app (as app.py builds it) on a free loopback port; yields (its Blocks, its URL)."""
    from demo.colorizer import ColorizerEngine
    from demo.engine import Engine
    from demo.projection import Projector
    from demo.ui import LAUNCH_KWARGS, build
    from scripts.app_process import free_port

    engine = Engine(model, threads=1)
    if encoder:
        build_kwargs["projector"] = Projector(engine, encoder, threads=1)
    demo = build(engine, ColorizerEngine(colorizer, threads=1) if colorizer else None, **build_kwargs)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **LAUNCH_KWARGS)
    try:
        yield demo, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@contextlib.contextmanager
def serving(model: Path, colorizer: Path | None = None, encoder: Path | None = None, **build_kwargs):
    """The app on a free loopback port; yields its URL."""
    with launched(model, colorizer, encoder, **build_kwargs) as (_, url):
        yield url


@pytest.fixture(scope="session")
def exported_model(trained_run, tmp_path_factory) -> Path:
    return tiny_export(tmp_path_factory, trained_run, "exported", "generator.onnx")


def model_copy(exported_model, folder: Path, **meta_changes) -> Path:
    """The test model in another folder, its metadata changed (a value of None removes the key)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in exported_model.parent.glob(exported_model.stem + ".*"):
        shutil.copy(f, folder / f.name)
    meta_path = folder / exported_model.with_suffix(".json").name
    meta = json.loads(meta_path.read_text())
    for key, value in meta_changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    meta_path.write_text(json.dumps(meta))
    return folder / exported_model.name
