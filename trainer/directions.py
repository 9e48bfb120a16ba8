"""Latent directions for the Directions tab, found and measured at export.

SeFa (closed form, from the first layer's weights) finds them; `useful_directions` decides which visibly
change a face and how far each can go before the face becomes another character, so the app's start-up and
API never have to. `annotate` adds those figures to an export made before they existed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from demo.latents import seeds_to_z, to_uint8
from trainer import checkpoint
from trainer.model import FoldedGenerator

N_DIRECTIONS = 8


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


def torch_render(model: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
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
