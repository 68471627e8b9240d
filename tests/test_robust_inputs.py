"""Bad input to the public functions of vae_course gives an error that names the argument, says
what was expected and what was given ("<argument>: expected <what>, got <what was given>").

The first part tries hand-picked bad inputs, one per line (shape, dtype, device, range, NaN,
empty batch, wrong type); the second part is property-based (hypothesis): valid inputs keep
their mathematical properties, and a NaN planted anywhere is always caught.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vae_course import (anomaly, cache, classifier, data, latent, losses, metrics, models, plots,
                        schedules, train)
from vae_course.argcheck import check_values, describe

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

G = torch.Generator().manual_seed(0)
LOGITS = torch.randn(4, 1, 6, 6, generator=G)
X = torch.rand(4, 1, 6, 6, generator=G)
MU = torch.randn(4, 3, generator=G)
LOGVAR = torch.randn(4, 3, generator=G)
META = "meta"  # a second device that exists everywhere: tensors with a shape and no data


def with_nan(t, index=0):
    t = t.clone()
    t.view(-1)[index] = float("nan")
    return t


def with_inf(t, index=0):
    t = t.clone()
    t.view(-1)[index] = float("inf")
    return t


TINY_VAE = models.VAE(latent_dim=3, hidden=8, image_shape=(1, 6, 6))
TINY_AE = models.Autoencoder(latent_dim=3, hidden=8, image_shape=(1, 6, 6))


def tiny():
    """A fresh tiny VAE for calls that may move a model to another device."""
    return models.VAE(latent_dim=3, hidden=8, image_shape=(1, 6, 6))

GOOD_DIGITS = torch.rand(5, 1, 28, 28, generator=G)
GOOD_LABELS = torch.arange(5)


class FakeHistory:
    recon, kl, beta, eval_step, test_nelbo = [], [], [], [], []


# (id, argument the message must start with, call). Each call gets bad input in one place.
BAD_INPUTS = [
    # --- losses -----------------------------------------------------------------------------
    ("recon-logits-list", "logits", lambda: losses.reconstruction_loss([[0.0]], X)),
    ("recon-x-int", "x", lambda: losses.reconstruction_loss(LOGITS, (X > .5).long())),
    ("recon-shape", "logits", lambda: losses.reconstruction_loss(LOGITS, X[:, :, :5])),
    ("recon-1d", "logits", lambda: losses.reconstruction_loss(LOGITS.flatten(), X.flatten())),
    ("recon-x-above-1", "x", lambda: losses.reconstruction_loss(LOGITS, X * 255)),
    ("recon-x-below-0", "x", lambda: losses.reconstruction_loss(LOGITS, X * 2 - 1)),
    ("recon-x-nan", "x", lambda: losses.reconstruction_loss(LOGITS, with_nan(X, 7))),
    ("recon-logits-nan", "logits", lambda: losses.reconstruction_loss(with_nan(LOGITS), X)),
    ("recon-logits-inf", "logits", lambda: losses.reconstruction_loss(with_inf(LOGITS), X)),
    ("recon-empty", "logits", lambda: losses.reconstruction_loss(LOGITS[:0], X[:0])),
    ("recon-likelihood", "likelihood", lambda: losses.reconstruction_loss(LOGITS, X, "poisson")),
    ("recon-likelihood-type", "likelihood",
     lambda: losses.reconstruction_loss(LOGITS, X, likelihood=None)),
    ("recon-sigma-0", "sigma", lambda: losses.reconstruction_loss(LOGITS, X, "gaussian", 0.0)),
    ("recon-sigma-neg", "sigma", lambda: losses.reconstruction_loss(LOGITS, X, "gaussian", -1)),
    ("recon-sigma-nan", "sigma",
     lambda: losses.reconstruction_loss(LOGITS, X, "gaussian", float("nan"))),
    ("recon-gauss-x-inf", "x",
     lambda: losses.reconstruction_loss(LOGITS, with_inf(X), "gaussian")),
    ("recon-device", "logits",
     lambda: losses.reconstruction_loss(LOGITS, torch.empty(X.shape, device=META))),
    ("kl-mu-1d", "mu", lambda: losses.kl_divergence(MU[0], LOGVAR[0])),
    ("kl-mu-3d", "mu", lambda: losses.kl_divergence(MU[None], LOGVAR[None])),
    ("kl-shape", "mu", lambda: losses.kl_divergence(MU, LOGVAR[:, :2])),
    ("kl-logvar-nan", "logvar", lambda: losses.kl_divergence(MU, with_nan(LOGVAR, 5))),
    ("kl-mu-inf", "mu", lambda: losses.kl_divergence(with_inf(MU), LOGVAR)),
    ("kl-mu-int", "mu", lambda: losses.kl_divergence(MU.long(), LOGVAR)),
    ("kl-logvar-numpy", "logvar", lambda: losses.kl_divergence(MU, LOGVAR.numpy())),
    ("kl-empty", "mu", lambda: losses.kl_divergence(MU[:0], LOGVAR[:0])),
    ("kl-device", "mu",
     lambda: losses.kl_divergence(MU, torch.empty(LOGVAR.shape, device=META))),
    ("kl-per-dim-3d", "logvar", lambda: losses.kl_per_dimension(MU, LOGVAR[None])),
    ("kl-per-dim-nan", "mu", lambda: losses.kl_per_dimension(with_nan(MU), LOGVAR)),
    ("free-bits-neg", "free_bits", lambda: losses.free_bits_kl(MU, LOGVAR, -0.5)),
    ("free-bits-str", "free_bits", lambda: losses.free_bits_kl(MU, LOGVAR, "0.5")),
    ("free-bits-nan-logvar", "logvar",
     lambda: losses.free_bits_kl(MU, with_nan(LOGVAR), 0.5)),
    ("elbo-beta-neg", "beta", lambda: losses.elbo_loss(LOGITS, X, MU, LOGVAR, beta=-1.0)),
    ("elbo-beta-nan", "beta",
     lambda: losses.elbo_loss(LOGITS, X, MU, LOGVAR, beta=float("nan"))),
    ("elbo-beta-str", "beta", lambda: losses.elbo_loss(LOGITS, X, MU, LOGVAR, beta="4")),
    ("elbo-free-bits", "free_bits",
     lambda: losses.elbo_loss(LOGITS, X, MU, LOGVAR, free_bits=float("inf"))),
    ("elbo-batch", "mu", lambda: losses.elbo_loss(LOGITS, X, MU[:3], LOGVAR[:3])),
    ("elbo-x-range", "x", lambda: losses.elbo_loss(LOGITS, X + 1, MU, LOGVAR)),
    ("elbo-logvar-nan", "logvar", lambda: losses.elbo_loss(LOGITS, X, MU, with_nan(LOGVAR))),
    ("elbo-logits-nan", "logits", lambda: losses.elbo_loss(with_nan(LOGITS), X, MU, LOGVAR)),
    ("elbo-likelihood", "likelihood",
     lambda: losses.elbo_loss(LOGITS, X, MU, LOGVAR, likelihood="mse")),
    ("elbo-shape", "logits", lambda: losses.elbo_loss(LOGITS[:, 0], X, MU, LOGVAR)),
    ("elbo-empty", "logits", lambda: losses.elbo_loss(LOGITS[:0], X[:0], MU[:0], LOGVAR[:0])),
    ("elbo-mu-device", "mu",
     lambda: losses.elbo_loss(LOGITS, X, torch.empty(MU.shape, device=META),
                              torch.empty(LOGVAR.shape, device=META))),
    ("log-normal-broadcast", "z", lambda: losses.log_normal(MU, LOGVAR[:, :2], LOGVAR[:, :2])),
    ("log-normal-type", "z", lambda: losses.log_normal(1.0, MU, LOGVAR)),
    ("iwae-k-0", "k", lambda: losses.iwae_bound(TINY_VAE, X, k=0)),
    ("iwae-k-float", "k", lambda: losses.iwae_bound(TINY_VAE, X, k=2.5)),
    ("iwae-chunk-0", "chunk", lambda: losses.iwae_bound(TINY_VAE, X, k=4, chunk=0)),
    ("iwae-autoencoder", "model", lambda: losses.iwae_bound(TINY_AE, X, k=2)),
    ("iwae-not-a-model", "model", lambda: losses.iwae_bound("vae", X, k=2)),
    ("iwae-x-range", "x", lambda: losses.iwae_bound(TINY_VAE, X * 3, k=2)),
    # --- schedules --------------------------------------------------------------------------
    ("constant-neg", "beta", lambda: schedules.Constant(-1)),
    ("constant-nan", "beta", lambda: schedules.Constant(float("nan"))),
    ("constant-inf", "beta", lambda: schedules.Constant(float("inf"))),
    ("constant-str", "beta", lambda: schedules.Constant("1")),
    ("warmup-0", "warmup_steps", lambda: schedules.LinearWarmup(0)),
    ("warmup-float", "warmup_steps", lambda: schedules.LinearWarmup(10.5)),
    ("warmup-beta-max", "beta_max", lambda: schedules.LinearWarmup(10, beta_max=-2)),
    ("cyclical-period", "period", lambda: schedules.Cyclical(0)),
    ("cyclical-ratio-0", "ratio", lambda: schedules.Cyclical(10, ratio=0)),
    ("cyclical-ratio-big", "ratio", lambda: schedules.Cyclical(10, ratio=1.5)),
    ("schedule-step-neg", "step", lambda: schedules.LinearWarmup(10)(-1)),
    ("schedule-step-float", "step", lambda: schedules.Cyclical(10)(2.0)),
    ("schedule-step-bool", "step", lambda: schedules.Constant(1.0)(True)),
    ("as-schedule-str", "beta", lambda: schedules.as_schedule("warmup")),
    ("as-schedule-none", "beta", lambda: schedules.as_schedule(None)),
    # --- models -----------------------------------------------------------------------------
    ("encode-flat", "x", lambda: TINY_VAE.encode(X.flatten(1))),
    ("encode-one-image", "x", lambda: TINY_VAE(X[0])),
    ("encode-image-shape", "x", lambda: TINY_VAE(torch.rand(2, 1, 8, 8))),
    ("encode-int", "x", lambda: TINY_VAE((X * 255).to(torch.uint8))),
    ("encode-empty", "x", lambda: TINY_VAE(X[:0])),
    ("encode-list", "x", lambda: TINY_VAE.encode(X.tolist())),
    ("encode-device", "x", lambda: TINY_VAE(torch.empty(X.shape, device=META))),
    ("ae-encode-shape", "x", lambda: TINY_AE(torch.rand(2, 3, 6, 6))),
    ("decode-latent-dim", "z", lambda: TINY_VAE.decode(torch.randn(2, 5))),
    ("decode-int", "z", lambda: TINY_VAE.decode(torch.zeros(2, 3, dtype=torch.long))),
    ("decode-device", "z", lambda: TINY_VAE.decode(torch.empty(2, 3, device=META))),
    ("ae-decode-latent-dim", "z", lambda: TINY_AE.decode(torch.randn(2, 2))),
    ("reparameterize-shape", "mu", lambda: models.VAE.reparameterize(MU, LOGVAR[:, :1])),
    ("sample-0", "n", lambda: TINY_VAE.sample(0)),
    ("sample-float", "n", lambda: TINY_VAE.sample(2.5)),
    ("vae-latent-dim", "latent_dim", lambda: models.VAE(latent_dim=0)),
    ("vae-image-shape", "image_shape", lambda: models.VAE(image_shape=(28, 28))),
    ("vae-arch", "arch", lambda: models.VAE(arch="transformer")),
    # --- train ------------------------------------------------------------------------------
    ("fit-model", "model", lambda: train.fit("vae", X, steps=1, progress=False)),
    ("fit-x-list", "x_train", lambda: train.fit(tiny(), X.tolist(), steps=1, progress=False)),
    ("fit-x-3d", "x_train", lambda: train.fit(tiny(), X[:, 0], steps=1, progress=False)),
    ("fit-x-empty", "x_train", lambda: train.fit(tiny(), X[:0], steps=1, progress=False)),
    ("fit-x-uint8", "x_train",
     lambda: train.fit(tiny(), (X * 255).to(torch.uint8), steps=1, progress=False)),
    ("fit-x-range", "x_train", lambda: train.fit(tiny(), X * 255, steps=1, progress=False)),
    ("fit-x-nan", "x_train", lambda: train.fit(tiny(), with_nan(X), steps=1, progress=False)),
    ("fit-x-image-shape", "x_train",
     lambda: train.fit(tiny(), torch.rand(4, 1, 28, 28), steps=1, progress=False)),
    ("fit-x-test-nan", "x_test",
     lambda: train.fit(tiny(), X, with_nan(X), steps=1, progress=False)),
    ("fit-steps-0", "steps", lambda: train.fit(tiny(), X, steps=0, progress=False)),
    ("fit-steps-float", "steps", lambda: train.fit(tiny(), X, steps=10.0, progress=False)),
    ("fit-batch-0", "batch_size",
     lambda: train.fit(tiny(), X, steps=1, batch_size=0, progress=False)),
    ("fit-lr-0", "lr", lambda: train.fit(tiny(), X, steps=1, lr=0, progress=False)),
    ("fit-lr-nan", "lr", lambda: train.fit(tiny(), X, steps=1, lr=float("nan"),
                                           progress=False)),
    ("fit-likelihood", "likelihood",
     lambda: train.fit(tiny(), X, steps=1, likelihood="l2", progress=False)),
    ("fit-free-bits", "free_bits",
     lambda: train.fit(tiny(), X, steps=1, free_bits=-1, progress=False)),
    ("fit-seconds", "seconds", lambda: train.fit(tiny(), X, steps=1, seconds=0,
                                                 progress=False)),
    ("fit-eval-every", "eval_every",
     lambda: train.fit(tiny(), X, X, steps=1, eval_every=0, progress=False)),
    ("fit-seed", "seed", lambda: train.fit(tiny(), X, steps=1, seed=-1, progress=False)),
    ("fit-beta-str", "beta", lambda: train.fit(tiny(), X, steps=1, beta="1",
                                               progress=False)),
    ("fit-schedule-negative", "beta",
     lambda: train.fit(tiny(), X, steps=3, beta=lambda step: -1.0, progress=False)),
    ("fit-schedule-nan", "beta",
     lambda: train.fit(tiny(), X, steps=3, beta=lambda step: float("nan"), progress=False)),
    ("fit-schedule-str", "beta",
     lambda: train.fit(tiny(), X, steps=3, beta=lambda step: "one", progress=False)),
    ("evaluate-x", "x", lambda: train.evaluate(tiny(), X - 1)),
    ("evaluate-batch", "batch_size", lambda: train.evaluate(tiny(), X, batch_size=0)),
    ("evaluate-beta", "beta", lambda: train.evaluate(tiny(), X, beta=-1)),
    ("evaluate-model", "model", lambda: train.evaluate(torch.nn.Linear(2, 2), X)),
    # --- metrics ----------------------------------------------------------------------------
    ("activity-1d", "mu", lambda: metrics.latent_activity(MU[0])),
    ("activity-one-row", "mu", lambda: metrics.latent_activity(MU[:1])),
    ("activity-nan", "mu", lambda: metrics.latent_activity(with_nan(MU, 4))),
    ("activity-list", "mu", lambda: metrics.latent_activity(MU.tolist())),
    ("activity-int", "mu", lambda: metrics.latent_activity(MU.long())),
    ("active-threshold-neg", "threshold", lambda: metrics.active_units(MU, threshold=-0.1)),
    ("active-threshold-str", "threshold", lambda: metrics.active_units(MU, threshold="0.01")),
    ("active-inf", "mu", lambda: metrics.active_units(with_inf(MU))),
    ("encode-all-model", "model", lambda: metrics.encode_all(torch.nn.Linear(2, 2), X)),
    ("encode-all-empty", "x", lambda: metrics.encode_all(TINY_VAE, X[:0])),
    ("encode-all-batch", "batch_size", lambda: metrics.encode_all(TINY_VAE, X, batch_size=0)),
    ("encode-all-shape", "x", lambda: metrics.encode_all(TINY_VAE, torch.rand(3, 1, 7, 7))),
    ("auroc-one-class", "labels", lambda: metrics.auroc([0.1, 0.2, 0.3], [0, 0, 0])),
    ("auroc-labels-range", "labels", lambda: metrics.auroc([0.1, 0.2, 0.3], [0, 1, 2])),
    ("auroc-labels-len", "labels", lambda: metrics.auroc([0.1, 0.2, 0.3], [0, 1])),
    ("auroc-scores-nan", "scores", lambda: metrics.auroc([0.1, float("nan")], [0, 1])),
    ("auroc-scores-2d", "scores", lambda: metrics.auroc(torch.rand(2, 2), [0, 1])),
    ("auroc-scores-empty", "scores", lambda: metrics.auroc([], [])),
    ("auroc-scores-str", "scores", lambda: metrics.auroc("high", [0, 1])),
    ("roc-one-class", "labels", lambda: metrics.roc_curve([0.1, 0.2], [1, 1])),
    ("roc-scores-inf", "scores", lambda: metrics.roc_curve([0.1, float("inf")], [0, 1])),
    # --- anomaly scores and latent-space walks ---------------------------------------------
    ("anomaly-x-flat", "x", lambda: anomaly.reconstruction_error(TINY_VAE, X.flatten(1))),
    ("anomaly-x-empty", "x", lambda: anomaly.reconstruction_error(TINY_VAE, X[:0])),
    ("anomaly-x-int", "x", lambda: anomaly.negative_elbo(TINY_VAE, X.long())),
    ("anomaly-x-range", "x", lambda: anomaly.reconstruction_error(TINY_VAE, X * 9)),
    ("anomaly-model", "model", lambda: anomaly.reconstruction_error("vae", X)),
    ("anomaly-batch", "batch_size",
     lambda: anomaly.reconstruction_error(TINY_VAE, X, batch_size=0)),
    ("anomaly-samples", "samples", lambda: anomaly.negative_elbo(TINY_VAE, X, samples=0)),
    ("lerp-nan", "a", lambda: latent.lerp(with_nan(MU[0]), MU[1], 5)),
    ("lerp-empty-t", "t", lambda: latent.lerp(MU[0], MU[1], [])),
    ("lerp-t-nan", "t", lambda: latent.lerp(MU[0], MU[1], [0.0, float("nan")])),
    ("lerp-t-str", "t", lambda: latent.lerp(MU[0], MU[1], "ab")),
    ("slerp-b-inf", "b", lambda: latent.slerp(MU[0], with_inf(MU[1]), 5)),
    ("lerp-steps-1", "steps", lambda: latent.lerp(MU[0], MU[1], 1)),
    ("interpolate-method", "method", lambda: latent.interpolate(MU[0], MU[1], method="cubic")),
    ("interpolate-images-shapes", "x1",
     lambda: latent.interpolate_images(TINY_VAE, X[0], X[1, :, :5])),
    ("interpolate-images-model", "model", lambda: latent.interpolate_images(None, X[0], X[1])),
    ("attribute-codes-nan", "codes",
     lambda: latent.attribute_vector(with_nan(MU), torch.tensor([0, 1, 0, 1]))),
    ("attribute-mask", "has_attribute",
     lambda: latent.attribute_vector(MU, torch.tensor([0, 2, 0, 1]))),
    ("apply-strength-nan", "strengths",
     lambda: latent.apply_attribute(MU, MU[0], float("nan"))),
    ("apply-vector", "vector", lambda: latent.apply_attribute(MU, MU[0, :2], 1.0)),
    # --- classifier -------------------------------------------------------------------------
    ("ruler-train-shape", "x",
     lambda: classifier.train_classifier(torch.rand(5, 1, 32, 32), GOOD_LABELS, steps=1)),
    ("ruler-train-labels-float", "y",
     lambda: classifier.train_classifier(GOOD_DIGITS, GOOD_LABELS.float(), steps=1)),
    ("ruler-train-labels-len", "y",
     lambda: classifier.train_classifier(GOOD_DIGITS, GOOD_LABELS[:4], steps=1)),
    ("ruler-train-label-10", "y",
     lambda: classifier.train_classifier(GOOD_DIGITS, GOOD_LABELS + 6, steps=1)),
    ("ruler-train-steps", "steps",
     lambda: classifier.train_classifier(GOOD_DIGITS, GOOD_LABELS, steps=0)),
    ("ruler-confidence-logits", "images",
     lambda: classifier.digit_confidence(classifier.make_classifier(), GOOD_DIGITS * 8 - 4)),
    ("ruler-confidence-shape", "images",
     lambda: classifier.digit_confidence(classifier.make_classifier(), GOOD_DIGITS[:, 0])),
    ("ruler-likeness-nan", "images",
     lambda: classifier.digit_likeness(classifier.make_classifier(), with_nan(GOOD_DIGITS))),
    ("ruler-not-a-model", "classifier",
     lambda: classifier.digit_confidence(lambda x: x, GOOD_DIGITS)),
    ("ruler-accuracy-labels", "y",
     lambda: classifier.accuracy(classifier.make_classifier(), GOOD_DIGITS, GOOD_LABELS[:2])),
    # --- plots ------------------------------------------------------------------------------
    ("show-empty", "images", lambda: plots.show_images(X[:0])),
    ("show-nan", "images", lambda: plots.show_images(with_nan(X))),
    ("show-rgb", "images", lambda: plots.show_images(torch.rand(2, 3, 6, 6))),
    ("show-nrow", "nrow", lambda: plots.show_images(X, nrow=0)),
    ("show-row-labels", "row_labels", lambda: plots.show_images(X, nrow=4,
                                                                row_labels=["a", "b"])),
    ("show-strings", "images", lambda: plots.show_images("digits")),
    ("latent-map-3d", "z", lambda: plots.plot_latent_map(MU, torch.arange(4))),
    ("latent-map-nan", "z", lambda: plots.plot_latent_map(with_nan(MU[:, :2]),
                                                          torch.arange(4))),
    ("latent-map-labels", "labels", lambda: plots.plot_latent_map(MU[:, :2], torch.arange(3))),
    ("latent-map-empty", "z", lambda: plots.plot_latent_map(MU[:0, :2], torch.arange(0))),
    ("latent-map-max-points", "max_points",
     lambda: plots.plot_latent_map(MU[:, :2], torch.arange(4), max_points=0)),
    ("history-type", "history", lambda: plots.plot_history({"loss": [1.0]})),
    ("history-empty", "history", lambda: plots.plot_history(FakeHistory())),
    # --- cache and data ---------------------------------------------------------------------
    ("cache-name-slash", "name", lambda: cache.config_key("../escape", {})),
    ("cache-name-empty", "name", lambda: cache.config_key("", {})),
    ("cache-config", "config", lambda: cache.config_key("vae", ["latent", 2])),
    ("cache-save-model", "model", lambda: cache.save_checkpoint({"w": 1}, "/tmp/x.pt")),
    ("cache-save-path", "path", lambda: cache.save_checkpoint(TINY_VAE, None)),
    ("cache-load-model", "model", lambda: cache.load_checkpoint("vae", "/tmp/x.pt")),
    ("cache-make-model", "make_model",
     lambda: cache.train_or_load("m", {}, "VAE()", lambda m: None, folder="/tmp/unused")),
    ("cache-make-model-returns", "make_model",
     lambda: cache.train_or_load("m", {}, lambda: "VAE", lambda m: None, folder="/tmp/unused")),
    ("cache-train", "train",
     lambda: cache.train_or_load("m", {}, lambda: TINY_VAE, None, folder="/tmp/unused")),
    ("data-root", "root", lambda: data.load_mnist(root=5)),
    ("data-root-download", "root", lambda: data.download_mnist(root=["data"])),
]


@pytest.mark.parametrize("argument, call", [(a, c) for _, a, c in BAD_INPUTS],
                         ids=[i for i, _, _ in BAD_INPUTS])
def test_bad_input_names_the_argument_what_was_expected_and_what_was_given(argument, call):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    message = str(err.value)
    assert message.startswith(argument), message
    assert "expected" in message and "got" in message, message
    assert "Traceback" not in message and len(message) < 400, message


def test_the_catalogue_tries_every_fault_class():
    """Keeps the table above honest: every class of bad input appears in it."""
    ids = " ".join(i for i, _, _ in BAD_INPUTS)
    for fault in ("shape", "int", "device", "range", "nan", "inf", "empty", "str", "list"):
        assert fault in ids, fault


def test_messages_describe_what_was_given():
    with pytest.raises(ValueError) as err:
        losses.kl_divergence(MU[0], LOGVAR[0])
    assert "shape (3,)" in str(err.value) and "(batch, latent_dim)" in str(err.value)
    with pytest.raises(ValueError) as err:
        losses.reconstruction_loss(LOGITS, X * 255)
    assert "max 2" in str(err.value) and "[0, 1]" in str(err.value)
    with pytest.raises(ValueError) as err:
        losses.kl_divergence(MU, with_nan(with_inf(LOGVAR, 1), 2))
    assert "1 NaN and 1 infinite among 12 values" in str(err.value)
    with pytest.raises(ValueError, match="^device"):
        train.fit(tiny(), X, steps=1, device="gpu0", progress=False)
    with pytest.raises(TypeError, match="divide uint8 images by 255"):
        train.fit(tiny(), (X * 255).to(torch.uint8), steps=1, progress=False)
    assert describe([1, 2]) == "[1, 2] (list)"
    assert "dtype float32" in describe(torch.zeros(2))


def test_checks_accept_what_they_should():
    """The checks reject bad input only: edge cases that are valid still work."""
    x01 = (X > 0.5).float()  # exactly 0 and 1
    assert losses.reconstruction_loss(LOGITS, x01).shape == (4,)
    assert losses.reconstruction_loss(LOGITS.flatten(1), x01.flatten(1)).shape == (4,)
    assert losses.reconstruction_loss(LOGITS, X * 3 - 1, "gaussian", sigma=0.5).shape == (4,)
    assert losses.elbo_loss(LOGITS, X, MU, LOGVAR, beta=torch.tensor(2.0)).loss.ndim == 0
    assert losses.elbo_loss(LOGITS, X, MU, LOGVAR, beta=np.float32(0.5)).loss.ndim == 0
    assert losses.elbo_loss(LOGITS[:1], X[:1], MU[:1], LOGVAR[:1]).loss.ndim == 0  # batch of 1
    assert schedules.LinearWarmup(np.int64(10))(np.int64(5)) == 0.5
    assert TINY_VAE.decode(torch.zeros(3)).shape == (1, 1, 6, 6)  # one code, no batch dim
    # Blends of images in [0, 1] may round a hair above 1; the digit ruler allows for it.
    ruler = classifier.make_classifier()
    blend = GOOD_DIGITS.clone()
    blend[0, 0, 0, 0] = 1 + 1e-6
    assert classifier.digit_confidence(ruler, blend).shape == (5,)
    # and a loss on the hot path still carries gradients
    mu = MU.clone().requires_grad_()
    losses.kl_divergence(mu, LOGVAR).sum().backward()
    assert torch.allclose(mu.grad, MU)


def test_value_checks_read_back_once(monkeypatch):
    """The value checks of one call cost one read-back (one GPU sync), however many tensors."""
    calls = []
    for method in ("__bool__", "item", "tolist"):  # every way a tensor's value reaches Python
        original = getattr(torch.Tensor, method)

        def counting(self, *args, _original=original, **kwargs):
            calls.append(1)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counting)
    check_values(finite={"a": LOGITS, "b": MU, "c": LOGVAR}, unit={"x": X})
    assert len(calls) == 1
    with pytest.raises(ValueError):
        check_values(finite={"a": LOGITS, "b": with_nan(MU)})
    assert len(calls) > 2  # the slow path looks closer, only when something is wrong


# --- property-based ---------------------------------------------------------------------------

def tensors(shape_strategy, low=-5.0, high=5.0):
    """Float32 tensors of a drawn shape with values drawn in [low, high]."""
    return shape_strategy.flatmap(lambda shape: st.lists(
        st.floats(low, high, allow_nan=False, width=32), min_size=math.prod(shape),
        max_size=math.prod(shape)).map(lambda v: torch.tensor(v, dtype=torch.float32)
                                       .view(shape)))


BATCH_LATENT = st.tuples(st.integers(1, 6), st.integers(1, 5))


@SETTINGS
@given(data=st.data())
def test_losses_keep_their_properties_on_any_valid_input(data):
    shape = data.draw(BATCH_LATENT)
    mu = data.draw(tensors(st.just(shape)))
    logvar = data.draw(tensors(st.just(shape)))
    kl = losses.kl_divergence(mu, logvar)
    assert kl.shape == (shape[0],) and bool((kl >= -1e-4).all())  # KL is never negative
    per_dim = losses.kl_per_dimension(mu, logvar)
    assert torch.allclose(per_dim.sum(), kl.mean(), rtol=1e-4, atol=1e-3)
    free = data.draw(st.floats(0, 3))
    assert losses.free_bits_kl(mu, logvar, free) >= per_dim.sum() - 1e-3

    pix = (shape[0], data.draw(st.integers(1, 12)))
    logits = data.draw(tensors(st.just(pix), -20, 20))
    x = data.draw(tensors(st.just(pix), 0, 1))
    recon = losses.reconstruction_loss(logits, x)
    assert recon.shape == (shape[0],) and bool((recon >= -1e-4).all())  # cross-entropy >= 0
    beta = data.draw(st.floats(0, 10))
    terms = losses.elbo_loss(logits, x, mu, logvar, beta=beta)
    assert torch.allclose(terms.loss, terms.recon + beta * terms.kl, rtol=1e-4, atol=1e-3)


@SETTINGS
@given(data=st.data())
def test_a_nan_anywhere_in_loss_input_is_named(data):
    shape = data.draw(BATCH_LATENT)
    mu = data.draw(tensors(st.just(shape)))
    logvar = data.draw(tensors(st.just(shape)))
    logits = torch.zeros(shape[0], 1, 2, 2)
    x = torch.full_like(logits, 0.5)
    args = {"logits": logits, "x": x, "mu": mu, "logvar": logvar}
    target = data.draw(st.sampled_from(sorted(args)))
    index = data.draw(st.integers(0, args[target].numel() - 1))
    bad = data.draw(st.sampled_from([float("nan"), float("inf"), -float("inf")]))
    args[target] = args[target].clone()
    args[target].view(-1)[index] = bad
    with pytest.raises(ValueError) as err:
        losses.elbo_loss(**args)
    assert str(err.value).startswith(target)
    if target in ("mu", "logvar"):
        with pytest.raises(ValueError, match=f"^{target}"):
            losses.kl_divergence(args["mu"], args["logvar"])


@SETTINGS
@given(x=st.floats(allow_nan=True, allow_infinity=True, width=32))
def test_pixels_outside_zero_one_are_always_caught(x):
    images = torch.full((2, 1, 2, 2), 0.5)
    images[1, 0, 1, 1] = x
    if 0 <= x <= 1:
        assert losses.reconstruction_loss(torch.zeros_like(images), images).shape == (2,)
    else:
        with pytest.raises(ValueError, match="^x"):
            losses.reconstruction_loss(torch.zeros_like(images), images)


@SETTINGS
@given(warmup=st.integers(1, 10_000), beta_max=st.floats(0, 100),
       steps=st.lists(st.integers(0, 50_000), min_size=2, max_size=20))
def test_linear_warmup_rises_to_beta_max_and_stays(warmup, beta_max, steps):
    schedule = schedules.LinearWarmup(warmup, beta_max)
    values = [schedule(s) for s in sorted(steps)]
    assert all(0 <= v <= beta_max for v in values)
    assert all(a <= b for a, b in zip(values, values[1:]))  # never decreases
    assert schedule(0) == 0 and schedule(warmup) == beta_max and schedule(warmup * 3) == beta_max


@SETTINGS
@given(period=st.integers(1, 5_000), ratio=st.floats(0.01, 1), beta_max=st.floats(0, 100),
       step=st.integers(0, 100_000), cycles=st.integers(1, 5))
def test_cyclical_schedule_repeats_every_period(period, ratio, beta_max, step, cycles):
    schedule = schedules.Cyclical(period, ratio, beta_max)
    assert 0 <= schedule(step) <= beta_max
    assert schedule(step) == schedule(step + cycles * period)
    assert schedule(cycles * period) == 0


@SETTINGS
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                       st.integers(-10**6, 10**6), st.text(max_size=3), st.none(),
                       st.booleans()))
def test_schedule_arguments_are_accepted_exactly_when_valid(value):
    valid_beta = (isinstance(value, (int, float)) and not isinstance(value, bool)
                  and math.isfinite(value) and value >= 0)
    if valid_beta:
        assert schedules.Constant(value)(3) == float(value)
    else:
        with pytest.raises(ValueError, match="^beta"):
            schedules.Constant(value)
    valid_steps = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if valid_steps:
        assert schedules.LinearWarmup(value)(0) == 0
    else:
        with pytest.raises(ValueError, match="^warmup_steps"):
            schedules.LinearWarmup(value)


@SETTINGS
@given(data=st.data())
def test_active_units_and_activity_keep_their_properties(data):
    shape = data.draw(st.tuples(st.integers(2, 30), st.integers(1, 6)))
    mu = data.draw(tensors(st.just(shape), -3, 3))
    activity = metrics.latent_activity(mu)
    assert activity.shape == (shape[1],) and bool((activity >= 0).all())
    threshold = data.draw(st.floats(0, 2))
    n = metrics.active_units(mu, threshold)
    assert 0 <= n <= shape[1] and n == int((activity > threshold).sum())
    # shifting every code by a constant changes no variance; a dimension made constant is inactive
    assert torch.allclose(metrics.latent_activity(mu + 5), activity, atol=1e-3)
    flat = mu.clone()
    flat[:, 0] = 0.7
    assert metrics.latent_activity(flat)[0] < 1e-10  # zero up to rounding


@SETTINGS
@given(data=st.data())
def test_auroc_keeps_its_properties(data):
    n = data.draw(st.integers(2, 40))
    labels = data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)
                       .filter(lambda v: 0 < sum(v) < len(v)))
    scores = np.array(data.draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n)))
    value = metrics.auroc(scores, labels)
    assert 0 <= value <= 1
    assert abs(metrics.auroc(-scores, labels) - (1 - value)) < 1e-9  # flipping the sign
    assert metrics.auroc(np.array(labels, float), labels) == 1.0  # labels as scores: perfect
    fpr, tpr = metrics.roc_curve(scores, torch.tensor(labels))
    assert fpr[0] == 0 and tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy 1.x has only trapz
    assert abs(trapezoid(tpr, fpr) - value) < 1e-9


@SETTINGS
@given(data=st.data())
def test_any_nan_in_codes_or_scores_is_named(data):
    n = data.draw(st.integers(2, 20))
    mu = torch.randn(n, 3)
    mu.view(-1)[data.draw(st.integers(0, 3 * n - 1))] = data.draw(
        st.sampled_from([float("nan"), float("inf"), -float("inf")]))
    with pytest.raises(ValueError, match="^mu"):
        metrics.active_units(mu)
    scores = np.linspace(0, 1, n)
    scores[data.draw(st.integers(0, n - 1))] = float("nan")
    with pytest.raises(ValueError, match="^scores"):
        metrics.auroc(scores, np.arange(n) % 2)


# --- the exercise checks (vae_course.checks) never raise on bad learner code ----------------------

def garbage_values():
    """Things a half-finished exercise function might return."""
    shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
    dtypes = st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool])
    tensor = st.tuples(shapes, dtypes, st.sampled_from([0.0, 1.0, float("nan"), float("inf")])) \
        .map(lambda a: torch.full(a[0], a[2]).to(a[1]) if a[1].is_floating_point
             else torch.zeros(a[0], dtype=a[1]))
    simple = st.one_of(st.none(), st.integers(-3, 3), st.floats(allow_nan=True),
                       st.text(max_size=3), st.just([1, 2]), st.just({"loss": 1}), tensor,
                       st.just(np.zeros(3)))
    return st.one_of(simple, st.tuples(simple, simple), st.tuples(simple, simple, simple))


def learner_functions():
    """A learner function that returns garbage, raises, or echoes its input."""
    errors = st.sampled_from([ValueError, RuntimeError, TypeError, ZeroDivisionError,
                              IndexError, AttributeError, KeyError, AssertionError])

    def returning(value):
        return lambda *args, **kwargs: value

    def raising(error):
        def fn(*args, **kwargs):
            raise error("boom")
        return fn

    def echo(*args, **kwargs):
        return args[0] if args else None

    def echo_nan(*args, **kwargs):
        return args[0] * float("nan")

    return st.one_of(garbage_values().map(returning), errors.map(raising),
                     st.sampled_from([echo, echo_nan]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fn=learner_functions(), name=st.sampled_from(
    ["reparameterize", "kl_divergence", "elbo_loss", "linear_warmup", "train_step",
     "active_units", "mig", "interpolate"]))
def test_checks_turn_any_bad_learner_code_into_feedback(fn, name):
    checks = pytest.importorskip("vae_course.checks")
    check = checks.CHECKS.get(name)
    if check is None:
        pytest.skip(f"no check named {name} in vae_course.checks")
    result = check(fn, show=False)  # must not raise
    assert result.status in (checks.PASS, checks.TODO, checks.MISTAKE, checks.FAIL)
    assert result.status != checks.PASS, (name, result)  # garbage never passes
    assert result.message and "Traceback" not in result.message
    assert checks.MARKER_RE.match(result.marker()), result.marker()


@pytest.mark.parametrize("not_a_function", [None, 3, "kl_divergence", torch.zeros(2)])
def test_checks_explain_a_missing_function(not_a_function):
    checks = pytest.importorskip("vae_course.checks")
    for name, check in checks.CHECKS.items():
        result = check(not_a_function, show=False)
        assert result.status == checks.FAIL and "pass the function itself" in result.message
