"""Checks for the exercises: run a learner's function on crafted inputs and say what is wrong.

Each exercise notebook calls one check per function, e.g. ``check_kl_divergence(kl_divergence)``.
A check never raises because of the learner's code: it answers with a ``CheckResult`` that is

* ``PASS``            the function meets its contract;
* ``NOT IMPLEMENTED`` the function still raises the stub's ``NotImplementedError``;
* ``MISTAKE``         a known mistake, named (``code``) and explained, e.g. a KL that is exactly
                      twice the right value (the ½ is missing);
* ``FAIL``            something else is wrong; the message says what was expected (type, shape,
                      dtype, values, gradient flow) and what came back.

In a notebook the result shows as a coloured box (green / orange / red). Every result also carries
one plain-text marker line, ``[check] NAME: STATUS (code) — message``, which is what
``vae-course check PATH.ipynb`` (``vae_course.checker``) reads back from an executed notebook.

The checks compare against the course's own functions internally; they show what was expected and
what came back, never the reference code.
"""

import html
import math
import re
import traceback
from dataclasses import dataclass, field
from itertools import product

import torch
import torch.nn.functional as F

PASS, TODO, MISTAKE, FAIL = "pass", "todo", "mistake", "fail"
LABELS = {PASS: "PASS", TODO: "NOT IMPLEMENTED", MISTAKE: "MISTAKE", FAIL: "FAIL"}
MARKER = "[check]"
MARKER_RE = re.compile(r"^\[check\] ([A-Za-z_]\w*): (PASS|NOT IMPLEMENTED|MISTAKE|FAIL)"
                       r"(?: \(([^)]*)\))? — (.*)$")
_STYLE = {PASS: ("#2e7d32", "#e8f5e9", "✔"), TODO: ("#ef6c00", "#fff3e0", "…"),
          MISTAKE: ("#c62828", "#ffebee", "✘"), FAIL: ("#c62828", "#ffebee", "✘")}


@dataclass
class CheckResult:
    """The outcome of one check. ``code`` names a known mistake (e.g. ``"kl.missing_half"``)."""

    name: str
    status: str
    message: str
    code: str = None
    _shown: bool = field(default=False, repr=False, compare=False)

    @property
    def passed(self):
        return self.status == PASS

    def marker(self):
        """The one-line plain-text form that ``vae-course check`` parses."""
        code = f" ({self.code})" if self.code else ""
        text = " ".join(self.message.split())
        return f"{MARKER} {self.name}: {LABELS[self.status]}{code} — {text}"

    def __str__(self):
        return self.marker()

    def _repr_html_(self):
        border, background, icon = _STYLE[self.status]
        code = (f" <code style='font-size:85%'>{html.escape(self.code)}</code>"
                if self.code else "")
        body = html.escape(self.message).replace("\n", "<br>")
        return (f"<div style='border-left:6px solid {border};background:{background};"
                f"color:#222;padding:8px 12px;margin:4px 0;font-family:sans-serif'>"
                f"<b style='color:{border}'>{icon} {html.escape(self.name)}: "
                f"{LABELS[self.status]}</b>{code}<br>{body}</div>")

    def _ipython_display_(self):
        # A check displays its result as soon as it is known; returning it from the last line
        # of a cell must not show it a second time.
        if not self._shown:
            show(self)


def show(result):
    """Display a result: an HTML box plus the plain-text marker in a notebook, else a print."""
    result._shown = True
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display({"text/plain": result.marker(), "text/html": result._repr_html_()},
                    raw=True)
            return
    except ImportError:
        pass
    print(result.marker())


class _Stop(Exception):
    """Raised inside a check to end it with a result."""

    def __init__(self, result):
        super().__init__(result.message)
        self.result = result


class _Check:
    """What a running check knows: its name and the contract it states in messages."""

    def __init__(self, name, signature, explain=None):
        self.name, self.signature, self.explain = name, signature, explain

    def result(self, status, message, code=None):
        return CheckResult(self.name, status, message, code)

    def passed(self, message):
        return self.result(PASS, message)

    def mistake(self, code, message):
        raise _Stop(self.result(MISTAKE, message, code))

    def fail(self, message):
        raise _Stop(self.result(FAIL, message))

    def call(self, fn, *args, **kwargs):
        """Call the learner's function; turn any exception into feedback."""
        try:
            return fn(*args, **kwargs)
        except NotImplementedError as err:
            if _raised_inside_torch(err):
                self.fail(f"calling {self.signature} raised NotImplementedError inside PyTorch: "
                          f"{_first_line(err)}. Some operation is not supported for these "
                          f"inputs.")
            hint = f" (hint: {_first_line(err)})" if str(err) else ""
            inner = _innermost_function(err)
            own = getattr(fn, "__name__", None)
            if inner and own and inner != own:
                message = (f"{self.signature} calls {inner}, which is not implemented yet: "
                           f"finish {inner} first{hint}.")
            else:
                message = (f"{self.signature} is not implemented yet: replace the `raise "
                           f"NotImplementedError` line with your code{hint}.")
            raise _Stop(self.result(TODO, message)) from None
        except _Stop:
            raise
        except Exception as err:  # learner code: any exception becomes feedback
            known = self.explain(err) if self.explain else None
            if known:
                self.mistake(*known)
            self.fail(f"calling {self.signature} raised {type(err).__name__}: "
                      f"{_first_line(err)}{_where(err)}")


def _first_line(err):
    text = str(err).strip().splitlines()
    return text[0][:300] if text else "(no message)"


def _where(err):
    """' (line N of your code)' for the innermost frame outside torch and this module."""
    frames = traceback.extract_tb(err.__traceback__)
    for frame in reversed(frames):
        if "torch" not in frame.filename.replace("\\", "/").split("/") and \
                frame.filename != __file__:
            return f" (in {frame.name}, line {frame.lineno}: `{(frame.line or '').strip()}`)"
    return ""


def _innermost_function(err):
    frames = traceback.extract_tb(err.__traceback__)
    return frames[-1].name if frames else None


def _raised_inside_torch(err):
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and "torch" in frames[-1].filename.replace("\\", "/").split("/")


def _run(check, body, fn):
    if fn is None or not callable(fn):
        return check.result(FAIL, f"pass the function itself, e.g. check_{check.name}"
                                  f"({check.name}); got {type(fn).__name__} instead.")
    try:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            return body(check, fn)
    except _Stop as stop:
        return stop.result
    except Exception as err:  # e.g. an odd return value the check could not digest
        return check.result(FAIL, f"the check could not use what {check.signature} returned: "
                                  f"{type(err).__name__}: {_first_line(err)}")


def _finish(result, show_result):
    if show_result:
        show(result)
    return result


