import zipfile

import pytest
import torch
from PIL import Image

from trainer.data import DataError, load_images, to_float


def test_mixed_modes_and_sizes(image_dir):
    x = load_images(image_dir, 32)
    assert x.shape == (64, 3, 32, 32) and x.dtype == torch.uint8
    assert x.float().std() > 10  # real content, not a constant fill


def test_corrupt_file_skipped_with_one_warning(tmp_path, image_dir):
    for p in sorted(image_dir.rglob("*.jpg"))[:5]:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    png = next(image_dir.rglob("*.png"))
    (tmp_path / "truncated.png").write_bytes(png.read_bytes()[:60])
    with pytest.warns(UserWarning, match=r"skipped 2 unreadable"):
        x = load_images(tmp_path, 32)
    assert len(x) == 5


def test_zip_input(tmp_path, image_dir):
    zpath = tmp_path / "faces.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for p in sorted(image_dir.rglob("*"))[:10]:
            if p.is_file():
                z.write(p, p.relative_to(image_dir))
    x = load_images(zpath, 48)
    assert x.shape[1:] == (3, 48, 48) and len(x) >= 6


def test_empty_and_missing(tmp_path):
    with pytest.raises(DataError, match="no readable images"):
        load_images(tmp_path, 32)
    with pytest.raises(DataError, match="no such folder"):
        load_images(tmp_path / "nope", 32)


def test_rgba_composited_on_white(tmp_path):
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    x = load_images(tmp_path, 32)
    assert x.min() == 255  # transparent → white, not black


def test_to_float_range():
    x = to_float(torch.tensor([0, 255], dtype=torch.uint8))
    assert x.tolist() == [-1.0, 1.0]
