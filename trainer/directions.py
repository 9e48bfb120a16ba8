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
from demo.params import NUM_NAMED
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


# ---- named directions: attributes read from pixels, no labels (InterFaceGAN-style linear fits) ------------------
def _lum(x: np.ndarray) -> np.ndarray:
    return x @ np.float32([0.299, 0.587, 0.114])


def _box(x: np.ndarray, top: float, bottom: float, left: float, right: float) -> np.ndarray:
    """The part of faces [N, S, S, ...] between those fractions of the side (the faces are aligned crops)."""
    s = x.shape[1]
    return x[:, round(top * s):round(bottom * s), round(left * s):round(right * s)]


HAIR = (0.03, 0.25, 0.25, 0.75)  # the top band, above the eyes: hair on almost every face of the data set
FACE = (0.62, 0.85, 0.37, 0.63)  # below the eyes, between the cheeks: skin
EYES = (0.47, 0.66, 0.19, 0.81)
# (key, slider name, low end, high end, measure of faces [N, S, S, 3] in [0, 1] → [N])
ATTRIBUTES = [
    ("hair_lightness", "hair", "dark", "light", lambda f: _lum(_box(f, *HAIR)).mean(axis=(1, 2))),
    ("hair_orange", "hair", "blue", "orange", lambda f: (_box(f, *HAIR)[..., 0] - _box(f, *HAIR)[..., 2]).mean(axis=(1, 2))),
    ("hair_green", "hair", "pink", "green",
     lambda f: (_box(f, *HAIR) @ np.float32([-0.5, 1.0, -0.5])).mean(axis=(1, 2))),
    ("skin_lightness", "skin", "shaded", "light", lambda f: _lum(_box(f, *FACE)).mean(axis=(1, 2))),
    ("eye_lightness", "eyes", "dark", "light", lambda f: _lum(_box(f, *EYES)).mean(axis=(1, 2))),
    ("background_lightness", "background", "dark", "light",
     lambda f: np.concatenate([_lum(_box(f, 0, 0.16, 0, 0.1)).reshape(len(f), -1),
                               _lum(_box(f, 0, 0.16, 0.9, 1)).reshape(len(f), -1)], axis=1).mean(axis=1)),
    ("colourfulness", "colour", "muted", "vivid", lambda f: (f.max(axis=3) - f.min(axis=3)).mean(axis=(1, 2))),
]


def named_directions(render: Callable[[np.ndarray], np.ndarray], nz: int, n: int = 4096, amount: float = 2.0,
                     probe: range = range(16), min_change: float = 2.0, min_specificity: float = 2.0,
                     identity: float = 0.5, max_cos: float = 0.6) -> tuple[np.ndarray, dict]:
    """Latent directions with names: each attribute in ATTRIBUTES is measured on n random faces, z is fitted to it
    linearly (least squares; the direction is the fit's unit gradient), and the direction is kept when, over
    ±amount on the probe faces, it moves its own attribute by ≥ min_change standard deviations (of the attribute
    over the n faces), at least min_specificity times as much as it moves the other attributes on average, and
    points away (|cos| < max_cos) from the directions kept before it (those that move their attribute most first). Each kept one's
    slider range is where the face stays the same character (as useful_directions decides it)."""
    z = seeds_to_z(range(10_000, 10_000 + n), nz)
    faces = render(z).astype(np.float32) / 255
    values = np.stack([fn(faces) for *_, fn in ATTRIBUTES], axis=1)  # [n, attributes]
    std = values.std(axis=0) + 1e-8
    base = seeds_to_z(probe, nz)
    ref = render(base).astype(np.float32)
    between = float(np.mean([np.abs(ref[i] - ref[j]).mean() for i in range(len(ref)) for j in range(i)]))
    x = np.c_[z, np.ones(n, np.float32)]
    measured, dirs = [], []
    for i, (key, name, low, high, _) in enumerate(ATTRIBUTES):
        w, *_ = np.linalg.lstsq(x, values[:, i], rcond=None)
        pred = x @ w
        r2 = 1 - float(((values[:, i] - pred) ** 2).sum() / max(((values[:, i] - values[:, i].mean()) ** 2).sum(), 1e-12))
        norm = float(np.linalg.norm(w[:-1]))
        d = (w[:-1] / norm if norm > 1e-8 else np.zeros(nz)).astype(np.float32)  # a constant measure: no direction
        lo, hi = render(base - amount * d), render(base + amount * d)
        moved = np.stack([fn(hi.astype(np.float32) / 255) - fn(lo.astype(np.float32) / 255)
                          for *_, fn in ATTRIBUTES], axis=1).mean(axis=0) / std  # std units, each attribute
        own, others = float(moved[i]), float(np.abs(np.delete(moved, i)).mean())
        face_change = float((np.abs(hi - ref).mean() + np.abs(lo - ref).mean()) / 2 / between)
        measured.append({"key": key, "name": name, "low": low, "high": high, "r2": round(r2, 3),
                         "own_change": round(own, 2), "other_change": round(others, 2),
                         "specificity": round(own / max(others, 1e-6), 2), "face_change": round(face_change, 3)})
        dirs.append(d)
    order = sorted(range(len(ATTRIBUTES)), key=lambda i: -measured[i]["own_change"])
    kept: list[int] = []
    for i in order:
        m = measured[i]
        if (m["own_change"] >= min_change and m["specificity"] >= min_specificity and len(kept) < NUM_NAMED
                and all(abs(float(dirs[i] @ dirs[j])) < max_cos for j in kept)):
            kept.append(i)
    kept.sort()  # the table's order: hair first
    chosen = np.stack([dirs[i] for i in kept]) if kept else np.zeros((0, nz), np.float32)
    _, _, limits = useful_directions(render, chosen, nz, probe[:8], identity=identity) if kept else ([], [], [])
    for i, lim in zip(kept, limits):
        measured[i]["limit"] = lim
    return chosen, {"method": f"least-squares fit of z to pixel measures of {n} random faces; kept: ≥ {min_change:g} "
                              f"std of its measure over ±{amount:g}, ≥ {min_specificity:g}× the others' change",
                    "kept": [ATTRIBUTES[i][0] for i in kept], "measured": measured}


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


def write_named(render: Callable[[np.ndarray], np.ndarray], nz: int, path: Path) -> dict:
    """Find the named directions, write them beside the model (.named.npy) and return their metadata entry."""
    dirs, meta = named_directions(render, nz)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.save would append ".npy" to the temp name
            np.save(f, dirs)

    checkpoint.replace_atomically(write, path)
    return {"file": path.name, **meta}


def annotate(onnx_path: str | Path) -> dict:
    """Add the directions' usefulness and identity limits, and the named directions, to an existing export (exports
    made before they existed), measuring through onnxruntime; the eigenvalues come from the JSON, since the weights
    are not needed. The .onnx itself is not touched (its sha256, and so its encoder, stay valid)."""
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
    meta["named_directions"] = write_named(render, int(meta["nz"]), onnx_path.with_suffix(".named.npy"))
    checkpoint.replace_atomically(lambda tmp: tmp.write_text(json.dumps(meta, indent=2) + "\n"), meta_path)
    return meta
