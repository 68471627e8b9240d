"""Procedurally generated sprites with known generative factors (the design of dSprites).

Every image is one white shape on black, fully determined by five factors:

=========  =====================================================
shape      square, ellipse, triangle
scale      the shape's size
rotation   angle, over a quarter turn (a square repeats after 90°)
x, y       position of the shape's centre
=========  =====================================================

``make_sprites()`` renders the full grid of factor combinations at once with tensor operations
(no per-image Python), so the default set of 6,144 images at 32×32 takes well under a second.
Because the factors are known, a model's latent code can be scored for disentanglement (MIG).
"""

import math
from dataclasses import dataclass

import torch

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

    def __repr__(self):
        grid = " x ".join(f"{n}={s}" for n, s in zip(self.factor_names, self.factor_sizes))
        return f"Sprites({len(self)} images of {tuple(self.images.shape[1:])}, {grid})"


def make_sprites(size=32, n_scales=4, n_rotations=8, n_positions=8):
    """Render every combination of (shape, scale, rotation, x, y) once.

    Args:
        size: image side in pixels.
        n_scales, n_rotations, n_positions: how many values each factor takes; x and y both
            take ``n_positions`` values.

    Returns:
        Sprites, in factor order (shape slowest, y fastest). Deterministic: the same arguments
        always give the same images.
    """
    for name, value, low in (("size", size, 12), ("n_scales", n_scales, 1),
                             ("n_rotations", n_rotations, 1), ("n_positions", n_positions, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}: expected an int >= {low}, got {value!r}")

    scales = torch.linspace(0.5, 1.0, n_scales) if n_scales > 1 else torch.tensor([0.75])
    rotations = torch.arange(n_rotations) * (math.pi / 2) / n_rotations  # quarter turn
    radius_max = 0.16 * size  # half-width of the largest shape, in pixels
    margin = radius_max * 1.25 + 0.5
    positions = (torch.linspace(margin, size - 1 - margin, n_positions) if n_positions > 1
                 else torch.tensor([(size - 1) / 2]))

    sizes = (len(SHAPES), n_scales, n_rotations, n_positions, n_positions)
    grids = torch.meshgrid(*[torch.arange(s) for s in sizes], indexing="ij")
    factors = torch.stack([g.reshape(-1) for g in grids], dim=1)  # (N, 5)

    shape = factors[:, 0].view(-1, 1, 1)
    radius = (scales[factors[:, 1]] * radius_max).view(-1, 1, 1)
    angle = rotations[factors[:, 2]].view(-1, 1, 1)
    cx = positions[factors[:, 3]].view(-1, 1, 1)
    cy = positions[factors[:, 4]].view(-1, 1, 1)

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
              "rotation": rotations, "x": positions, "y": positions}
    return Sprites(images.float().unsqueeze(1), factors, FACTOR_NAMES, sizes, values)
