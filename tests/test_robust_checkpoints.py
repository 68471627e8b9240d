"""Faults around saved models (vae_course.cache): a truncated, corrupt, foreign or mismatched
checkpoint gives a ``CheckpointError`` that names the file, never a pickle traceback, and never
half-loads the model; a failing save leaves the previous file intact and no temporary files; a
cache folder that cannot be written still returns the trained model. (tests/test_cache.py covers
the cache's keying; this file covers the faults.)
"""

import os
import pickle

import pytest
import torch

from fakes import tiny_vae
from vae_course import cache
from vae_course.cache import CheckpointError, load_checkpoint, save_checkpoint, train_or_load
from vae_course.models import VAE, Autoencoder

def params(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def unchanged(model, before):
    return all(torch.equal(model.state_dict()[k], v) for k, v in before.items())


@pytest.fixture
def good(tmp_path):
    """A valid checkpoint of tiny_vae(seed=1) and its bytes."""
    path = save_checkpoint(tiny_vae(seed=1), tmp_path / "good.pt", {"test_nelbo": 12.5})
    return path, path.read_bytes()


class Explode:
    """A pickle that would create a file if it were ever unpickled without weights_only."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def corrupt_cases(tmp_path, blob):
    """(name, bytes or writer) for every kind of broken file we try."""
    return {
        "truncated-half": blob[: len(blob) // 2],
        "truncated-header": blob[:10],
        "empty": b"",
        "random-bytes": os.urandom(2048),
        "zeros": bytes(len(blob)),
        "flipped-bytes": blob[:200] + bytes(b ^ 0xFF for b in blob[200:400]) + blob[400:],
        "text": b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1234\n",
    }


def test_round_trip_with_weights_only(good):
    path, _ = good
    model = tiny_vae(seed=2)
    assert load_checkpoint(model, path) == {"test_nelbo": 12.5}
    assert unchanged(model, params(tiny_vae(seed=1)))
    payload = torch.load(path, weights_only=True)  # loadable without running any code
    assert payload["format"] == "vae-course/1"


@pytest.mark.parametrize("case", ["truncated-half", "truncated-header", "empty", "random-bytes",
                                  "zeros", "flipped-bytes", "text"])
def test_broken_files_give_a_checkpoint_error_and_leave_the_model_alone(tmp_path, good, case):
    _, blob = good
    path = tmp_path / f"{case}.pt"
    path.write_bytes(corrupt_cases(tmp_path, blob)[case])
    model = tiny_vae(seed=2)
    before = params(model)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(model, path)
    message = str(err.value)
    assert str(path) in message and "delete it to retrain" in message
    assert "Traceback" not in message and len(message) < 600
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no chained pickle trace
    assert unchanged(model, before)
    assert path.exists()  # nothing deleted


def test_a_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"format": "vae-course/1", "state_dict": Explode(marker)}, f, protocol=2)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tiny_vae(), path)
    assert not marker.exists()
    # the same object saved through torch.save is refused too
    torch.save({"format": "vae-course/1", "state_dict": Explode(marker)}, tmp_path / "evil2.pt")
    with pytest.raises(CheckpointError):
        load_checkpoint(tiny_vae(), tmp_path / "evil2.pt")
    assert not marker.exists()


@pytest.mark.parametrize("payload, match", [
    (torch.zeros(3), "not a vae-course checkpoint"),
    ({"weights": torch.zeros(3)}, "not a vae-course checkpoint"),
    ("just a string", "not a vae-course checkpoint"),
    ({"format": "vae-course/2", "state_dict": {}}, "not a vae-course checkpoint"),
    ({"format": "vae-course/1"}, "damaged"),
    ({"format": "vae-course/1", "state_dict": [1, 2]}, "damaged"),
    ({"format": "vae-course/1", "state_dict": {}, "extra": 5}, "damaged"),
    ({"format": "vae-course/1", "state_dict": {}, "extra": "{not json"}, "damaged"),
])
def test_foreign_checkpoints_are_named_as_such(tmp_path, payload, match):
    path = tmp_path / "foreign.pt"
    torch.save(payload, path)
    model = tiny_vae()
    before = params(model)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(model, path)
    assert unchanged(model, before) and path.exists()


def test_a_plain_state_dict_from_torch_save_is_not_mistaken_for_a_checkpoint(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save(tiny_vae(seed=1).state_dict(), path)
    with pytest.raises(CheckpointError, match="not a vae-course checkpoint"):
        load_checkpoint(tiny_vae(), path)


@pytest.mark.parametrize("other", [
    lambda: tiny_vae(seed=1, latent_dim=4),            # same layers, other shapes
    lambda: tiny_vae(seed=1, cls=Autoencoder),         # same names, other shapes
    lambda: VAE(latent_dim=3, hidden=8, image_shape=(1, 8, 8), arch="conv"),  # other layers
])
def test_weights_of_another_model_never_half_load(tmp_path, other):
    path = save_checkpoint(other(), tmp_path / "other.pt")
    model = tiny_vae(seed=2)
    before = params(model)
    with pytest.raises(CheckpointError, match="different model"):
        load_checkpoint(model, path)
    assert unchanged(model, before)  # load_state_dict alone would have copied matching tensors


def test_missing_file_and_folder_instead_of_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tiny_vae(), tmp_path / "absent.pt")
    (tmp_path / "folder.pt").mkdir()
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tiny_vae(), tmp_path / "folder.pt")


@pytest.mark.parametrize("fault", [OSError("No space left on device"),
                                   RuntimeError("PytorchStreamWriter failed writing file"),
                                   KeyboardInterrupt()])
def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, good, monkeypatch,
                                                                  fault):
    path, blob = good
    real_save = torch.save

    def half_write(obj, f, *args, **kwargs):  # writes some bytes, then fails like a full disk
        f.write(b"PK\x03\x04 partial")
        raise fault

    monkeypatch.setattr(torch, "save", half_write)
    with pytest.raises(type(fault)):
        save_checkpoint(tiny_vae(seed=3), path)
    monkeypatch.setattr(torch, "save", real_save)
    assert path.read_bytes() == blob  # the previous checkpoint is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.pt"]  # no *.tmp left behind
    assert load_checkpoint(tiny_vae(), path) == {"test_nelbo": 12.5}


def test_save_replaces_in_one_step(tmp_path, good, monkeypatch):
    """The new file appears by os.replace of a complete temporary file in the same folder."""
    path, _ = good
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((os.path.dirname(src), os.path.getsize(src), str(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(cache.os, "replace", spy)
    save_checkpoint(tiny_vae(seed=4), path, {"v": 2})
    assert seen and seen[0][0] == str(tmp_path) and seen[0][1] > 0 and seen[0][2] == str(path)
    assert load_checkpoint(tiny_vae(), path) == {"v": 2}


def counting_trainer(calls):
    def train(model):
        calls.append(1)
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(0.5)
        return {"trained": True}
    return train


def test_a_corrupt_cache_entry_is_retrained_and_replaced(tmp_path, capsys):
    calls = []
    args = ("m", {"a": 1}, lambda: tiny_vae(), counting_trainer(calls))
    train_or_load(*args, folder=tmp_path)
    (entry,) = tmp_path.glob("m-*.pt")
    entry.write_bytes(entry.read_bytes()[:100])  # truncated, e.g. the laptop died mid-copy
    model, extra, from_cache = train_or_load(*args, folder=tmp_path)
    assert "Cached model unusable, retraining" in capsys.readouterr().out
    assert not from_cache and extra == {"trained": True} and len(calls) == 2
    assert all(bool((p == 0.5).all()) for p in model.parameters())
    model2, _, from_cache2 = train_or_load(*args, folder=tmp_path)  # the entry is good again
    assert from_cache2 and len(calls) == 2


def test_an_unwritable_cache_folder_still_returns_the_trained_model(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    folder = blocker / "models"  # cannot be created, even by root: its parent is a file
    calls = []
    model, extra, from_cache = train_or_load("m", {}, lambda: tiny_vae(), counting_trainer(calls),
                                             folder=folder)
    out = capsys.readouterr().out
    assert "Could not cache the model" in out and "VAE_COURSE_DATA" in out
    assert extra == {"trained": True} and not from_cache and not model.training
    assert all(bool((p == 0.5).all()) for p in model.parameters())
    assert blocker.read_text() == "keep me"


def test_a_save_that_fails_inside_torch_still_returns_the_model(tmp_path, monkeypatch, capsys):
    def broken_save(*args, **kwargs):
        raise RuntimeError("PytorchStreamWriter failed writing file data/0")

    monkeypatch.setattr(torch, "save", broken_save)
    model, extra, _ = train_or_load("m", {}, lambda: tiny_vae(), counting_trainer([]),
                                    folder=tmp_path)
    assert "Could not cache the model" in capsys.readouterr().out
    assert extra == {"trained": True} and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: permission bits do not stop root from writing, so a "
                           "read-only folder cannot be simulated with chmod (the test above uses "
                           "a folder under a regular file instead)")
def test_a_read_only_cache_folder_still_returns_the_trained_model(tmp_path, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        model, extra, _ = train_or_load("m", {}, lambda: tiny_vae(), counting_trainer([]),
                                        folder=folder)
    finally:
        folder.chmod(0o755)
    assert "Could not cache the model" in capsys.readouterr().out
    assert extra == {"trained": True} and list(folder.iterdir()) == []
