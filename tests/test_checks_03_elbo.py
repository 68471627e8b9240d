"""The checks of exercise 03 can fail: ``check_kl_divergence`` (one KL per image, as
``vae_course.losses.kl_divergence``), ``check_elbo_loss``, ``check_vae_module`` and
``check_iwae_from_log_weights``. For each: the solution passes, the stub is "not implemented",
every wrong implementation in the tables gets its own diagnosis, and other correct ways of
writing it pass."""

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vae_course.checks import (FAIL, MISTAKE, PASS, TODO, check_elbo_loss,
                               check_iwae_from_log_weights, check_kl_divergence, check_vae_module)

from exercise_loader import load_functions, named_codes
from fakes import mlp_layers, wrong_module_rows

CHECK = {"kl_divergence": check_kl_divergence, "elbo_loss": check_elbo_loss,
         "vae_module": check_vae_module, "iwae_from_log_weights": check_iwae_from_log_weights}
SOLUTION_NAME = {"kl_divergence": "kl_divergence", "elbo_loss": "elbo_loss",
                 "vae_module": "VAE", "iwae_from_log_weights": "iwae_from_log_weights"}


def run(name, fn):
    return CHECK[name](fn, show=False)


def _std(lv):
    return torch.exp(0.5 * lv)


def _terms(m, lv):
    return -0.5 * (1 + lv - m ** 2 - lv.exp())


def _kl(m, lv):
    return _terms(m, lv).sum(1)


def _numpy_kl(m, lv):
    m, lv = m.detach().numpy(), lv.detach().numpy()
    return torch.tensor((-0.5 * (1 + lv - m ** 2 - np.exp(lv))).sum(1))


# ------------------------------------------------------------------ kl_divergence

KL_WRONG = [
    ("no half", lambda m, lv: -(1 + lv - m ** 2 - lv.exp()).sum(1), "kl.missing_half"),
    ("wrong sign", lambda m, lv: 0.5 * (1 + lv - m ** 2 - lv.exp()).sum(1), "kl.wrong_sign"),
    ("sigma for logvar", lambda m, lv: -0.5 * (1 + _std(lv) - m ** 2 - lv.exp()).sum(1),
     "kl.sigma_for_logvar"),
    ("logvar for variance", lambda m, lv: -0.5 * (1 + lv - m ** 2 - lv).sum(1),
     "kl.logvar_for_variance"),
    ("sigma for variance", lambda m, lv: -0.5 * (1 + lv - m ** 2 - _std(lv)).sum(1),
     "kl.sigma_for_variance"),
    ("mu not squared", lambda m, lv: -0.5 * (1 + lv - m - lv.exp()).sum(1), "kl.mu_not_squared"),
    ("no one", lambda m, lv: -0.5 * (lv - m ** 2 - lv.exp()).sum(1), "kl.missing_one"),
    ("mean over latent", lambda m, lv: _terms(m, lv).mean(1), "kl.mean_over_latent"),
    ("batch mean (the old contract)", lambda m, lv: _kl(m, lv).mean(), "kl.batch_mean"),
    ("summed over everything", lambda m, lv: _terms(m, lv).sum(), "kl.sum_over_batch"),
    ("two mistakes", lambda m, lv: -(1 + lv - m ** 2 - lv.exp()).sum(1).mean(),
     "kl.missing_half+kl.batch_mean"),
    ("not reduced", _terms, "kl.not_reduced"),
    ("wrong axis", lambda m, lv: _terms(m, lv).sum(0), "kl.wrong_axis"),
    ("detached result", lambda m, lv: _kl(m, lv).detach(), "grad.no_graph"),
    (".item() round trip", lambda m, lv: torch.tensor([_kl(m[i:i + 1], lv[i:i + 1]).item()
                                                       for i in range(len(m))]), "grad.no_graph"),
    ("numpy detour", _numpy_kl, "grad.no_graph"),
    ("logvar detached", lambda m, lv: _kl(m, lv.detach()), "grad.detached"),
    ("mu detached", lambda m, lv: _kl(m.detach(), lv), "grad.detached"),
]


def _kl_by_loop(m, lv):
    out = []
    for i in range(len(m)):
        total = m.new_zeros(())
        for j in range(m.shape[1]):
            total = total + 0.5 * (m[i, j] ** 2 + lv[i, j].exp() - 1 - lv[i, j])
        out.append(total)
    return torch.stack(out)


