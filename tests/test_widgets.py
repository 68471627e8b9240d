"""The latent-space widgets, driven headlessly: set a control, check what was drawn."""

import io
import math

import ipywidgets
import numpy as np
import pytest
import torch
from PIL import Image

from vae_course import slides
from vae_course.latent import slerp
from vae_course.models import VAE
from vae_course.widgets import (WIDGET_MARK, BetaExplorer, GridSlider, InterpolationExplorer,
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
    step = explorer.sliders[0].step  # each slider takes the grid point nearest to its coordinate
    assert torch.allclose(explorer.z, mu.clamp(-3, 3), atol=step / 2 + 1e-6)
    assert [s.value for s in explorer.sliders] == pytest.approx(explorer.z.tolist(), abs=1e-6)
    assert all(abs(s.value / step - round(s.value / step)) < 1e-6 for s in explorer.sliders)
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


# ------------------------------------------------ the browser's echo of values set from Python


def browser_position(value, low, high, step):
    """Where JupyterLab's slider puts its handle for ``value``: noUiSlider's arithmetic as
    ipywidgets 8 ships it (value -> percent, rounded to the step in percent, -> value), in the
    same IEEE double operations, so the result matches the browser's to the last bit."""
    if value >= high:
        return float(high)
    percent = (100 * (value - low) / (high - low)) / 1.0
    step_percent = (100 * step / (high - low)) / 1.0
    percent = math.floor(percent / step_percent + 0.5) * step_percent
    if percent >= 100:
        return float(high)
    return (percent - 0) * (100 / (100 - 0)) * (high - low) / 100 + low


class BrowserSlider:
    """A stand-in for one FloatSlider view in JupyterLab, wired to the widget as its comm.

    Like ipywidgets 8's SliderView: every value the kernel sends moves the handle (rounded to the
    step); if ``continuous_update`` is on and the rounded value differs from the model's, the
    view reports it back. Those reports wait in ``outbox`` the way they wait in the kernel's
    queue while a cell runs; ``deliver()`` hands them to the kernel as after the cell. The
    kernel confirms each report (``echo_update``); the browser applies the confirmation of its
    latest report only, as ipywidgets' widget model does."""

    kernel = True
    comm_id = "browser-slider"

    def __init__(self, slider):
        self.slider, self.outbox, self.handler, self.latest = slider, [], None, None
        self.state = dict(slider.get_state())
        slider.comm = self
        self.render()

    def on_msg(self, handler):
        self.handler = handler

    def close(self, *_, **__):
        pass

    def send(self, data=None, buffers=None, **_):
        if data["method"] == "update":
            self.state.update(data["state"])
            if "value" in data["state"]:
                self.render()
        elif data["method"] == "echo_update" and data["state"].get("value") == self.latest:
            self.state["value"], self.latest = self.latest, None

    def render(self):
        state = self.state
        shown = browser_position(state["value"], state["min"], state["max"], state["step"])
        if state["continuous_update"] and shown != state["value"]:
            state["value"] = self.latest = shown
            self.outbox.append(shown)

    def deliver(self):
        for _ in range(1000):
            if not self.outbox:
                return
            value = self.outbox.pop(0)
            self.handler({"content": {"data": {"method": "update", "state": {"value": value},
                                               "buffer_paths": []}}, "buffers": []})
        raise AssertionError("the slider and its browser view never agree")


def sweep_like_notebook_08(slider, end):
    for v in torch.linspace(-3, 3, 61):  # float32 values, most of them off the 0.05 grid
        slider.value = float(v)
    slider.value = end


def test_a_plain_slider_ends_at_a_stale_value_after_a_sweep():
    """The fault this module guards against, reproduced: ipywidgets' own FloatSlider, set in a
    loop and then to 0, ends at the browser's echo of an earlier value."""
    slider = ipywidgets.FloatSlider(min=-3, max=3, step=0.05, continuous_update=True)
    browser = BrowserSlider(slider)
    sweep_like_notebook_08(slider, 0.0)
    assert slider.value == 0.0
    browser.deliver()  # the cell has ended: the kernel reads what the browser sent meanwhile
    assert slider.value == pytest.approx(2.9)
    assert browser.state["value"] == pytest.approx(2.9)


def test_a_grid_slider_ends_where_the_code_left_it():
    slider = GridSlider(min=-3, max=3, step=0.05, continuous_update=True)
    browser = BrowserSlider(slider)
    sweep_like_notebook_08(slider, 0.0)
    browser.deliver()
    assert browser.outbox == []
    assert slider.value == 0.0 and browser.state["value"] == 0.0
    assert browser.state["continuous_update"] is True  # dragging still updates live


def test_a_grid_slider_rounds_to_its_grid_and_clamps():
    slider = GridSlider(min=-3, max=3, step=0.05)
    slider.value = float(torch.tensor(2.9))  # 2.9000000953674316
    assert slider.value == 2.9
    slider.value = 7.0
    assert slider.value == 3.0
    slider.value = -0.024
    assert slider.value == 0.0
    # what the browser shows for each grid value is that value: nothing to report back
    t = GridSlider(value=0.37, min=0, max=1, step=0.01)
    assert t.value == 0.37
    for k in range(101):
        t.value = k / 100
        assert browser_position(t.value, 0, 1, 0.01) == pytest.approx(t.value, abs=1e-12)


def test_latent_explorer_ends_where_the_cell_left_it():
    """Notebook 08's cell: sweep z1, then back to the origin. After the browser's reports are
    read, the kernel's code, the sliders, the status line and the picture are at the origin."""
    model = make_vae(latent_dim=2)
    explorer = LatentExplorer(model)
    browsers = [BrowserSlider(s) for s in explorer.sliders]
    explorer.set_code(torch.zeros(2))
    for v in torch.linspace(-3, 3, 61):
        explorer.sliders[0].value = float(v)
    explorer.set_code(torch.zeros(2))
    for browser in browsers:
        browser.deliver()
    assert explorer.z.tolist() == [0.0, 0.0]
    assert [b.state["value"] for b in browsers] == [0.0, 0.0]
    assert explorer.status.value == "z = (+0.00, +0.00)"
    assert torch.allclose(explorer.last_image, decode_images(model, torch.zeros(1, 2))[0])


def test_interpolation_explorer_ends_where_the_cell_left_it(images):
    model = make_vae()
    explorer = InterpolationExplorer(model, images, a=2, b=7)
    browser = BrowserSlider(explorer.t)
    path = []
    for t in torch.linspace(0, 1, 21):  # notebook 08's walk along the path
        explorer.t.value = float(t)
        path.append(explorer.t.value)
    explorer.t.value = 0.5
    browser.deliver()
    assert path == pytest.approx([k / 20 for k in range(21)], abs=1e-12)  # on the 0.01 grid
    assert explorer.t.value == 0.5 and browser.state["value"] == 0.5
    assert "t = 0.50" in explorer.status.value
    mu = encode_means(model, images[[2, 7]])
    assert torch.allclose(explorer.z, (mu[0] + mu[1]) / 2, atol=1e-6)


def test_showing_a_grid_slider_changes_nothing_in_the_kernel():
    """A view reports its handle's position once when it is drawn; for a value on the grid
    that report is the same number (up to the browser's last bit) and the kernel keeps its own
    (an observer may hear of it, with the old value as the new one)."""
    changes = []
    for k in range(121):
        slider = GridSlider(value=-3 + k * 0.05 + 0.01, min=-3, max=3, step=0.05)
        before = slider.value
        slider.observe(changes.append, names="value")
        browser = BrowserSlider(slider)
        browser.deliver()
        assert slider.value == before
        assert browser.outbox == [] and browser.state["value"] == pytest.approx(before, abs=1e-12)
    assert all(change["new"] == change["old"] for change in changes)
