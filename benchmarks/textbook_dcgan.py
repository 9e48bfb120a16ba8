"""The reference: pytorch/examples' dcgan/main.py recipe, reduced to what a benchmark needs.

Same architecture as trainer.model (64 px, ngf = ndf = 64), BCELoss on a Sigmoid D output,
Adam 2e-4 / β1 0.5, batch 128, and a plain DataLoader over JPEG files decoded every epoch
with torchvision transforms (ImageFolder, 2 workers) — no preloading, no EMA, no augmentation.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import torch
import torch.nn as nn
import torchvision.datasets as dset
import torchvision.transforms as transforms

from trainer.model import Discriminator, Generator, init_weights


def extract(zip_path: str | Path, dest: Path) -> Path:
    """ImageFolder wants class folders: unzip into dest/faces/."""
    root = dest / "faces"
    if not root.exists():
        root.mkdir(parents=True)
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(root)
    return dest


def loader(root: Path, batch_size: int = 128, workers: int = 2, image_size: int = 64) -> torch.utils.data.DataLoader:
    ds = dset.ImageFolder(root=str(root), transform=transforms.Compose([
        transforms.Resize(image_size), transforms.CenterCrop(image_size), transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]))
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, num_workers=workers, drop_last=True,
                                       persistent_workers=workers > 0)


class TextbookDCGAN:
    def __init__(self, nz: int = 100, ngf: int = 64, ndf: int = 64, seed: int = 0):
        torch.manual_seed(seed)
        self.nz = nz
        self.G = Generator(nz, ngf, 64)
        self.D = nn.Sequential(Discriminator(ndf, 64), nn.Sigmoid())
        init_weights(self.G)
        init_weights(self.D)
        self.crit = nn.BCELoss()
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step(self, real: torch.Tensor) -> tuple[float, float]:
        b = real.size(0)
        self.D.zero_grad()
        label = torch.full((b,), 1.0)
        err_real = self.crit(self.D(real), label)
        err_real.backward()
        fake = self.G(torch.randn(b, self.nz, 1, 1))
        label.fill_(0.0)
        err_fake = self.crit(self.D(fake.detach()), label)
        err_fake.backward()
        self.opt_d.step()
        self.G.zero_grad()
        label.fill_(1.0)
        err_g = self.crit(self.D(fake), label)
        err_g.backward()
        self.opt_g.step()
        return (err_real + err_fake).item(), err_g.item()


def train_for(root: Path, seconds: float, batch_size: int = 128,
              workers: int = 2) -> tuple[TextbookDCGAN, int, float]:
    """Train the textbook recipe for a wall-clock budget; returns (model, steps, images/s)."""
    model = TextbookDCGAN()
    dl = loader(root, batch_size, workers)
    steps, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        for real, _ in dl:
            model.step(real)
            steps += 1
            if time.monotonic() - t0 >= seconds:
                break
    return model, steps, steps * batch_size / (time.monotonic() - t0)


def main(argv: list[str] | None = None) -> int:
    """Train the textbook recipe for --minutes and write its generator as ONNX (for the FID head-to-head)."""
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--data", required=True, help=".zip of faces")
    p.add_argument("--minutes", type=float, required=True)
    p.add_argument("--onnx", required=True, help="where to write the generator")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=1, help="DataLoader worker processes")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    with tempfile.TemporaryDirectory() as tmp:
        model, steps, ips = train_for(extract(a.data, Path(tmp)), a.minutes * 60, workers=a.workers)
    from trainer.export import to_onnx

    to_onnx(model.G, a.onnx)
    print(f"textbook: {steps} steps of 128 in {a.minutes:g} min ({ips:.1f} img/s) -> {a.onnx}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
