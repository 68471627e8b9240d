"""Environment variables are checked where they are read, and a bad value gets a message that
names the variable: VAE_COURSE_DEVICE set to a device torch knows but the course cannot train on
(xpu, meta, xla, hpu...), VAE_COURSE_DATA pointing at a symbolic link loop. Run as a user meets
them, through the real commands; plus MIG, which is undefined when no factor varies, and the
device override reaching every model that ``prepare`` trains.
"""


import numpy as np
import pytest
import torch

from process_hygiene import Command, cli_env
from vae_course.device import DEVICE_ENV, get_device
from vae_course.metrics import mig
from vae_course.paths import DATA_ENV, MODELS_ENV, data_dir, models_dir


@pytest.mark.parametrize("value", ["xpu", "meta", "xla", "hpu", "cuda:x", "gpu", "cpu:0:1"])
def test_prepare_refuses_a_device_the_course_cannot_use(tmp_path, value):
    cmd = Command(["prepare"], cli_env(tmp_path, **{DEVICE_ENV: value}))
    assert cmd.finish(timeout=300) == 2
    err = cmd.stderr
    assert DEVICE_ENV in err and repr(value) in err
    assert "'cpu', 'cuda', 'cuda:N'" in err and "'mps'" in err
    assert "Traceback" not in err and "Preparing" not in cmd.stdout


@pytest.mark.parametrize("value", ["xpu", "meta", "hpu", "xla"])
def test_fit_names_the_variable_before_training(monkeypatch, value):
    from vae_course.models import VAE
    from vae_course.train import fit

    monkeypatch.setenv(DEVICE_ENV, value)
    with pytest.raises(ValueError, match=DEVICE_ENV):
        fit(VAE(2, 8), torch.rand(8, 1, 28, 28), steps=1, progress=False)


def test_cpu_and_blanks_are_accepted(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, " cpu ")
    assert get_device() == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV, "")
    assert get_device().type in ("cpu", "cuda", "mps")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("value", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_asked_for_without_cuda_names_the_variable(monkeypatch, value):
    monkeypatch.setenv(DEVICE_ENV, value)
    with pytest.raises(ValueError, match=f"{DEVICE_ENV}='{value}' asks for CUDA"):
        get_device()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_gpu_index_past_the_last_gpu_names_the_variable(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, f"cuda:{torch.cuda.device_count()}")
    with pytest.raises(ValueError, match=f"{DEVICE_ENV}=.*asks for GPU"):
        get_device()


@pytest.fixture
def loop(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    return a


@pytest.mark.parametrize("command", [["data"], ["prepare"]])
def test_a_data_folder_that_is_a_symlink_loop_names_the_variable(tmp_path, loop, command):
    cmd = Command(command, cli_env(tmp_path, **{DATA_ENV: loop}))
    code = cmd.finish(timeout=300)
    assert code in (1, 2)
    assert f"{DATA_ENV}='{loop}' is a symbolic link loop" in cmd.stderr
    assert "Traceback" not in cmd.stderr


def test_the_folder_variables_are_checked_where_they_are_read(monkeypatch, loop):
    monkeypatch.setenv(DATA_ENV, str(loop))
    with pytest.raises(ValueError, match=DATA_ENV):
        data_dir()
    monkeypatch.delenv(DATA_ENV)
    monkeypatch.setenv(MODELS_ENV, str(loop))
    with pytest.raises(ValueError, match=MODELS_ENV):
        models_dir()


def test_mig_with_every_factor_constant_is_undefined():
    codes = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match="MIG is undefined"):
        mig(codes, np.zeros((50, 2), dtype=np.int64))
    factors = np.zeros((50, 2), dtype=np.int64)
    factors[:, 1] = np.arange(50) % 5  # one factor varies: defined again
    assert 0.0 <= mig(codes, factors) <= 1.0


def test_every_model_prepare_trains_follows_the_device_variable(tmp_path, monkeypatch):
    """Each trainer behind ``prepare`` asks ``get_device`` with no device of its own (so
    VAE_COURSE_DEVICE decides) instead of a hard-coded 'cpu'."""
    from vae_course import classifier, train
    from vae_course import course_models

    asked = []

    def spy(override=None):
        asked.append(override)
        return get_device(override)

    from vae_course.sprites import make_sprites

    small = make_sprites(size=16, n_scales=2, n_rotations=2, n_positions=2)
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    monkeypatch.setattr(train, "get_device", spy)
    monkeypatch.setattr(classifier, "get_device", spy)
    trainers = {"ruler": lambda: course_models.digit_ruler(steps=2),
                "autoencoder": lambda: course_models.autoencoder(hidden=8, steps=2),
                "vae": lambda: course_models.vae(hidden=8, steps=2),
                "sprites": lambda: course_models.sprites_vae(1.0, steps=2, hidden=8, sprites=small)}
    for name, trainer in trainers.items():
        asked.clear()
        model, _ = trainer()
        assert asked == [None], f"{name} trained on {asked}, not on the variable's device"
        assert next(model.parameters()).device.type == "cpu"  # handed back on the CPU