KL_CORRECT = [
    ("torch.distributions", lambda m, lv: torch.distributions.kl_divergence(
        torch.distributions.Normal(m, _std(lv)),
        torch.distributions.Normal(torch.zeros_like(m), torch.ones_like(m))).sum(1)),
    ("rearranged", lambda m, lv: 0.5 * (m.pow(2) + lv.exp() - lv - 1).sum(-1)),
    ("loops", _kl_by_loop),
    ("variance first", lambda m, lv: 0.5 * torch.sum(m * m + torch.exp(lv) - 1 - lv, dim=1)),
]


# ------------------------------------------------------------------ elbo_loss

def _recon(lg, x):
    return F.binary_cross_entropy_with_logits(lg, x, reduction="none").flatten(1).sum(1).mean()


def _elbo(recon_fn=_recon, kl_fn=lambda m, lv: _kl(m, lv).mean(),
          combine=lambda r, k, b: r + b * k):
    def elbo_loss(logits, x, mu, logvar, beta=1.0):
        r, k = recon_fn(logits, x), kl_fn(mu, logvar)
        return combine(r, k, beta), r, k
    return elbo_loss


ELBO_WRONG = [
    ("recon averaged over pixels", _elbo(lambda lg, x: F.binary_cross_entropy_with_logits(lg, x)),
     "elbo.recon_mean_over_pixels"),
    ("sigmoid before with-logits loss", _elbo(lambda lg, x: _recon(torch.sigmoid(lg), x)),
     "elbo.sigmoid_before_logits_loss"),
    ("logits into binary_cross_entropy",
     _elbo(lambda lg, x: F.binary_cross_entropy(lg, x, reduction="sum") / len(x)),
     "elbo.logits_to_probability_loss"),
    ("squared error", _elbo(lambda lg, x: ((torch.sigmoid(lg) - x) ** 2).sum() / len(x)),
     "elbo.mse_not_bce"),
    ("swapped arguments", _elbo(lambda lg, x: _recon(x, lg)), "elbo.swapped_arguments"),
    ("recon summed over batch",
     _elbo(lambda lg, x: F.binary_cross_entropy_with_logits(lg, x, reduction="sum")),
     "elbo.recon_sum_over_batch"),
    ("beta on recon", _elbo(combine=lambda r, k, b: b * r + k), "elbo.beta_on_recon"),
    ("beta ignored", _elbo(combine=lambda r, k, b: r + k), "elbo.beta_ignored"),
    ("beta on both", _elbo(combine=lambda r, k, b: b * (r + k)), "elbo.beta_on_both"),
    ("kl subtracted", _elbo(combine=lambda r, k, b: r - b * k), "elbo.kl_subtracted"),
    ("returns the ELBO", _elbo(combine=lambda r, k, b: -(r + b * k)), "elbo.returns_elbo"),
    ("divides by beta", _elbo(combine=lambda r, k, b: r + k / b), "elbo.beta_divides"),
    ("log-likelihood", _elbo(lambda lg, x: -_recon(lg, x)), "elbo.recon_wrong_sign"),
    ("kl without half", _elbo(kl_fn=lambda m, lv: 2 * _kl(m, lv).mean()), "kl.missing_half"),
    ("kl summed over the batch", _elbo(kl_fn=lambda m, lv: _kl(m, lv).sum()),
     "kl.sum_over_batch"),
    ("kl per image", _elbo(kl_fn=_kl), "elbo.kl_per_image"),
    ("recon per image",
     _elbo(lambda lg, x: F.binary_cross_entropy_with_logits(lg, x, reduction="none")
           .flatten(1).sum(1)), "elbo.recon_per_image"),
    ("loss detached", _elbo(combine=lambda r, k, b: (r + b * k).detach()), "grad.no_graph"),
    ("loss through .item()", _elbo(combine=lambda r, k, b: torch.tensor(r.item() + b * k.item())),
     "grad.no_graph"),
    ("kl detached", _elbo(kl_fn=lambda m, lv: _kl(m, lv).mean().detach()), "grad.detached"),
    ("logits detached", _elbo(lambda lg, x: _recon(lg.detach(), x)), "grad.detached"),
]

ELBO_CORRECT = [
    ("probabilities with binary_cross_entropy",
     _elbo(lambda lg, x: F.binary_cross_entropy(torch.sigmoid(lg), x, reduction="sum") / len(x))),
    ("torch.distributions", _elbo(
        lambda lg, x: -torch.distributions.Bernoulli(logits=lg, validate_args=False)
        .log_prob(x).sum() / len(x))),
    ("log-sigmoid by hand", _elbo(
        lambda lg, x: -(x * F.logsigmoid(lg) + (1 - x) * F.logsigmoid(-lg)).sum((1, 2, 3)).mean())),
    ("namedtuple from the course", lambda lg, x, m, lv, beta=1.0: __import__(
        "vae_course.losses", fromlist=["elbo_loss"]).elbo_loss(lg, x, m, lv, beta=beta)),
]


