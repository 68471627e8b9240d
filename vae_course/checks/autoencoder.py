"""Check of the ``Autoencoder`` class (exercise 01): shapes of ``encode``/``decode``/``forward``,
logits rather than probabilities, an activation between the layers, the parameter count of the
course's ``vae_course.models.Autoencoder`` with the same sizes, a gradient for every parameter,
and a short training run from the learner's module that gets close to the course's model."""

import torch

from ..models import Autoencoder as CourseAutoencoder
from .framework import exercise_check
from .gradients import compare_module_gradients
from .nn_module import (PIXELS, bce, build, call, diagnose_count, explain_module_error, images,
                        is_affine, tensor_of_shape, train_next_to_course)


def _shapes(check, model, name, latent, hidden):
    x = images(5)
    z = call(check, f"{name}.encode(x)", model.encode, x.clone())
    if isinstance(z, torch.Tensor) and tuple(z.shape) == (5, hidden) and hidden != latent:
        check.mistake("ae.code_is_hidden_layer",
                      f"encode(x) returned shape (5, {hidden}): the hidden layer, not the code. "
                      f"The encoder needs a last linear layer from `hidden` to `latent_dim` "
                      f"({latent} here).")
    if isinstance(z, torch.Tensor) and z.ndim == 2 and len(z) == 5 and z.shape[1] != latent:
        check.mistake("ae.latent_dim_ignored",
                      f"with latent_dim={latent} encode(x) returned codes of "
                      f"{z.shape[1]} numbers: use the latent_dim argument for the encoder's "
                      f"last layer and the decoder's first.")
    z = tensor_of_shape(check, z, (5, latent), f"{name}.encode(x) for 5 images")
    if bool((z >= 0).all()):
        check.mistake("ae.relu_on_code",
                      "every number of every code is ≥ 0: the encoder ends with a ReLU, which "
                      "throws away half of the code space. The last layer of the encoder is "
                      "linear, with no activation after it.")
    logits = call(check, f"{name}.decode(z)", model.decode, z.detach().clone())
    if isinstance(logits, torch.Tensor) and tuple(logits.shape) == (5, PIXELS):
        check.mistake("ae.decode_not_reshaped",
                      f"decode(z) returned shape (5, {PIXELS}): give the 784 numbers of each "
                      f"image the image's shape back, (batch, 1, 28, 28) — e.g. "
                      f".view(-1, 1, 28, 28).")
    logits = tensor_of_shape(check, logits, (5, 1, 28, 28), f"{name}.decode(z) for 5 codes")
    if bool((logits >= 0).all()) and bool((logits == 0).any()):
        check.mistake("ae.relu_on_logits",
                      "no output of decode is negative, and some are exactly 0: the decoder "
                      "ends with a ReLU. Logits must be able to go negative (a logit of −5 is an "
                      "almost white pixel); the decoder's last layer is linear.")
    if bool(((logits > 0) & (logits < 1)).all()):
        check.mistake("ae.sigmoid_in_model",
                      "every output of decode is between 0 and 1: the model ends with a sigmoid. "
                      "The course's models return logits (any real number); the loss "
                      "(binary_cross_entropy_with_logits) applies the sigmoid itself, and "
                      "torch.sigmoid(logits) gives the picture.")
    out = call(check, f"{name}.forward(x)", model, x.clone())
    out = tensor_of_shape(check, out, (5, 1, 28, 28), f"{name}(x), i.e. forward,")
    with torch.no_grad():
        composed = model.decode(model.encode(x.clone()))
    if not torch.allclose(out, composed, atol=1e-5, rtol=1e-4):
        if torch.allclose(out, torch.sigmoid(composed), atol=1e-5):
            check.mistake("ae.sigmoid_in_model",
                          "forward applies a sigmoid to the decoder's output: return the "
                          "logits, decode(encode(x)); the loss applies the sigmoid itself, "
                          "and torch.sigmoid(logits) gives the picture.")
        check.mistake("ae.forward_not_composed",
                      "forward(x) differs from decode(encode(x)): forward should encode the "
                      "images and decode the codes, nothing else.")
    first = call(check, f"{name}.forward(x)", model, x[:1].clone())
    if not torch.allclose(first, out[:1], atol=1e-5, rtol=1e-4):
        check.mistake("ae.images_mixed",
                      "the output for the first image changes when other images are in the "
                      "batch: flatten each image separately (keep the batch dimension: "
                      "nn.Flatten() or x.view(len(x), -1)), never the whole batch.")
    return x, out


@exercise_check("autoencoder", "Autoencoder(latent_dim, hidden)",
                explain=explain_module_error)
def check_autoencoder(check, cls):
    """Check ``class Autoencoder(nn.Module)`` with ``__init__(latent_dim, hidden)``, ``encode``,
    ``decode`` (logits) and ``forward``."""
    name = getattr(cls, "__name__", "Autoencoder")
    latent, hidden = 3, 16
    model = build(check, cls, latent_dim=latent, hidden=hidden)
    x, out = _shapes(check, model, name, latent, hidden)

    a, b = images(4, seed=1), images(4, seed=2)
    z_a, z_b = model.encode(a), model.encode(b)
    if is_affine(model.encode, a, b) and is_affine(model.decode, z_a.detach(), z_b.detach()):
        check.mistake("ae.no_activation",
                      "your model is linear: without a nonlinearity between its layers, "
                      "two linear layers are just one, and the autoencoder can do no more than "
                      "PCA. Put a ReLU after the first linear layer of the encoder and of the "
                      "decoder.")
    model.zero_grad()
    loss = bce(out, x)
    compare_module_gradients(check, model, loss)

    expected = diagnose_count(check, model, name, CourseAutoencoder, "ae", latent, hidden)
    got, ref = train_next_to_course(check, cls, CourseAutoencoder,
                                    lambda model, xb: bce(model(xb), xb))
    return check.passed(f"encode → latent_dim numbers, decode → logits of shape (1, 28, 28), "
                        f"forward = decode(encode(x)); the parameter count matches the lecture's "
                        f"model ({expected:,} for latent_dim=3, hidden=16), every parameter gets "
                        f"a gradient, and 300 training steps take the loss to {got:.1f} "
                        f"nats/image (the lecture's model: {ref:.1f}).")
