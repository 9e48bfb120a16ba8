"""The DCGAN generator and discriminator (Radford et al. 2015), any size 32–128.

Sizes 32/64/128 start from a 4×4 map, 48/96 from 3×3; every block doubles it.
Channel widths follow the paper: ngf·8 at the smallest map, halving per block
(capped at ngf·8 for the extra 128 block).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

SIZES = (32, 48, 64, 96, 128)


def _plan(image_size: int) -> tuple[int, int]:
    """(base map size, number of doubling blocks) for an output size."""
    if image_size not in SIZES:
        raise ValueError(f"image size must be one of {SIZES}, got {image_size}")
    base = 3 if image_size % 3 == 0 else 4
    return base, int(round(math.log2(image_size // base)))


def _mults(blocks: int) -> list[int]:
    """Channel multipliers of the feature maps, smallest map first: e.g. [8, 4, 2, 1]."""
    return [min(2 ** (blocks - 1 - i), 8) for i in range(blocks)]


G_UPSAMPLES = ("transpose", "nearest")


def _doubling(c_in: int, c_out: int, upsample: str) -> list[nn.Module]:
    """One block that doubles the map: the paper's 4×4 stride-2 ConvTranspose, or nearest-neighbour upsampling and a
    3×3 conv (Odena et al. 2016: every output pixel sees the same number of weights, so no checkerboard)."""
    if upsample == "transpose":
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)]


class Generator(nn.Module):
    """z [B, nz] → image [B, 3, S, S] in [-1, 1]."""

    def __init__(self, nz: int = 100, ngf: int = 64, image_size: int = 64, upsample: str = "transpose"):
        super().__init__()
        if upsample not in G_UPSAMPLES:
            raise ValueError(f"generator upsampling must be one of {G_UPSAMPLES}, got {upsample!r}")
        base, blocks = _plan(image_size)
        m = _mults(blocks)
        self.nz = nz
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, ngf * m[0], base, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * m[0]),
            nn.ReLU(True),
        ]
        for a, b in zip(m[:-1], m[1:]):
            layers += [*_doubling(ngf * a, ngf * b, upsample), nn.BatchNorm2d(ngf * b), nn.ReLU(True)]
        layers += [*_doubling(ngf * m[-1], 3, upsample), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.reshape(z.shape[0], -1, 1, 1))


D_NORMS = ("none", "batch", "spectral")


class MinibatchStd(nn.Module):
    """Appends one feature map: the std of each feature over groups of images, averaged (Karras et al. 2018).
    A D that sees how alike the images of a batch are can punish a generator that repeats itself."""

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = min(self.group, b)
        while b % g:  # a group size that divides the batch
            g -= 1
        y = self.group_std(x.float().reshape(g, -1, c, h, w))  # [b / g]
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w).to(x.dtype)
        return torch.cat([x, y], dim=1)

    @staticmethod
    def group_std(y: torch.Tensor) -> torch.Tensor:
        """[g, n, c, h, w] → [n]: population std over the g images of each group, averaged over c, h, w.
        The variance is spelled out because torch.var over this small leading dim is a slow CPU reduction: it added
        4–5.5 ms to D's ~19 ms forward + backward at batch 32, this 1–2.5 ms (benchmarks/mbstd.py); same figure to
        float rounding."""
        return ((y - y.mean(dim=0)).square().mean(dim=0) + 1e-8).sqrt().mean(dim=[1, 2, 3])


class Discriminator(nn.Module):
    """image [B, 3, S, S] → one real/fake logit per image.

    norm: "batch" (the DCGAN paper's), "spectral" (SN-GAN: every conv spectrally normalised, no BatchNorm) or
    "none" (for gradient-penalty training: a penalty on each image's gradient is only meaningful when one
    image's logit does not depend on the rest of the batch). mbstd adds a minibatch-std feature before the
    last conv.
    """

    def __init__(self, ndf: int = 64, image_size: int = 64, norm: str = "batch", mbstd: bool = False):
        super().__init__()
        if norm not in D_NORMS:
            raise ValueError(f"discriminator norm must be one of {D_NORMS}, got {norm!r}")
        base, blocks = _plan(image_size)
        m = _mults(blocks)[::-1]  # [1, 2, 4, 8]
        spectral = norm == "spectral"
        sn = nn.utils.parametrizations.spectral_norm if spectral else (lambda x: x)
        bias = norm != "batch"
        layers: list[nn.Module] = [sn(nn.Conv2d(3, ndf * m[0], 4, 2, 1, bias=bias)), nn.LeakyReLU(0.2, True)]
        for a, b in zip(m[:-1], m[1:]):
            layers.append(sn(nn.Conv2d(ndf * a, ndf * b, 4, 2, 1, bias=bias)))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(ndf * b))
            layers.append(nn.LeakyReLU(0.2, True))
        if mbstd:
            layers.append(MinibatchStd())
        layers.append(sn(nn.Conv2d(ndf * m[-1] + int(mbstd), 1, base, 1, 0, bias=False)))
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, parts: int = 1) -> torch.Tensor:
        """parts > 1: x is that many batches stacked (real and fake judged in one call, so BatchNorm normalises them
        with one set of statistics); minibatch-std still compares each image only with images of its own part."""
        for layer in self.main:
            if parts > 1 and isinstance(layer, MinibatchStd):
                x = torch.cat([layer(p) for p in x.chunk(parts)])
            else:
                x = layer(x)
        return x.flatten()


def init_weights(module: nn.Module) -> None:
    """DCGAN init: conv weights N(0, 0.02), BatchNorm scale N(1, 0.02) and shift 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            w = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.normal_(w, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


@torch.no_grad()
def fold_batchnorm(g: Generator) -> nn.Sequential:
    """A copy of g.main with each BatchNorm (eval statistics) folded into the
    conv before it: fewer ops at inference and one weight per layer."""
    out: list[nn.Module] = []
    mods = list(g.main)
    for i, mod in enumerate(mods):
        if isinstance(mod, nn.BatchNorm2d):
            continue  # folded into the conv before it
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            bn = nxt if isinstance(nxt, nn.BatchNorm2d) else nn.BatchNorm2d(mod.out_channels, eps=0.0).eval()
            # an identity BN just adds the bias
            mod = fuse_conv_bn_eval(mod.eval(), bn.eval(), transpose=isinstance(mod, nn.ConvTranspose2d))
        out.append(mod)
    return nn.Sequential(*out)


class FoldedGenerator(nn.Module):
    """The export form: z [B, nz] → image, BatchNorm folded in.

    The first layer sees a 1×1 map, so it is a plain matrix product: as a Linear it
    exports to one Gemm over the whole batch, where onnxruntime would otherwise run a
    ConvTranspose image by image (≈7% of a batch of 64 at width 32, now under 2%).
    """

    def __init__(self, g: Generator):
        super().__init__()
        layers = list(fold_batchnorm(g))
        c0 = layers[0]
        self.first_shape = (c0.out_channels, *c0.kernel_size)
        cells = c0.kernel_size[0] * c0.kernel_size[1]
        self.first = nn.Linear(c0.in_channels, c0.out_channels * cells)
        with torch.no_grad():
            self.first.weight.copy_(c0.weight.reshape(c0.in_channels, -1).T)  # ConvTranspose weight is [in, out, k, k]
            self.first.bias.copy_(c0.bias.repeat_interleave(cells))
        self.main = nn.Sequential(*layers[1:])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(self.first(z.flatten(1)).reshape(-1, *self.first_shape))


class Encoder(nn.Module):
    """image [B, 3, S, S] in [-1, 1] → z [B, nz]: the generator read backwards, for projecting a picture into it.

    A DCGAN-D-like stack (stride-2 4×4 convs, widths doubling) with a 3×3 conv at every map, GroupNorm (per image:
    the EMA copy and batch-1 inference need no batch statistics) and a linear layer to z.
    """

    def __init__(self, nz: int = 100, nef: int = 32, image_size: int = 64):
        super().__init__()
        base, blocks = _plan(image_size)
        m = _mults(blocks)[::-1]  # [1, 2, 4, 8]
        c = nef * m[0]
        layers: list[nn.Module] = [nn.Conv2d(3, c, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for b in m[1:]:
            layers += [nn.Conv2d(c, c, 3, 1, 1), nn.GroupNorm(min(8, c // 4), c), nn.LeakyReLU(0.2, True),
                       nn.Conv2d(c, nef * b, 4, 2, 1), nn.GroupNorm(min(8, nef * b // 4), nef * b),
                       nn.LeakyReLU(0.2, True)]
            c = nef * b
        self.main = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * base * base, nz))
        self.nz = nz

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)