# ------------------------------------------------------------------ iwae_from_log_weights

def _iwae(lw):
    return torch.logsumexp(lw, 0) - math.log(len(lw))


def _by_hand(lw):
    top = lw.max(0, keepdim=True).values
    return (top + torch.log(torch.exp(lw - top).mean(0, keepdim=True))).squeeze(0)


def _per_image(lw):
    return torch.stack([torch.logsumexp(lw[:, i], 0) - math.log(lw.shape[0])
                        for i in range(lw.shape[1])])


def _numpy_iwae(lw):
    a = lw.detach().numpy()
    top = a.max(0)
    return torch.tensor(top + np.log(np.exp(a - top).mean(0)))


IWAE_WRONG = [
    ("mean of the log-weights", lambda lw: lw.mean(0), "iwae.mean_of_log_weights"),
    ("log k missing", lambda lw: torch.logsumexp(lw, 0), "iwae.missing_log_k"),
    ("log k added", lambda lw: torch.logsumexp(lw, 0) + math.log(len(lw)), "iwae.log_k_added"),
    ("k subtracted", lambda lw: torch.logsumexp(lw, 0) - len(lw), "iwae.minus_k"),
    ("divided by k", lambda lw: torch.logsumexp(lw, 0) / len(lw), "iwae.divided_by_k"),
    ("max only", lambda lw: lw.max(0).values, "iwae.max_only"),
    ("sum of the log-weights", lambda lw: lw.sum(0), "iwae.sum_of_log_weights"),
    ("wrong axis", lambda lw: torch.logsumexp(lw, 1) - math.log(lw.shape[1]), "iwae.wrong_axis"),
    ("batch mean", lambda lw: _iwae(lw).mean(), "iwae.reduced_over_batch"),
    ("not reduced", lambda lw: lw - math.log(len(lw)), "iwae.not_reduced"),
    ("exp without logsumexp", lambda lw: torch.log(torch.exp(lw).mean(0)), "iwae.exp_overflow"),
    ("shifted by the mean, not the max",
     lambda lw: (lambda c: c + torch.log(torch.exp(lw - c).mean(0)))(lw.mean()),
     "iwae.exp_overflow"),
    ("mean of the weights, no log", lambda lw: torch.exp(lw).mean(0), "iwae.no_log"),
    ("detached", lambda lw: _iwae(lw).detach(), "grad.no_graph"),
    ("numpy detour", _numpy_iwae, "grad.no_graph"),
]

IWAE_CORRECT = [
    ("max-shift by hand", _by_hand),
    ("a loop over images", _per_image),
    ("torch.special.logsumexp", lambda lw: torch.special.logsumexp(lw, dim=0)
     - torch.log(torch.tensor(float(lw.shape[0])))),
    ("max-shift with the max detached", lambda lw: (lambda t: t + torch.log(
        torch.exp(lw - t).mean(0)))(lw.max(0).values.detach())),
    ("log-softmax identity", lambda lw: (lw - torch.log_softmax(lw, 0))[0] - math.log(len(lw))),
]


# ------------------------------------------------------------------ VAE module

IMG = 28 * 28


def vae(**opts):
    """A VAE class with the given mistakes switched on (the default is correct)."""

    class VAE(nn.Module):
        def __init__(self, latent_dim=20, hidden=400):
            super().__init__()
            out = latent_dim if opts.get("one_head") else 2 * latent_dim
            enc, dec = mlp_layers(latent_dim, hidden, out, opts)
            self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)
            if opts.get("unused_layer"):
                self.spare = nn.Linear(latent_dim, latent_dim)

        def encode(self, x):
            h = self.encoder(x)
            if opts.get("one_head"):
                return h, h
            if opts.get("not_split"):
                return h
            return tuple(h.chunk(2, dim=1))

        def reparameterize(self, mu, logvar):
            scale = {"variance": logvar.exp(), "logvar": logvar}.get(opts.get("scale"),
                                                                     _std(logvar))
            if opts.get("no_noise"):
                return mu
            if opts.get("seeded"):
                torch.manual_seed(0)
            if opts.get("sample"):
                return torch.distributions.Normal(mu, scale).sample()
            if opts.get("logvar_detached"):
                scale = _std(logvar.detach())
            return mu + scale * torch.randn_like(mu)

        def decode(self, z):
            out = self.decoder(z)
            return out if opts.get("no_reshape") else out.view(-1, 1, 28, 28)

        def forward(self, x):
            mu, logvar = self.encode(x)
            z = mu if opts.get("decode_mu") else self.reparameterize(mu, logvar)
            if opts.get("detach_code"):
                z = z.detach()
            logits = self.decode(z)
            if opts.get("order"):
                return mu, logvar, logits
            return logits, mu, logvar

    return VAE