# --------------------------------------------------------------------------- shared validators


def _tensor(check, value, shape, what="the result"):
    """Validate a returned tensor: type, shape, floating dtype, finite values."""
    shape = tuple(shape)
    if value is None:
        check.fail(f"{check.signature} returned None: did you forget the `return` statement? "
                   f"Expected a tensor of shape {shape}.")
    if type(value).__module__.startswith("numpy"):
        check.fail(f"{what} is a NumPy array; return a torch tensor (stay in torch so gradients "
                   f"can flow). Expected shape {shape}.")
    if isinstance(value, (int, float)):
        check.fail(f"{what} is a Python {type(value).__name__} ({value!r}); return a torch tensor "
                   f"of shape {shape} (no .item(): the loss must stay differentiable).")
    if not isinstance(value, torch.Tensor):
        check.fail(f"{what} is a {type(value).__name__}; expected a torch tensor of shape "
                   f"{shape}.")
    if tuple(value.shape) != shape:
        check.fail(f"{what} has shape {tuple(value.shape)}; expected {shape}.")
    if not value.is_floating_point():
        check.fail(f"{what} has dtype {value.dtype}; expected a floating-point tensor "
                   f"(e.g. torch.float32).")
    if not torch.isfinite(value.detach()).all():
        check.fail(f"{what} contains NaN or infinite values; with these finite inputs every "
                   f"entry should be finite (look for exp() of a large number or log(0)).")
    return value.detach().cpu().double()


def _number(check, value, what="the result"):
    """A Python number (or a one-element tensor) as a float."""
    if value is None:
        check.fail(f"{check.signature} returned None: did you forget the `return` statement?")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            check.fail(f"{what} is a tensor of shape {tuple(value.shape)}; expected one number.")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)) and \
            not type(value).__module__.startswith("numpy"):
        check.fail(f"{what} is a {type(value).__name__}; expected a number.")
    value = float(value)
    if not math.isfinite(value):
        check.fail(f"{what} is {value}; expected a finite number.")
    return value


def _close(a, b, rtol=1e-4, atol=1e-6):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def _unchanged(check, originals, copies):
    for name, (orig, copy) in zip(("first", "second", "third", "fourth"),
                                  zip(originals, copies)):
        if isinstance(orig, torch.Tensor) and not torch.equal(orig.detach(), copy):
            check.mistake("inputs.modified_in_place",
                          f"{check.signature} changed its {name} argument in place (an "
                          f"operation ending in _ such as add_ or mul_, or `x[...] = ...`). "
                          f"Compute new tensors instead: the caller still needs its inputs.")


def _fmt(values, n=6):
    flat = torch.as_tensor(values).detach().flatten()
    if flat.numel() == 1:
        return f"{flat.item():.4g}"
    text = ", ".join(f"{float(v):.4g}" for v in flat[:n])
    return f"[{text}{', …' if flat.numel() > n else ''}]"


# --------------------------------------------------------------------------- reparameterize


def _reparameterize_body(check, fn):
    mu = torch.tensor([[0.5, -1.0, 2.0], [0.0, 1.5, -0.5]])
    logvar = torch.tensor([[0.2, -1.0, 0.7], [1.2, -0.3, 0.0]])
    mu_in, lv_in = mu.clone().requires_grad_(), logvar.clone().requires_grad_()
    z = check.call(fn, mu_in, lv_in)
    _unchanged(check, (mu_in, lv_in), (mu, logvar))
    zd = _tensor(check, z, mu.shape, "z")
    if _close(zd, mu):
        check.mistake("reparam.no_noise", "z equals mu exactly: no noise was added. z is a "
                                          "sample, z = mu + sigma * eps with eps ~ N(0, I).")

    # Noise structure, on a bigger batch with mu = 0 and logvar = 0 (so z = eps).
    n, d = 4000, 5
    zeros = torch.zeros(n, d)
    eps = _tensor(check, check.call(fn, zeros.clone(), zeros.clone()), (n, d), "z")
    if eps.abs().max() < 1e-7:
        check.mistake("reparam.logvar_as_scale",
                      "with mu = 0 and logvar = 0 your z is exactly 0: the noise was multiplied "
                      "by logvar (or ½·logvar). logvar is log sigma², so the scale is "
                      "sigma = exp(½·logvar), which is 1 here.")
    again = _tensor(check, check.call(fn, zeros.clone(), zeros.clone()), (n, d), "z")
    if _close(eps, again, atol=1e-7):
        check.mistake("reparam.fixed_noise",
                      "two calls with the same mu and logvar gave the same z: the noise does "
                      "not change between calls (do you seed inside the function, or reuse a "
                      "stored eps?). Draw a fresh eps every call.")
    if (eps - eps[:1]).abs().max() < 1e-7:
        check.mistake("reparam.noise_shared_across_batch",
                      "every image in the batch got the same noise vector (e.g. "
                      "torch.randn(latent_dim)). Each image needs its own eps: "
                      "torch.randn_like(mu).")
    if (eps - eps[:, :1]).abs().max() < 1e-7:
        check.mistake("reparam.noise_shared_across_dims",
                      "all latent dimensions of an image got the same noise value (e.g. "
                      "torch.randn(batch, 1)). Each dimension needs its own eps: "
                      "torch.randn_like(mu).")
    mean, std = eps.mean().item(), eps.std().item()
    tail = (eps.abs() > 2).double().mean().item()  # 4.55 % for a standard normal
    if abs(mean - 0.5) < 0.03 and abs(std - 0.2887) < 0.03:
        check.mistake("reparam.uniform_noise",
                      f"with mu = 0 and logvar = 0 your z has mean {mean:.3f} and std {std:.3f}: "
                      f"that is uniform noise on [0, 1) (torch.rand_like). Use standard normal "
                      f"noise: torch.randn_like.")
    if not (abs(mean) < 0.05 and abs(std - 1) < 0.05 and 0.035 < tail < 0.056):
        check.fail(f"with mu = 0 and logvar = 0, z should be standard normal noise (mean 0, "
                   f"std 1, about 4.6 % beyond ±2); yours has mean {mean:.3f}, std {std:.3f} "
                   f"and {100 * tail:.1f} % beyond ±2.")

    # Location and scale, one column per log-variance.
    lv_cols = torch.tensor([math.log(4.0), math.log(0.25), 1.0, -2.0])
    mu_cols = torch.tensor([1.0, -2.0, 0.5, 3.0])
    n = 20000
    big_mu, big_lv = mu_cols.expand(n, 4).clone(), lv_cols.expand(n, 4).clone()
    zs = _tensor(check, check.call(fn, big_mu, big_lv), (n, 4), "z")
    got_mean, got_std = zs.mean(0), zs.std(0)
    if not _close(got_mean, mu_cols.double(), rtol=0, atol=0.1):
        if _close(got_mean, torch.zeros(4, dtype=torch.float64), rtol=0, atol=0.1):
            check.mistake("reparam.mu_not_added",
                          f"the samples are centred on 0, not on mu (column means "
                          f"{_fmt(got_mean)} for mu = {_fmt(mu_cols)}): add mu.")
        check.fail(f"the mean of z over many samples should be mu = {_fmt(mu_cols)}; yours is "
                   f"{_fmt(got_mean)}.")
    sigma = torch.exp(0.5 * lv_cols).double()
    scales = [
        ("reparam.variance_as_scale", torch.exp(lv_cols).double(),
         "you multiplied eps by sigma² = exp(logvar); the scale is the standard deviation "
         "sigma = exp(½·logvar)."),
        ("reparam.logvar_as_scale", lv_cols.abs().double(),
         "you multiplied eps by logvar itself; logvar is log sigma², so the scale is "
         "sigma = exp(½·logvar)."),
        ("reparam.inverse_scale", torch.exp(-0.5 * lv_cols).double(),
         "you multiplied eps by 1/sigma = exp(−½·logvar); the sign in the exponent is wrong."),
    ]
    if not _close(got_std, sigma, rtol=0.04, atol=0):
        for code, scale, text in scales:
            if _close(got_std, scale, rtol=0.04, atol=0.02):
                check.mistake(code, f"{text} (for logvar = {_fmt(lv_cols)} the spread of z "
                                    f"should be sigma = {_fmt(sigma)}; yours is "
                                    f"{_fmt(got_std)}.)")
        check.fail(f"the spread (std) of z around mu should be sigma = exp(½·logvar) = "
                   f"{_fmt(sigma)} for logvar = {_fmt(lv_cols)}; yours is {_fmt(got_std)}.")
    # Gradient flow (last: sampling with torch.normal gets the statistics right but no gradient).
    if not z.requires_grad:
        check.mistake("reparam.not_differentiable",
                      "z carries no gradient at all (it was sampled outside autograd, e.g. with "
                      ".sample(), torch.no_grad() or .detach()), so no gradient reaches mu or "
                      "sigma. Draw eps ~ N(0, I) and compute z = mu + sigma * eps.")
    z.sum().backward()
    if mu_in.grad is None or not mu_in.grad.abs().sum() > 0:
        check.mistake("reparam.not_differentiable",
                      "no gradient reaches mu: sampling z directly from N(mu, sigma²) (e.g. "
                      "torch.normal(mu, std)) is not differentiable in mu. Draw eps ~ N(0, I) "
                      "and compute z = mu + sigma * eps.")
    if lv_in.grad is None or not lv_in.grad.abs().sum() > 0:
        check.mistake("reparam.not_differentiable",
                      "no gradient reaches logvar (sigma): z must be computed from logvar "
                      "inside autograd, z = mu + exp(½·logvar) * eps.")

    return check.passed("z = mu + sigma·eps: the mean, the spread and the noise are right, "
                        "and gradients reach both mu and logvar.")


