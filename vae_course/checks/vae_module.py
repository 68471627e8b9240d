"""Check of the ``VAE`` class (exercise 03): ``encode`` gives the pair (mu, logvar),
``reparameterize`` draws z = mu + sigma·eps with gradients to both, ``decode`` gives logits,
``forward`` decodes a *sample* and returns (logits, mu, logvar); the parameter count of the
course's ``vae_course.models.VAE``, a gradient for every parameter, and a short training run
that gets close to the course's model."""

import math

import torch

from ..losses import elbo_loss as course_elbo_loss
from ..models import VAE as CourseVAE
from .compare import fmt
from .framework import exercise_check
from .gradients import compare_gradients, compare_module_gradients, leaves
from .nn_module import (PIXELS, bce, build, call, diagnose_count, explain_module_error, images,
                        is_affine, tensor_of_shape, train_next_to_course)

def _encode(check, model, name, x, latent, hidden):
    out = call(check, f"{name}.encode(x)", model.encode, x.clone())
    if isinstance(out, torch.Tensor):
        if out.ndim == 2 and out.shape[1] == 2 * latent:
            check.mistake("vae.encode_not_split",
                          f"encode(x) returned one tensor of shape {tuple(out.shape)}; return "
                          f"the pair (mu, logvar): the first {latent} numbers of each row and "
                          f"the last {latent} (e.g. .chunk(2, dim=1)).")
        check.fail(f"encode(x) returned one tensor of shape {tuple(out.shape)}; expected the "
                   f"pair (mu, logvar), each of shape ({len(x)}, {latent}).")
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        check.fail(f"encode(x) returned {type(out).__name__}"
                   f"{' of ' + str(len(out)) + ' items' if isinstance(out, (tuple, list)) else ''}"
                   f"; expected the pair (mu, logvar), each of shape ({len(x)}, {latent}).")
    mu, logvar = out
    for part, value in (("mu", mu), ("logvar", logvar)):
        if isinstance(value, torch.Tensor) and value.ndim == 2 and len(value) == len(x) \
                and value.shape[1] in (hidden, hidden // 2) and value.shape[1] != latent:
            check.mistake("vae.code_is_hidden_layer",
                          f"{part} has shape {tuple(value.shape)}, the width of the hidden "
                          f"layer: the encoder needs a last linear layer to 2·latent_dim "
                          f"numbers, split into mu and logvar.")
        tensor_of_shape(check, value, (len(x), latent), f"{name}.encode(x): {part}")
    if torch.allclose(mu, logvar):
        check.mistake("vae.mu_is_logvar",
                      "encode returned the same numbers as mu and as logvar: the two need their "
                      "own outputs (the first and the second half of the encoder's last "
                      "layer, or two separate layers).")
    if bool((mu >= 0).all() and (logvar >= 0).all()):
        check.mistake("vae.relu_on_encoder_output",
                      "every mu and every logvar is ≥ 0: the encoder ends with a ReLU. Both "
                      "need the whole real line (a logvar of −4 is a confident code); the last "
                      "layer of the encoder is linear.")
    return mu, logvar


def _reparameterize(check, model, name):
    """Mean, spread and gradients of model.reparameterize, against z = mu + sigma·eps built from
    the learner's own eps (so the comparison needs no shared random stream)."""
    what = f"{name}.reparameterize(mu, logvar)"
    n = 20000
    lv_cols = torch.tensor([math.log(4.0), math.log(0.25), 1.0, -2.0])
    mu_cols = torch.tensor([1.0, -2.0, 0.5, 3.0])
    big_mu, big_lv = mu_cols.expand(n, 4).clone(), lv_cols.expand(n, 4).clone()
    z = tensor_of_shape(check, call(check, what, model.reparameterize, big_mu, big_lv), (n, 4),
                        what).detach().double()
    sigma = torch.exp(0.5 * lv_cols).double()
    if torch.allclose(z, big_mu.double()):
        check.mistake("vae.no_noise", "reparameterize returned mu itself: no noise was added. "
                                      "z = mu + sigma·eps with fresh eps ~ N(0, I).")
    got_mean, got_std = z.mean(0), z.std(0)
    if not torch.allclose(got_mean, mu_cols.double(), atol=0.1, rtol=0):
        check.fail(f"the mean of z over many draws should be mu = {fmt(mu_cols)}; yours is "
                   f"{fmt(got_mean)}.")
    scales = [("vae.variance_as_scale", lv_cols.exp().double(), "you scaled the noise by "
               "sigma² = exp(logvar); the scale is sigma = exp(½·logvar)"),
              ("vae.logvar_as_scale", lv_cols.abs().double(), "you scaled the noise by logvar "
               "itself; the scale is sigma = exp(½·logvar)")]
    if not torch.allclose(got_std, sigma, rtol=0.04, atol=0):
        for code, scale, text in scales:
            if torch.allclose(got_std, scale, rtol=0.04, atol=0.02):
                check.mistake(code, f"{text} (spread {fmt(got_std)} for logvar = "
                                    f"{fmt(lv_cols)}; expected {fmt(sigma)}).")
        check.fail(f"the spread of z should be sigma = exp(½·logvar) = {fmt(sigma)} for "
                   f"logvar = {fmt(lv_cols)}; yours is {fmt(got_std)}.")

    g = torch.Generator().manual_seed(3)
    mu0, lv0 = torch.randn(6, 3, generator=g), torch.rand(6, 3, generator=g) * 2 - 1
    mine, ref = leaves(mu=mu0, logvar=lv0), leaves(mu=mu0, logvar=lv0)
    got = call(check, what, model.reparameterize, mine["mu"], mine["logvar"])
    got = tensor_of_shape(check, got, (6, 3), what)
    eps = ((got.detach() - mu0) / torch.exp(0.5 * lv0))  # the learner's own noise
    expected = ref["mu"] + torch.exp(0.5 * ref["logvar"]) * eps
    compare_gradients(check, got, expected, mine, ref, what="the sample z")


def _forward(check, model, name, x, latent):
    out = call(check, f"{name}.forward(x)", model, x.clone())
    if not (isinstance(out, (tuple, list)) and len(out) == 3):
        check.fail(f"forward(x) returned {type(out).__name__}"
                   f"{' of ' + str(len(out)) + ' items' if isinstance(out, (tuple, list)) else ''}"
                   f"; expected the triple (logits, mu, logvar).")
    shapes = [tuple(t.shape) if isinstance(t, torch.Tensor) else None for t in out]
    want = [(len(x), *x.shape[1:]), (len(x), latent), (len(x), latent)]
    if shapes != want and sorted(map(str, shapes)) == sorted(map(str, want)):
        check.mistake("vae.forward_order",
                      f"forward(x) returned its three tensors in another order (shapes "
                      f"{shapes}); the course's order is (logits, mu, logvar), the one "
                      f"elbo_loss(logits, x, mu, logvar) expects.")
    logits, mu, logvar = out
    if isinstance(logits, torch.Tensor) and tuple(logits.shape) == (len(x), PIXELS):
        check.mistake("vae.decode_not_reshaped",
                      f"the logits have shape {tuple(logits.shape)}: give them the image's shape "
                      f"back, (batch, 1, 28, 28).")
    logits = tensor_of_shape(check, logits, want[0], f"{name}(x): logits")
    tensor_of_shape(check, mu, want[1], f"{name}(x): mu")
    tensor_of_shape(check, logvar, want[2], f"{name}(x): logvar")
    if bool(((logits >= 0) & (logits <= 1)).all()):
        check.mistake("vae.sigmoid_in_model",
                      "every output of decode is between 0 and 1: the model ends with a sigmoid. "
                      "Return logits; the loss applies the sigmoid itself.")
    with torch.no_grad():
        mu_e, logvar_e = model.encode(x.clone())
    if not (torch.allclose(mu, mu_e, atol=1e-5) and torch.allclose(logvar, logvar_e, atol=1e-5)):
        check.fail("the mu and logvar that forward(x) returns differ from encode(x): return the "
                   "encoder's outputs.")
    with torch.no_grad():
        decoded_mean = model.decode(mu_e)
        again = model(x.clone())[0]
    if torch.allclose(logits, decoded_mean, atol=1e-5):
        check.mistake("vae.forward_decodes_mu",
                      "forward(x) decodes mu itself, so it never samples: the decoder only ever "
                      "sees the centre of q(z|x), and the KL term has nothing to balance. "
                      "Decode z = reparameterize(mu, logvar).")
    recon = bce(logits, x)
    grads = torch.autograd.grad(recon, [mu, logvar], allow_unused=True, retain_graph=True)
    if all(g is None or not g.abs().sum() > 0 for g in grads):
        check.mistake("vae.sample_detached",
                      "the reconstruction term sends no gradient back through the sample z to "
                      "mu and logvar (is z detached, or drawn with .sample()?): the encoder "
                      "would learn only from the KL and encode nothing. Compute z = mu + "
                      "sigma·eps inside autograd.")
    if torch.allclose(logits, again, atol=1e-6):
        check.mistake("vae.forward_not_random",
                      "two calls of forward(x) gave the same logits: the sample z must be drawn "
                      "afresh on every call.")
    return out


@exercise_check("vae_module", "VAE(latent_dim, hidden)",
                explain=explain_module_error)
def check_vae_module(check, cls):
    """Check ``class VAE(nn.Module)`` with ``__init__(latent_dim, hidden)``, ``encode`` ->
    (mu, logvar), ``reparameterize``, ``decode`` -> logits, ``forward`` -> (logits, mu,
    logvar)."""
    name = getattr(cls, "__name__", "VAE")
    latent, hidden = 3, 16
    model = build(check, cls, latent_dim=latent, hidden=hidden)
    x = images(5)
    _encode(check, model, name, x, latent, hidden)
    _reparameterize(check, model, name)
    logits, mu, logvar = _forward(check, model, name, x, latent)

    a, b = images(4, seed=1), images(4, seed=2)
    if is_affine(lambda t: torch.cat(model.encode(t), 1), a, b) and \
            is_affine(model.decode, torch.randn(4, latent), torch.randn(4, latent)):
        check.mistake("vae.no_activation",
                      "your model is linear: put a ReLU after the first linear layer of the "
                      "encoder and of the decoder, or the two layers are just one.")
    model.zero_grad()
    loss = course_elbo_loss(logits, x, mu, logvar).loss
    compare_module_gradients(check, model, loss)

    sizes = f"latent_dim={latent}, hidden={hidden}"
    expected = diagnose_count(check, model, name, CourseVAE, "vae", latent, hidden)

    def loss_fn(model, xb):
        logits, mu, logvar = model(xb)
        return course_elbo_loss(logits, xb, mu, logvar).loss

    got, best = train_next_to_course(check, cls, CourseVAE, loss_fn)
    return check.passed(f"encode → (mu, logvar), reparameterize draws z = mu + sigma·eps with "
                        f"gradients to both, decode → logits, forward samples and returns "
                        f"(logits, mu, logvar); {expected:,} parameters for {sizes}, as in the "
                        f"course's VAE, all trained by the loss; 300 steps reach {got:.1f} "
                        f"nats/image (the course's VAE: {best:.1f}).")