VAE_WRONG = [
    ("one head for both", vae(one_head=True), "vae.mu_is_logvar"),
    ("encode not split", vae(not_split=True), "vae.encode_not_split"),
    ("ReLU on the encoder output", vae(relu_on_code=True), "vae.relu_on_encoder_output"),
    ("no noise", vae(no_noise=True), "vae.no_noise"),
    ("variance as scale", vae(scale="variance"), "vae.variance_as_scale"),
    ("logvar as scale", vae(scale="logvar"), "vae.logvar_as_scale"),
    ("Normal.sample", vae(sample=True), "grad.no_graph"),
    ("logvar detached in the sample", vae(logvar_detached=True), "grad.detached"),
    ("wrong order", vae(order=True), "vae.forward_order"),
    ("decodes mu", vae(decode_mu=True), "vae.forward_decodes_mu"),
    ("sample detached", vae(detach_code=True), "vae.sample_detached"),
    ("encoder stops at the hidden layer", vae(code_is_hidden=True), "vae.code_is_hidden_layer"),
    ("seeded inside reparameterize", vae(seeded=True), "vae.forward_not_random"),
] + wrong_module_rows(vae, "vae")


class TwoHeads(nn.Module):
    """Separate mu and logvar layers, F.relu, and torch.distributions' rsample."""

    def __init__(self, latent_dim=20, hidden=400):
        super().__init__()
        self.fc = nn.Linear(IMG, hidden)
        self.fc_mu, self.fc_logvar = nn.Linear(hidden, latent_dim), nn.Linear(hidden, latent_dim)
        self.fc3, self.fc4 = nn.Linear(latent_dim, hidden), nn.Linear(hidden, IMG)

    def encode(self, x):
        h = F.relu(self.fc(x.flatten(1)))
        return self.fc_mu(h), self.fc_logvar(h)

    @staticmethod
    def reparameterize(mu, logvar):
        return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).rsample()

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z))).view(len(z), 1, 28, 28)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


class SplitAndUnflatten(nn.Module):
    """One encoder with named layers; torch.split for the halves; sqrt(exp(logvar)) and
    torch.randn of the shape; nn.Unflatten at the end of the decoder; forward by keywords."""

    def __init__(self, latent_dim=20, hidden=400):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(OrderedDict(
            flat=nn.Flatten(), hidden=nn.Linear(IMG, hidden), act=nn.ReLU(),
            out=nn.Linear(hidden, 2 * latent_dim)))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, IMG), nn.Unflatten(1, (1, 28, 28)))

    def encode(self, x):
        mu, logvar = torch.split(self.encoder(x), self.latent_dim, dim=-1)
        return mu, logvar

    def reparameterize(self, mu, logvar):
        return mu + torch.sqrt(torch.exp(logvar)) * torch.randn(mu.shape, dtype=mu.dtype)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(z=self.reparameterize(mu=mu, logvar=logvar)), mu, logvar


class HandWrittenVAE(nn.Module):
    """No nn.Linear: nn.Parameter weights and F.linear; separate mu and logvar matrices;
    Independent(Normal).rsample(); reshape with the batch size."""

    def __init__(self, latent_dim=20, hidden=400):
        super().__init__()

        def layer(n_in, n_out):
            bound = n_in ** -0.5
            return (nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound)),
                    nn.Parameter(torch.empty(n_out).uniform_(-bound, bound)))

        self.w1, self.b1 = layer(IMG, hidden)
        self.w_mu, self.b_mu = layer(hidden, latent_dim)
        self.w_lv, self.b_lv = layer(hidden, latent_dim)
        self.w3, self.b3 = layer(latent_dim, hidden)
        self.w4, self.b4 = layer(hidden, IMG)

    def encode(self, x):
        h = F.relu(F.linear(x.reshape(len(x), -1), self.w1, self.b1))
        return F.linear(h, self.w_mu, self.b_mu), F.linear(h, self.w_lv, self.b_lv)

    def reparameterize(self, mu, logvar):
        q = torch.distributions.Independent(torch.distributions.Normal(mu, (0.5 * logvar).exp()),
                                            1)
        return q.rsample()

    def decode(self, z):
        h = F.relu(F.linear(z, self.w3, self.b3))
        return F.linear(h, self.w4, self.b4).reshape(len(z), 1, 28, 28)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


