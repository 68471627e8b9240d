"""The latent-space widgets, driven headlessly: set a control, check what was drawn."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from vae_course import slides
from vae_course.latent import slerp
from vae_course.models import VAE
from vae_course.widgets import (WIDGET_MARK, BetaExplorer, InterpolationExplorer,
                                LatentExplorer, decode_images, encode_means, to_png, traversal)


def make_vae(seed=0, latent_dim=4):
    torch.manual_seed(seed)
    return VAE(latent_dim=latent_dim, hidden=16).eval()


@pytest.fixture(scope="module")
def images():
    torch.manual_seed(1)
    return torch.rand(12, 1, 28, 28)


def png_size(data):
    return Image.open(io.BytesIO(data)).size


def test_to_png_lays_out_and_scales():
    one = torch.zeros(28, 28)
    assert to_png(one, scale=2)[:8] == b"\x89PNG\r\n\x1a\n"
    assert png_size(to_png(one, scale=2, pad=1)) == (2 * 30, 2 * 30)
    batch = torch.zeros(5, 1, 28, 28)
    assert png_size(to_png(batch, scale=1, ncol=3, pad=1)) == (3 * 29 + 1, 2 * 29 + 1)
    grid = torch.zeros(2, 4, 1, 10, 10)
    assert png_size(to_png(grid, scale=3, pad=0)) == (3 * 40, 3 * 20)
    # white pixels stay white, black stay black
    pixels = np.asarray(Image.open(io.BytesIO(to_png(torch.eye(4), scale=1, pad=0))))
    assert pixels[0].tolist() == [255, 0, 0, 0] and pixels[1].tolist() == [0, 255, 0, 0]


def test_to_png_rejects_colour_images():
    with pytest.raises(ValueError, match="one channel"):
        to_png(torch.zeros(2, 3, 8, 8))


def test_latent_explorer_redraws_when_a_slider_moves(images):
    model = make_vae()
    explorer = LatentExplorer(model)
    assert len(explorer.sliders) == model.latent_dim
    before, png_before = explorer.last_image.clone(), explorer.image.value
    explorer.sliders[2].value = 2.0
    assert explorer.z.tolist() == [0.0, 0.0, 2.0, 0.0]
    assert not torch.allclose(explorer.last_image, before)
    assert explorer.image.value != png_before
    assert int(explorer.image.width) == png_size(explorer.image.value)[0]
    # what it shows is the decoder's output at z, nothing else
    assert torch.allclose(explorer.last_image, decode_images(model, explorer.z[None])[0])
    assert torch.allclose(explorer.last_image,
                          torch.sigmoid(model.decode(torch.tensor([[0.0, 0, 2, 0]])))[0])
    explorer.sliders[2].value = 0.0
    assert torch.allclose(explorer.last_image, before)


def test_latent_explorer_starts_from_an_encoded_image(images):
    model = make_vae()
    explorer = LatentExplorer(model, images=images)
    explorer.start_from(5)
    mu = encode_means(model, images[5:6])[0]
    assert torch.allclose(explorer.z, mu.clamp(-3, 3), atol=1e-6)
    assert [s.value for s in explorer.sliders] == pytest.approx(mu.clamp(-3, 3).tolist(),
                                                                abs=1e-6)
    assert torch.allclose(explorer.last_image, decode_images(model, explorer.z[None])[0])


def test_latent_explorer_with_some_dims_keeps_the_others(images):
    model = make_vae()
    z = torch.tensor([0.5, -0.5, 1.0, 0.0])
    explorer = LatentExplorer(model, dims=[1, 3], z=z)
    assert [s.description for s in explorer.sliders] == ["z2", "z4"]
    explorer.sliders[1].value = 1.5
    assert explorer.z.tolist() == [0.5, -0.5, 1.0, 1.5]
    with pytest.raises(ValueError, match="dims"):
        LatentExplorer(model, dims=[4])


def test_set_code_redraws_once():
    model = make_vae()
    explorer = LatentExplorer(model)
    calls = []
    original = explorer.redraw
    explorer.redraw = lambda: calls.append(1) or original()
    explorer.set_code(torch.ones(4))
    assert len(calls) == 1
    assert explorer.z.tolist() == [1.0] * 4


def test_interpolation_explorer_runs_from_a_to_b(images):
    model = make_vae()
    explorer = InterpolationExplorer(model, images, a=2, b=7)
    mu = encode_means(model, images[[2, 7]])
    explorer.t.value = 0.0
    assert torch.allclose(explorer.last_image, decode_images(model, mu[:1])[0])
    explorer.t.value = 1.0
    assert torch.allclose(explorer.last_image, decode_images(model, mu[1:])[0], atol=1e-6)
    explorer.t.value = 0.5
    linear = explorer.last_image.clone()
    assert torch.allclose(explorer.z, (mu[0] + mu[1]) / 2, atol=1e-6)
    explorer.method.value = "spherical"
    assert torch.allclose(explorer.z, slerp(mu[0], mu[1], [0.5])[0], atol=1e-6)
    assert not torch.allclose(explorer.last_image, linear)
    explorer.index_b.value = 3  # choosing another image changes the end point
    assert torch.allclose(explorer.z, slerp(mu[0], encode_means(model, images[3:4])[0],
                                            [0.5])[0], atol=1e-6)


def test_traversal_moves_one_coordinate_per_row():
    model = make_vae()
    with torch.no_grad():  # make the decoder blind to latent 1
        model.decoder.net[0].weight[:, 1] = 0
    z = torch.tensor([0.3, 0.0, -0.2, 0.1])
    grid = traversal(model, z, dims=[0, 1], values=torch.linspace(-2, 2, 5))
    assert grid.shape == (2, 5, 1, 28, 28)
    assert (grid[1] - grid[1, :1]).abs().max() < 1e-6  # the ignored latent changes nothing
    assert (grid[0] - grid[0, :1]).abs().max() > 1e-3
    middle = z.clone()
    middle[0] = 0.0
    assert torch.allclose(grid[0, 2], decode_images(model, middle[None])[0], atol=1e-6)


def test_beta_explorer_switches_models(images):
    models = {4.0: make_vae(seed=1), 1.0: make_vae(seed=0)}
    explorer = BetaExplorer(models, images, rows=3, columns=5)
    assert explorer.beta == 1.0  # sorted: smallest β first
    first = explorer.last_grid.clone()
    assert first.shape == (3, 5, 1, 28, 28)
    assert explorer.kl[explorer.dims].tolist() == sorted(explorer.kl.tolist(), reverse=True)[:3]
    explorer.choice.value = 4.0
    assert explorer.beta == 4.0
    assert not torch.allclose(explorer.last_grid, first)
    z = encode_means(models[4.0], images[:1])[0]
    assert torch.allclose(explorer.last_grid,
                          traversal(models[4.0], z, explorer.dims, explorer.values))
    explorer.index.value = 6
    z = encode_means(models[4.0], images[6:7])[0]
    assert torch.allclose(explorer.last_grid,
                          traversal(models[4.0], z, explorer.dims, explorer.values))
    with pytest.raises(ValueError, match="models"):
        BetaExplorer({}, images)


def test_widgets_announce_themselves_to_static_pages(images):
    model = make_vae()
    for widget in (LatentExplorer(model), InterpolationExplorer(model, images),
                   BetaExplorer({1: model}, images)):
        assert repr(widget).startswith(WIDGET_MARK)
        assert widget._repr_mimebundle_()["text/plain"].startswith(WIDGET_MARK)
    assert slides.WIDGET_MARK == WIDGET_MARK  # the deck builder keeps exactly these outputs
