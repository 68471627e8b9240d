"""Tests of ``vae-course bench``: its parts on small inputs, then one ``--quick`` run end to end."""

import json
import math
import os

import nbformat
import pytest
import torch

from vae_course import bench
from vae_course.data import load_mnist
from vae_course.models import VAE
from vae_course.train import evaluate


@pytest.fixture(scope="module")
def mnist():
    return load_mnist(quiet=True)


def test_standard_dataset_yields_the_same_images_through_pil(mnist):
    dataset = bench.standard_dataset(bench.to_uint8(mnist.x_train[:10]), mnist.y_train[:10])
    image, label = dataset[3]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert label == int(mnist.y_train[3])
    # uint8 storage rounds each pixel to the nearest 1/255, nothing more
    assert (image - mnist.x_train[3]).abs().max().item() <= 0.5 / 255 + 1e-6


def test_standard_loader_batches_and_shuffles(mnist):
    loader = bench.standard_loader(mnist, batch_size=128)
    x, y = next(iter(loader))
    assert x.shape == (128, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert len(loader) == math.ceil(len(mnist.x_train) / 128)
    assert not torch.equal(y, mnist.y_train[:128])  # shuffled


def test_train_standard_trains_across_epoch_boundaries(mnist):
    small = type(mnist)(mnist.x_train[:300], mnist.y_train[:300], mnist.x_test[:200],
                        mnist.y_test[:200], mnist.source, "")
    loader = bench.standard_loader(small, batch_size=128)  # 3 batches per epoch
    torch.manual_seed(0)
    model = VAE(20, 400)
    before = evaluate(model, small.x_test)
    seconds = bench.train_standard(model, loader, steps=40, lr=1e-3, device="cpu")
    assert seconds > 0
    assert evaluate(model, small.x_test) < before - 50  # 40 steps over 14 epochs learn a lot


def test_the_timed_matrix_products_are_the_training_steps_flops():
    """The matmul fraction compares like with like: the products timed on their own are exactly
    the FLOPs torch counts on a real training step of the 784-400-20 MLP VAE."""
    from vae_course.bench.matmul import matmul_rate, step_flops, training_matmuls

    model, x = VAE(20, 400), torch.rand(128, 1, 28, 28)
    shapes = training_matmuls(model, x)
    layers = [(784, 400), (400, 40), (20, 400), (400, 784)]  # encoder, heads, decoder
    forward = sum(2 * i * o for i, o in layers)
    input_grads = forward - 2 * 784 * 400  # the images need no gradient
    assert 2 * sum(m * k * n for m, k, n in shapes) == 128 * (2 * forward + input_grads)
    assert step_flops(model, x) == 128 * (2 * forward + input_grads)
    assert all(p.grad is None for p in model.parameters())  # the count leaves no gradients
    assert matmul_rate(shapes, steps=2, device="cpu") > 1e6
    with pytest.raises(ValueError, match="Linear"):
        training_matmuls(VAE(8, 32, arch="conv"), x)


def test_the_binarised_section_trains_on_binary_batches_and_bounds_its_elbo(mnist):
    """A few steps on 256 digits: the IWAE NLL estimate lies below the −ELBO (a tighter bound),
    and the model was scored on black-and-white images."""
    small = type(mnist)(mnist.x_train[:256], mnist.y_train[:256], mnist.x_test[:40],
                        mnist.y_test[:40], mnist.source, "")
    r = bench.binarised_likelihood(small, steps=30, k=50, n_images=40, device="cpu",
                                   progress=False)
    assert r["binarised_images"] == 40 and r["binarised_k"] == 50
    assert 50 < r["binarised_nll_iwae"] < r["binarised_nelbo"] + 0.5 < 800


def _notebook(path, source):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def test_time_notebook_reports_seconds_and_errors(tmp_path):
    ok = _notebook(tmp_path / "01_ok.ipynb",
                   "import os\nassert os.environ.get('VAE_COURSE_NO_CACHE') == '1'")
    bad = _notebook(tmp_path / "02_bad.ipynb", "1 / 0")
    out = bench.notebooks([ok, bad], timeout=120, cache="off", progress=False)
    assert set(out["notebook_seconds"]) == {"01_ok", "02_bad"}
    assert all(s > 0 for s in out["notebook_seconds"].values())
    assert out["notebook_total_seconds"] == pytest.approx(sum(out["notebook_seconds"].values()))
    assert list(out["notebook_errors"]) == ["02_bad"]
    assert "ZeroDivisionError" in out["notebook_errors"]["02_bad"]
    assert out["notebook_cache"] == "off"


def test_fresh_cache_is_empty_at_first_and_shared_in_order(tmp_path, monkeypatch):
    """The default times a newcomer: an empty model cache that later notebooks can load from."""
    monkeypatch.delenv("VAE_COURSE_NO_CACHE", raising=False)
    first = _notebook(tmp_path / "01_first.ipynb", (
        "import os, pathlib\n"
        "assert 'VAE_COURSE_NO_CACHE' not in os.environ\n"
        "models = pathlib.Path(os.environ['VAE_COURSE_MODELS'])\n"
        "assert models.is_dir() and not any(models.iterdir())\n"
        "(models / 'trained.pt').write_text('x')"))
    second = _notebook(tmp_path / "02_second.ipynb", (
        "import os, pathlib\n"
        "assert (pathlib.Path(os.environ['VAE_COURSE_MODELS']) / 'trained.pt').is_file()"))
    out = bench.notebooks([first, second], timeout=120, progress=False)
    assert out["notebook_errors"] == {}
    assert out["notebook_cache"] == "fresh"
    # the temporary cache is gone afterwards, and this process's environment is as it was
    assert "VAE_COURSE_MODELS" not in os.environ


def test_warm_cache_mode_keeps_a_models_folder_the_user_set(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_COURSE_MODELS", str(tmp_path / "mine"))
    nb = _notebook(tmp_path / "01_nb.ipynb", (
        "import os\n"
        f"assert os.environ['VAE_COURSE_MODELS'] == {str(tmp_path / 'mine')!r}"))
    out = bench.notebooks([nb], timeout=120, cache="on", progress=False)
    assert out["notebook_errors"] == {}


def test_notebooks_rejects_an_unknown_cache_mode(tmp_path):
    with pytest.raises(ValueError, match="fresh"):
        bench.notebooks([], cache="warm", progress=False)


def test_lecture_notebooks_lists_numbered_notebooks_in_order(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for name in ("01_b.ipynb", "00_a.ipynb", "scratch.ipynb", "02_c.py"):
        (tmp_path / "notebooks" / name).write_text("{}")
    assert [p.name for p in bench.lecture_notebooks(tmp_path)] == ["00_a.ipynb", "01_b.ipynb"]


def test_every_registered_section_follows_the_protocol():
    """A section is a module with NAME, HELP, FULL/QUICK settings, run(ctx) and rows(results)."""
    from vae_course.bench.sections import REGISTRY

    keys = []
    for section in REGISTRY:
        assert section.NAME and section.HELP.strip(), section
        assert set(section.FULL) == set(section.QUICK), section.NAME
        keys += list(section.FULL)
        assert callable(section.run) and section.rows({}) == [], section.NAME
        assert set(getattr(section, "NEEDS", ())) <= set(bench.SECTIONS[:bench.SECTIONS.index(
            section.NAME)]), f"{section.NAME} needs a section that runs after it"
    assert len(keys) == len(set(keys)), "two sections share a settings key"
    assert bench.settings(quick=False).keys() == bench.settings(quick=True).keys()


def test_a_section_runs_after_the_sections_it_needs():
    from vae_course.bench.runner import _with_needs

    assert [s.NAME for s in _with_needs(["likelihood"])] == ["equal_budget", "likelihood"]
    assert [s.NAME for s in _with_needs(["anomaly", "throughput"])] == ["throughput", "anomaly"]


def _results(ratio, gain):
    return {
        "quick": False, "machine": {"cores": 2, "threads": 2, "torch": "2.x", "device": "cpu",
                                    "mnist": "subset", "mnist_train": 4000, "mnist_test": 1000},
        "throughput_ratio": ratio, "throughput_ours_ips": 9000.0,
        "throughput_baseline_ips": 9000.0 / ratio, "batch_ms_ours": 0.1,
        "batch_ms_baseline": 12.0, "equal_budget_gain": gain, "equal_budget_seconds": 20.0,
        "equal_budget_steps_baseline": 320, "equal_budget_steps_ours": 900,
        "equal_budget_nelbo_ours": 120.0, "equal_budget_nelbo_baseline": 120.0 + gain,
        "notebook_seconds": {"00_overview": 10.0, "01_autoencoder": 95.0},
        "notebook_total_seconds": 105.0, "notebook_errors": {},
        "mig_best": 0.35, "mig_beta1": {"mean": 0.1, "sd": 0.01, "values": [0.1]},
        "mig_beta4": {"mean": 0.2, "sd": 0.02, "values": [0.2]},
        "auroc_per_digit": {str(d): 0.9 for d in range(10)}, "auroc_mean": 0.9,
        "anomaly_scores": {name: {"per_digit": {str(d): 0.9 for d in range(10)}, "mean": 0.9}
                           for name in ("−ELBO", "PCA error")},
        "anomaly_best_vae_score": "−ELBO",
        "nll_iwae": 110.0, "nelbo_test": 115.0, "iwae_k": 1000, "iwae_images": 1000,
        "flops_per_image": 3.28e6, "fit_gflops": 19.0, "matmul_gflops": 20.0,
        "fit_matmul_fraction": 0.95,
    }


def _row(table, start):
    return next(line for line in table.splitlines() if line.startswith(f"| {start}"))


def test_render_table_marks_each_target():
    table = bench.render_table(_results(ratio=2.5, gain=25.0))
    assert _row(table, "Training throughput").endswith("| **no** |")
    assert "2.50×" in _row(table, "Training throughput")
    assert "95 % (3.28 MFLOP per image: 19.0 of 20.0 GFLOP/s)" in _row(table, "  against the")
    assert _row(table, "Held-out −ELBO").endswith("| yes |")
    assert _row(table, "Lecture notebooks").endswith("| **no** |")  # 01 takes 95 s > 90 s
    assert _row(table, "  `00_overview`").endswith("| yes |")
    assert _row(table, "Sprites: best MIG").endswith("| yes |")
    assert _row(table, "Sprites: MIG at β = 1").endswith("| yes |")
    assert _row(table, "One-class").endswith("| **no** |")
    table = bench.render_table(_results(ratio=4.5, gain=5.0))
    assert _row(table, "Training throughput").endswith("| yes |")
    assert _row(table, "Held-out −ELBO").endswith("| **no** |")


def test_table_command_prints_a_saved_run(tmp_path, capsys):
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(_results(ratio=3.0, gain=21.0)))
    assert bench.main(["--table", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| measure | result | target | met |")
    assert "3.00×" in out
    assert bench.main(["--table", str(tmp_path / "missing.json")]) == 2


def test_unknown_section_is_refused():
    with pytest.raises(SystemExit):
        bench.main(["--only", "nonsense"])


KEYS = ("throughput_ratio", "equal_budget_nelbo_ours", "equal_budget_nelbo_baseline",
        "notebook_seconds", "mig_best", "mig_beta1", "mig_beta4", "auroc_per_digit",
        "auroc_mean", "nll_iwae", "nelbo_test", "machine")


@pytest.mark.slow
def test_quick_bench_end_to_end(tmp_path):
    notebook = _notebook(tmp_path / "00_tiny.ipynb", "print('hello')")
    path = tmp_path / "bench.json"
    # one torch thread: on a shared, loaded machine two threads can be ten times slower
    code = bench.main(["--quick", "--json", str(path), "--notebooks", str(notebook),
                       "--threads", "1"])
    results = json.loads(path.read_text())
    assert results["errors"] == {} and code == 0
    for key in KEYS:
        assert key in results, key
    assert results["quick"] is True
    assert 0 < results["throughput_ratio"] < 1000
    assert results["throughput_ours_ips"] > 0 and results["throughput_baseline_ips"] > 0
    assert results["flops_per_image"] == 3_280_000  # 784-400-20 MLP VAE, forward and backward
    assert 0 < results["fit_matmul_fraction"] < 10 and results["matmul_gflops"] > 0
    for key in ("equal_budget_nelbo_ours", "equal_budget_nelbo_baseline", "nelbo_test"):
        assert 50 < results[key] < 600, (key, results[key])
    # an importance-weighted bound is tighter than the ELBO: NLL estimate below −ELBO
    assert results["nll_iwae"] < results["nelbo_test"] + 1.0
    assert results["iwae_k"] >= 1000
    assert list(results["notebook_seconds"]) == ["00_tiny"]
    assert results["notebook_seconds"]["00_tiny"] > 0
    for key in ("mig_beta1", "mig_beta4"):
        values = results[key]["values"]
        assert results[key]["mean"] == pytest.approx(sum(values) / len(values))
        assert results["mig_best"] >= max(results[key]["values"])
    assert sorted(results["auroc_per_digit"], key=int) == [str(d) for d in range(10)]
    assert results["auroc_mean"] > 0.6  # even a briefly trained model beats chance by far
    scores = results["anomaly_scores"]
    assert set(scores) == set(bench.sections.anomaly.SCORES)
    # the baselines do not depend on the VAE's (quick, short) training: they must be good
    assert scores["PCA error"]["mean"] > 0.85 and scores["kNN distance"]["mean"] > 0.85
    assert scores["−ELBO"]["per_digit"] == results["auroc_per_digit"]
    # the binarised likelihood: an importance-weighted bound below the −ELBO
    assert results["binarised_nll_iwae"] < results["binarised_nelbo"] + 0.5
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["torch"] == torch.__version__
    assert machine["mnist"] in ("full", "subset") and machine["device"]
    table = path.with_suffix(".md").read_text()
    assert table.startswith("| measure |") and "Measured with `--quick`" in table