def check_reparameterize(fn, show=True):
    """Check ``reparameterize(mu, logvar) -> z`` (same shape as mu, z = mu + exp(½·logvar)·eps)."""
    check = _Check("reparameterize", "reparameterize(mu, logvar)")
    return _finish(_run(check, _reparameterize_body, fn), show)


# --------------------------------------------------------------------------- KL divergence

# Each element-wise formula is (code, explanation, f(mu, logvar)); the reductions and the factor
# in front are combined with them below, so that two mistakes at once are also named.
_KL_FORMULAS = [
    (None, "", lambda m, lv: 1 + lv - m ** 2 - lv.exp()),
    ("kl.sigma_for_logvar", "you used sigma = exp(½·logvar) where log sigma² belongs; the "
     "second term of 1 + log sigma² − mu² − sigma² is logvar itself",
     lambda m, lv: 1 + torch.exp(0.5 * lv) - m ** 2 - lv.exp()),
    ("kl.logvar_for_variance", "you used logvar where sigma² belongs; the last term is "
     "sigma² = exp(logvar)", lambda m, lv: 1 + lv - m ** 2 - lv),
    ("kl.sigma_for_variance", "you used sigma = exp(½·logvar) where sigma² = exp(logvar) "
     "belongs (last term)", lambda m, lv: 1 + lv - m ** 2 - torch.exp(0.5 * lv)),
    ("kl.mu_not_squared", "mu must be squared: the term is mu²",
     lambda m, lv: 1 + lv - m - lv.exp()),
    ("kl.missing_one", "the 1 inside the bracket is missing: −½·Σ(1 + log sigma² − mu² − "
     "sigma²)", lambda m, lv: lv - m ** 2 - lv.exp()),
]
_KL_FACTORS = [
    (None, "", -0.5),
    ("kl.missing_half", "your KL is exactly twice the right value: the ½ in front of the sum "
     "is missing", -1.0),
    ("kl.wrong_sign", "your KL has the wrong sign (a KL divergence is never negative): the "
     "factor in front is −½, not +½", 0.5),
]
_KL_REDUCTIONS = [
    (None, "", lambda t: t.sum(1).mean()),
    ("kl.mean_over_latent", "you averaged over the latent dimensions; the course sums them "
     "(the KL of the whole code) and averages only over the batch", lambda t: t.mean()),
    ("kl.sum_over_batch", "you summed over the batch; the course averages over it, so the "
     "result is in nats per image", lambda t: t.sum()),
    ("kl.mean_over_latent+kl.sum_over_batch", "you averaged over the latent dimensions and "
     "summed over the batch; the course does the opposite: sum over latent dimensions, mean "
     "over the batch",
     lambda t: t.mean(1).sum()),
]


def _kl_candidates(mu, logvar):
    """Every (codes, explanation, value) from combining up to three known KL mistakes."""
    out = []
    for (c1, t1, f), (c2, t2, k), (c3, t3, r) in product(_KL_FORMULAS, _KL_FACTORS,
                                                         _KL_REDUCTIONS):
        codes = [c for c in (c1, c2, c3) if c]
        texts = [t for t in (t1, t2, t3) if t]
        value = r(k * f(mu.double(), logvar.double()))
        out.append((codes, texts, value))
    out.sort(key=lambda item: len(item[0]))
    return out


