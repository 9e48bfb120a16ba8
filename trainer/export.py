"""Export a trained model to ONNX for the app: the DCGAN generator or the colouriser (the checkpoint says which).

    python -m trainer.export --checkpoint runs/anime            # writes runs/anime/generator.onnx (+ .json, .directions.npy)
    python app.py --model runs/anime/generator.onnx
    python -m trainer.export --checkpoint runs/colorizer        # writes runs/colorizer/colorizer.onnx (+ .json)
    python app.py --colorizer runs/colorizer/colorizer.onnx

generator.onnx: input "z" [batch, nz] → output "image" [batch, 3, H, W] in [-1, 1], BatchNorm folded;
generator.directions.npy holds its SeFa latent directions, generator.named.npy those with names (trainer.directions).
colorizer.onnx: input "image" [batch, 3, H, W] RGB in [0, 1] of any size → output "colorized", the same shape,
RGB in [0, 1] with the input's Lab lightness (the RGB↔Lab conversion and the resizing are inside the graph).
Each gets a JSON file beside it (the conventions the app relies on, plus a training summary), and is checked
against PyTorch in onnxruntime before it replaces an older export.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from demo import colorizer as colorizer_convention
from demo.engine import ModelError, file_sha256
from demo.latents import PIXEL_RANGE, SEED_CONVENTION, SEED_MAX, SEED_MIN, seeds_to_z
from trainer import checkpoint
from trainer.config import as_trained
from trainer.directions import annotate, directions_meta, sefa_directions, torch_render, write_named
from demo import projection as encoder_convention
from demo.latents import CODE_CONVENTION
from trainer.model import Encoder, FoldedGenerator, Generator
from trainer.unet import Colorizer, UNet

PARITY_TOL = 1e-4


class ExportError(RuntimeError):
    """The exported file does not reproduce the PyTorch generator."""


def write_onnx(module: torch.nn.Module, example: torch.Tensor, path: Path, input_name: str, output_name: str,
               dynamic: dict[int, torch.export.Dim], opset: int) -> None:
    """torch.onnx's current (torch.export-based) exporter, one input and one output with the given dynamic axes."""
    program = torch.onnx.export(module, (example,), dynamo=True, opset_version=opset, verbose=False,
                                input_names=[input_name], output_names=[output_name],
                                dynamic_shapes=(dynamic,))
    program.save(str(path))


