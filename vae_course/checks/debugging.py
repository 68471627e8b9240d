"""Checks of exercise 07: four training runs, each broken by one mistake from lecture 07; the
learner writes the fixed function, and the check

1. compares its values on crafted inputs with the reference and names the mistake when it is
   still there (or another known one took its place),
2. compares its gradients with the reference (for the losses, which must train), and
3. runs a short training with the learner's function and measures, with correct code only, that
   the symptom the broken run showed is gone.

The training bench (``train_briefly``, on ``vae_course.loss_bench``) is the one the notebook's
demo cells use on the broken code, so the learner sees the same measurement before and after
the fix.
"""

import math
from itertools import product

import torch
import torch.nn.functional as F

from ..loss_bench import train_with_loss
from .compare import fmt, inputs_unchanged, is_close, returned_tensor
from .framework import exercise_check
from .gradients import compare_gradients, leaves

STEPS, BATCH, LATENT, HIDDEN = 80, 128, 8, 64


# --------------------------------------------------------------------------- the bench


def train_briefly(loss_fn, steps=STEPS, seed=0, data=None, encode_fn=None):
    """The bench of exercise 07, ``vae_course.loss_bench.train_with_loss``: a fresh VAE(8,
    hidden=64), ``steps`` Adam steps on batches of 128 training digits, with
    ``loss_fn(logits, x, mu, logvar) -> (loss, kl)``; seeded, the caller's random state kept.
    With ``encode_fn(model, pixels) -> (mu, logvar)`` the encoder's part is that function, given
    the batch as raw pixel values 0–255 (bug 5); the loss still compares with the [0, 1] images.
    Returns the model (in eval mode) and the record of the run."""
    from ..data import load_mnist

    x = (data or load_mnist(quiet=True)).x_train
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return train_with_loss(loss_fn, x, latent_dim=LATENT, hidden=HIDDEN, steps=steps,
                               batch_size=BATCH, seed=seed, encode_fn=encode_fn,
                               encoder_scale=1.0 if encode_fn is None else 255.0)


def demo_run(loss_fn, data=None, encode_fn=None):
    """``train_briefly(loss_fn)`` for a run the notebook shows (a broken loss before any fix, or
    the correct one), kept in the course's model cache under the loss function's source code
    and the bench's settings: the runs a learner reads before writing anything cost no training
    on the next Run All, and give the same numbers (same seed, same device type). Editing the
    function changes the key and trains afresh. A function whose source is not all of it (a
    closure, or one whose source cannot be read) is trained every time, never cached. The
    checks never use this for the learner's function: they train that one every time."""
    import inspect

    from ..cache import train_or_load
    from ..data import load_mnist
    from ..models import VAE

    def source_of(fn):
        try:
            return None if getattr(fn, "__closure__", None) else inspect.getsource(fn)
        except (OSError, TypeError):
            return None

    data = data or load_mnist(quiet=True)
    sources = [source_of(fn) for fn in (loss_fn, encode_fn) if fn is not None]
    if None in sources:
        return train_briefly(loss_fn, data=data, encode_fn=encode_fn)
    config = {"loss": sources[0], "steps": STEPS, "batch": BATCH, "latent": LATENT,
              "hidden": HIDDEN, "seed": 0, "data": data.source, "n": len(data.x_train),
              "record": 2}
    if encode_fn is not None:
        config["encode"] = sources[1]

    def train(model):
        trained, record = train_briefly(loss_fn, data=data, encode_fn=encode_fn)
        model.load_state_dict(trained.state_dict())
        return {"record": record}

    model, extra, _ = train_or_load("debug-run", config, lambda: VAE(LATENT, hidden=HIDDEN),
                                    train, verbose=False, device="cpu")
    return model.eval(), extra["record"]


_REFERENCE = {}


def reference_run(data=None):
    """``(model, record)`` of the bench trained with the correct loss (from the model cache, or
    trained once per process, then reused)."""
    if "run" not in _REFERENCE:
        _REFERENCE["run"] = demo_run(reference_loss, data=data)
    return _REFERENCE["run"]


def reference_model(data=None):
    """The bench's model trained with the correct loss (see ``reference_run``)."""
    return reference_run(data)[0]


