"""Known answers for vae_course.latent: interpolation and attribute vectors."""

import math

import pytest
import torch

from vae_course.latent import (apply_attribute, attribute_vector, interpolate,
                               interpolate_images, lerp, slerp)
from vae_course.models import VAE, Autoencoder


def test_lerp_ends_and_midpoint():
    a, b = torch.tensor([1.0, -2.0, 3.0]), torch.tensor([3.0, 2.0, -1.0])
    path = lerp(a, b, 5)
    assert path.shape == (5, 3)
    assert torch.allclose(path[0], a) and torch.allclose(path[-1], b)
    assert torch.allclose(path[2], torch.tensor([2.0, 0.0, 1.0]))  # (a + b) / 2
    # evenly spaced: every step is the same vector
    steps = path[1:] - path[:-1]
    assert torch.allclose(steps, ((b - a) / 4).expand(4, 3))


def test_lerp_accepts_explicit_weights():
    a, b = torch.zeros(2), torch.tensor([4.0, 8.0])
    assert torch.allclose(lerp(a, b, [0.25]), torch.tensor([[1.0, 2.0]]))


def test_slerp_ends_and_constant_norm_on_a_sphere():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(16, generator=g), torch.randn(16, generator=g)
    b = b * a.norm() / b.norm()  # same radius
    path = slerp(a, b, 9)
    assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)
    assert torch.allclose(path.norm(dim=1), a.norm().expand(9), rtol=1e-5)
    # while the chord dips inside the sphere
    assert lerp(a, b, 9)[4].norm() < a.norm() - 1e-3


def test_slerp_quarter_circle_known_answer():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    mid = slerp(a, b, [0.5])[0]
    assert torch.allclose(mid, torch.tensor([math.sqrt(0.5), math.sqrt(0.5)]), atol=1e-6)
    third = slerp(a, b, [1 / 3])[0]  # 30 degrees along the arc
    assert torch.allclose(third, torch.tensor([math.cos(math.pi / 6), math.sin(math.pi / 6)]),
                          atol=1e-6)


def test_slerp_angle_grows_evenly():
    a, b = torch.tensor([2.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 2.0])
    path = slerp(a, b, 7)
    angles = torch.atan2(path[:, 2], path[:, 0])
    assert torch.allclose(angles[1:] - angles[:-1], torch.full((6,), math.pi / 12), atol=1e-5)


def test_slerp_parallel_and_zero_fall_back_to_lerp():
    a = torch.tensor([1.0, 1.0])
    assert torch.allclose(slerp(a, 3 * a, 5), lerp(a, 3 * a, 5))
    assert torch.allclose(slerp(torch.zeros(2), a, 3), lerp(torch.zeros(2), a, 3))


def test_slerp_rejects_opposite_codes():
    a = torch.tensor([1.0, 0.0])
    with pytest.raises(ValueError, match="opposite"):
        slerp(a, -a, 3)


def test_interpolate_dispatch_and_errors():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert torch.allclose(interpolate(a, b, 4, "linear"), lerp(a, b, 4))
    assert torch.allclose(interpolate(a, b, 4, "spherical"), slerp(a, b, 4))
    with pytest.raises(ValueError, match="method"):
        interpolate(a, b, 4, "cubic")
    with pytest.raises(ValueError, match="at least 2"):
        lerp(a, b, 1)
    with pytest.raises(ValueError, match="same shape"):
        lerp(a, torch.zeros(3), 3)
    with pytest.raises(ValueError, match="one code"):
        lerp(torch.zeros(2, 2), torch.zeros(2, 2), 3)


@pytest.mark.parametrize("model", [VAE(latent_dim=3, hidden=16), Autoencoder(latent_dim=3,
                                                                               hidden=16)])
def test_interpolate_images_ends_are_the_reconstructions(model):
    torch.manual_seed(0)
    x = torch.rand(2, 1, 28, 28)
    images = interpolate_images(model, x[0], x[1], steps=6)
    assert images.shape == (6, 1, 28, 28)
    assert images.min() >= 0 and images.max() <= 1
    with torch.no_grad():
        code = model.encode(x)
        code = code[0] if isinstance(code, tuple) else code  # μ for the VAE
        ends = torch.sigmoid(model.decode(code))
    assert torch.allclose(images[0], ends[0], atol=1e-5)
    assert torch.allclose(images[-1], ends[1], atol=1e-5)


def test_attribute_vector_recovers_a_planted_direction():
    g = torch.Generator().manual_seed(0)
    codes = torch.randn(4000, 8, generator=g)
    has = torch.rand(4000, generator=g) < 0.3
    direction = torch.tensor([0.0, 2.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0])
    codes[has] += direction
    v = attribute_vector(codes, has)
    assert torch.allclose(v, direction, atol=0.15)  # noise of a mean of ~1000 N(0,1) rows


def test_attribute_vector_exact_on_constructed_data():
    codes = torch.tensor([[1.0, 0.0], [3.0, 2.0], [0.0, 0.0], [0.0, 4.0]])
    has = torch.tensor([1, 1, 0, 0])
    # mean with = (2, 1); mean without = (0, 2)
    assert torch.allclose(attribute_vector(codes, has), torch.tensor([2.0, -1.0]))


def test_attribute_vector_errors():
    codes = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="with and"):
        attribute_vector(codes, torch.tensor([True, True, True]))
    with pytest.raises(ValueError, match="shape"):
        attribute_vector(codes, torch.tensor([True, False]))
    with pytest.raises(ValueError, match="0/1"):
        attribute_vector(codes, torch.tensor([0, 2, 1]))


def test_apply_attribute_single_and_many_strengths():
    codes = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    v = torch.tensor([1.0, -1.0])
    assert torch.allclose(apply_attribute(codes, v, 2.0), torch.tensor([[2.0, -2.0], [3.0, -1.0]]))
    many = apply_attribute(codes, v, [0.0, 1.0, -1.0])
    assert many.shape == (3, 2, 2)
    assert torch.allclose(many[0], codes)
    assert torch.allclose(many[2], codes - v)
    with pytest.raises(ValueError, match="match"):
        apply_attribute(codes, torch.zeros(3), 1.0)