def parity(module: torch.nn.Module, onnx_path: Path, inputs: list[np.ndarray]) -> float:
    """Largest |onnxruntime − PyTorch| over the inputs; raises ExportError past PARITY_TOL."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    diff = 0.0
    for x in inputs:
        with torch.no_grad():
            ref = module(torch.from_numpy(x)).numpy()
        diff = max(diff, float(np.abs(sess.run(None, {name: x})[0] - ref).max()))
    if not diff <= PARITY_TOL:
        raise ExportError(f"{onnx_path}: onnxruntime differs from PyTorch by {diff:.2e} (> {PARITY_TOL:g})")
    return diff


def training_summary(state: dict, which: str) -> dict[str, Any]:
    """The "training" entry of both models' metadata."""
    cfg = state["config"]
    return {
        "data": Path(str(cfg.get("data", ""))).name,
        "num_images": state.get("num_images"),
        "epochs": state["epoch"] + state["batch_in_epoch"] / state.get(  # older checkpoints lack it
            "steps_per_epoch", max(1, state.get("num_images", 1) // cfg["batch_size"])),
        "steps": state["step"],
        "train_minutes": round(state.get("train_seconds", 0.0) / 60, 1),
        "weights": which,
        "options": {k: v for k, v in cfg.items() if k not in ("data", "out")},
        "checkpoint_saved_at": state.get("saved_at"),
    }


def write_meta(meta: dict, out: Path, opset: int, extra: dict | None) -> dict:
    """Complete the metadata (file hash, versions, extra entries) and write it beside the ONNX file."""
    meta = {**meta, "onnx": out.name, "sha256": file_sha256(out),
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "torch": torch.__version__,
            "opset": opset, **(extra or {})}
    checkpoint.replace_atomically(lambda tmp: tmp.write_text(json.dumps(meta, indent=2) + "\n"), out.with_suffix(".json"))
    return meta


def generator_from_checkpoint(state: dict, use_ema: bool = True) -> tuple[Generator, str]:
    cfg = as_trained(state["config"])  # a run from before an option existed is rebuilt as it was trained
    g = Generator(cfg.nz, cfg.ngf, cfg.image_size, cfg.g_upsample)
    which = "ema" if use_ema and state.get("ema") is not None else "generator"
    g.load_state_dict(state[which])
    return g.eval(), which


def to_onnx(g: Generator, path: str | Path, opset: int = 18) -> FoldedGenerator:
    """Write g with BatchNorm folded as ONNX: input "z" [batch, nz] → output "image" [batch, 3, H, W].
    torch.onnx's current (torch.export-based) exporter; its graph matches the legacy TorchScript one op for op
    where it matters (one Gemm first, then ConvTranspose/ReLU) at the same speed in onnxruntime."""
    folded = FoldedGenerator(g.eval().to(memory_format=torch.contiguous_format)).eval()
    write_onnx(folded, torch.zeros(2, g.nz), Path(path), "z", "image", {0: torch.export.Dim("batch", min=1, max=1 << 16)},
               opset)
    return folded


def default_out(ckpt_path: str | Path) -> Path:
    """generator.onnx or colorizer.onnx in the run folder, by the checkpoint's kind."""
    state = checkpoint.load(ckpt_path)
    name = {"colorizer": "colorizer.onnx", "encoder": "encoder.onnx"}.get(checkpoint.kind_of(state), "generator.onnx")
    return checkpoint.resolve(ckpt_path).parent / name


def export(ckpt_path: str | Path, out: str | Path, use_ema: bool = True, opset: int = 18,
           extra: dict | None = None) -> dict:
    """Export, verify, and write the metadata; returns the metadata dict."""
    state = checkpoint.load(ckpt_path)
    if checkpoint.kind_of(state) == "colorizer":
        return export_colorizer(state, Path(out), use_ema, opset, extra)
    if checkpoint.kind_of(state) == "encoder":
        return export_encoder(state, Path(out), use_ema, opset, extra)
    g, which = generator_from_checkpoint(state, use_ema)
    cfg = state["config"]
    nz, size = cfg["nz"], cfg["image_size"]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    folded: list[FoldedGenerator] = []

    def write_onnx(tmp: Path) -> None:
        folded.append(to_onnx(g, tmp, opset))
        check_parity(g, tmp, nz)

    checkpoint.replace_atomically(write_onnx, out)
    dirs, eigvals = sefa_directions(folded[0])
    dir_path = out.with_suffix(".directions.npy")

    def write_npy(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.save would append ".npy" to the temp name
            np.save(f, dirs)

    checkpoint.replace_atomically(write_npy, dir_path)
    meta = {
        "format": "anime-face-generator/1",
        "input": {"name": "z", "shape": ["batch", nz]},
        "output": {"name": "image", "shape": ["batch", 3, size, size]},
        "nz": nz,
        "image_size": size,
        "pixel_range": list(PIXEL_RANGE),
        "seed_convention": SEED_CONVENTION,
        "seed_range": [SEED_MIN, SEED_MAX],
        "directions": directions_meta(torch_render(folded[0]), dirs, eigvals, nz, dir_path.name),
        "named_directions": write_named(torch_render(folded[0]), nz, out.with_suffix(".named.npy")),
        "training": training_summary(state, which),
    }
    return write_meta(meta, out, opset, extra)


def export_colorizer(state: dict, out: Path, use_ema: bool = True, opset: int = 18, extra: dict | None = None) -> dict:
    """The colouriser: U-Net plus the in-graph RGB↔Lab and resizing (trainer.unet.Colorizer), any batch and size."""
    cfg = state["config"]
    which = "ema" if use_ema and state.get("ema") is not None else "generator"
    net = UNet(cfg["ngf"], cfg["image_size"])
    net.load_state_dict(state[which])
    model = Colorizer(net.eval(), cfg["image_size"]).eval()
    conv = colorizer_convention
    out.parent.mkdir(parents=True, exist_ok=True)
    dims = {0: torch.export.Dim("batch", min=1, max=1 << 12), 2: torch.export.Dim("height", min=8, max=conv.MAX_SIDE),
            3: torch.export.Dim("width", min=8, max=conv.MAX_SIDE)}
    rng = np.random.default_rng(0)
    gray = np.repeat(rng.random((1, 1, 200, 150), dtype=np.float32), 3, axis=1)
    checks = [rng.random((3, 3, cfg["image_size"], cfg["image_size"]), dtype=np.float32), gray]

    def write(tmp: Path) -> None:
        write_onnx(model, torch.rand(2, 3, 96, 80), tmp, conv.INPUT, conv.OUTPUT, dims, opset)
        parity(model, tmp, checks)

    checkpoint.replace_atomically(write, out)
    meta = {
        "format": conv.FORMAT,
        "input": {"name": conv.INPUT, "shape": ["batch", 3, "height", "width"], "range": [0.0, 1.0], "colour": "sRGB"},
        "output": {"name": conv.OUTPUT, "shape": ["batch", 3, "height", "width"], "range": [0.0, 1.0], "colour": "sRGB"},
        "image_size": cfg["image_size"],
        "max_side": conv.MAX_SIDE,
        "colour_space": "CIE Lab, D65 (as scikit-image): the net sees L/100 at image_size and predicts ab/110; the "
                        "colours are resized to the input's size and joined with its own lightness",
        "training": {**training_summary(state, which), "held_out": state.get("num_held_out")},
    }
    return write_meta(meta, out, opset, extra)


def export_encoder(state: dict, out: Path, use_ema: bool = True, opset: int = 18, extra: dict | None = None) -> dict:
    """The encoder: input "image" [batch, 3, S, S] in the generator's pixel range → output "z" [batch, nz]; its
    metadata names the generator it inverts by sha256 (the app refuses any other pairing)."""
    cfg = state["config"]
    which = "ema" if use_ema and state.get("ema") is not None else "generator"
    size = cfg["image_size"]
    net = Encoder(int(state["nz"]), cfg["nef"], size)
    net.load_state_dict(state[which])
    net.eval()
    conv = encoder_convention
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    checks = [rng.uniform(-1, 1, (3, 3, size, size)).astype(np.float32)]

    def write(tmp: Path) -> None:
        write_onnx(net, torch.zeros(2, 3, size, size), tmp, conv.INPUT, conv.OUTPUT,
                   {0: torch.export.Dim("batch", min=1, max=1 << 12)}, opset)
        parity(net, tmp, checks)

    checkpoint.replace_atomically(write, out)
    meta = {
        "format": conv.FORMAT,
        "input": {"name": conv.INPUT, "shape": ["batch", 3, size, size], "range": list(PIXEL_RANGE), "colour": "sRGB",
                  "preparation": "the picture's centre square, resized to image_size with Lanczos"},
        "output": {"name": conv.OUTPUT, "shape": ["batch", net.nz]},
        "nz": net.nz,
        "image_size": size,
        "generator": {"file": Path(str(cfg.get("generator", ""))).name, "sha256": state.get("generator_sha256")},
        "face_code": CODE_CONVENTION,
        "training": {**training_summary(state, which), "held_out": state.get("num_held_out")},
    }
    return write_meta(meta, out, opset, extra)


def check_parity(g: Generator, onnx_path: Path, nz: int, seeds: range = range(16)) -> float:
    """Run the ONNX file in onnxruntime on a batch of seeds and compare with the
    unfolded PyTorch generator; raise ExportError past PARITY_TOL."""
    return parity(g, onnx_path, [seeds_to_z(seeds, nz)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="run folder or checkpoint .pt file")
    p.add_argument("--annotate", metavar="ONNX", help="instead: add the directions' usefulness and identity limits "
                                                      "to an existing export's JSON")
    p.add_argument("--out", help="ONNX file to write (default: generator.onnx or colorizer.onnx in the run folder; "
                                 "the app's shipped models are exported/generator.onnx and exported/colorizer.onnx)")
    p.add_argument("--no-ema", action="store_true", help="export the raw network even if an EMA copy exists")
    p.add_argument("--opset", type=int, default=18, help="ONNX opset (default %(default)s)")
    p.add_argument("--fid", help="JSON line printed by ../shared/tools/fid.py, recorded in the metadata")
    a = p.parse_args(argv)
    if a.annotate:
        try:
            d = annotate(a.annotate)["directions"]
        except (OSError, KeyError, ValueError, ModelError) as e:
            print(f"error: {a.annotate}: cannot annotate ({type(e).__name__}: {e})", file=sys.stderr)
            return 2
        print(f"{a.annotate}: useful directions {d['useful']}, identity limits {d['identity_limits']}", file=sys.stderr)
        return 0
    if not a.checkpoint:
        p.error("--checkpoint is required (or --annotate ONNX)")
    try:
        extra = {"evaluation": json.loads(a.fid)} if a.fid else None
        out = Path(a.out) if a.out else default_out(a.checkpoint)
        meta = export(a.checkpoint, out, use_ema=not a.no_ema, opset=a.opset, extra=extra)
    except (checkpoint.CheckpointError, ExportError, json.JSONDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    flag = {colorizer_convention.FORMAT: "--colorizer", encoder_convention.FORMAT: "--encoder"}.get(meta["format"], "--model")
    print(f"wrote {out} ({meta['training']['weights']} weights, step {meta['training']['steps']}); "
          f"onnxruntime matches PyTorch within {PARITY_TOL:g}. Try it: python app.py {flag} {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
