import pytest
import torch

from trainer.model import D_NORMS, SIZES, Discriminator, FoldedGenerator, Generator, MinibatchStd, init_weights


@pytest.mark.parametrize("size", SIZES)
def test_shapes(size):
    g = Generator(100, 8, size)
    x = g(torch.randn(4, 100))
    assert x.shape == (4, 3, size, size)
    assert not torch.allclose(x[0], x[1])  # different z, different images
    for norm in D_NORMS:
        assert Discriminator(8, size, norm, mbstd=True)(x).shape == (4,)


def test_unnormalised_d_judges_each_image_alone():
    """Gradient penalties are per image: with norm="none" and no minibatch-std, an image's logit must not depend on
    the rest of the batch; minibatch-std (and BatchNorm in train mode) deliberately make it depend."""
    torch.manual_seed(0)  # unseeded, the outcome hung on the RNG state that earlier tests left behind
    x = torch.randn(8, 3, 32, 32)
    alone = Discriminator(8, 32, "none")
    assert torch.allclose(alone(x)[:4], alone(x[:4]), atol=1e-6)
    for d in (Discriminator(8, 32, "none", mbstd=True), Discriminator(8, 32, "batch").train()):
        # a fresh minibatch-std D moves a logit by as little as 5e-5 (4 of 200 inits under 2e-4), far above float error
        assert not torch.allclose(d(x)[:4], d(torch.cat([x[:4], x[:4] * 3]))[:4], atol=1e-6, rtol=0)


def test_parts_keep_minibatch_std_within_each_batch():
    """D(cat([real, fake]), parts=2) must compare each image only with its own half: without BatchNorm it gives the
    logits of two separate calls, where one plain call over the stacked batch mixes the halves' groups."""
    torch.manual_seed(0)
    real, fake = torch.randn(8, 3, 32, 32), torch.randn(8, 3, 32, 32) * 3
    d = Discriminator(8, 32, "none", mbstd=True)
    apart = torch.cat([d(real), d(fake)])
    assert torch.allclose(d(torch.cat([real, fake]), parts=2), apart, atol=1e-6)
    assert not torch.allclose(d(torch.cat([real, fake])), apart, atol=1e-4)


def test_minibatch_std_feature():
    x = torch.zeros(8, 2, 3, 3)
    x[4:] = 1.0  # groups of 4 are images (0, 2, 4, 6) and (1, 3, 5, 7): each group holds two 0s and two 1s
    y = MinibatchStd(4)(x)
    assert y.shape == (8, 3, 3, 3) and torch.allclose(y[:, :2], x)
    assert torch.allclose(y[:, 2], torch.full((8, 3, 3), 0.5), atol=1e-3)  # std of {0, 0, 1, 1}
    assert MinibatchStd(4)(torch.randn(6, 2, 3, 3)).shape == (6, 3, 3, 3)  # a group size that divides 6


def test_minibatch_std_matches_torch_std_on_channels_last_bf16():
    """The spelled-out variance (fast on CPU) must stay the population std torch computes, in the layout D trains in."""
    torch.manual_seed(0)
    x = torch.randn(32, 16, 4, 4).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    y = MinibatchStd(4)(x)
    want = x.float().reshape(4, 8, 16, 4, 4).std(dim=0, unbiased=False).mean(dim=[1, 2, 3]).repeat(4)
    assert y.dtype == torch.bfloat16 and y.shape == (32, 17, 4, 4)
    assert torch.equal(y[:, :16], x)
    assert torch.allclose(y[:, 16].float(), want[:, None, None].expand(32, 4, 4), rtol=1e-2)
    assert y[:, 16].float().std() > 0  # groups differ: the feature is per group, not one number for the batch


def test_bad_norm():
    with pytest.raises(ValueError, match="discriminator norm"):
        Discriminator(8, 32, "layer")


def test_bad_size():
    with pytest.raises(ValueError, match="image size"):
        Generator(100, 8, 50)


def test_dcgan_structure_and_init():
    g, d = Generator(100, 64, 64), Discriminator(64, 64, "batch")
    init_weights(g), init_weights(d)
    convs = [m for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [c.out_channels for c in convs] == [512, 256, 128, 64, 3]
    assert abs(convs[1].weight.std().item() - 0.02) < 0.002
    # no BatchNorm right after D's first conv
    assert isinstance(d.main[1], torch.nn.LeakyReLU)


@pytest.mark.parametrize("upsample", ["transpose", "nearest"])
def test_folding_matches_eval_batchnorm(upsample):
    g = Generator(100, 8, 64, upsample)
    init_weights(g)
    g.train()
    for _ in range(3):
        g(torch.randn(16, 100))  # give BN non-trivial running stats
    g.eval()
    z = torch.randn(5, 100)
    with torch.no_grad():
        assert torch.allclose(FoldedGenerator(g)(z), g(z), atol=1e-5)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in FoldedGenerator(g).modules())


def test_nearest_upsampling_doubles_with_a_3x3_conv_and_no_transposed_conv_after_the_first():
    g = Generator(100, 8, 64, "nearest")
    assert g(torch.randn(2, 100)).shape == (2, 3, 64, 64)
    kinds = [type(m).__name__ for m in g.main]
    assert kinds.count("Upsample") == 4 and kinds.count("ConvTranspose2d") == 1  # only the 1×1 → 4×4 projection
    assert all(m.kernel_size == (3, 3) for m in g.main if isinstance(m, torch.nn.Conv2d))
    with pytest.raises(ValueError, match="upsampling must be one of"):
        Generator(100, 8, 64, "bilinear")
