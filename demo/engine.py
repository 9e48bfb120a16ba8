"""Run the exported generator with onnxruntime: seeds in, uint8 faces out.

Everything the app computes goes through `Engine.render(z)`, which pads each
request to one of a few fixed batch sizes so onnxruntime sees the same shapes
again and again (no per-call re-planning) and never more than MAX_BATCH at once.
On the CPU, batches of SPLIT_FROM or more are cut into one slice per core, each run
single-threaded at the same time: onnxruntime's CPU ConvTranspose loops over the images and
splits only each image's small matrix product and col2im over its threads, so at batch 64
one run on 2 threads keeps both cores busy less of the time than 2 runs on 1 thread each
(see the README's Performance).
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from demo.latents import NZ, face_z, interpolate, seeds_to_z, to_uint8

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "exported" / "generator.onnx"
MODEL_ENV = "ANIME_GAN_MODEL"
BUCKETS = (1, 4, 16, 64)  # batch shapes the session ever sees
MAX_BATCH = BUCKETS[-1]
SPLIT_FROM = 16  # CPU batches this big run as one single-threaded slice per core


class ModelError(RuntimeError):
    """The model file is missing, corrupt or not a generator of ours."""


class SettingsError(ValueError):
    """A setting (flag or environment variable) the app cannot use."""


THREADS_ENV = "ANIME_GAN_THREADS"


def check_threads(raw: object) -> int:
    """A thread count as typed (flag or environment): a whole number ≥ 0, 0 meaning every core."""
    try:
        n = int(str(raw).strip())
    except ValueError:
        raise SettingsError(f"must be a whole number of threads (0 = every core), got {str(raw)[:40]!r}") from None
    if n < 0:
        raise SettingsError(f"must be 0 (every core) or more, got {n}")
    return n


def thread_count(value: int | str | None = None) -> int:
    """onnxruntime threads: `value` (a flag), else $ANIME_GAN_THREADS, else every core; 0 or unset = every core."""
    raw, where = (value, "--threads") if value not in (None, 0, "") else (os.environ.get(THREADS_ENV, ""), f"${THREADS_ENV}")
    if raw in (None, ""):
        return os.cpu_count() or 1
    try:
        n = check_threads(raw)
    except SettingsError as e:
        raise SettingsError(f"{where} {e}") from None
    return n or (os.cpu_count() or 1)


@dataclass
class ModelInfo:
    path: Path
    nz: int
    image_size: int
    meta: dict = field(default_factory=dict)
    directions: np.ndarray | None = None  # [k, nz] unit vectors (SeFa), if shipped
    useful_directions: list[int] = field(default_factory=list)  # those that visibly change a face (found at export)
    named: np.ndarray = field(default_factory=lambda: np.zeros((0, NZ), np.float32))  # [k, nz] directions with names
    named_meta: list[dict] = field(default_factory=list)  # for each: key, name, low, high, limit (trainer.directions)


def model_path(cli_value: str | None = None) -> Path:
    """--model beats $ANIME_GAN_MODEL beats exported/generator.onnx."""
    return Path(cli_value or os.environ.get(MODEL_ENV) or DEFAULT_MODEL).expanduser()


def file_sha256(path: str | Path) -> str:
    """A model file's identity: the export records it beside the file, and an encoder records its generator's."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_metadata(path: Path, what: str, how_to_make: str, fmt: str | None = None) -> dict:
    """A model file's JSON metadata (written beside it by trainer.export), checked: the file is there, the JSON
    reads, it is the kind of model asked for (fmt), and the file is the one the export hashed."""
    if not path.is_file():
        raise ModelError(f"{path}: {what} file not found ({how_to_make})")
    meta_path = path.with_suffix(".json")
    if not meta_path.is_file():
        raise ModelError(f"{meta_path}: the {what}'s metadata file is missing (trainer.export writes it beside the .onnx)")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{meta_path}: unreadable {what} metadata ({type(e).__name__}: {e})") from None
    if not isinstance(meta, dict) or (fmt and meta.get("format") != fmt):
        raise ModelError(f"{meta_path}: not {what} metadata" + (f" (format {fmt!r} expected)" if fmt else ""))
    check_sha256(path, meta)
    return meta


def check_sha256(path: Path, meta: dict) -> None:
    """A model file must match the sha256 its export recorded beside it (a truncated or swapped file fails here)."""
    want = meta.get("sha256")
    if want and file_sha256(path) != want:
        raise ModelError(f"{path}: file does not match the sha256 in {path.with_suffix('.json').name} "
                         f"(corrupt or replaced; re-export it)")


