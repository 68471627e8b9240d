"""Interactive widgets for exploring a trained model's latent space (ipywidgets).

    LatentExplorer(model)                   one slider per latent dimension -> the decoded image
    InterpolationExplorer(model, images)    pick two images, slide t from one code to the other
    BetaExplorer({1: m1, 4: m4}, images)    switch between models trained at several β and see
                                            their latent traversals change

Each one is an ``ipywidgets.VBox``: put it last in a cell (or ``display`` it) to show it. Images
are drawn by an ``ipywidgets.Image`` holding PNG bytes, so they update in any browser without
matplotlib. Every widget keeps what it drew last as a tensor (``last_image`` / ``last_grid``) so
tests and curious learners can check what they see. Changing a value from Python
(``explorer.sliders[0].value = 1.5``) redraws exactly like dragging the slider, and the widget
stays where the code left it (see :class:`GridSlider`).
"""

import io

import ipywidgets as widgets
import numpy as np
import torch
import traitlets

from .latent import lerp, slerp
from .losses import kl_per_dimension
from .metrics import encode_all

# The plain-text form of every course widget starts with this; the slide builder shows that
# line in a static deck, where no kernel can drive the widget.
WIDGET_MARK = "[interactive widget]"


def to_png(images, scale=4, ncol=None, pad=1):
    """Encode images in [0, 1] as PNG bytes: one image (H, W) / (1, H, W), a batch
    (N, 1, H, W) laid out ``ncol`` per row, or a grid (R, C, 1, H, W). Each pixel becomes a
    ``scale``×``scale`` block (nearest neighbour, so pixels stay sharp)."""
    from PIL import Image

    x = torch.as_tensor(images).detach().float().cpu()
    if x.ndim == 2:
        x = x[None, None, None]
    elif x.ndim == 3:
        x = x[None, None]
    elif x.ndim == 4:
        ncol = ncol or len(x)
        nrow = -(-len(x) // ncol)
        blank = torch.ones(nrow * ncol - len(x), *x.shape[1:])
        x = torch.cat([x, blank]).view(nrow, ncol, *x.shape[1:])
    if x.ndim != 5 or x.shape[2] != 1:
        raise ValueError(f"images: expected (H, W), (1, H, W), (N, 1, H, W) or (R, C, 1, H, W) "
                         f"with one channel, got {tuple(torch.as_tensor(images).shape)}")
    rows, cols, _, h, w = x.shape
    canvas = torch.full((rows * (h + pad) + pad, cols * (w + pad) + pad), 0.5)
    for r in range(rows):
        for c in range(cols):
            top, left = pad + r * (h + pad), pad + c * (w + pad)
            canvas[top:top + h, left:left + w] = x[r, c, 0]
    array = (canvas.clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    array = np.kron(array, np.ones((scale, scale), dtype=np.uint8))
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


class GridSlider(widgets.FloatSlider):
    """A ``FloatSlider`` that stays where Python puts it, in the kernel and in the browser.

    Why it exists: the browser's slider moves its handle to the nearest multiple of ``step`` and,
    while ``continuous_update`` is on, reports that rounded position back to the kernel as if
    someone had dragged it. A cell that sets a slider many times (a sweep) therefore gets one
    such echo per value; the kernel is busy running the cell, so the echoes wait and are applied
    *after* the cell's last line, each redrawing the widget. The last echo wins: after a sweep
    from −3 to 3 that ends with "back to 0", a plain slider showed z1 = +2.90 (the rounded form
    of the sweep's last value off the grid), in the browser and in the kernel.

    Two things stop that:

    * a value is rounded to the slider's grid here in the kernel (``min + k·step``), so the
      number Python holds is the one the browser shows and nothing is left for it to round;
    * while a value set from Python travels to the browser, the browser's copy of
      ``continuous_update`` is switched off around it (off, value, on: three messages applied
      in order), so the browser moves the handle without reporting back. Dragging still
      updates continuously.
    """

    @traitlets.validate("value")
    def _validate_value(self, proposal):  # overrides the bounds check of FloatSlider
        value = min(max(float(proposal["value"]), self.min), self.max)
        if self.step:
            value = self.min + round((value - self.min) / self.step) * self.step
            value = min(round(value, 10), self.max)
        return value

    def send_state(self, key=None):
        keys = self.keys if key is None else [key] if isinstance(key, str) else list(key)
        if "value" not in keys or not self.continuous_update or self.comm is None:
            return super().send_state(key)
        self._send({"method": "update", "state": {"continuous_update": False},
                    "buffer_paths": []})
        super().send_state(key)
        self._send({"method": "update", "state": {"continuous_update": True},
                    "buffer_paths": []})


def _device(model):
    return next(model.parameters()).device


@torch.no_grad()
def decode_images(model, z):
    """Decode codes (N, D) to images in [0, 1] on the CPU (a VAE's decoder returns logits)."""
    z = torch.as_tensor(z, dtype=torch.float32).to(_device(model))
    return torch.sigmoid(model.decode(z.reshape(-1, model.latent_dim))).cpu()


@torch.no_grad()
def encode_means(model, x):
    """The code of each image: μ for a VAE, the point for an autoencoder. Shape (N, D), CPU."""
    out = encode_all(model, x)
    return out[0] if isinstance(out, tuple) else out


@torch.no_grad()
def traversal(model, z, dims, values):
    """Latent traversal: for each dimension in ``dims``, decode ``z`` with that one coordinate
    replaced by each of ``values``. Returns images (len(dims), len(values), C, H, W)."""
    z = torch.as_tensor(z, dtype=torch.float32).reshape(-1)
    values = torch.as_tensor(values, dtype=torch.float32)
    codes = z.repeat(len(dims), len(values), 1)
    for row, d in enumerate(dims):
        codes[row, :, d] = values
    images = decode_images(model, codes.reshape(-1, len(z)))
    return images.view(len(dims), len(values), *images.shape[1:])


class _Explorer(widgets.VBox):
    """Shared bits: the image widget, a status line, the plain-text form."""

    kind = "explorer"

    def __init__(self, scale, children):
        self.scale = scale
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()
        super().__init__(children=[*children, self.image, self.status])

    def _show(self, images, **layout):
        png = to_png(images, scale=self.scale, **layout)
        # Show the PNG at its own size (the browser would otherwise stretch it to the cell).
        self.image.width = str(int.from_bytes(png[16:20], "big"))
        self.image.value = png

    def __repr__(self):
        return (f"{WIDGET_MARK} {self.kind}: run this notebook in JupyterLab to use the "
                f"controls")


class LatentExplorer(_Explorer):
    """One slider per latent dimension; the image is the decoder's output for that code.

    Args:
        model: a trained ``VAE`` or ``Autoencoder`` (anything with ``latent_dim`` and
            ``decode`` returning logits).
        images: optional images (N, C, H, W); a box then lets you start from the code of
            image number i (its posterior mean).
        dims: which latent dimensions get a slider (default: all); the others stay at ``z``.
        z: the starting code (default: the origin, the prior's mean).
        limit: sliders run from −limit to +limit (the prior puts 99.7 % of its mass inside ±3).
        step: the sliders' grid; a value set from Python is rounded to it (:class:`GridSlider`).
    Attributes:
        z: the current code (D,); last_image: the decoded image (C, H, W) in [0, 1].
    """

    kind = "latent explorer (one slider per latent dimension)"

    def __init__(self, model, images=None, dims=None, z=None, limit=3.0, step=0.05, scale=6):
        self.model = model.eval()
        self.latent_dim = model.latent_dim
        self.dims = list(range(self.latent_dim)) if dims is None else list(dims)
        if any(not 0 <= d < self.latent_dim for d in self.dims):
            raise ValueError(f"dims: every entry must be in [0, {self.latent_dim}), "
                             f"got {self.dims}")
        self.z = (torch.zeros(self.latent_dim) if z is None
                  else torch.as_tensor(z, dtype=torch.float32).reshape(-1).clone())
        if len(self.z) != self.latent_dim:
            raise ValueError(f"z: expected {self.latent_dim} numbers, got {len(self.z)}")
        self.images = images
        self.last_image = None
        self._quiet = False
        self.sliders = [GridSlider(value=float(self.z[d]), min=-limit, max=limit, step=step,
                                   description=f"z{d + 1}", continuous_update=True,
                                   readout_format=".2f")
                        for d in self.dims]
        controls = list(self.sliders)
        if images is not None:
            self.start = widgets.BoundedIntText(value=0, min=0, max=len(images) - 1,
                                                description="image #")
            self.encode_button = widgets.Button(description="start from its code")
            self.encode_button.on_click(lambda _: self.start_from(self.start.value))
            self.zero_button = widgets.Button(description="origin (z = 0)")
            self.zero_button.on_click(lambda _: self.set_code(torch.zeros(self.latent_dim)))
            controls.append(widgets.HBox([self.start, self.encode_button, self.zero_button]))
        for slider in self.sliders:
            slider.observe(self._on_slider, names="value")
        super().__init__(scale, controls)
        self.redraw()

    def _on_slider(self, change):
        if not self._quiet:
            self.redraw()

    def set_code(self, z):
        """Move every slider to code ``z`` (D,) and redraw once. A slider takes the point of its
        grid (multiples of ``step`` inside ±limit) nearest to its coordinate; the coordinates
        without a slider keep their exact value."""
        z = torch.as_tensor(z, dtype=torch.float32).reshape(-1)
        self.z = z.clone()
        self._quiet = True
        try:
            for slider, d in zip(self.sliders, self.dims):
                slider.value = float(z[d])
        finally:
            self._quiet = False
        self.redraw()

    def start_from(self, index):
        """Set the sliders to the code of ``images[index]``."""
        self.set_code(encode_means(self.model, self.images[index:index + 1])[0])

    def redraw(self):
        for slider, d in zip(self.sliders, self.dims):
            self.z[d] = slider.value
        self.last_image = decode_images(self.model, self.z[None])[0]
        self._show(self.last_image)
        self.status.value = "z = (" + ", ".join(f"{v:+.2f}" for v in self.z.tolist()) + ")"
        return self.last_image


class InterpolationExplorer(_Explorer):
    """Choose two images; slide t from 0 (first image's code) to 1 (second image's code).

    The codes are posterior means (no sampling), so the picture only moves when t does.
    The strip shows: image A, its reconstruction, the decoded point at t, the reconstruction
    of B, image B.

    Attributes:
        z: the code at t; last_image: the decoded image at t (C, H, W) in [0, 1].
    """

    kind = "interpolation explorer (choose two images, slide from one code to the other)"

    def __init__(self, model, images, a=0, b=1, method="linear", scale=5):
        self.model = model.eval()
        self.images = images
        self.last_image = None
        n = len(images)
        self.index_a = widgets.BoundedIntText(value=a, min=0, max=n - 1, description="image A")
        self.index_b = widgets.BoundedIntText(value=b, min=0, max=n - 1, description="image B")
        self.method = widgets.ToggleButtons(options=["linear", "spherical"], value=method,
                                            description="path")
        self.t = GridSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="t",
                            continuous_update=True)
        for control in (self.index_a, self.index_b, self.method, self.t):
            control.observe(lambda _: self.redraw(), names="value")
        super().__init__(scale, [widgets.HBox([self.index_a, self.index_b]), self.method,
                                 self.t])
        self.redraw()

    def redraw(self):
        pair = torch.stack([self.images[self.index_a.value], self.images[self.index_b.value]])
        za, zb = encode_means(self.model, pair)
        path = lerp if self.method.value == "linear" else slerp
        note = ""
        try:
            self.z = path(za, zb, [self.t.value])[0]
        except ValueError as err:  # slerp between opposite codes is undefined
            self.z, note = lerp(za, zb, [self.t.value])[0], f" (spherical impossible: {err})"
        ends = decode_images(self.model, torch.stack([za, self.z, zb]))
        self.last_image = ends[1]
        strip = torch.stack([pair[0].cpu(), ends[0], ends[1], ends[2], pair[1].cpu()])
        self._show(strip, ncol=5)
        self.status.value = (f"A · recon A · <b>t = {self.t.value:.2f}</b> · recon B · B — "
                             f"{self.method.value} path, |z| = {self.z.norm():.2f}{note}")
        return self.last_image


class BetaExplorer(_Explorer):
    """Switch between models trained at several β and compare their latent traversals.

    Rows are the ``rows`` latent dimensions with the largest KL (averaged over ``images``) of
    the selected model — the ones it actually uses — and columns move that one coordinate
    from −limit to +limit around the code of the chosen image.

    Args:
        models: dict {β: trained VAE}; all must share a latent size.
        images: images (N, C, H, W) used for the per-dimension KL and as starting points.
    Attributes:
        beta: the β shown; last_grid: the traversal (rows, columns, C, H, W) in [0, 1];
        dims: the latent dimensions in the rows; kl: per-dimension KL of the selected model.
    """

    kind = "β explorer (switch β, watch the latent traversals change)"

    def __init__(self, models, images, index=0, rows=5, columns=9, limit=2.5, scale=3,
                 max_images=1000):
        if not models:
            raise ValueError("models: expected a dict {beta: model} with at least one model")
        self.models = {b: m.eval() for b, m in sorted(models.items())}
        self.images = images
        self.rows = min(rows, min(m.latent_dim for m in self.models.values()))
        self.values = torch.linspace(-limit, limit, columns)
        self.last_grid = None
        self._kl = {b: kl_per_dimension(*encode_all(m, images[:max_images]))
                    for b, m in self.models.items()}
        labels = [(f"β = {b:g}", b) for b in self.models]
        self.choice = widgets.ToggleButtons(options=labels, value=labels[0][1],
                                            description="model")
        self.index = widgets.BoundedIntText(value=index, min=0, max=len(images) - 1,
                                            description="image #")
        self.choice.observe(lambda _: self.redraw(), names="value")
        self.index.observe(lambda _: self.redraw(), names="value")
        super().__init__(scale, [self.choice, self.index])
        self.redraw()

    @property
    def beta(self):
        return self.choice.value

    def redraw(self):
        model, kl = self.models[self.beta], self._kl[self.beta]
        self.kl = kl
        self.dims = kl.argsort(descending=True)[:self.rows].tolist()
        z = encode_means(model, self.images[self.index.value:self.index.value + 1])[0]
        self.last_grid = traversal(model, z, self.dims, self.values)
        self._show(self.last_grid)
        used = ", ".join(f"z{d + 1}: {kl[d]:.2f}" for d in self.dims)
        self.status.value = (f"β = {self.beta:g} · total KL {kl.sum():.1f} nats · rows (KL per "
                             f"dimension, nats): {used} · columns: "
                             f"{self.values[0]:+.1f} … {self.values[-1]:+.1f}")
        return self.last_grid
