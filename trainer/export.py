"""Export a trained generator to ONNX for the app.

    python -m trainer.export --checkpoint runs/anime            # writes runs/anime/generator.onnx (+ .json, .directions.npy)
    python app.py --model runs/anime/generator.onnx

Writes generator.onnx (input "z" [batch, nz] → output "image" [batch, 3, H, W]
in [-1, 1], BatchNorm folded), generator.json (the conventions the app relies
on, plus a training summary) and generator.directions.npy (SeFa latent
directions), then checks the ONNX file against PyTorch in onnxruntime.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from demo.engine import ModelError
from demo.latents import PIXEL_RANGE, SEED_CONVENTION, SEED_MAX, SEED_MIN, seeds_to_z, to_uint8
from trainer import checkpoint
from trainer.model import FoldedGenerator, Generator

PARITY_TOL = 1e-4
N_DIRECTIONS = 8


class ExportError(RuntimeError):
    """The exported file does not reproduce the PyTorch generator."""


def generator_from_checkpoint(state: dict, use_ema: bool = True) -> tuple[Generator, str]:
    cfg = state["config"]
    g = Generator(cfg["nz"], cfg["ngf"], cfg["image_size"])
    which = "ema" if use_ema and state.get("ema") is not None else "generator"
    g.load_state_dict(state[which])
    return g.eval(), which


def sefa_directions(folded: FoldedGenerator, k: int = N_DIRECTIONS) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form factorisation (Shen & Zhou 2021): the directions in z that the
    first layer amplifies most are the top eigenvectors of W·Wᵀ, W = the first
    layer's weight as [nz, rest]. Returns (directions [k, nz], eigenvalues)."""
    w = folded.first.weight.detach().double().T
    vals, vecs = torch.linalg.eigh(w @ w.T)
    order = torch.argsort(vals, descending=True)[:k]
    dirs = vecs[:, order].T
    dirs = dirs * torch.sign(dirs.sum(dim=1, keepdim=True) + 1e-12)  # a fixed sign, for stable slider meaning
    return dirs.float().numpy(), vals[order].float().numpy()


def useful_directions(render: Callable[[np.ndarray], np.ndarray], dirs: np.ndarray, nz: int, seeds: range = range(8),
                      amount: float = 3.0, min_change: float = 6.0, identity: float = 0.5,
                      max_amount: float = 6.0) -> tuple[list[int], list[float], list[float]]:
    """Which directions visibly change a face (mean |Δpixel| ≥ min_change of 255 at ±amount, over a few seeds),
    each one's change, and how far each can go while the face stays the same character: the largest amount (in
    steps of 0.5, up to max_amount) whose change stays under `identity` × the mean distance between two seeds' faces.
    `render` maps latents [B, nz] to uint8 faces (PyTorch at export, onnxruntime for --annotate). Decided once
    here, so the app's start-up and API never depend on it."""
    base = seeds_to_z(seeds, nz)
    ref = render(base).astype(np.float32)
    between = float(np.mean([np.abs(ref[i] - ref[j]).mean() for i in range(len(ref)) for j in range(i)]))
    steps = np.arange(0.5, max_amount + 1e-6, 0.5, dtype=np.float32)
    amounts = np.concatenate([steps, -steps])
    change, limits = [], []
    for d in dirs.astype(np.float32):  # one render per direction: every amount × every seed
        moved = render((base[None] + amounts[:, None, None] * d).reshape(-1, nz)).astype(np.float32)
        diff = np.abs(moved.reshape(len(amounts), len(base), *ref.shape[1:]) - ref[None]).mean(axis=(1, 2, 3, 4))
        change.append(float(diff[np.isclose(amounts, amount)][0]))
        worst = np.maximum(diff[:len(steps)], diff[len(steps):])  # +a and -a together
        ok = steps[worst <= identity * between]
        limits.append(float(ok.max()) if len(ok) else 0.5)
    return [i for i, c in enumerate(change) if c >= min_change], change, limits


