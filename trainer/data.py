"""Load a folder or .zip of images once into one uint8 tensor.

Decoding JPEGs every epoch costs more than a DCGAN step on a 2-core CPU, so the
whole data set is decoded, resized and center-cropped once (18k faces at 64×64
are 220 MB as uint8) and batches are sliced straight out of memory.
"""
from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torchvision.transforms import v2
from tqdm import tqdm

from demo.images import to_rgb
from demo.latents import PIXEL_RANGE

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


# what Pillow raises for a file that is not a readable image (truncated, garbage, a decompression bomb)
UNREADABLE = (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError)


class DataError(RuntimeError):
    """The data path is missing, empty, or holds no readable image."""


def sources(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, encoded bytes) of every image file under a folder (recursively) or in a zip."""
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in sorted(zf.namelist()):
                if name.lower().endswith(IMAGE_EXTS) and not name.startswith("__MACOSX/"):
                    yield name, zf.read(name)
    elif path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and p.suffix.lower() in IMAGE_EXTS:
                yield str(p), p.read_bytes()
    elif path.exists():
        raise DataError(f"{path}: not a folder or a .zip of images")
    else:
        raise DataError(f"{path}: no such folder or file")


def load_images(path: str | Path, image_size: int, limit: int | None = None) -> torch.Tensor:
    """Decode every readable image under `path` into a [N, 3, S, S] uint8 tensor.

    Images are resized so the short side is `image_size`, then center-cropped.
    Corrupt or unreadable files are skipped and reported in one warning line.
    """
    path = Path(path).expanduser()
    resize = v2.Compose([v2.Resize(image_size, antialias=True), v2.CenterCrop(image_size)])
    out, bad = [], []
    for name, data in tqdm(sources(path), desc=f"decoding {path.name}", unit="img", leave=False):
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                arr = np.asarray(to_rgb(img))
        except UNREADABLE:
            bad.append(name)
            continue
        t = torch.from_numpy(arr.copy()).permute(2, 0, 1)
        out.append(resize(t) if t.shape[1:] != (image_size, image_size) else t)
        if limit and len(out) >= limit:
            break
    if bad:
        shown = ", ".join(Path(b).name for b in bad[:3]) + (" …" if len(bad) > 3 else "")
        warnings.warn(f"skipped {len(bad)} unreadable image file(s) under {path}: {shown}", stacklevel=2)
    if not out:
        raise DataError(f"{path}: no readable images found (looked for {', '.join(IMAGE_EXTS)})")
    return torch.stack(out).contiguous()


def held_out(n_images: int, holdout: int) -> int:
    """How many of the last images a trainer holds aside (never trains on; its samples and scores come from them):
    --holdout, but at most a fifth of the data (tiny folders still train), and none of fewer than five images."""
    return min(holdout, n_images // 5)


def to_float(batch: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] → float in the generator's pixel range (demo.latents.PIXEL_RANGE)."""
    lo, hi = PIXEL_RANGE
    return batch.float().mul_((hi - lo) / 255.0).add_(lo)
