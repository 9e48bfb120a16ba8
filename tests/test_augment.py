"""DiffAugment's three operations do what the trainer's docs say, per image, and let gradients through."""
import torch

from trainer.augment import diff_augment


def images(n: int = 8, size: int = 16) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(n, 3, size, size) * 2 - 1


def test_color_is_a_per_image_affine_change_that_passes_gradients():
    x = images()[:, :1].repeat(1, 3, 1, 1).requires_grad_(True)  # gray: saturation leaves it, so out = a·x + b
    out = diff_augment(x, "color")
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for xi, oi in zip(x.detach(), out.detach()):
        a = ((oi - oi.mean()) * (xi - xi.mean())).sum() / (xi - xi.mean()).square().sum()
        b = oi.mean() - a * xi.mean()
        torch.testing.assert_close(oi, a * xi + b, atol=1e-5, rtol=0)
        assert 0.5 - 1e-5 <= a <= 1.5 + 1e-5  # contrast in [0.5, 1.5]
    per_image = (out - x).detach().flatten(1).mean(1)
    assert per_image.std() > 0.05  # each image gets its own change


def test_translation_shifts_each_image_by_at_most_an_eighth_with_zero_fill():
    x = images(size=16)
    out = diff_augment(x, "translation")
    padded = torch.nn.functional.pad(x, [2, 2, 2, 2])
    for xi, oi in zip(padded, out):
        matches = [(dy, dx) for dy in range(5) for dx in range(5) if torch.equal(xi[:, dy:dy + 16, dx:dx + 16], oi)]
        assert len(matches) == 1  # some shift in [-2, 2]² (16 px / 8) reproduces it exactly


def test_cutout_zeroes_one_square_of_half_the_side():
    x = images(size=16) + 3  # no zeros of its own
    out = diff_augment(x, "cutout")
    for xi, oi in zip(x, out):
        zero = (oi == 0).all(0)
        assert torch.equal(oi[:, ~zero], xi[:, ~zero])
        rows, cols = zero.any(1).nonzero().flatten(), zero.any(0).nonzero().flatten()
        assert 1 <= len(rows) <= 8 and 1 <= len(cols) <= 8
        assert zero[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()  # one filled rectangle
    assert (out == 0).any()


def test_color_p_leaves_the_rest_of_the_batch_in_its_own_colours():
    torch.manual_seed(1)
    x = (torch.rand(400, 3, 4, 4) * 2 - 1).requires_grad_(True)
    out = diff_augment(x, "color", color_p=0.25)
    kept = (out == x).flatten(1).all(1)
    assert 0.65 < kept.float().mean() < 0.85  # about 1 − p untouched, exactly
    assert not (out[~kept] - x[~kept]).abs().flatten(1).amax(1).lt(1e-3).any()  # the rest really changed
    out.sum().backward()
    assert torch.equal(x.grad[kept], torch.ones_like(x.grad[kept]))  # identity: gradient passes unchanged
    assert torch.equal(diff_augment(x, "color", color_p=0.0), x)
