import pytest
import torch

from trainer.model import SIZES, Discriminator, FoldedGenerator, Generator, init_weights


@pytest.mark.parametrize("size", SIZES)
def test_shapes(size):
    g, d = Generator(100, 8, size), Discriminator(8, size)
    x = g(torch.randn(3, 100))
    assert x.shape == (3, 3, size, size)
    assert x.abs().max() <= 1
    assert d(x).shape == (3,)
    assert Discriminator(8, size, spectral_norm=True)(x).shape == (3,)


def test_bad_size():
    with pytest.raises(ValueError, match="image size"):
        Generator(100, 8, 50)


def test_dcgan_structure_and_init():
    g, d = Generator(100, 64, 64), Discriminator(64, 64)
    init_weights(g), init_weights(d)
    convs = [m for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [c.out_channels for c in convs] == [512, 256, 128, 64, 3]
    assert abs(convs[1].weight.std().item() - 0.02) < 0.002
    # no BatchNorm right after D's first conv
    assert isinstance(d.main[1], torch.nn.LeakyReLU)


def test_folding_matches_eval_batchnorm():
    g = Generator(100, 8, 64)
    init_weights(g)
    g.train()
    for _ in range(3):
        g(torch.randn(16, 100))  # give BN non-trivial running stats
    g.eval()
    z = torch.randn(5, 100)
    with torch.no_grad():
        assert torch.allclose(FoldedGenerator(g)(z), g(z), atol=1e-5)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in FoldedGenerator(g).modules())
