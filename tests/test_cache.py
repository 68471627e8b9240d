"""The trained-model cache: keyed by configuration, in the data folder, atomic, weights only."""

import os

import pytest
import torch

from fakes import tiny_vae
from vae_course import cache
from vae_course.cache import (CheckpointError, config_key, load_checkpoint, model_key,
                              save_checkpoint, train_or_load)
from vae_course.models import VAE

CONFIG = {"latent_dim": 3, "hidden": 8, "steps": 5, "seed": 0}

# Set by a pickled payload if torch.load ever ran code from the file.
RAN_CODE = []


class Trap:
    def __reduce__(self):
        return (RAN_CODE.append, ("executed",))


class Trainer:
    """A fake training run: counts its calls and changes the weights deterministically."""

    def __init__(self):
        self.calls = 0

    def __call__(self, model):
        self.calls += 1
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.5)
        return {"test_nelbo": 123.5}


def weights(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.fixture(autouse=True)
def cache_enabled(monkeypatch):
    monkeypatch.delenv(cache.NO_CACHE_ENV, raising=False)


def test_key_depends_on_every_setting_and_not_on_order():
    key = config_key("vae", CONFIG)
    assert key.startswith("vae-")
    assert key == config_key("vae", dict(reversed(list(CONFIG.items()))))
    for name in CONFIG:
        changed = dict(CONFIG, **{name: CONFIG[name] + 1})
        assert config_key("vae", changed) != key, name
    assert config_key("ae", CONFIG) != key


def test_second_call_loads_instead_of_training(tmp_path):
    train = Trainer()
    first, extra, from_cache = train_or_load("vae", CONFIG, tiny_vae, train, folder=tmp_path)
    assert (train.calls, from_cache, extra) == (1, False, {"test_nelbo": 123.5})
    assert (tmp_path / (model_key("vae", CONFIG) + ".pt")).is_file()
    second, extra2, from_cache2 = train_or_load("vae", CONFIG, tiny_vae, train, folder=tmp_path)
    assert (train.calls, from_cache2, extra2) == (1, True, extra)
    assert torch.equal(weights(first), weights(second))
    assert not torch.equal(weights(second), weights(tiny_vae()))  # not just a fresh init
    assert not second.training


def test_a_model_trained_on_another_device_type_is_not_reused(tmp_path, monkeypatch):
    """A GPU-trained model must not be silently loaded on a CPU (the same seed draws other
    random numbers there), so the device type is part of the key."""
    monkeypatch.delenv(cache.NO_CACHE_ENV, raising=False)
    assert model_key("vae", CONFIG, "cpu") == config_key("vae", dict(CONFIG, device="cpu"))
    gpu_trained = tiny_vae()
    save_checkpoint(gpu_trained, tmp_path / (config_key("vae", dict(CONFIG, device="cuda"))
                                             + ".pt"))
    train = Trainer()
    _, _, from_cache = train_or_load("vae", CONFIG, tiny_vae, train, folder=tmp_path,
                                     device="cpu")
    assert (from_cache, train.calls) == (False, 1)
    assert (tmp_path / (model_key("vae", CONFIG, "cpu") + ".pt")).is_file()


def test_another_configuration_trains_a_new_model(tmp_path):
    train = Trainer()
    train_or_load("vae", CONFIG, tiny_vae, train, folder=tmp_path)
    train_or_load("vae", dict(CONFIG, steps=6), tiny_vae, train, folder=tmp_path)
    assert train.calls == 2
    assert len(list(tmp_path.glob("*.pt"))) == 2


def test_default_folder_is_the_course_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("VAE_COURSE_MODELS", raising=False)
    monkeypatch.setenv("VAE_COURSE_DATA", str(tmp_path))
    train_or_load("vae", CONFIG, tiny_vae, Trainer(), verbose=False)
    assert [p.name for p in (tmp_path / "models").iterdir()] == [
        model_key("vae", CONFIG) + ".pt"]


def test_models_variable_moves_only_the_model_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_COURSE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("VAE_COURSE_MODELS", str(tmp_path / "elsewhere"))
    train = Trainer()
    train_or_load("vae", CONFIG, tiny_vae, train, verbose=False)
    _, _, from_cache = train_or_load("vae", CONFIG, tiny_vae, train, verbose=False)
    assert (train.calls, from_cache) == (1, True)
    assert [p.name for p in (tmp_path / "elsewhere").iterdir()] == [
        model_key("vae", CONFIG) + ".pt"]
    assert not (tmp_path / "data").exists()


def test_no_cache_variable_forces_training(tmp_path, monkeypatch):
    train = Trainer()
    train_or_load("vae", CONFIG, tiny_vae, train, folder=tmp_path)
    monkeypatch.setenv(cache.NO_CACHE_ENV, "1")
    _, _, from_cache = train_or_load("vae", CONFIG, tiny_vae, train, folder=tmp_path)
    assert (train.calls, from_cache) == (2, False)


def test_a_truncated_checkpoint_is_retrained_and_replaced(tmp_path, capsys):
    train = Trainer()
    model, _, _ = train_or_load("vae", CONFIG, tiny_vae, train, folder=tmp_path)
    path = tmp_path / (model_key("vae", CONFIG) + ".pt")
    path.write_bytes(path.read_bytes()[:100])
    again, _, from_cache = train_or_load("vae", CONFIG, tiny_vae, train, folder=tmp_path)
    assert (train.calls, from_cache) == (2, False)
    assert "retraining" in capsys.readouterr().out
    assert torch.equal(weights(again), weights(model))
    assert train_or_load("vae", CONFIG, tiny_vae, train, folder=tmp_path)[2] is True


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    save_checkpoint(tiny_vae(), path, {"v": 1})
    good = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tiny_vae(), path, {"v": 2})
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_loading_never_runs_code_from_the_file(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "vae-course/1", "state_dict": {}, "extra": Trap()}, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(tiny_vae(), path)
    assert RAN_CODE == []


