"""Procedurally generated sprites with known generative factors (the design of dSprites).

Every image is one white shape on black, fully determined by five factors:

=========  ==========================================================================
shape      square, ellipse, triangle
scale      the shape's size (the largest is 2.5 times the smallest)
rotation   angle from 0° to 45° (less than half of the square's 90° symmetry, so no two
           angles of a shape look alike and the factor does not wrap around)
x, y       position of the shape's centre; y spans 0.6 of the distance x spans
=========  ==========================================================================

Why these choices. The images are small (20×20 by default) so that a β-VAE learns them in
seconds on a CPU, and the shapes are large for that size so that every factor moves enough
pixels for the model to care about it. x and y deliberately cover different distances: if
they were interchangeable, nothing in the VAE objective would prefer the latent axes "x" and
"y" over any rotated pair of axes in the same plane (try ``y_span=1.0`` and watch MIG drop).

``make_sprites()`` renders the full grid of factor combinations at once with tensor operations
(no per-image Python): the default set of 2,160 images takes a fraction of a second. Because the
factors are known, a model's latent code can be scored for disentanglement (MIG).
"""

import math
from dataclasses import dataclass

import torch

from .argcheck import check_int, check_number

FACTOR_NAMES = ("shape", "scale", "rotation", "x", "y")
SHAPES = ("square", "ellipse", "triangle")


@dataclass
class Sprites:
    """Images (N, 1, size, size) float32 in {0, 1}, and factor indices (N, 5) int64."""

    images: torch.Tensor
    factors: torch.Tensor
    factor_names: tuple
    factor_sizes: tuple
    factor_values: dict  # name -> 1-D tensor of the real value behind each index

    def __len__(self):
        return len(self.images)

    def index(self, **chosen):
        """Row of the image with the given factor indices, e.g. ``sprites.index(x=0, y=5)``;
        a factor not named takes its middle value."""
        unknown = set(chosen) - set(self.factor_names)
        if unknown:
            raise ValueError(f"index: unknown factor(s) {sorted(unknown)}; the factors are "
                             f"{self.factor_names}")
        flat = 0
        for name, size in zip(self.factor_names, self.factor_sizes):
            value = chosen.get(name, size // 2)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < size:
                raise ValueError(f"index: {name} must be an int in [0, {size}), got {value!r}")
            flat = flat * size + value
        return flat

    def __repr__(self):
        grid = " x ".join(f"{n}={s}" for n, s in zip(self.factor_names, self.factor_sizes))
        return f"Sprites({len(self)} images of {tuple(self.images.shape[1:])}, {grid})"


def make_sprites(size=20, n_scales=4, n_rotations=5, n_positions=6, y_span=0.6):
    """Render every combination of (shape, scale, rotation, x, y) once.

    Args:
        size: image side in pixels (at least 16).
        n_scales, n_rotations, n_positions: how many values each factor takes; x and y both
            take ``n_positions`` values.
        y_span: the distance y covers, as a fraction of the distance x covers (0 < y_span <= 1).

    Returns:
        Sprites, in factor order (shape slowest, y fastest). Deterministic: the same arguments
        always give the same images.
    """
    for name, value, low in (("size", size, 16), ("n_scales", n_scales, 1),
                             ("n_rotations", n_rotations, 1), ("n_positions", n_positions, 1)):
        check_int(name, value, low=low)
    check_number("y_span", y_span, low=0, high=1, strict_low=True)

    scales = torch.linspace(0.4, 1.0, n_scales) if n_scales > 1 else torch.tensor([0.7])
    rotations = (torch.linspace(0, math.pi / 4, n_rotations) if n_rotations > 1
                 else torch.tensor([0.0]))
    radius_max = 0.25 * size  # the largest shape's radius, in pixels
    margin = radius_max * 1.25 + 0.5  # keeps every shape off the border
    centre = (size - 1) / 2
    xs = (torch.linspace(margin, size - 1 - margin, n_positions) if n_positions > 1
          else torch.tensor([centre]))
    ys = centre + (xs - centre) * y_span

    sizes = (len(SHAPES), n_scales, n_rotations, n_positions, n_positions)
    grids = torch.meshgrid(*[torch.arange(s) for s in sizes], indexing="ij")
    factors = torch.stack([g.reshape(-1) for g in grids], dim=1)  # (N, 5)

    shape = factors[:, 0].view(-1, 1, 1)
    radius = (scales[factors[:, 1]] * radius_max).view(-1, 1, 1)
    angle = rotations[factors[:, 2]].view(-1, 1, 1)
    cx = xs[factors[:, 3]].view(-1, 1, 1)
    cy = ys[factors[:, 4]].view(-1, 1, 1)

    pix = torch.arange(size, dtype=torch.float32)
    dy = pix.view(1, -1, 1) - cy  # rows go down the image
    dx = pix.view(1, 1, -1) - cx
    # Rotate every pixel into the shape's own frame: p along the shape's axis, q across it.
    cos, sin = torch.cos(angle), torch.sin(angle)
    p = cos * dx + sin * dy
    q = -sin * dx + cos * dy

    square = torch.maximum(p.abs(), q.abs()) <= radius * 0.85
    ellipse = (p / (radius * 1.1)) ** 2 + (q / (radius * 0.5)) ** 2 <= 1.0
    triangle = torch.ones_like(p, dtype=torch.bool)
    for k in range(3):  # inside all three edges of an equilateral triangle
        theta = math.pi / 2 + k * 2 * math.pi / 3
        triangle &= p * math.cos(theta) + q * math.sin(theta) <= radius * 0.55
    images = torch.where(shape == 0, square, torch.where(shape == 1, ellipse, triangle))

    values = {"shape": torch.arange(len(SHAPES)).float(), "scale": scales,
              "rotation": rotations, "x": xs, "y": ys}
    return Sprites(images.float().unsqueeze(1), factors, FACTOR_NAMES, sizes, values)