def _diagnose_value(check, got, candidates, expected, what, rtol=1e-4):
    """Name the first candidate mistake that reproduces ``got``; else a generic failure."""
    for codes, texts, value in candidates:
        if codes and _close(got, value, rtol=rtol):
            dedup = list(dict.fromkeys(codes))
            text = "; ".join(texts)
            check.mistake("+".join(dedup), f"{what}: {text[0].upper()}{text[1:]}. (Got "
                                           f"{_fmt(got)}, expected {_fmt(expected)}.)")
    check.fail(f"{what} is {_fmt(got)}; expected {_fmt(expected)}.")


def _kl_inputs():
    g = torch.Generator().manual_seed(1)
    mu = torch.randn(6, 4, generator=g)
    logvar = torch.rand(6, 4, generator=g) * 3 - 2
    return mu, logvar


def _check_kl_value(check, got, mu, logvar, what):
    candidates = _kl_candidates(mu, logvar)
    expected = candidates[0][2]
    if not _close(got, expected):
        _diagnose_value(check, got, candidates, expected, what)


def _kl_body(check, fn):
    mu, logvar = _kl_inputs()
    b, d = mu.shape
    mu_in, lv_in = mu.clone().requires_grad_(), logvar.clone().requires_grad_()
    kl = check.call(fn, mu_in, lv_in)
    _unchanged(check, (mu_in, lv_in), (mu, logvar))
    if isinstance(kl, torch.Tensor) and tuple(kl.shape) == (b,):
        check.mistake("kl.per_image", f"you returned one KL per image (shape ({b},)); the "
                                      f"contract is one number: the mean over the batch of "
                                      f"the per-image KL (nats per image).")
    if isinstance(kl, torch.Tensor) and tuple(kl.shape) == (b, d):
        check.mistake("kl.not_reduced", f"you returned the element-wise terms (shape ({b}, "
                                        f"{d})); sum over the latent dimensions, then average "
                                        f"over the batch.")
    got = _tensor(check, kl, (), "the KL")
    _check_kl_value(check, got, mu, logvar, "the KL")
    if not kl.requires_grad:
        check.mistake("kl.detached", "the KL value is right but carries no gradient (did you "
                                     "use .item(), .detach(), NumPy or torch.no_grad()?). The "
                                     "loss must be differentiable in mu and logvar.")
    zero = check.call(fn, torch.zeros(3, 4), torch.zeros(3, 4))
    if abs(_number(check, zero, "the KL for mu = 0, logvar = 0")) > 1e-6:
        check.fail(f"for mu = 0 and logvar = 0, q(z|x) is the prior N(0, I) and the KL must be "
                   f"0; yours is {_number(check, zero):.4g}.")
    return check.passed(f"KL = −½·Σ(1 + log σ² − μ² − σ²), summed over the {d} latent "
                        f"dimensions and averaged over the batch of {b}: {got.item():.4f} nats "
                        f"per image, as expected.")


def check_kl_divergence(fn, show=True):
    """Check ``kl_divergence(mu, logvar) -> 0-dim tensor`` (sum over dims, mean over batch)."""
    check = _Check("kl_divergence", "kl_divergence(mu, logvar)")
    return _finish(_run(check, _kl_body, fn), show)


# --------------------------------------------------------------------------- ELBO loss

_RECON_FORMULAS = [
    (None, "", lambda lg, x: F.binary_cross_entropy_with_logits(lg, x, reduction="none")),
    ("elbo.sigmoid_before_logits_loss", "you applied a sigmoid to the logits and then used a "
     "with-logits loss, which applies the sigmoid again; pass the logits themselves",
     lambda lg, x: F.binary_cross_entropy_with_logits(torch.sigmoid(lg), x, reduction="none")),
    ("elbo.mse_not_bce", "you used a squared error; this exercise uses the Bernoulli "
     "likelihood, i.e. binary cross-entropy on the logits",
     lambda lg, x: (torch.sigmoid(lg) - x) ** 2),
    ("elbo.mse_not_bce", "you used a squared error between logits and pixels; this exercise "
     "uses binary cross-entropy on the logits", lambda lg, x: (lg - x) ** 2),
    ("elbo.swapped_arguments", "the arguments of the cross-entropy are swapped: "
     "binary_cross_entropy_with_logits(logits, x), prediction first, target second",
     lambda lg, x: F.binary_cross_entropy_with_logits(x, lg, reduction="none")),
    ("elbo.recon_wrong_sign", "the reconstruction term has the wrong sign: the loss is the "
     "negative log-likelihood, which is positive",
     lambda lg, x: -F.binary_cross_entropy_with_logits(lg, x, reduction="none")),
]
_RECON_REDUCTIONS = [
    (None, "", lambda t: t.flatten(1).sum(1).mean()),
    ("elbo.recon_mean_over_pixels", "you averaged the reconstruction over the pixels; the "
     "course sums it (log-likelihood of the whole image). Averaging silently makes the KL "
     "weigh as much as β times the number of pixels", lambda t: t.mean()),
    ("elbo.recon_sum_over_batch", "you summed the reconstruction over the batch; the course "
     "averages over it (nats per image)", lambda t: t.sum()),
]


def _elbo_inputs():
    g = torch.Generator().manual_seed(2)
    x = (torch.rand(4, 1, 5, 5, generator=g) > 0.5).float()
    x[:, :, 2] = torch.rand(4, 1, 5, generator=g)  # some grey pixels too
    logits = torch.randn(4, 1, 5, 5, generator=g) * 2
    mu = torch.randn(4, 3, generator=g)
    logvar = torch.rand(4, 3, generator=g) * 2 - 1
    return logits, x, mu, logvar


def _explain_elbo_error(err):
    text = str(err)
    if "between 0 and 1" in text:
        return ("elbo.logits_to_probability_loss",
                "binary_cross_entropy (without _with_logits) expects probabilities in [0, 1], "
                "but the decoder gives logits. Use F.binary_cross_entropy_with_logits(logits, "
                "x, ...) — it applies the sigmoid itself, stably.")
    return None