def _torch_render(model: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    @torch.no_grad()
    def render(z: np.ndarray) -> np.ndarray:
        return to_uint8(model(torch.from_numpy(np.ascontiguousarray(z, np.float32))).numpy())

    return render


def directions_meta(render: Callable[[np.ndarray], np.ndarray], dirs: np.ndarray, eigvals: np.ndarray, nz: int,
                    file: str) -> dict:
    """The "directions" entry of the metadata."""
    useful, change, limits = useful_directions(render, dirs, nz)
    return {"file": file, "method": "SeFa (eigenvectors of W·Wᵀ, first layer, BN folded)",
            "eigenvalues": [round(float(v), 4) for v in eigvals], "useful": useful,
            "mean_change_at_3": [round(c, 2) for c in change], "identity_limits": limits}


def annotate(onnx_path: str | Path) -> dict:
    """Add the directions' usefulness and identity limits to an existing export's JSON (exports made before they
    existed), measuring through onnxruntime; the eigenvalues come from the JSON, since the weights are not needed."""
    from demo.engine import Engine

    onnx_path = Path(onnx_path)
    meta_path = onnx_path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    d = meta.get("directions") or {}
    engine = Engine(onnx_path, threads=1)  # the app's own runner, so the figures are what the app would show
    if engine.info.directions is None:
        raise ValueError("the export ships no directions file")
    dirs, render = engine.info.directions, engine.render
    meta["directions"] = directions_meta(render, dirs, np.asarray(d.get("eigenvalues", [])), int(meta["nz"]), d["file"])
    checkpoint.replace_atomically(lambda tmp: tmp.write_text(json.dumps(meta, indent=2) + "\n"), meta_path)
    return meta


def to_onnx(g: Generator, path: str | Path, opset: int = 18) -> FoldedGenerator:
    """Write g with BatchNorm folded as ONNX: input "z" [batch, nz] → output "image" [batch, 3, H, W].
    torch.onnx's current (torch.export-based) exporter; its graph matches the legacy TorchScript one op for op
    where it matters (one Gemm first, then ConvTranspose/ReLU) at the same speed in onnxruntime."""
    folded = FoldedGenerator(g.eval().to(memory_format=torch.contiguous_format)).eval()
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    program = torch.onnx.export(folded, (torch.zeros(2, g.nz),), dynamo=True, opset_version=opset, verbose=False,
                                input_names=["z"], output_names=["image"], dynamic_shapes={"z": {0: batch}})
    program.save(str(path))
    return folded


def export(ckpt_path: str | Path, out: str | Path, use_ema: bool = True, opset: int = 18,
           extra: dict | None = None) -> dict:
    """Export, verify, and write the metadata; returns the metadata dict."""
    state = checkpoint.load(ckpt_path)
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
        "onnx": out.name,
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
        "input": {"name": "z", "shape": ["batch", nz]},
        "output": {"name": "image", "shape": ["batch", 3, size, size]},
        "nz": nz,
        "image_size": size,
        "pixel_range": list(PIXEL_RANGE),
        "seed_convention": SEED_CONVENTION,
        "seed_range": [SEED_MIN, SEED_MAX],
        "directions": directions_meta(_torch_render(folded[0]), dirs, eigvals, nz, dir_path.name),
        "training": {
            "data": Path(str(cfg.get("data", ""))).name,
            "num_images": state.get("num_images"),
            "epochs": state["epoch"] + state["batch_in_epoch"] / state.get(  # older checkpoints lack it
                "steps_per_epoch", max(1, state.get("num_images", 1) // cfg["batch_size"])),
            "steps": state["step"],
            "train_minutes": round(state.get("train_seconds", 0.0) / 60, 1),
            "weights": which,
            "options": {k: v for k, v in cfg.items() if k not in ("data", "out")},
            "checkpoint_saved_at": state.get("saved_at"),
        },
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "opset": opset,
    }
    if extra:
        meta.update(extra)
    checkpoint.replace_atomically(lambda tmp: tmp.write_text(json.dumps(meta, indent=2) + "\n"), out.with_suffix(".json"))
    return meta


def check_parity(g: Generator, onnx_path: Path, nz: int, seeds: range = range(16)) -> float:
    """Run the ONNX file in onnxruntime on a batch of seeds and compare with the
    unfolded PyTorch generator; raise ExportError past PARITY_TOL."""
    import onnxruntime as ort

    z = seeds_to_z(seeds, nz)
    with torch.no_grad():
        ref = g(torch.from_numpy(z)).numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sess.run(["image"], {"z": z})[0]
    diff = float(np.abs(got - ref).max())
    if not diff <= PARITY_TOL:
        raise ExportError(f"{onnx_path}: onnxruntime differs from PyTorch by {diff:.2e} (> {PARITY_TOL:g})")
    return diff


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="run folder or checkpoint .pt file")
    p.add_argument("--annotate", metavar="ONNX", help="instead: add the directions' usefulness and identity limits "
                                                      "to an existing export's JSON")
    p.add_argument("--out", help="ONNX file to write (default: generator.onnx in the run folder; the app's shipped "
                                 "model is exported/generator.onnx)")
    p.add_argument("--no-ema", action="store_true", help="export the raw generator even if an EMA copy exists")
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
        out = a.out or checkpoint.resolve(a.checkpoint).parent / "generator.onnx"
        meta = export(a.checkpoint, out, use_ema=not a.no_ema, opset=a.opset, extra=extra)
    except (checkpoint.CheckpointError, ExportError, json.JSONDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({meta['training']['weights']} weights, step {meta['training']['steps']}); "
          f"onnxruntime matches PyTorch within {PARITY_TOL:g}. Try it: python app.py --model {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
