"""Faults in the data folder: missing, partial or corrupt MNIST files (small IDX files written
here, in torchvision's layout <root>/MNIST/raw/*-ubyte, plain or gzipped), a data folder that
cannot be written, a read-only installation. Each gives a clear message or the offline fallback,
and never deletes a file: every failing case checks that the files are still there, unchanged.

Tests run as root here, and root ignores permission bits, so "cannot be written" is simulated
with a folder *under a regular file*, which nobody can create; a chmod-based variant runs only
for a normal user.
"""

import gzip
import os

import numpy as np
import pytest
import torch

from vae_course import cli, course_models, data
from vae_course.data import MNIST_FILES, MNISTFilesError, download_mnist, load_mnist, mnist_raw_dir
from vae_course.paths import DATA_ENV

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def idx_bytes(array, magic=None):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes(magic if magic is not None else [0, 0, 0x08, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def make_mnist(root, n_train=20, n_test=8, gz=False, seed=0):
    """Write four valid IDX files; returns {key: path}."""
    raw = mnist_raw_dir(root)
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {"train_images": rng.integers(0, 256, (n_train, 28, 28)),
              "train_labels": rng.integers(0, 10, n_train),
              "test_images": rng.integers(0, 256, (n_test, 28, 28)),
              "test_labels": rng.integers(0, 10, n_test)}
    paths = {}
    for key, name in MNIST_FILES.items():
        blob = idx_bytes(arrays[key])
        path = raw / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(blob) if gz else blob)
        paths[key] = path
    return paths


def snapshot(folder):
    """Every file under ``folder`` with its bytes."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def unwritable(tmp_path):
    """A folder path that cannot be created by anyone (its parent is a regular file)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    return blocker / "data"


# (case, key of the file to damage, how) -> the words the message must contain
CORRUPTIONS = {
    "truncated-data": ("train_images", lambda b: b[:-100], "truncated"),
    "truncated-header": ("test_images", lambda b: b[:9], "truncated"),
    "empty-file": ("train_labels", lambda b: b"", "truncated"),
    "padded": ("test_labels", lambda b: b + b"\x00" * 7, "padded"),
    "float-magic": ("train_images", lambda b: b[:2] + b"\x0d" + b[3:], "not an IDX file"),
    "wrong-ndim": ("test_images", lambda b: b[:3] + b"\x01" + b[4:], "not an IDX file"),
    "not-idx-at-all": ("train_labels", lambda b: b"<html>404 Not Found</html>" * 3,
                       "not an IDX file"),
    "high-magic": ("test_labels", lambda b: b"\x12\x34" + b[2:], "not an IDX file"),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
@pytest.mark.parametrize("gz", [False, True])
def test_a_corrupt_file_is_named_with_the_fix_and_nothing_is_deleted(tmp_path, case, gz):
    paths = make_mnist(tmp_path, gz=gz)
    key, damage, words = CORRUPTIONS[case]
    blob = paths[key].read_bytes()
    if gz:
        blob = gzip.compress(damage(gzip.decompress(blob)))
    else:
        blob = damage(blob)
    paths[key].write_bytes(blob)
    before = snapshot(tmp_path)
    with pytest.raises(MNISTFilesError) as err:
        load_mnist(tmp_path, quiet=True)
    message = str(err.value)
    assert str(paths[key]) in message and words in message, message
    assert "vae-course data --force" in message
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("case, damage", [
    ("random-bytes-as-gz", lambda b: os.urandom(500)),
    ("truncated-gz", lambda b: b[: len(b) // 2]),
    ("empty-gz", lambda b: b""),
])
def test_a_broken_gzip_file_is_named(tmp_path, case, damage):
    paths = make_mnist(tmp_path, gz=True)
    paths["test_images"].write_bytes(damage(paths["test_images"].read_bytes()))
    before = snapshot(tmp_path)
    with pytest.raises(MNISTFilesError) as err:
        load_mnist(tmp_path, quiet=True)
    assert str(paths["test_images"]) in str(err.value)
    assert "vae-course data --force" in str(err.value)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("split, n_img, n_lab", [("train", 20, 19), ("test", 8, 12)])
def test_label_and_image_counts_must_agree(tmp_path, split, n_img, n_lab):
    make_mnist(tmp_path)
    raw = mnist_raw_dir(tmp_path)
    (raw / MNIST_FILES[f"{split}_labels"]).write_bytes(idx_bytes(np.zeros(n_lab)))
    before = snapshot(tmp_path)
    with pytest.raises(MNISTFilesError, match=f"{split} split .* {n_img} images but {n_lab} "
                                              f"labels"):
        load_mnist(tmp_path, quiet=True)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("what, array, words", [
    ("images", np.zeros((20, 32, 32)), "32x32 pixels, expected 28x28"),
    ("labels", np.full(20, 12), "go up to 12, expected digits 0-9"),
])
def test_files_that_are_valid_idx_but_not_mnist_are_rejected(tmp_path, what, array, words):
    make_mnist(tmp_path)
    (mnist_raw_dir(tmp_path) / MNIST_FILES[f"train_{what}"]).write_bytes(idx_bytes(array))
    with pytest.raises(MNISTFilesError, match=words):
        load_mnist(tmp_path, quiet=True)


def test_a_split_with_no_images_is_rejected(tmp_path):
    make_mnist(tmp_path, n_test=0)
    with pytest.raises(MNISTFilesError, match="holds no images"):
        load_mnist(tmp_path, quiet=True)


@pytest.mark.parametrize("missing", sorted(MNIST_FILES))
def test_each_missing_file_is_named(tmp_path, missing):
    paths = make_mnist(tmp_path)
    paths[missing].unlink()
    before = snapshot(tmp_path)
    with pytest.raises(MNISTFilesError) as err:
        load_mnist(tmp_path, quiet=True)
    message = str(err.value)
    assert f"missing {MNIST_FILES[missing]}" in message and "incomplete" in message
    assert "built-in 5,000-digit subset" in message  # the way out when offline
    assert snapshot(tmp_path) == before


def test_a_mix_of_gz_and_plain_files_loads(tmp_path):
    paths = make_mnist(tmp_path, gz=True)
    plain = paths["train_labels"].with_suffix("")
    plain.write_bytes(gzip.decompress(paths["train_labels"].read_bytes()))
    paths["train_labels"].unlink()
    mnist = load_mnist(tmp_path, quiet=True)
    assert mnist.source == "full" and mnist.x_train.shape == (20, 1, 28, 28)
    assert float(mnist.x_train.min()) >= 0 and float(mnist.x_train.max()) <= 1


@pytest.mark.parametrize("layout", ["nothing", "empty-raw-folder", "unrelated-files",
                                    "raw-is-a-file", "root-is-a-file"])
def test_without_mnist_files_the_subset_is_used(tmp_path, layout):
    root = tmp_path / "root"
    if layout == "empty-raw-folder":
        mnist_raw_dir(root).mkdir(parents=True)
    elif layout == "unrelated-files":
        mnist_raw_dir(root).mkdir(parents=True)
        (mnist_raw_dir(root) / "README.txt").write_text("hello")
        (mnist_raw_dir(root) / "train-images-idx3-ubyte.bad").write_bytes(b"old")
    elif layout == "raw-is-a-file":
        mnist_raw_dir(root).parent.mkdir(parents=True)
        mnist_raw_dir(root).write_text("not a folder")
    elif layout == "root-is-a-file":
        root.write_text("not a folder")
    before = snapshot(tmp_path)
    mnist = load_mnist(root, quiet=True)
    assert mnist.source == "subset" and len(mnist.x_train) == 4000
    assert snapshot(tmp_path) == before  # loading writes nothing


def test_a_read_only_installation_falls_back_to_the_subset(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(DATA_ENV, str(unwritable(tmp_path)))
    before = snapshot(tmp_path)
    mnist = load_mnist()
    assert mnist.source == "subset"
    assert "5,000-digit MNIST subset" in capsys.readouterr().out
    assert snapshot(tmp_path) == before


def test_a_read_only_installation_still_trains_and_returns_models(tmp_path, monkeypatch,
                                                                 capsys):
    """The model cache cannot write there: the standard model is trained, a notice says why it
    is not cached, and the model comes back usable."""
    monkeypatch.setenv(DATA_ENV, str(unwritable(tmp_path)))
    before = snapshot(tmp_path)
    ruler, test_accuracy = course_models.digit_ruler(steps=3)
    out = capsys.readouterr().out
    assert "Could not cache the model" in out and "VAE_COURSE_DATA" in out
    assert 0 <= test_accuracy <= 1 and not ruler.training
    assert snapshot(tmp_path) == before


def test_download_into_an_unwritable_folder_says_what_to_do(tmp_path):
    target = unwritable(tmp_path)
    with pytest.raises(MNISTFilesError) as err:
        download_mnist(target)  # fails before any network access
    assert "cannot create the data folder" in str(err.value)
    assert "VAE_COURSE_DATA" in str(err.value)
    assert (tmp_path / "not-a-folder").read_text() == "a file where a folder should be"


def test_the_data_command_reports_the_error_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(DATA_ENV, str(unwritable(tmp_path)))
    assert cli.main(["data"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot create the data folder") and "Traceback" not in err


class OfflineMNIST:
    """Stands in for torchvision's MNIST when there is no network."""

    def __init__(self, root, train=True, download=False):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: <urlopen error "
                           "[Errno -3] Temporary failure in name resolution>")


def test_a_forced_download_that_fails_puts_the_old_files_back(tmp_path, monkeypatch):
    import torchvision.datasets

    paths = make_mnist(tmp_path)
    paths["test_images"].write_bytes(b"corrupt")  # the reason someone runs --force
    before = snapshot(tmp_path)
    monkeypatch.setattr(torchvision.datasets, "MNIST", OfflineMNIST)
    with pytest.raises(MNISTFilesError) as err:
        download_mnist(tmp_path, force=True)
    message = str(err.value)
    assert "try again when you are online" in message and "4 restored" in message
    assert snapshot(tmp_path) == before  # same files, same bytes, no *.bad left over


def test_a_forced_download_never_overwrites_an_older_bad_file(tmp_path, monkeypatch):
    import torchvision.datasets

    paths = make_mnist(tmp_path)
    raw = mnist_raw_dir(tmp_path)
    older = raw / (MNIST_FILES["train_images"] + ".bad")
    older.write_bytes(b"from an earlier --force")
    old_train = paths["train_images"].read_bytes()

    class FreshMNIST:  # a successful download writes four new files
        def __init__(self, root, train=True, download=False):
            if train:
                make_mnist(root, seed=1)

    monkeypatch.setattr(torchvision.datasets, "MNIST", FreshMNIST)
    assert download_mnist(tmp_path, force=True) == raw
    assert older.read_bytes() == b"from an earlier --force"
    assert (raw / (MNIST_FILES["train_images"] + ".bad.1")).read_bytes() == old_train
    monkeypatch.undo()  # torchvision's real loader reads the new files
    assert load_mnist(tmp_path, quiet=True).source == "full"


@pytest.mark.skipif(AS_ROOT, reason="running as root: chmod cannot make a folder unwritable for "
                                    "root, so this runs only as a normal user (the tests above "
                                    "use a folder under a regular file instead)")
def test_a_chmod_read_only_data_folder(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    monkeypatch.setenv(DATA_ENV, str(folder))
    try:
        assert load_mnist(quiet=True).source == "subset"
        with pytest.raises(MNISTFilesError, match="cannot create the data folder"):
            download_mnist()
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


def test_loading_does_not_cache_a_failure(tmp_path):
    """Fix the files after an error and the next call loads them (no stale failure)."""
    paths = make_mnist(tmp_path)
    good = paths["train_images"].read_bytes()
    paths["train_images"].write_bytes(good[:50])
    with pytest.raises(MNISTFilesError):
        load_mnist(tmp_path, quiet=True)
    paths["train_images"].write_bytes(good)
    assert load_mnist(tmp_path, quiet=True).source == "full"
    assert isinstance(data.load_mnist(tmp_path, quiet=True).x_train, torch.Tensor)
