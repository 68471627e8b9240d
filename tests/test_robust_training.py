"""Faults during training: a loss that becomes NaN or infinite stops ``fit`` with an error that
names the step and the likely cause, before the bad step reaches the weights; Ctrl-C
(KeyboardInterrupt) anywhere in a step returns the history so far and leaves a usable model.

Everything runs on tiny models and 6x6 images, so each test takes well under a second.
"""

import math

import pytest
import torch

from vae_course import train
from vae_course.models import VAE, Autoencoder
from vae_course.train import History, TrainingDiverged, fit

SHAPE = (1, 6, 6)


@pytest.fixture
def images():
    """64 binary images drawn from 4 prototypes: easy to learn, so the loss falls quickly."""
    g = torch.Generator().manual_seed(0)
    prototypes = (torch.rand(4, *SHAPE, generator=g) > 0.5).float()
    return prototypes[torch.randint(0, 4, (64,), generator=g)]


def tiny_vae():
    torch.manual_seed(0)
    return VAE(latent_dim=3, hidden=16, image_shape=SHAPE)


def tiny_ae():
    torch.manual_seed(0)
    return Autoencoder(latent_dim=3, hidden=16, image_shape=SHAPE)


def weights(model):
    return [p.detach().clone() for p in model.parameters()]


def assert_usable(model, images):
    """Finite weights, eval mode, and a forward pass that gives finite numbers."""
    assert not model.training
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    out = model(images[:4].to(next(model.parameters()).device))
    out = out if isinstance(out, tuple) else (out,)
    assert all(bool(torch.isfinite(t).all()) for t in out)


def assert_consistent(history):
    n = len(history.step)
    assert history.step == list(range(n))
    assert len(history.loss) == len(history.recon) == len(history.kl) == len(history.beta) == n
    assert len(history.eval_step) == len(history.test_nelbo)
    assert all(math.isfinite(v) for v in history.loss + history.test_nelbo)
    assert history.images_seen == sum(min(16, 64) for _ in range(n))


def after_steps(n, then):
    """A forward hook that leaves the first ``n`` training forward passes alone, then calls
    ``then(output)`` (evaluation passes, in eval mode, are not counted)."""
    count = {"n": 0}

    def hook(module, args, output):
        if not module.training:
            return None
        count["n"] += 1
        if count["n"] > n:
            return then(output)
        return None
    return hook


# --- NaN and infinity -------------------------------------------------------------------------

@pytest.mark.parametrize("bad_step", [0, 1, 7])
def test_infinite_beta_stops_at_that_step_and_keeps_the_last_finite_weights(images, bad_step):
    model = tiny_vae()
    snapshot = {}

    def schedule(step):
        if step == bad_step:
            snapshot["weights"] = weights(model)  # the weights that step starts from
            return float("inf")
        return 1.0

    with pytest.raises(TrainingDiverged) as err:
        fit(model, images, steps=20, batch_size=16, beta=schedule, progress=False, device="cpu")
    message = str(err.value)
    assert f"at step {bad_step} " in message
    assert "β is infinite" in message and "learning rate" in message
    # The check runs before the update: the model still has the weights of the last good step.
    assert all(torch.equal(a, b) for a, b in zip(weights(model), snapshot["weights"]))
    assert_usable(model, images)


def test_nan_logits_from_the_decoder_are_named(images):
    model = tiny_vae()
    model.decoder.register_forward_hook(after_steps(4, lambda out: out * float("nan")))
    with pytest.raises(TrainingDiverged) as err:
        fit(model, images, steps=20, batch_size=16, progress=False, device="cpu")
    assert "at step 4 " in str(err.value) and "logits are not finite" in str(err.value)
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


def test_an_exploding_log_variance_is_named_with_its_size(images):
    model = tiny_vae()

    def huge_logvar(out):  # the encoder's second half is log σ²; 200 overflows exp() in float32
        out = out.clone()
        out[:, 3:] = 200.0
        return out

    model.encoder.register_forward_hook(after_steps(2, huge_logvar))
    with pytest.raises(TrainingDiverged) as err:
        fit(model, images, steps=20, batch_size=16, progress=False, device="cpu")
    message = str(err.value)
    assert "at step 2 " in message and "log-variance reaches 200" in message
    assert "overflows" in message


def test_an_autoencoder_that_diverges_is_stopped_too(images):
    model = tiny_ae()
    model.decoder.register_forward_hook(after_steps(3, lambda out: out + float("inf")))
    with pytest.raises(TrainingDiverged, match="at step 3 "):
        fit(model, images, steps=10, batch_size=16, progress=False, device="cpu")
    assert_usable(model, images)