def _elbo_body(check, fn):
    logits, x, mu, logvar = _elbo_inputs()
    beta = 0.5
    b, p = len(x), x[0].numel()
    args = [t.clone().requires_grad_() if i != 1 else t.clone()
            for i, t in enumerate((logits, x, mu, logvar))]
    out = check.call(fn, *args, beta=beta)
    _unchanged(check, args, (logits, x, mu, logvar))
    if isinstance(out, torch.Tensor) or not isinstance(out, (tuple, list)) or len(out) != 3:
        check.fail(f"{check.signature} should return three scalar tensors (loss, recon, kl); "
                   f"got {type(out).__name__}"
                   f"{' of length ' + str(len(out)) if isinstance(out, (tuple, list)) else ''}.")
    loss, recon, kl = out
    if isinstance(recon, torch.Tensor) and tuple(recon.shape) == (b,):
        check.mistake("elbo.recon_per_image", f"recon has one value per image (shape ({b},)); "
                                              f"average it over the batch.")
    got_recon = _tensor(check, recon, (), "recon")
    got_kl = _tensor(check, kl, (), "kl")
    got_loss = _tensor(check, loss, (), "loss")

    candidates = []
    for (c1, t1, f), (c2, t2, r) in product(_RECON_FORMULAS, _RECON_REDUCTIONS):
        candidates.append(([c for c in (c1, c2) if c], [t for t in (t1, t2) if t],
                           r(f(logits.double(), x.double()))))
    candidates.sort(key=lambda item: len(item[0]))
    ref_recon = candidates[0][2]
    if not _close(got_recon, ref_recon):
        _diagnose_value(check, got_recon, candidates, ref_recon, "recon")
    _check_kl_value(check, got_kl, mu, logvar, "kl")

    ref_kl = _kl_candidates(mu, logvar)[0][2]
    ref_loss = ref_recon + beta * ref_kl
    if not _close(got_loss, ref_loss):
        r, k = ref_recon, ref_kl
        compositions = [
            (["elbo.beta_on_recon"], ["β multiplies the reconstruction; it belongs on the KL "
                                      "term: loss = recon + β·kl"], beta * r + k),
            (["elbo.beta_ignored"], ["β is not used: loss = recon + β·kl"], r + k),
            (["elbo.beta_on_both"], ["β multiplies both terms; only the KL is weighted: "
                                     "loss = recon + β·kl"], beta * (r + k)),
            (["elbo.beta_divides"], ["you divided the KL by β; multiply: loss = recon + β·kl"],
             r + k / beta),
            (["elbo.kl_subtracted"], ["the KL is subtracted; the loss (negative ELBO) adds it: "
                                      "loss = recon + β·kl"], r - beta * k),
            (["elbo.returns_elbo"], ["you returned the ELBO itself; the loss to minimise is the "
                                     "negative ELBO, recon + β·kl"], -(r + beta * k)),
        ]
        _diagnose_value(check, got_loss, compositions, ref_loss, f"loss (with beta = {beta})")
    if not loss.requires_grad:
        check.mistake("elbo.detached", "the loss value is right but carries no gradient; keep "
                                       "it a tensor (no .item(), .detach() or NumPy).")
    grads = torch.autograd.grad(loss, [args[0], args[2], args[3]], allow_unused=True)
    for name, grad in zip(("logits", "mu", "logvar"), grads):
        if grad is None or not grad.abs().sum() > 0:
            check.mistake("elbo.detached", f"no gradient flows from the loss to {name}; every "
                                           f"term must be computed with torch operations on the "
                                           f"inputs.")
    return check.passed(f"loss = recon + β·kl with recon summed over the {p} pixels and both "
                        f"terms averaged over the batch: recon {got_recon.item():.3f}, kl "
                        f"{got_kl.item():.3f}, loss {got_loss.item():.3f} nats per image "
                        f"(β = {beta}).")


def check_elbo_loss(fn, show=True):
    """Check ``elbo_loss(logits, x, mu, logvar, beta=1.0) -> (loss, recon, kl)``."""
    check = _Check("elbo_loss", "elbo_loss(logits, x, mu, logvar, beta)",
                   explain=_explain_elbo_error)
    return _finish(_run(check, _elbo_body, fn), show)


# --------------------------------------------------------------------------- β warm-up


def _warmup_reference(step, warmup_steps, beta_max):
    return beta_max * min(1.0, step / warmup_steps)