@torch.no_grad()
def measure(model, data=None):
    """What a trained model looks like, measured with correct code only, on the test digits:
    the true KL, the mean posterior σ, the active units, and the reconstruction error at μ."""
    from ..data import load_mnist
    from ..metrics import active_units

    x = (data or load_mnist(quiet=True)).x_test
    mu, logvar = model.encode(x)
    logits = model.decode(mu)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    return {"true KL": float(_kl(mu, logvar).mean()),
            "mean sigma": float(torch.exp(0.5 * logvar).mean()),
            "active units": active_units(mu),
            "recon at mu": float(recon.mean())}


def _kl(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)


def _recon(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def reference_loss(logits, x, mu, logvar):
    """The course's loss: recon summed over pixels + KL summed over latent dims, batch mean."""
    kl = _kl(mu, logvar).mean()
    return _recon(logits, x).mean() + kl, kl


def double_sigmoid_floor(x):
    """The lowest batch-mean reconstruction term a sigmoid fed into a with-logits loss can reach:
    every pixel's probability is stuck between sigmoid(0) = 0.5 and sigmoid(1)."""
    q = x.clamp(0.5, 1 / (1 + math.exp(-1)))
    return float(F.binary_cross_entropy(q, x, reduction="none").flatten(1).sum(1).mean())


# --------------------------------------------------------------------------- the losses


_RECON = [
    (None, "", lambda lg, x: _recon(lg, x).mean()),
    ("loss.recon_mean_over_pixels", "the reconstruction is averaged over the pixels (the "
     "default reduction=\"mean\" of PyTorch's losses); the convention sums over pixels, so an "
     "average silently weighs the KL 784 times more",
     lambda lg, x: F.binary_cross_entropy_with_logits(lg, x)),
    ("loss.double_sigmoid", "the logits went through a sigmoid before a with-logits loss, "
     "which applies the sigmoid again; give the loss the logits themselves",
     lambda lg, x: _recon(torch.sigmoid(lg), x).mean()),
    ("loss.squared_error", "the reconstruction is a squared error; this model's likelihood is "
     "Bernoulli: binary cross-entropy on the logits",
     lambda lg, x: (torch.sigmoid(lg) - x).pow(2).flatten(1).sum(1).mean()),
    ("loss.recon_sum_over_batch", "the reconstruction is summed over the batch; average it "
     "(nats per image)", lambda lg, x: _recon(lg, x).sum()),
]
_KL = [
    (None, "", lambda m, lv: _kl(m, lv).mean()),
    ("loss.kl_sigma_for_logvar", "the KL uses σ = exp(½·logvar) where log σ² belongs: "
     "−½·Σ(1 + log σ² − μ² − σ²) has logvar itself as its second term",
     lambda m, lv: (-0.5 * (1 + torch.exp(0.5 * lv) - m ** 2 - lv.exp())).sum(1).mean()),
    ("loss.kl_mean_over_latent", "the KL is averaged over the latent dimensions; sum them (the "
     "KL of the whole code), average only over the batch",
     lambda m, lv: (-0.5 * (1 + lv - m ** 2 - lv.exp())).mean()),
    ("loss.kl_missing_half", "the KL is twice the right value: the ½ is missing",
     lambda m, lv: 2 * _kl(m, lv).mean()),
    ("loss.kl_wrong_sign", "the KL has the wrong sign (a KL is never negative)",
     lambda m, lv: -_kl(m, lv).mean()),
    ("loss.kl_logvar_for_variance", "the KL uses logvar where σ² = exp(logvar) belongs",
     lambda m, lv: (-0.5 * (1 + lv - m ** 2 - lv)).sum(1).mean()),
    ("loss.kl_missing", "the KL term is missing from the loss: loss = recon + KL",
     lambda m, lv: torch.zeros((), dtype=m.dtype)),
]


def _loss_inputs():
    g = torch.Generator().manual_seed(19)
    x = (torch.rand(5, 1, 6, 6, generator=g) > 0.6).float()
    x[:, :, 3] = torch.rand(5, 1, 6, generator=g)
    logits = torch.randn(5, 1, 6, 6, generator=g) * 2
    mu = torch.randn(5, 4, generator=g)
    logvar = torch.rand(5, 4, generator=g) * 3 - 2
    return logits, x, mu, logvar


def _loss_candidates(logits, x, mu, logvar):
    """(codes, explanations, loss) for every combination of up to one recon and one KL mistake;
    the correct one first."""
    args = [t.double() for t in (logits, x, mu, logvar)]
    out = []
    for (c1, t1, r), (c2, t2, k) in product(_RECON, _KL):
        codes, texts = [c for c in (c1, c2) if c], [t for t in (t1, t2) if t]
        out.append((codes, texts, r(args[0], args[1]) + k(args[2], args[3])))
    out.sort(key=lambda item: len(item[0]))
    return out


def _kl_candidates(mu, logvar):
    m, lv = mu.double(), logvar.double()
    return [([c] if c else [], [t] if t else [], k(m, lv)) for c, t, k in _KL
            if c != "loss.kl_missing"]


def _name(check, got, candidates, what, bug, expected):
    """End with the named mistake that reproduces ``got`` (pointing out when it is the very
    mistake this task is about), or a generic failure."""
    for codes, texts, value in candidates:
        if codes and is_close(got, value, rtol=1e-4):
            text = "; ".join(texts)
            still = "the mistake is still there: " if bug in codes else ""
            check.mistake("+".join(codes), f"{what}: {still}{text}. (Got {fmt(got)}, expected "
                                           f"{fmt(expected)}.)")
    check.fail(f"{what} is {fmt(got)} on the check's batch; expected {fmt(expected)} (recon "
               f"summed over pixels + KL summed over latent dimensions, both averaged over the "
               f"batch).")


def _loss_value_and_gradients(check, fn, bug):
    logits, x, mu, logvar = _loss_inputs()
    mine = leaves(logits=logits, mu=mu, logvar=logvar)
    ref = leaves(logits=logits, mu=mu, logvar=logvar)
    out = check.call(fn, mine["logits"], x.clone(), mine["mu"], mine["logvar"])
    if isinstance(out, torch.Tensor) or not isinstance(out, (tuple, list)) or len(out) != 2:
        check.fail(f"{check.signature} should return (loss, kl), two 0-dim tensors, as the "
                   f"broken version did; got {type(out).__name__}.")
    loss, kl = out
    got_loss = returned_tensor(check, loss, (), "the loss")
    got_kl = returned_tensor(check, kl, (), "the reported kl")
    candidates = _loss_candidates(logits, x, mu, logvar)
    expected = candidates[0][2]
    if not is_close(got_loss, expected):
        _name(check, got_loss, candidates, "the loss", bug, expected)
    kls = _kl_candidates(mu, logvar)
    if not is_close(got_kl, kls[0][2]):
        _name(check, got_kl, kls, "the reported kl", bug, kls[0][2])
    ref_loss, _ = reference_loss(ref["logits"], x, ref["mu"], ref["logvar"])
    compare_gradients(check, loss, ref_loss, mine, ref, what="your loss")


def _train_and_measure(check, fn):
    record = {}

    def run():
        model, rec = train_briefly(fn)
        record.update(rec)
        return model

    model = check.call(run)
    if record["stopped_at"] is not None:
        check.fail(f"the training run with your loss stopped at step {record['stopped_at']}: "
                   f"the loss was not a finite number.")
    return model, record, measure(model)


def _judge_fixed_loss(check, fn, bug, symptom):
    """The three steps every fixed loss goes through: values and gradients on crafted inputs
    (``bug`` is the mistake of this task), a training run, and its ``symptom`` measured."""
    _loss_value_and_gradients(check, fn, bug)
    model, record, measured = _train_and_measure(check, fn)
    return symptom(check, record, measured)


def _kl_symptom(check, record, measured):
    low, sigma = min(record["kl"]), measured["mean sigma"]
    if low < 0 or sigma < 0.6:
        check.fail(f"after {STEPS} steps with your loss the reported KL went down to {low:.2f} "
                   f"and the mean posterior σ is {sigma:.2f}: the symptom is still there (a KL "
                   f"is never negative; σ should stay above 0.6 after this run).")
    return check.passed(f"fixed: in a run of {STEPS} steps the reported KL never went below "
                        f"{low:.2f} (it is never negative now), the mean posterior σ is "
                        f"{sigma:.2f} (the broken loss squeezes it towards 0) and the true KL is "
                        f"{measured['true KL']:.1f} nats.")


def _collapse_symptom(check, record, measured):
    au = measured["active units"]
    if au < 4:
        check.fail(f"after {STEPS} steps with your loss only {au} of {LATENT} latent dimensions "
                   f"are active: the posterior still collapses.")
    return check.passed(f"fixed: after {STEPS} steps {au} of {LATENT} latent dimensions are "
                        f"active and the true KL is {measured['true KL']:.1f} nats (the broken "
                        f"loss, a β of 784 in disguise, collapses every dimension).")


def _floor_symptom(check, record, measured):
    from ..data import load_mnist

    floor = double_sigmoid_floor(load_mnist(quiet=True).x_train)
    final = sum(record["loss"][-20:]) / 20
    if final >= floor:
        check.fail(f"after {STEPS} steps your training loss is {final:.1f} nats, not below "
                   f"{floor:.1f}, the floor of a sigmoid fed into a with-logits loss: the "
                   f"symptom is still there.")
    return check.passed(f"fixed: after {STEPS} steps the training loss is {final:.1f} nats, "
                        f"well under the {floor:.1f}-nat floor the doubled sigmoid could never "
                        f"go below; reconstruction at μ {measured['recon at mu']:.1f} nats.")


@exercise_check("fix_kl_loss", "fix_kl_loss(logits, x, mu, logvar)")
def check_fix_kl_loss(check, fn):
    """Check ``fix_kl_loss(logits, x, mu, logvar) -> (loss, kl)``: the KL with log σ² restored."""
    return _judge_fixed_loss(check, fn, "loss.kl_sigma_for_logvar", _kl_symptom)


@exercise_check("fix_recon_loss", "fix_recon_loss(logits, x, mu, logvar)")
def check_fix_recon_loss(check, fn):
    """Check ``fix_recon_loss(logits, x, mu, logvar) -> (loss, kl)``: recon summed, not averaged,
    over the pixels."""
    return _judge_fixed_loss(check, fn, "loss.recon_mean_over_pixels", _collapse_symptom)


@exercise_check("fix_logits_loss", "fix_logits_loss(logits, x, mu, logvar)")
def check_fix_logits_loss(check, fn):
    """Check ``fix_logits_loss(logits, x, mu, logvar) -> (loss, kl)``: logits, not
    probabilities, into the with-logits loss."""
    return _judge_fixed_loss(check, fn, "loss.double_sigmoid", _floor_symptom)


# --------------------------------------------------------------------------- evaluation


def _eval_mistakes(model, x):
    with torch.no_grad():
        mu, logvar = model.encode(x)
        logits = model.decode(mu)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1)
    return [
        ("eval.mean_over_pixels", "the error is averaged over the pixels; the convention sums "
         "them (nats per image)", bce.mean(1)),
        ("eval.double_sigmoid", "the logits went through a sigmoid before a with-logits loss",
         _recon(torch.sigmoid(logits), x)),
        ("eval.squared_error", "the error is a squared error; use the Bernoulli negative "
         "log-likelihood (binary cross-entropy on the logits)",
         (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1)),
        ("eval.kl_added", "you added the KL: that is −ELBO at μ; the task is the reconstruction "
         "error alone, −log p(x | z = μ)", bce.sum(1) + _kl(mu, logvar)),
        ("eval.wrong_sign", "the error has the wrong sign: it is −log p(x | z), positive",
         -bce.sum(1)),
    ]


