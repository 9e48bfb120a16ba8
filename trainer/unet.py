"""The colouriser's networks (pix2pix, Isola et al. 2017, sized for a 2-core CPU at 64 px) and its export form.

UNet: L/100 [B, 1, S, S] → ab/110 [B, 2, S, S]. An encoder of stride-2 convolutions down to 4×4, a decoder
that upsamples (nearest + 3×3 conv: no checkerboard) and concatenates the encoder's map of the same size,
so the line art's position reaches the output directly and the bottleneck only has to decide colours.
PatchDiscriminator: (L, ab) [B, 3, S, S] → a grid of logits, each judging one ≈30-px patch: colour is
a local property, and a patch D is cheaper and harder to fool with one global "brown" than a whole-image D.
Colorizer: the exported graph, RGB in [0, 1] of any size → RGB whose Lab lightness is the input's.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainer import lab


def _norm(c: int) -> nn.Module:
    """GroupNorm: per image (no batch statistics, so the EMA copy and batch-1 inference need no recalibration)."""
    return nn.GroupNorm(min(8, c // 4), c)


class UNet(nn.Module):
    def __init__(self, ngf: int = 32, image_size: int = 64):
        super().__init__()
        depth = max(1, (image_size // 4).bit_length() - 1)  # 64 → 4 halvings → 4×4
        widths = [min(ngf * 2 ** i, ngf * 8) for i in range(depth)]
        self.stem = nn.Sequential(nn.Conv2d(1, ngf // 2, 3, 1, 1), nn.LeakyReLU(0.2, True))
        self.down = nn.ModuleList()
        c = ngf // 2
        for w in widths:
            self.down.append(nn.Sequential(nn.Conv2d(c, w, 4, 2, 1), _norm(w), nn.LeakyReLU(0.2, True)))
            c = w
        self.up = nn.ModuleList()
        skips = [ngf // 2, *widths[:-1]]
        for w in reversed(skips):
            self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, w, 3, 1, 1),
                                         _norm(w), nn.ReLU(True)))
            c = w * 2  # after concatenating the skip
        self.head = nn.Sequential(nn.Conv2d(c, ngf // 2, 3, 1, 1), nn.ReLU(True), nn.Conv2d(ngf // 2, 2, 3, 1, 1),
                                  nn.Tanh())

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        x = self.stem(l)
        skips = [x]
        for block in self.down:
            x = block(x)
            skips.append(x)
        skips.pop()  # the bottleneck itself
        for block in self.up:
            x = torch.cat([block(x), skips.pop()], dim=1)
        return self.head(x)


class PatchDiscriminator(nn.Module):
    def __init__(self, ndf: int = 32):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm  # keeps D's steps bounded without batch statistics
        self.main = nn.Sequential(
            sn(nn.Conv2d(3, ndf, 4, 2, 1)), nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(ndf, ndf * 2, 4, 2, 1)), nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1)), nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(ndf * 4, 1, 3, 1, 1)),
        )

    def forward(self, l: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        return self.main(torch.cat([l, ab], dim=1)).flatten(1)


class Colorizer(nn.Module):
    """The export form. The net sees the picture's lightness at its training size (an antialiased resize);
    its colours, which vary slowly, are scaled back up and laid on the full-resolution lightness, so a large
    line drawing keeps every line (colours that would not fit the sRGB gamut at a pixel's lightness are toned
    down there, so the lightness is kept exactly)."""

    def __init__(self, net: UNet, image_size: int):
        super().__init__()
        self.net, self.size = net, image_size

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        l_full, _ = lab.split(image)
        small = F.interpolate(l_full, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False)
        ab = self.net(small)
        ab = F.interpolate(ab, size=l_full.shape[-2:], mode="bilinear", align_corners=False)
        return lab.join(l_full, ab, in_gamut=True)