_WARMUP_MISTAKES = [
    ("warmup.off_by_one_late", "β reaches beta_max one step late: divide by warmup_steps, not "
     "warmup_steps + 1, so that β(warmup_steps) = beta_max",
     lambda s, w, m: m * min(1.0, s / (w + 1))),
    ("warmup.off_by_one_early", "β reaches beta_max one step early: β(warmup_steps − 1) should "
     "still be below beta_max; divide by warmup_steps", lambda s, w, m: m * min(1.0, s / (w - 1))),
    ("warmup.starts_above_zero", "β is already above 0 at step 0 (you used step + 1): the "
     "warm-up starts at β(0) = 0 and reaches beta_max at step warmup_steps",
     lambda s, w, m: m * min(1.0, (s + 1) / w)),
    ("warmup.not_clamped", "β keeps growing after the warm-up; it must stay at beta_max "
     "(clamp with min)", lambda s, w, m: m * s / w),
    ("warmup.clamped_at_one", "β is clamped at 1 instead of at beta_max",
     lambda s, w, m: min(1.0, m * s / w)),
    ("warmup.slope_ignores_beta_max", "β is clamped at beta_max but rises with slope "
     "1/warmup_steps, so it reaches beta_max at the wrong step; scale the ramp: "
     "beta_max · min(1, step / warmup_steps)", lambda s, w, m: min(m, s / w)),
    ("warmup.ignores_beta_max", "β ends at 1 whatever beta_max is; multiply by beta_max",
     lambda s, w, m: min(1.0, s / w)),
    ("warmup.integer_division", "β jumps from 0 to beta_max instead of rising linearly "
     "(integer division step // warmup_steps?); use true division",
     lambda s, w, m: m * min(1, s // w)),
    ("warmup.decreasing", "β goes down during the warm-up; it must rise from 0 to beta_max",
     lambda s, w, m: m * max(0.0, 1 - s / w)),
]


def _warmup_body(check, fn):
    configs = [(10, 0.8), (4, 2.0)]
    got_all, ref_all = [], []
    for w, m in configs:
        steps = list(range(0, 3 * w + 2))
        got = [_number(check, check.call(fn, s, w, m), f"β at step {s}") for s in steps]
        ref = [_warmup_reference(s, w, m) for s in steps]
        got_all.append(got)
        ref_all.append(ref)
    if all(_close(g, r) for g, r in zip(got_all, ref_all)):
        return check.passed("β rises linearly from 0 at step 0 to beta_max at step "
                            "warmup_steps and stays there.")
    for code, text, f in _WARMUP_MISTAKES:
        if all(_close(g, [f(s, w, m) for s in range(len(g))])
               for g, (w, m) in zip(got_all, configs)):
            check.mistake(code, text + ".")
    for got, ref, (w, m) in zip(got_all, ref_all, configs):
        for s, (g, r) in enumerate(zip(got, ref)):
            if not math.isclose(g, r, rel_tol=1e-4, abs_tol=1e-6):
                check.fail(f"with warmup_steps = {w} and beta_max = {m}: at step {s} β should "
                           f"be {r:.4g}, yours is {g:.4g}.")
    check.fail("the schedule is wrong.")  # unreachable


def check_linear_warmup(fn, show=True):
    """Check ``linear_warmup(step, warmup_steps, beta_max=1.0) -> float``."""
    check = _Check("linear_warmup", "linear_warmup(step, warmup_steps, beta_max)")
    return _finish(_run(check, _warmup_body, fn), show)


# --------------------------------------------------------------------------- one training step


def _tiny_vae():
    """A small VAE whose noise is fixed, so one training step is exactly reproducible."""
    from .models import VAE

    class FixedNoiseVAE(VAE):
        def reparameterize(self, mu, logvar):
            return mu + torch.exp(0.5 * logvar) * self.eps[: len(mu)]

    torch.manual_seed(3)
    model = FixedNoiseVAE(latent_dim=3, hidden=8, image_shape=(1, 4, 4))
    model.register_buffer("eps", torch.randn(5, 3))
    return model


def _train_step_body(check, fn):
    from .losses import elbo_loss as ref_elbo

    step, warmup, lr = 3, 10, 0.1
    beta = _warmup_reference(step, warmup, 1.0)
    g = torch.Generator().manual_seed(4)
    x = (torch.rand(5, 1, 4, 4, generator=g) > 0.5).float()
    model = _tiny_vae()
    params = list(model.parameters())
    before = [p.detach().clone() for p in params]

    # Reference gradients of each term at the starting point.
    logits, mu, logvar = model(x)
    terms = ref_elbo(logits, x, mu, logvar, beta)
    g_recon = torch.autograd.grad(terms.recon, params, retain_graph=True, allow_unused=True)
    g_kl = torch.autograd.grad(terms.kl, params, allow_unused=True)
    g_recon = [torch.zeros_like(p) if g is None else g for p, g in zip(params, g_recon)]
    g_kl = [torch.zeros_like(p) if g is None else g for p, g in zip(params, g_kl)]
    ref_loss = terms.loss.item()

    stale = [torch.full_like(p, 0.37) for p in params]  # left over from an earlier step
    for p, s in zip(params, stale):
        p.grad = s.clone()
    optimizer = torch.optim.SGD(params, lr=lr)
    model.train()
    out = check.call(fn, model, optimizer, x, step, warmup)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        check.fail(f"{check.signature} should return (loss, beta) as two numbers; got "
                   f"{type(out).__name__}.")
    loss_value, beta_used = out
    if isinstance(loss_value, torch.Tensor) and loss_value.requires_grad:
        check.mistake("train.returns_tensor", "return loss.item(), not the loss tensor: a "
                                              "tensor keeps the whole graph of the step alive, "
                                              "and memory grows over a training run.")
    loss_value = _number(check, loss_value, "the returned loss")
    beta_used = _number(check, beta_used, "the returned beta")

    flat = lambda ts: torch.cat([t.detach().reshape(-1).double() for t in ts])  # noqa: E731
    delta = (flat(params) - flat(before)) / -lr
    if delta.abs().max() < 1e-9:
        check.mistake("train.no_update", "the parameters did not change: call "
                                         "optimizer.step() after loss.backward() (and "
                                         "optimizer.zero_grad() before the backward pass, not "
                                         "between backward and step).")
    basis = torch.stack([flat(stale), flat(g_recon), flat(g_kl)], dim=1)
    coef = torch.linalg.lstsq(basis, delta.unsqueeze(1)).solution.squeeze(1)
    residual = (basis @ coef - delta).norm() / delta.norm()
    a, c, b = coef.tolist()
    if residual > 1e-3:
        check.fail("the parameters moved, but not by one optimiser step on recon + β·kl of the "
                   "batch (did you call backward on something else, or step twice?).")
    if abs(a - 1) < 1e-3 and abs(c) < 1e-3 and abs(b) < 1e-3:
        check.mistake("train.step_before_backward",
                      "the update used the gradients left over from an earlier step: "
                      "optimizer.step() ran before loss.backward() (order: zero_grad, forward, "
                      "backward, step).")
    if abs(a - 1) < 1e-3:
        check.mistake("train.no_zero_grad",
                      "the update added this step's gradient to the one left over from the "
                      "previous step: call optimizer.zero_grad() before loss.backward().")
    if abs(a) > 1e-3:
        check.fail(f"the update is mixed with gradients left over from an earlier step "
                   f"(weight {a:.3g}); call optimizer.zero_grad() before loss.backward().")
    if abs(c - 1) < 1e-3 and abs(b - beta) < 1e-3:
        pass
    elif abs(c - beta) < 1e-3 and abs(b - 1) < 1e-3:
        check.mistake("train.beta_on_recon", "β weighted the reconstruction instead of the KL.")
    elif abs(c - 1) < 1e-3 and abs(b - 1) < 1e-3:
        check.mistake("train.beta_ignored",
                      f"the step used β = 1: the warm-up was not applied (at step {step} of a "
                      f"{warmup}-step warm-up β should be {beta:g}).")
    elif abs(c - 1) < 1e-3 and abs(b - _warmup_reference(step + 1, warmup, 1.0)) < 1e-3:
        check.mistake("train.beta_next_step",
                      f"the step used β(step + 1) = {b:.3g}; use β(step) = {beta:g}.")
    elif abs(c - 1) < 1e-3 and abs(b) < 1e-3:
        check.mistake("train.kl_missing", "only the reconstruction was back-propagated; the "
                                          "loss is recon + β·kl.")
    elif abs(c - 1) < 1e-3:
        check.fail(f"the step used β ≈ {b:.4g}; at step {step} of a {warmup}-step warm-up it "
                   f"should be {beta:g} (does linear_warmup pass its check?).")
    else:
        check.fail(f"the update corresponds to {c:.3g}·recon + {b:.3g}·kl; expected "
                   f"recon + {beta:g}·kl.")
    if not math.isclose(beta_used, beta, rel_tol=1e-4, abs_tol=1e-6):
        check.fail(f"the update used β = {beta:g} but you returned beta = {beta_used:.4g}.")
    if not math.isclose(loss_value, ref_loss, rel_tol=1e-4, abs_tol=1e-4):
        check.fail(f"the update is right, but the returned loss {loss_value:.4f} is not the "
                   f"loss of this batch before the step, recon + β·kl = {ref_loss:.4f}.")
    return check.passed(f"one step: zero_grad, forward, loss = recon + β·kl with β = {beta:g} "
                        f"at step {step} of the warm-up, backward, optimizer step; it returned "
                        f"the loss as a number.")


def _explain_train_error(err):
    if "modified by an inplace operation" in str(err):
        return ("train.step_before_backward",
                "optimizer.step() ran before loss.backward(): the step changed the weights "
                "that the backward pass still needed. Order: zero_grad, forward, backward, "
                "step.")
    return None


def check_train_step(fn, show=True):
    """Check ``train_step(model, optimizer, x, step, warmup_steps) -> (loss, beta)``."""
    check = _Check("train_step", "train_step(model, optimizer, x, step, warmup_steps)",
                   explain=_explain_train_error)
    return _finish(_run(check, _train_step_body, fn), show)


# --------------------------------------------------------------------------- active units


def _au_inputs():
    """Posterior means and log-variances of 400 images, 6 latent dims with chosen spreads.

    Var over the data of mu per dimension: 1.0, 0.3, 0.05, 0.004, 0, 0.02 -> 4 active at 0.01.
    """
    g = torch.Generator().manual_seed(5)
    n = 400
    spread = torch.tensor([1.0, 0.3, 0.05, 0.004, 0.0, 0.02])
    noise = torch.randn(n, 6, generator=g)
    noise = (noise - noise.mean(0)) / noise.std(0)  # exactly unit variance per column
    mu = noise * spread.sqrt() + torch.tensor([0.0, 0.5, -0.2, 0.0, 2.0, 0.0])
    # Collapsed dimensions have q = prior: logvar near 0 and barely varying; active ones are
    # confident (negative logvar) and vary more from image to image.
    logvar = torch.randn(n, 6, generator=g) * torch.tensor([0.05, 0.05, 0.2, 0.3, 0.05, 0.05])
    logvar = logvar + torch.tensor([-3.0, -2.0, -1.0, -0.05, 0.0, -0.5])
    return mu, logvar


_AU_CANDIDATES = [
    (None, "", lambda mu, lv, t: int((mu.var(0) > t).sum())),
    ("au.wrong_axis", "you took the variance across the latent dimensions of each image "
     "(dim=1); activity is the variance over the data of each dimension (dim=0)",
     lambda mu, lv, t: int((mu.var(1) > t).sum())),
    ("au.used_logvar", "you measured the variance of logvar; a unit is active when its "
     "posterior mean mu changes with the input", lambda mu, lv, t: int((lv.var(0) > t).sum())),
    ("au.used_posterior_variance", "you thresholded the posterior variance exp(logvar); a "
     "unit is active when its posterior mean mu varies over the data",
     lambda mu, lv, t: int((lv.exp().mean(0) > t).sum())),
    ("au.std_not_variance", "you thresholded the standard deviation; the criterion is the "
     "variance, Var_x(mu_u) > threshold", lambda mu, lv, t: int((mu.std(0) > t).sum())),
    ("au.mean_not_variance", "you thresholded the mean of mu; the criterion is its variance "
     "over the data", lambda mu, lv, t: int((mu.mean(0).abs() > t).sum())),
    ("au.counted_inactive", "you counted the inactive units (variance below the threshold)",
     lambda mu, lv, t: int((mu.var(0) <= t).sum())),
]


def _au_body(check, fn):
    mu, logvar = _au_inputs()
    d = mu.shape[1]
    got = []
    for t in (0.01, 0.1):
        mu_in, lv_in = mu.clone(), logvar.clone()
        value = check.call(fn, mu_in, lv_in, t)
        _unchanged(check, (mu_in, lv_in), (mu, logvar))
        if isinstance(value, torch.Tensor) and value.numel() > 1:
            check.mistake("au.returns_mask", f"you returned a tensor of shape "
                                             f"{tuple(value.shape)}; return the number of "
                                             f"active units as an int (sum the mask).")
        number = _number(check, value, "the number of active units")
        if number != int(number):
            if 0 <= number <= 1:
                check.mistake("au.fraction", f"you returned {number:.3g}, a fraction; return "
                                             f"the count of active units.")
            check.fail(f"the number of active units must be a whole number; got {number:.4g}.")
        got.append(int(number))
    expected = [_AU_CANDIDATES[0][2](mu, logvar, t) for t in (0.01, 0.1)]
    if got == expected:
        return check.passed(f"{expected[0]} of {d} units are active at threshold 0.01 and "
                            f"{expected[1]} at 0.1: Var over the data of each dimension's mu.")
    for code, text, f in _AU_CANDIDATES[1:]:
        if got == [f(mu, logvar, t) for t in (0.01, 0.1)]:
            check.mistake(code, f"{text}. (Got {got[0]} and {got[1]} active units at thresholds "
                                f"0.01 and 0.1; expected {expected[0]} and {expected[1]}.)")
    if got[0] == got[1] and expected[0] != expected[1]:
        check.mistake("au.threshold_ignored", f"you got {got[0]} active units at both "
                                              f"thresholds 0.01 and 0.1: use the threshold "
                                              f"argument instead of a fixed number.")
    check.fail(f"expected {expected[0]} active units at threshold 0.01 and {expected[1]} at "
               f"0.1 on the check's data ({d} dimensions); got {got[0]} and {got[1]}.")


def check_active_units(fn, show=True):
    """Check ``active_units(mu, logvar, threshold=0.01) -> int``."""
    check = _Check("active_units", "active_units(mu, logvar, threshold)")
    return _finish(_run(check, _au_body, fn), show)


# --------------------------------------------------------------------------- MIG


def _mig_inputs():
    """An MI matrix (5 latents x 3 factors) and factor entropies, with distinct answers for
    each known mistake."""
    mi = torch.tensor([[0.10, 0.90, 0.05],
                       [1.20, 0.20, 0.10],
                       [0.30, 0.85, 0.40],
                       [0.05, 0.10, 0.15],
                       [0.70, 0.00, 1.30]], dtype=torch.float64)
    entropy = torch.tensor([2.0, 1.5, 1.8], dtype=torch.float64)
    return mi, entropy


def _mig_ref(mi, h):
    top = mi.sort(dim=0, descending=True).values
    return ((top[0] - top[1]) / h).mean()


_MIG_CANDIDATES = [
    ("mig.not_normalised", "you did not divide each gap by the factor's entropy H(v_k)",
     lambda mi, h: (lambda t: (t[0] - t[1]).mean())(mi.sort(0, descending=True).values)),
    ("mig.no_runner_up", "you used the largest mutual information alone; MIG is the gap "
     "between the largest and the second largest",
     lambda mi, h: (mi.max(0).values / h).mean()),
    ("mig.gap_to_smallest", "you subtracted the smallest mutual information; the gap is to "
     "the second largest", lambda mi, h: ((mi.max(0).values - mi.min(0).values) / h).mean()),
    ("mig.first_two_latents", "you took the gap between latents 0 and 1; sort each factor's "
     "column first, so the gap is between the two most informative latents",
     lambda mi, h: ((mi[0] - mi[1]).abs() / h).mean()),
    ("mig.ascending_sort", "you sorted in ascending order, so the gap is between the two "
     "least informative latents (and negative)",
     lambda mi, h: (lambda t: ((t[0] - t[1]) / h).mean())(mi.sort(0).values)),
    ("mig.sum_over_factors", "you summed the normalised gaps over factors; MIG is their mean",
     lambda mi, h: (lambda t: ((t[0] - t[1]) / h).sum())(mi.sort(0, descending=True).values)),
    ("mig.wrong_axis", "you sorted along the factors (dim=1); for each factor, rank the latents "
     "(dim=0) of its column", lambda mi, h: (lambda t: (t[:, 0] - t[:, 1]).mean())(
         mi.sort(1, descending=True).values)),
]


def _mig_body(check, fn):
    mi, h = _mig_inputs()
    mi_in, h_in = mi.clone(), h.clone()
    value = check.call(fn, mi_in, h_in)
    _unchanged(check, (mi_in, h_in), (mi, h))
    if isinstance(value, torch.Tensor) and value.numel() > 1:
        if tuple(value.shape) == (mi.shape[1],):
            check.mistake("mig.per_factor", f"you returned one gap per factor (shape "
                                            f"{tuple(value.shape)}); MIG is their mean.")
        check.fail(f"expected one number; got a tensor of shape {tuple(value.shape)}.")
    got = _number(check, value, "MIG")
    expected = _mig_ref(mi, h).item()
    if not math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-6):
        candidates = [([c], [t], f(mi, h)) for c, t, f in _MIG_CANDIDATES]
        _diagnose_value(check, torch.tensor(got), candidates, torch.tensor(expected), "MIG")
    ident = torch.eye(3, dtype=torch.float64) * h  # each factor fully in its own latent
    one = _number(check, check.call(fn, torch.cat([ident, torch.zeros(2, 3,
                                                   dtype=torch.float64)]), h.clone()),
                  "MIG of a perfectly disentangled code")
    if not math.isclose(one, 1.0, abs_tol=1e-6):
        check.fail(f"a code where each factor lives entirely in its own latent must score 1; "
                   f"yours gives {one:.4g}.")
    return check.passed(f"MIG = mean over factors of (largest − second largest MI) / H(factor)"
                        f" = {got:.4f} on the check's matrix, and 1 for a perfectly "
                        f"disentangled code.")


def check_mig(fn, show=True):
    """Check ``mig_from_mi(mi, entropy) -> float`` (mi: latents x factors)."""
    check = _Check("mig", "mig_from_mi(mi, entropy)")
    return _finish(_run(check, _mig_body, fn), show)


# --------------------------------------------------------------------------- interpolation


def _interp_body(check, fn):
    z0 = torch.tensor([1.0, -2.0, 0.5, 3.0])
    z1 = torch.tensor([-1.0, 0.0, 2.5, 1.0])
    n = 5
    a, b = z0.clone(), z1.clone()
    path = check.call(fn, a, b, n)
    _unchanged(check, (a, b), (z0, z1))
    if isinstance(path, (list, tuple)):
        check.fail(f"you returned a {type(path).__name__}; return one tensor of shape "
                   f"({n}, {len(z0)}) — torch.stack the rows.")
    if isinstance(path, torch.Tensor) and tuple(path.shape) == (len(z0), n):
        check.mistake("interp.transposed", f"the result has shape {tuple(path.shape)}: one row "
                                           f"per step is expected, shape ({n}, {len(z0)}).")
    if isinstance(path, torch.Tensor) and path.ndim == 2 and path.shape[1] == len(z0) \
            and len(path) in (n - 1, n + 1):
        check.mistake("interp.wrong_count", f"you returned {len(path)} codes for n_steps = {n}; "
                                            f"return exactly n_steps, endpoints included.")
    got = _tensor(check, path, (n, len(z0)), "the path")
    t = torch.linspace(0, 1, n, dtype=torch.float64).unsqueeze(1)
    z0d, z1d = z0.double(), z1.double()
    expected = (1 - t) * z0d + t * z1d
    if _close(got, expected, rtol=1e-5, atol=1e-5):
        two = _tensor(check, check.call(fn, z0.clone(), z1.clone(), 2), (2, len(z0)),
                      "the path for n_steps = 2")
        if not _close(two, torch.stack([z0d, z1d]), rtol=1e-5, atol=1e-5):
            check.fail("with n_steps = 2 the path must be exactly [z_start, z_end].")
        return check.passed(f"{n} evenly spaced codes from z_start to z_end, both endpoints "
                            f"included.")
    mistakes = [
        ("interp.endpoints_swapped", "the path runs from z_end to z_start; the first row "
         "must be z_start", expected.flip(0)),
        ("interp.endpoints_excluded", "the path leaves out both endpoints; include them "
         "(the first row is z_start, the last z_end)",
         (lambda s: (1 - s) * z0d + s * z1d)(torch.linspace(0, 1, n + 2,
                                                           dtype=torch.float64)[1:-1, None])),
        ("interp.end_excluded", "the last row is not z_end (steps i/n_steps instead of "
         "i/(n_steps − 1)); include the end point",
         (lambda s: (1 - s) * z0d + s * z1d)(torch.arange(n, dtype=torch.float64)[:, None] / n)),
        ("interp.start_excluded", "the first row is not z_start; include the start point",
         (lambda s: (1 - s) * z0d + s * z1d)(torch.arange(1, n + 1,
                                                          dtype=torch.float64)[:, None] / n)),
        ("interp.weights_not_summing_to_one", "the two weights must add up to 1: "
         "(1 − t)·z_start + t·z_end", z0d + t * z1d),
    ]
    for code, text, value in mistakes:
        if _close(got, value, rtol=1e-5, atol=1e-5):
            check.mistake(code, text + ".")
    if _close(got[0], z0d, atol=1e-5) and _close(got[-1], z1d, atol=1e-5):
        check.fail("the endpoints are right but the codes in between are not evenly spaced on "
                   "the straight line (1 − t)·z_start + t·z_end.")
    check.fail(f"the first row should be z_start = {_fmt(z0)} and the last z_end = {_fmt(z1)}; "
               f"yours are {_fmt(got[0])} and {_fmt(got[-1])}.")


def check_interpolate(fn, show=True):
    """Check ``interpolate(z_start, z_end, n_steps) -> (n_steps, latent_dim)``."""
    check = _Check("interpolate", "interpolate(z_start, z_end, n_steps)")
    return _finish(_run(check, _interp_body, fn), show)


CHECKS = {"reparameterize": check_reparameterize, "kl_divergence": check_kl_divergence,
          "elbo_loss": check_elbo_loss, "linear_warmup": check_linear_warmup,
          "train_step": check_train_step, "active_units": check_active_units,
          "mig": check_mig, "interpolate": check_interpolate}