def test_foreign_and_mismatched_checkpoints_are_refused(tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a vae-course checkpoint"):
        load_checkpoint(tiny_vae(), foreign)
    other = tmp_path / "other.pt"
    save_checkpoint(VAE(latent_dim=5, hidden=8), other)
    model = tiny_vae()
    before = weights(model)
    with pytest.raises(CheckpointError, match="different model"):
        load_checkpoint(model, other)
    assert torch.equal(weights(model), before)


def test_checkpoint_round_trip_keeps_weights_and_extra(tmp_path):
    model = tiny_vae()
    with torch.no_grad():
        model.encoder.net[1].weight.mul_(3)
    path = save_checkpoint(model, tmp_path / "sub" / "m.pt", {"test_nelbo": 99.0})
    fresh = tiny_vae()
    assert load_checkpoint(fresh, path) == {"test_nelbo": 99.0}
    assert torch.equal(weights(fresh), weights(model))
    assert os.listdir(tmp_path / "sub") == ["m.pt"]


# ---------------------------------------------------------------- vae-course prepare


def test_prepare_lists_the_course_models_without_training(capsys, monkeypatch):
    from vae_course import cli, course_models

    labels = [label for label, _ in cli.course_models()]
    functions = [make for _, make in cli.course_models()]
    for needed in (course_models.digit_ruler, course_models.autoencoder, course_models.vae):
        assert needed in functions
    assert sum("sprites" in label for label in labels) == len(course_models.SPRITES_BETAS)
    monkeypatch.setattr(course_models, "vae",
                        lambda *a, **k: pytest.fail("--list must not train"))
    assert cli.main(["prepare", "--list"]) == 0
    assert capsys.readouterr().out.splitlines() == labels


def test_prepare_trains_each_model_and_reports_failures(capsys, monkeypatch):
    from vae_course import cli

    calls = []

    def broken():
        raise RuntimeError("out of memory")

    monkeypatch.setattr(cli, "course_models", lambda: [
        ("first", lambda: calls.append("first")), ("broken", broken),
        ("last", lambda: calls.append("last"))])
    assert cli.main(["prepare"]) == 1
    captured = capsys.readouterr()
    assert calls == ["first", "last"]  # a failure does not stop the others
    assert "[1/3] first: ready" in captured.out and "[3/3] last: ready" in captured.out
    assert "broken: FAILED (RuntimeError: out of memory)" in captured.err
    monkeypatch.setattr(cli, "course_models", lambda: [("only", lambda: None)])
    assert cli.main(["prepare"]) == 0


def test_an_interrupted_training_is_not_cached(tmp_path):
    """A model whose training was stopped early must not be reused as if it had finished."""
    from torch import nn

    from vae_course.cache import train_or_load

    calls = []

    def train(model):
        calls.append(1)
        return {"history": {"interrupted": len(calls) == 1}}

    train_or_load("m", {"a": 1}, lambda: nn.Linear(2, 2), train, folder=tmp_path, verbose=False)
    assert not list(tmp_path.glob("*.pt"))
    _, _, from_cache = train_or_load("m", {"a": 1}, lambda: nn.Linear(2, 2), train,
                                     folder=tmp_path, verbose=False)
    assert not from_cache and len(calls) == 2 and len(list(tmp_path.glob("*.pt"))) == 1
    _, _, from_cache = train_or_load("m", {"a": 1}, lambda: nn.Linear(2, 2), train,
                                     folder=tmp_path, verbose=False)
    assert from_cache and len(calls) == 2
