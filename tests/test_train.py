"""fit: it learns, it records what the notebooks plot, and it fails loudly."""

import math

import pytest
import torch

from vae_course.data import load_mnist
from vae_course.models import VAE, Autoencoder
from vae_course.schedules import LinearWarmup
from vae_course.train import TrainingDiverged, evaluate, fit


@pytest.fixture(scope="module")
def mnist():
    return load_mnist(quiet=True)


def test_fit_lowers_held_out_negative_elbo_on_mnist(mnist):
    model = VAE(latent_dim=10, hidden=200)
    before = evaluate(model, mnist.x_test)
    history = fit(model, mnist.x_train, mnist.x_test, steps=300, progress=False)
    after = history.test_nelbo[-1]
    assert after < before - 200, (before, after)  # ~545 nats untrained, ~170 after 300 steps
    assert after < 200
    assert history.test_nelbo[-1] < history.test_nelbo[0]
    assert after == pytest.approx(evaluate(model, mnist.x_test), abs=1e-3)


def test_history_records_every_step_with_the_schedule(mnist):
    history = fit(VAE(latent_dim=4, hidden=64), mnist.x_train[:512], mnist.x_test[:100],
                  steps=40, beta=LinearWarmup(20), eval_every=10, progress=False)
    assert history.step == list(range(40))
    assert history.beta[0] == 0.0 and history.beta[10] == 0.5 and history.beta[-1] == 1.0
    for i in range(40):
        assert history.loss[i] == pytest.approx(history.recon[i] + history.beta[i] *
                                                history.kl[i], rel=1e-5, abs=1e-3)
    assert history.eval_step == [10, 20, 30, 40]
    assert history.images_seen == 40 * 128 and history.images_per_second > 0


def test_autoencoder_training_has_no_kl(mnist):
    history = fit(Autoencoder(2, 64), mnist.x_train[:512], steps=20, progress=False)
    assert all(k == 0 for k in history.kl)
    assert history.recon[-1] < history.recon[0]


def test_same_seed_same_numbers(mnist):
    runs = []
    for _ in range(2):
        torch.manual_seed(123)  # fit must not depend on the global state before it
        runs.append(fit(VAE(4, 32), mnist.x_train[:256], steps=15, seed=7, progress=False).loss)
    assert runs[0] == runs[1]


def test_seconds_budget_stops_early(mnist, monkeypatch):
    """A clock that advances 0.1 s per reading: the budget of 0.5 s is passed at the sixth
    step's check, so exactly six steps run, whatever the machine's load."""
    import types

    from vae_course import train as train_module
    ticks = iter(range(10**6))
    monkeypatch.setattr(train_module, "time",
                        types.SimpleNamespace(perf_counter=lambda: 0.1 * next(ticks)))
    history = fit(VAE(4, 32), mnist.x_train[:256], steps=1_000_000, seconds=0.5, progress=False,
                  device="cpu")
    assert len(history.step) == 6 and history.images_seen == 6 * 128


def test_nan_loss_stops_with_the_step_and_the_likely_cause(mnist):
    model = VAE(4, 32)

    def explode(step):  # β becomes infinite at step 3
        return float("inf") if step >= 3 else 1.0

    with pytest.raises(TrainingDiverged) as err:
        fit(model, mnist.x_train[:256], steps=10, beta=explode, progress=False)
    assert "step 3" in str(err.value) and "learning rate" in str(err.value)


def test_ctrl_c_returns_the_history_so_far_and_a_usable_model(mnist):
    model = VAE(4, 32)

    def interrupt(step):
        if step == 5:
            raise KeyboardInterrupt
        return 1.0

    history = fit(model, mnist.x_train[:256], mnist.x_test[:64], steps=100, beta=interrupt,
                  progress=False)
    assert history.interrupted and len(history.step) == 5
    assert math.isfinite(history.test_nelbo[-1])
    assert model(mnist.x_test[:2])[0].shape == (2, 1, 28, 28)


@pytest.mark.parametrize("bad, message", [
    (torch.rand(10, 28, 28), "shape"), (torch.rand(0, 1, 28, 28), "empty"),
    (torch.randint(0, 255, (4, 1, 28, 28)), "dtype"), (torch.rand(4, 1, 28, 28) * 255, "[0, 1]"),
])
def test_bad_training_data_is_rejected_with_a_clear_message(bad, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("[", r"\[")
                       .replace("]", r"\]")):
        fit(VAE(4, 32), bad, steps=1, progress=False)


def test_binarize_trains_on_a_fresh_black_and_white_sample_of_each_batch(mnist):
    """fit(binarize=True): the model only ever sees 0s and 1s, and the same grey digit gives
    another sample each time it comes round."""
    seen = []
    model = VAE(4, 32)
    model.register_forward_pre_hook(
        lambda module, args: seen.append(args[0].clone()) if module.training else None)
    x = mnist.x_train[:32]
    fit(model, x, steps=4, batch_size=32, binarize=True, progress=False, device="cpu")
    assert all(bool(((b == 0) | (b == 1)).all()) for b in seen)
    assert not torch.equal(seen[0].sort(0).values, seen[1].sort(0).values)
    grey = ((x > 0) & (x < 1)).sum().item()
    assert grey > 1000  # so the check above could have failed without binarising
    seen.clear()
    fit(model, x, steps=1, batch_size=32, progress=False, device="cpu")
    assert int(((seen[0] > 0) & (seen[0] < 1)).sum()) == grey


def test_load_mnist_binarize_samples_the_test_set_once(mnist):
    from vae_course.data import load_mnist
    a, b = load_mnist(quiet=True, binarize=True), load_mnist(quiet=True, binarize=True)
    assert a.binarized and not mnist.binarized
    assert torch.equal(a.x_test, b.x_test)  # fixed: the same test set every time
    assert bool(((a.x_test == 0) | (a.x_test == 1)).all())
    assert torch.equal(a.x_train, mnist.x_train)  # training stays grey, for fit(binarize=True)
    assert abs(a.x_test.mean().item() - mnist.x_test.mean().item()) < 0.005  # P(1) = x


def test_reading_losses_back_in_windows_restores_the_last_checked_weights(mnist):
    """check_every=5 (like a GPU's default of 50): steps 0-4 are read back before step 4's
    update, steps 5-9 before step 9's; an infinite loss at step 7 is found there, and the model
    goes back to its weights at the start of step 4, the last check."""
    model = VAE(4, 32)
    kept = {}

    def schedule(step):
        if step == 4:
            kept["weights"] = [p.detach().clone() for p in model.parameters()]
        return float("inf") if step == 7 else 1.0

    with pytest.raises(TrainingDiverged) as err:
        fit(model, mnist.x_train[:256], steps=20, batch_size=32, beta=schedule, check_every=5,
            progress=False, device="cpu")
    assert "at step 7 " in str(err.value) and "the start of step 4" in str(err.value)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), kept["weights"]))


def test_windows_record_the_same_history_as_checking_every_step(mnist):
    runs = []
    for check_every in (1, 7):
        torch.manual_seed(0)
        history = fit(VAE(4, 32), mnist.x_train[:256], mnist.x_test[:64], steps=20,
                      batch_size=32, check_every=check_every, progress=False, device="cpu")
        runs.append((history.step, history.loss, history.kl, history.test_nelbo))
    assert runs[0] == runs[1] and len(runs[0][0]) == 20