@exercise_check("fix_recon_error", "fix_recon_error(model, x)")
def check_fix_recon_error(check, fn):
    """Check ``fix_recon_error(model, x) -> (N,)``: the reconstruction error at μ."""
    from ..data import load_mnist

    data = load_mnist(quiet=True)
    model = reference_model(data)
    x = data.x_test[:200]
    before = [p.detach().clone() for p in model.parameters()]
    first = check.call(fn, model, x.clone())
    n = len(x)
    if isinstance(first, torch.Tensor) and first.ndim == 0:
        check.mistake("eval.batch_mean", f"you returned one number for the batch; return one "
                                         f"error per image, shape ({n},).")
    got = returned_tensor(check, first, (n,), "the errors")
    second = returned_tensor(check, check.call(fn, model, x.clone()), (n,), "the errors")
    changed = any(not torch.equal(p.detach(), b) for p, b in zip(model.parameters(), before))
    with torch.no_grad():  # put the shared model back as it was, whatever the function did
        for p, b in zip(model.parameters(), before):
            p.copy_(b)
    model.eval()
    if changed:
        check.fail("your function changed the model's weights; evaluation must not train.")
    with torch.no_grad():
        mu, _ = model.encode(x)
        expected = _recon(model.decode(mu), x).double()
    if not is_close(got, second, rtol=1e-6, atol=1e-5):
        spread = float((got - second).abs().mean())
        check.mistake("eval.sampled", f"the mistake is still there: two evaluations of the same "
                                      f"images differ by {spread:.2f} nats per image on average "
                                      f"— z is still sampled. Decode the posterior mean μ.")
    if not is_close(got, expected, rtol=1e-4, atol=1e-3):
        for code, text, value in _eval_mistakes(model, x):
            if is_close(got, value.double(), rtol=1e-4, atol=1e-3):
                check.mistake(code, f"{text}. (Got {fmt(got, 3)}, expected "
                                    f"{fmt(expected, 3)}.)")
        check.fail(f"the reconstruction errors at μ of the check's {n} test digits (model "
                   f"trained {STEPS} steps) should be {fmt(expected)} nats; yours are "
                   f"{fmt(got)}.")
    return check.passed(f"fixed: the same {n} test digits get the same errors on every call "
                        f"(decoded at μ), {float(expected.mean()):.1f} nats per image on "
                        f"average, against a model trained for {STEPS} steps.")