VAE_CORRECT = [("two heads and rsample", TwoHeads),
               ("torch.split, sqrt(exp(logvar)), nn.Unflatten", SplitAndUnflatten),
               ("parameters by hand, Independent(Normal).rsample", HandWrittenVAE)]


# ------------------------------------------------------------------ the tests

WRONG = ([("kl_divergence", *w) for w in KL_WRONG] + [("elbo_loss", *w) for w in ELBO_WRONG]
         + [("iwae_from_log_weights", *w) for w in IWAE_WRONG]
         + [("vae_module", *w) for w in VAE_WRONG])
CORRECT = ([("kl_divergence", *c) for c in KL_CORRECT] + [("elbo_loss", *c) for c in ELBO_CORRECT]
           + [("iwae_from_log_weights", *c) for c in IWAE_CORRECT]
           + [("vae_module", *c) for c in VAE_CORRECT])

# Per check: the codes of the wrong implementations and the labels of the correct alternatives
# above (counted by scripts/exercise_table.py).
TABLES = {name: ([code for n, _, _, code in WRONG if n == name],
                 [label for n, label, _ in CORRECT if n == name]) for name in CHECK}


@pytest.mark.parametrize("name", sorted(CHECK))
def test_solution_passes(name):
    result = run(name, load_functions("03_elbo")[SOLUTION_NAME[name]])
    assert result.status == PASS, result.marker()


@pytest.mark.parametrize("name", sorted(CHECK))
def test_stub_is_not_implemented(name):
    result = run(name, load_functions("03_elbo", stub=True)[SOLUTION_NAME[name]])
    assert result.status == TODO, result.marker()
    assert "not implemented" in result.message


@pytest.mark.parametrize("name, label, fn, code", WRONG, ids=[f"{w[0]}-{w[1]}" for w in WRONG])
def test_known_mistake_gets_its_diagnosis(name, label, fn, code):
    result = run(name, fn)
    assert (result.status, result.code) == (MISTAKE, code), result.marker()
    assert len(result.message) > 30


@pytest.mark.parametrize("name, label, fn", CORRECT, ids=[f"{c[0]}-{c[1]}" for c in CORRECT])
def test_other_correct_implementations_pass(name, label, fn):
    result = run(name, fn)
    assert result.status == PASS, result.marker()


@pytest.mark.parametrize("module, prefixes, name", [
    ("elbo", ("kl",), "kl_divergence"), ("elbo", ("elbo",), "elbo_loss"),
    ("iwae", ("iwae",), "iwae_from_log_weights"), ("vae_module", ("vae",), "vae_module")])
def test_every_named_mistake_is_exercised(module, prefixes, name):
    tested = {part for n, _, _, code in WRONG if n == name and code for part in code.split("+")}
    assert named_codes(module, prefixes=prefixes) - tested == set()
    assert len({code for n, _, _, code in WRONG if n == name}) >= 5


def test_the_kl_contract_is_the_library_s():
    """The exercise's kl_divergence has vae_course.losses.kl_divergence's contract: the course's
    own function passes the check."""
    from vae_course.losses import kl_divergence

    assert run("kl_divergence", kl_divergence).status == PASS


def test_a_generic_kl_failure_says_what_was_expected_and_what_came_back():
    result = run("kl_divergence", lambda m, lv: _kl(m, lv) + 0.123)
    assert result.status == FAIL
    assert "expected" in result.message and "is [" in result.message


def test_a_named_mistake_says_its_subject_once():
    """The message leads with the explanation; "the KL: Your KL is …" said the subject twice,
    while an explanation without a subject still gets one in front."""
    twice = check_kl_divergence(lambda m, lv: -(1 + lv - m ** 2 - lv.exp()).sum(1), show=False)
    assert twice.code == "kl.missing_half"
    assert twice.message.startswith("Your KL is exactly twice the right value")
    assert "the KL:" not in twice.message
    no_one = check_kl_divergence(lambda m, lv: -0.5 * (lv - m ** 2 - lv.exp()).sum(1), show=False)
    assert no_one.code == "kl.missing_one"
    assert no_one.message.startswith("the KL: the 1 inside the bracket is missing")
