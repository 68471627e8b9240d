"""Known answers for the digit ruler's Fréchet distance."""

import pytest
import torch

from vae_course.classifier import make_classifier
from vae_course.frechet import features, frechet_distance


def test_identical_sets_are_at_distance_zero():
    a = torch.randn(500, 8, generator=torch.Generator().manual_seed(0))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_a_shift_costs_its_squared_length():
    a = torch.randn(500, 8, generator=torch.Generator().manual_seed(1))
    shift = torch.tensor([3.0, 0, 0, 0, 4.0, 0, 0, 0])
    assert frechet_distance(a, a + shift) == pytest.approx(25.0, abs=1e-4)


def test_isotropic_scaling_has_the_closed_form():
    # N(0, I) vs N(0, s² I) in D dims: D (1 + s² − 2 s) = D (1 − s)²
    g = torch.Generator().manual_seed(2)
    a = torch.randn(20000, 4, generator=g)
    b = 3 * torch.randn(20000, 4, generator=g)
    assert frechet_distance(a, b) == pytest.approx(4 * (1 - 3) ** 2, rel=0.05)


def test_symmetric_and_rejects_mismatched_sets():
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(300, 5, generator=g), 2 + torch.randn(300, 5, generator=g) * 0.5
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-4)
    with pytest.raises(ValueError):
        frechet_distance(a, torch.randn(300, 4))
    with pytest.raises(ValueError):
        frechet_distance(a[:1], b)


def test_features_are_the_64_penultimate_units():
    ruler = make_classifier().eval()
    x = torch.rand(7, 1, 28, 28)
    f = features(ruler, x, batch_size=3)
    assert f.shape == (7, 64) and (f >= 0).all()  # after the ReLU
    assert torch.allclose(ruler[-1](f), ruler(x), atol=1e-5)