# --------------------------------------------------------------------------- the encoder's input

LOGVAR_LIMIT = 20.0  # a healthy run of the bench stays below ~5; the broken one passes 40


def _encode_pair(check, out, n):
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        check.fail(f"{check.signature} should return (mu, logvar), each of shape ({n}, "
                   f"{LATENT}), as the broken version did; got {type(out).__name__}.")
    mu, logvar = out
    for what, value in (("mu", mu), ("logvar", logvar)):
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != (n, LATENT):
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            check.fail(f"{what} should be a tensor of shape ({n}, {LATENT}); got {shape}.")
    return mu, logvar


def _encode_mistakes(model, pixels):
    """(code, explanation, (mu, logvar)) of each known wrong encoder input or output."""
    raw_mu, raw_lv = model.encode(pixels)
    mu, lv = model.encode(pixels / 255)
    return [
        ("encode.not_scaled", "the mistake is still there: the encoder gets the raw pixel "
         "values 0–255, so its first layer's outputs are 255 times too large and log σ² "
         "explodes; divide the pixels by 255 first", (raw_mu, raw_lv)),
        ("encode.scaled_twice", "the pixels are divided by 255 twice (255² in all): the encoder "
         "sees almost black images", model.encode(pixels / 255 ** 2)),
        ("encode.multiplied", "the pixels are multiplied by 255 instead of divided",
         model.encode(pixels * 255)),
        ("encode.batch_max", "the pixels are divided by the batch's largest value, not by 255: "
         "a batch of dim digits gets brightened, and the scale changes from batch to batch",
         model.encode(pixels / pixels.max())),
        ("encode.standardised", "the pixels are standardised (mean 0, std 1 over the batch); "
         "the model was built for images in [0, 1] like its training data: divide by 255",
         model.encode((pixels - pixels.mean()) / pixels.std())),
        ("encode.variance_returned", "the second output is σ² = exp(logvar); return logvar "
         "itself, as the encoder gives it", (mu, lv.exp())),
        ("encode.sigma_returned", "the second output is σ = exp(½·logvar); return logvar "
         "itself, as the encoder gives it", (mu, torch.exp(0.5 * lv))),
        ("encode.swapped", "mu and logvar are swapped", (lv, mu)),
    ]