def pick_providers(available: Sequence[str]) -> list[str]:
    """CUDA first when this onnxruntime build has it; CPU always as the fallback."""
    return (["CUDAExecutionProvider"] if "CUDAExecutionProvider" in available else []) + ["CPUExecutionProvider"]


def make_session(path: Path, threads: int, providers: Sequence[str], level: str = "ORT_ENABLE_ALL"):
    """An onnxruntime session as the engine runs it (benchmarks.ort_options varies `level` and `threads`)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=list(providers))
    except Exception as e:  # onnxruntime raises its own types for truncated/garbage files
        msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise ModelError(f"{path}: not a loadable ONNX model ({msg})") from None


class Engine:
    """The generator in onnxruntime (one session, plus a single-threaded one for sliced CPU batches); thread-safe."""

    def __init__(self, path: str | Path | None = None, threads: int | None = None):
        import onnxruntime as ort

        self.info = self._read_model(model_path(str(path) if path else None))
        self.threads = thread_count(threads)
        self.session = make_session(self.info.path, self.threads, pick_providers(ort.get_available_providers()))
        self.provider = self.session.get_providers()[0]  # what onnxruntime really initialised
        self._in = self.session.get_inputs()[0].name
        self._lock = threading.Lock()
        self._split: tuple[object, ThreadPoolExecutor] | None = None  # (1-thread session, pool) for big CPU batches
        self.slice_threads = f"onnx-slice-{uuid.uuid4().hex[:8]}"  # this engine's thread names (close() ends them)
        if self.provider == "CPUExecutionProvider" and self.threads > 1:
            self._split = (make_session(self.info.path, 1, ["CPUExecutionProvider"]),
                           ThreadPoolExecutor(self.threads - 1, thread_name_prefix=self.slice_threads))
        out = self.render(np.zeros((1, self.info.nz), np.float32))
        if out.shape[1:] != (self.info.image_size, self.info.image_size, 3):
            raise ModelError(f"{self.info.path}: produces {out.shape[1:]} images, its metadata says {self.info.image_size}")

    def _faces(self, session, z: np.ndarray) -> np.ndarray:
        return to_uint8(session.run(None, {self._in: z})[0], scratch_ok=True)

    def _run(self, z: np.ndarray) -> np.ndarray:
        """One padded batch through onnxruntime: [B, nz] → [B, H, W, 3] uint8."""
        if self._split is None or len(z) < SPLIT_FROM:
            return self._faces(self.session, z)
        single, pool = self._split
        parts = np.array_split(z, self.threads)
        others = [pool.submit(self._faces, single, part) for part in parts[1:]]
        first = self._faces(single, parts[0])  # this thread takes a slice too
        return np.concatenate([first] + [f.result() for f in others])

    @staticmethod
    def _read_model(path: Path) -> ModelInfo:
        meta = read_metadata(path, "model", f"export one with `python -m trainer.export`, or point --model / "
                                            f"${MODEL_ENV} at it")
        try:
            nz, size = int(meta["nz"]), int(meta["image_size"])
        except (ValueError, KeyError, TypeError) as e:
            raise ModelError(f"{path.with_suffix('.json')}: unreadable model metadata ({type(e).__name__}: {e})") from None
        directions = None
        dfile = (meta.get("directions") or {}).get("file")
        if dfile and (path.parent / dfile).is_file():
            try:
                d = np.load(path.parent / dfile, allow_pickle=False).astype(np.float32)
                if d.ndim == 2 and d.shape[1] == nz:
                    directions = d / np.linalg.norm(d, axis=1, keepdims=True)
            except (ValueError, OSError):
                directions = None  # optional extra: the app works without it
        useful: list[int] = []
        if directions is not None:  # older metadata has no list: offer them all
            listed = (meta.get("directions") or {}).get("useful", list(range(len(directions))))
            useful = [int(i) for i in listed if isinstance(i, int) and 0 <= i < len(directions)]
        named, named_meta = Engine._read_named(path, meta, nz)
        return ModelInfo(path, nz, size, meta, directions, useful, named, named_meta)

    @staticmethod
    def _read_named(path: Path, meta: dict, nz: int) -> tuple[np.ndarray, list[dict]]:
        """The named directions (an optional extra: without them, or with a damaged file, there are none)."""
        entry = meta.get("named_directions") if isinstance(meta.get("named_directions"), dict) else {}
        by_key = {m.get("key"): m for m in entry.get("measured", []) if isinstance(m, dict)}
        kept = [by_key[k] for k in entry.get("kept", []) if k in by_key]
        try:
            d = np.load(path.parent / str(entry.get("file")), allow_pickle=False).astype(np.float32)
        except (ValueError, OSError):
            return np.zeros((0, nz), np.float32), []
        if d.ndim != 2 or d.shape != (len(kept), nz) or not np.all(np.isfinite(d)) or not len(d):
            return np.zeros((0, nz), np.float32), []
        return d / np.linalg.norm(d, axis=1, keepdims=True), kept

    # ---- the one place the model runs ----------------------------------
    def render(self, z: np.ndarray) -> np.ndarray:
        """Latents [B, nz] → faces [B, H, W, 3] uint8, in chunks padded to BUCKETS."""
        z = np.ascontiguousarray(z, np.float32).reshape(-1, self.info.nz)
        out = []
        for start in range(0, len(z), MAX_BATCH):
            chunk = z[start:start + MAX_BATCH]
            n = len(chunk)
            bucket = next(b for b in BUCKETS if b >= n)
            if bucket != n:
                chunk = np.concatenate([chunk, np.zeros((bucket - n, self.info.nz), np.float32)])
            with self._lock:  # one batch at a time: each already uses every core
                faces = self._run(chunk)
            out.append(faces[:n])
        if not out:
            return np.zeros((0, self.info.image_size, self.info.image_size, 3), np.uint8)
        return out[0] if len(out) == 1 else np.concatenate(out)

    # ---- what the UI and API ask for ------------------------------------
    def faces(self, seeds: Sequence[int], truncation: float = 1.0) -> np.ndarray:
        """One face per seed; truncation < 1 pulls z toward the mean face (safer, less varied)."""
        return self.render(seeds_to_z(seeds, self.info.nz) * np.float32(truncation))

    def faces_of(self, faces: Sequence[int | np.ndarray], truncation: float = 1.0) -> np.ndarray:
        """One face per entry, each a seed or a latent (a projected picture's)."""
        return self.render(np.stack([face_z(f, self.info.nz) for f in faces]) * np.float32(truncation))

    def path(self, face_a: int | np.ndarray, face_b: int | np.ndarray, ts: Sequence[float], method: str = "slerp",
             truncation: float = 1.0) -> np.ndarray:
        """Faces along the latent path from face A to face B (seeds or latents) at each t in [0, 1]."""
        a, b = face_z(face_a, self.info.nz), face_z(face_b, self.info.nz)
        return self.render(interpolate(a, b, ts, method) * np.float32(truncation))

    def variations(self, face: int | np.ndarray, count: int, strength: float, variation_seed: int = 0,
                   truncation: float = 1.0) -> np.ndarray:
        """The face (a seed or a latent) followed by `count` nudged copies; the nudges are
        drawn from `variation_seed`, so the same inputs give the same variations."""
        z = self.variation_z(face, count, strength, variation_seed)
        return self.render(z * np.float32(truncation))

    def variation_z(self, face: int | np.ndarray, count: int, strength: float, variation_seed: int = 0) -> np.ndarray:
        """The latents of variations(): the face's own first."""
        base = face_z(face, self.info.nz)
        noise = np.random.RandomState(variation_seed).standard_normal((count, self.info.nz)).astype(np.float32)
        return np.concatenate([base[None], base[None] + np.float32(strength) * noise])

    def edit(self, face: int | np.ndarray, amounts: Sequence[float], truncation: float = 1.0,
             named: Sequence[float] = ()) -> np.ndarray:
        """The face (a seed or a latent) moved along the SeFa directions by `amounts` (one per direction) and along
        the named directions by `named`."""
        z = face_z(face, self.info.nz)
        for d, amt in ((self.info.directions, amounts), (self.info.named, named)):
            if d is not None and len(amt) and len(d):
                k = min(len(amt), len(d))
                z = z + np.asarray(amt[:k], np.float32) @ d[:k]
        return self.render(z[None] * np.float32(truncation))[0]

    def close(self) -> None:
        """Stop the slice threads (the sessions go with the object)."""
        if self._split is not None:
            self._split[1].shutdown(wait=True)

    @property
    def num_directions(self) -> int:
        return 0 if self.info.directions is None else len(self.info.directions)


__all__ = ["Engine", "ModelError", "ModelInfo", "SettingsError", "check_threads", "thread_count", "make_session", "model_path", "pick_providers", "BUCKETS", "MAX_BATCH", "NZ"]