def test_nan_weights_are_reported_as_a_blown_up_update(images):
    model = tiny_vae()

    def poison(step):  # as if the previous optimizer step had produced NaN weights
        if step == 3:
            with torch.no_grad():
                model.decoder.net[0].weight[0, 0] = float("nan")
        return 1.0

    with pytest.raises(TrainingDiverged) as err:
        fit(model, images, steps=10, batch_size=16, beta=poison, progress=False, device="cpu")
    assert "at step 3 " in str(err.value)
    assert "weights are no longer finite (decoder.net.0.weight)" in str(err.value)


def test_a_model_whose_output_does_not_fit_the_images_fails_at_step_0(images):
    class FlatDecoderVAE(VAE):
        def decode(self, z):
            return super().decode(z).flatten(1)

    model = FlatDecoderVAE(latent_dim=3, hidden=16, image_shape=SHAPE)
    with pytest.raises(ValueError, match=r"^model: expected the decoder's logits"):
        fit(model, images, steps=5, progress=False, device="cpu")


# --- Ctrl-C -----------------------------------------------------------------------------------

def interrupt_at(n):
    def schedule(step):
        if step == n:
            raise KeyboardInterrupt
        return 1.0
    return schedule


@pytest.mark.parametrize("at", [0, 1, 9])
def test_ctrl_c_in_the_schedule_returns_the_steps_done(images, at):
    model = tiny_vae()
    history = fit(model, images, images[:16], steps=50, batch_size=16, beta=interrupt_at(at),
                  eval_every=4, progress=False, device="cpu")
    assert history.interrupted and len(history.step) == at
    assert_consistent(history)
    assert history.eval_step[-1] == at  # a final held-out number for what was trained
    assert_usable(model, images)


def test_ctrl_c_inside_the_forward_pass(images):
    model = tiny_vae()

    def stop(out):
        raise KeyboardInterrupt

    handle = model.encoder.register_forward_hook(after_steps(6, stop))
    history = fit(model, images, steps=50, batch_size=16, progress=False, device="cpu")
    handle.remove()
    assert history.interrupted and len(history.step) == 6
    assert_consistent(history)
    assert_usable(model, images)


def test_ctrl_c_during_backward_leaves_that_step_out_of_the_weights(images):
    model = tiny_vae()
    calls = {"n": 0}
    snapshot = {}

    def on_grad(grad):
        calls["n"] += 1
        if calls["n"] == 5:  # the backward pass of step 4 (steps 0-3 went through)
            snapshot["weights"] = weights(model)
            raise KeyboardInterrupt
        return grad

    model.decoder.net[-1].bias.register_hook(on_grad)
    history = fit(model, images, steps=50, batch_size=16, progress=False, device="cpu")
    assert history.interrupted and len(history.step) == 4
    assert all(torch.equal(a, b) for a, b in zip(weights(model), snapshot["weights"]))
    assert_consistent(history)
    assert_usable(model, images)


def test_ctrl_c_during_a_held_out_evaluation(images):
    model = tiny_vae()
    state = {"raised": False}

    def hook(module, args, output):
        if not module.training and not state["raised"]:
            state["raised"] = True
            raise KeyboardInterrupt

    model.encoder.register_forward_hook(hook)
    history = fit(model, images, images[:16], steps=50, batch_size=16, eval_every=5,
                  progress=False, device="cpu")
    assert history.interrupted and len(history.step) == 5
    assert_consistent(history)
    assert history.eval_step == [5]  # the interrupted evaluation is not half-recorded
    assert_usable(model, images)


def test_ctrl_c_between_two_appends_leaves_no_ragged_history(images, monkeypatch):
    class StopOnAppend(list):
        def append(self, value):
            if len(self) == 3:
                raise KeyboardInterrupt
            super().append(value)

    def history_with_a_trap():
        history = History()
        history.kl = StopOnAppend()  # recon and loss of step 3 are in, kl is not
        return history

    monkeypatch.setattr(train, "History", history_with_a_trap)
    history = fit(tiny_vae(), images, steps=20, batch_size=16, progress=False, device="cpu")
    assert history.interrupted and len(history.step) == 3
    assert len(history.loss) == len(history.recon) == len(history.kl) == 3


def test_training_resumes_after_an_interrupt(images):
    model = tiny_vae()
    first = fit(model, images, steps=30, batch_size=16, beta=interrupt_at(10), progress=False,
                device="cpu")
    second = fit(model, images, steps=10, batch_size=16, progress=False, device="cpu")
    assert first.interrupted and not second.interrupted
    assert len(second.step) == 10 and all(math.isfinite(v) for v in second.loss)
    assert second.loss[-1] < first.loss[0]  # it carried on from trained weights