@exercise_check("fix_encode", "fix_encode(model, pixels)")
def check_fix_encode(check, fn):
    """Check ``fix_encode(model, pixels) -> (mu, logvar)``: the encoder fed images in [0, 1]."""
    import copy

    from ..data import load_mnist

    data = load_mnist(quiet=True)
    base = reference_model(data)
    model = copy.deepcopy(base).eval()  # whatever the function does, the shared model stays
    pixels = data.x_test[:6] * 0.8 * 255  # dim digits: the brightest pixel is 204, not 255
    n = len(pixels)
    given = pixels.clone()
    mu, logvar = _encode_pair(check, check.call(fn, model, given), n)
    inputs_unchanged(check, (model, given), (None, pixels))  # names `pixels` the second
    with torch.no_grad():
        ref_mu, ref_lv = base.encode(pixels / 255)
        mistakes = _encode_mistakes(base, pixels)
        raw_mu = mistakes[0][2][0]
    # logvar may be bounded (a clamp, or a smooth bound such as 10·tanh(logvar / 10)): it only
    # has to agree where the values are ordinary, here within 0.05.
    right = is_close(mu, ref_mu, rtol=1e-4, atol=1e-4) and is_close(logvar, ref_lv, rtol=0,
                                                                      atol=0.05)
    if not right:
        for code, text, (m, lv) in mistakes:
            if is_close(mu, m, rtol=1e-4, atol=1e-4) and is_close(logvar, lv, rtol=1e-3,
                                                                   atol=1e-3):
                name, mine, want = ("mu", mu, ref_mu) if not is_close(mu, ref_mu) else \
                    ("logvar", logvar, ref_lv)
                check.mistake(code, f"{text}. ({name} of the first image {fmt(mine[0], 4)}; "
                                    f"expected {fmt(want[0], 4)}.)")
        if is_close(mu, raw_mu, rtol=1e-4, atol=1e-4):
            check.mistake("encode.guard_only",
                          "you bounded log σ², a good guard against overflow, but the encoder "
                          "still gets the raw pixel values 0–255: the model learns from inputs "
                          "255 times too large. Divide the pixels by 255 as well.")
        check.fail(f"for 6 test digits as pixel values (brightest 204) mu should be "
                   f"{fmt(ref_mu[0], 4)} for the first image and logvar {fmt(ref_lv[0], 4)}; "
                   f"yours are {fmt(mu[0], 4)} and {fmt(logvar[0], 4)}.")
    for what, value in (("mu", mu), ("logvar", logvar)):
        if value.grad_fn is None:
            check.mistake("grad.detached",
                          f"{what} has the right values but carries no gradient: it was "
                          f"detached (or computed under torch.no_grad()), so training would "
                          f"never update the encoder through it.")
    record = {}

    def run():
        trained, rec = train_briefly(reference_loss, data=data, encode_fn=fn)
        record.update(rec)
        return trained

    check.call(run)
    healthy = reference_run(data)[1]
    final = sum(record["loss"][-20:]) / max(1, len(record["loss"][-20:]))
    target = sum(healthy["loss"][-20:]) / 20
    if record["stopped_at"] is not None or record["max_logvar"] > LOGVAR_LIMIT:
        died = "" if record["stopped_at"] is None else \
            f" and the loss became infinite at step {record['stopped_at']}"
        check.fail(f"in a run of {STEPS} steps with your function log σ² reached "
                   f"{record['max_logvar']:.3g}{died}: the symptom is still there (a healthy "
                   f"run stays below {LOGVAR_LIMIT:g}).")
    if not final < target + 30:
        check.fail(f"after {STEPS} steps with your function the training loss is {final:.1f} "
                   f"nats; the same run on images in [0, 1] reaches {target:.1f}.")
    return check.passed(f"fixed: in a run of {STEPS} steps log σ² never went above "
                        f"{record['max_logvar']:.1f} (the broken run passes 40 and may hit "
                        f"infinity) and the loss ends at {final:.1f} nats, as the healthy run "
                        f"({target:.1f}).")
