"""The sprite generator: every factor must really change the images, and the set must be
deterministic and quick to make (notebook 05 and the β explorer regenerate it on every run)."""

import time

import pytest
import torch

from vae_course.sprites import FACTOR_NAMES, SHAPES, Sprites, make_sprites


@pytest.fixture(scope="module")
def sprites():
    return make_sprites()


def index_of(sprites, **chosen):
    return sprites.index(**chosen)


def centroid(image):
    img = image[0]
    mass = img.sum()
    rows = torch.arange(img.shape[0], dtype=torch.float32)
    cols = torch.arange(img.shape[1], dtype=torch.float32)
    return (img.sum(1) @ rows / mass).item(), (img.sum(0) @ cols / mass).item()  # (y, x)


def test_structure_and_types(sprites):
    assert isinstance(sprites, Sprites)
    n = 1
    for s in sprites.factor_sizes:
        n *= s
    assert len(sprites) == n == sprites.factors.shape[0]
    assert sprites.factor_names == FACTOR_NAMES == ("shape", "scale", "rotation", "x", "y")
    assert sprites.factor_sizes[0] == len(SHAPES)
    assert sprites.images.dtype == torch.float32 and sprites.images.ndim == 4
    assert sprites.images.shape[1] == 1 and sprites.images.shape[2] == sprites.images.shape[3]
    assert set(sprites.images.unique().tolist()) == {0.0, 1.0}
    assert sprites.factors.dtype == torch.int64
    for k, (name, size) in enumerate(zip(sprites.factor_names, sprites.factor_sizes)):
        assert sprites.factors[:, k].min() == 0 and sprites.factors[:, k].max() == size - 1
        assert len(sprites.factor_values[name]) == size
    # every combination appears exactly once
    assert len(torch.unique(sprites.factors, dim=0)) == len(sprites)
    assert "Sprites(" in repr(sprites)


def test_index_matches_the_factor_table(sprites):
    i = sprites.index(shape=1, scale=0, rotation=2, x=3, y=1)
    assert sprites.factors[i].tolist() == [1, 0, 2, 3, 1]
    middle = [s // 2 for s in sprites.factor_sizes]
    assert sprites.factors[sprites.index()].tolist() == middle
    for i in (0, 7, len(sprites) - 1):  # round trip for a few rows
        assert sprites.index(**dict(zip(sprites.factor_names, sprites.factors[i].tolist()))) == i


@pytest.mark.parametrize("chosen", [{"colour": 1}, {"x": 99}, {"y": -1}, {"shape": 1.0}])
def test_index_refuses_unknown_factors_and_values(sprites, chosen):
    with pytest.raises(ValueError, match="index"):
        sprites.index(**chosen)


def test_every_image_shows_a_whole_shape(sprites):
    mass = sprites.images.sum(dim=(1, 2, 3))
    assert mass.min() >= 4  # even the smallest shape is several pixels
    # nothing is cut by the border: the outermost rows and columns stay black
    border = torch.cat([sprites.images[..., 0, :], sprites.images[..., -1, :],
                        sprites.images[..., :, 0], sprites.images[..., :, -1]], dim=-1)
    assert border.sum() == 0


def test_the_centroid_moves_right_with_x_and_down_with_y(sprites):
    n = sprites.factor_sizes[3]
    xs = [centroid(sprites.images[index_of(sprites, x=i)])[1] for i in range(n)]
    ys = [centroid(sprites.images[index_of(sprites, y=i)])[0] for i in range(n)]
    steps_x = torch.tensor(xs).diff()
    steps_y = torch.tensor(ys).diff()
    assert (steps_x > 0.3).all(), xs
    assert (steps_y > 0.3).all(), ys
    # moving in x leaves the vertical position alone, and the other way round
    assert max(centroid(sprites.images[index_of(sprites, x=i)])[0] for i in range(n)) - \
        min(centroid(sprites.images[index_of(sprites, x=i)])[0] for i in range(n)) < 0.5
    assert max(centroid(sprites.images[index_of(sprites, y=i)])[1] for i in range(n)) - \
        min(centroid(sprites.images[index_of(sprites, y=i)])[1] for i in range(n)) < 0.5


def test_the_pixel_mass_grows_with_scale_for_every_shape(sprites):
    for shape in range(len(SHAPES)):
        mass = [sprites.images[index_of(sprites, shape=shape, scale=i)].sum().item()
                for i in range(sprites.factor_sizes[1])]
        assert all(b > a for a, b in zip(mass, mass[1:])), (SHAPES[shape], mass)
        assert mass[-1] > 2 * mass[0]


def test_rotation_changes_the_image_but_not_the_mass_much(sprites):
    for shape in range(len(SHAPES)):
        images = torch.stack([sprites.images[index_of(sprites, shape=shape, rotation=i)]
                              for i in range(sprites.factor_sizes[2])])
        mass = images.sum(dim=(1, 2, 3))
        assert (mass.max() - mass.min()) / mass.mean() < 0.25, (SHAPES[shape], mass)
        changed = (images[1:] != images[:1]).flatten(1).sum(1)  # pixels differing from angle 0
        assert (changed >= 2).all(), (SHAPES[shape], changed)
        # the first and the last angle differ clearly
        assert (images[-1] != images[0]).sum() >= 0.15 * mass.mean(), SHAPES[shape]


def test_shapes_differ_at_equal_scale_rotation_and_position(sprites):
    images = [sprites.images[index_of(sprites, shape=s)] for s in range(len(SHAPES))]
    for a in range(len(images)):
        for b in range(a + 1, len(images)):
            differing = (images[a] != images[b]).sum().item()
            assert differing >= 0.2 * min(images[a].sum(), images[b].sum()).item(), \
                (SHAPES[a], SHAPES[b], differing)


def test_almost_no_two_images_are_identical(sprites):
    # At 20x20 a sub-pixel step of the smallest shape can land on the same pixels (aliasing);
    # that must stay rare, or the factors would not be recoverable from the images.
    flat = sprites.images.flatten(1)
    assert len(torch.unique(flat, dim=0)) >= 0.95 * len(sprites)


def test_factor_values_are_monotone(sprites):
    for name in ("scale", "rotation", "x", "y"):
        values = sprites.factor_values[name]
        assert (values.diff() > 0).all(), name


def test_deterministic(sprites):
    again = make_sprites()
    assert torch.equal(again.images, sprites.images)
    assert torch.equal(again.factors, sprites.factors)


def test_the_default_set_is_quick_to_make():
    make_sprites()  # warm up torch's kernels
    start = time.process_time()  # CPU time: a busy machine does not make it flaky
    make_sprites()
    assert time.process_time() - start < 3.0 * torch.get_num_threads()


def test_other_grids_have_the_promised_sizes():
    s = make_sprites(size=24, n_scales=2, n_rotations=3, n_positions=4)
    assert s.images.shape == (3 * 2 * 3 * 4 * 4, 1, 24, 24)
    assert s.factor_sizes == (3, 2, 3, 4, 4)


@pytest.mark.parametrize("kwargs, error", [
    ({"size": 8}, ValueError), ({"size": 20.0}, TypeError), ({"y_span": 0}, ValueError),
    ({"y_span": 1.5}, ValueError), ({"n_scales": 0}, ValueError),
    ({"n_rotations": True}, TypeError), ({"n_positions": -1}, ValueError)])
def test_bad_arguments_are_refused(kwargs, error):
    """A wrong kind of value is a TypeError, a wrong value a ValueError (as in ``argcheck``)."""
    with pytest.raises(error, match=next(iter(kwargs))):
        make_sprites(**kwargs)
