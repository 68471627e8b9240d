"""Checks for the exercises: run a learner's function on crafted inputs and say what is wrong.

Each exercise notebook calls one check per function, e.g. ``check_kl_divergence(kl_divergence)``,
and gets a ``CheckResult``: PASS, NOT IMPLEMENTED, a named MISTAKE, or FAIL (see ``framework``).
The checks compare against the course's own functions internally; they show what was expected and
what came back, never the reference code.

Layout: ``framework`` (the result, its display, the runner), ``compare`` (validators and
comparisons shared by the checks), ``gradients`` (does a result back-propagate like the
reference's), one module per exercise (``reparameterise``, ``elbo``,
``annealing``, ``mig``, ``interpolation``), and ``notebook_runner`` (``vae-course check``, which
runs a notebook and reads the checks' marker lines back). A new exercise's checks go in a new
module here, added to the imports and to ``CHECKS`` below.
"""

from .annealing import check_active_units, check_linear_warmup, check_train_step
from .elbo import check_elbo_loss, check_kl_divergence
from .framework import FAIL, LABELS, MARKER, MARKER_RE, MISTAKE, PASS, TODO, CheckResult, show
from .interpolation import check_interpolate
from .mig import check_mig
from .reparameterise import check_reparameterize

CHECKS = {"reparameterize": check_reparameterize, "kl_divergence": check_kl_divergence,
          "elbo_loss": check_elbo_loss, "linear_warmup": check_linear_warmup,
          "train_step": check_train_step, "active_units": check_active_units,
          "mig": check_mig, "interpolate": check_interpolate}

__all__ = ["CHECKS", "CheckResult", "FAIL", "LABELS", "MARKER", "MARKER_RE", "MISTAKE", "PASS",
           "TODO", "check_active_units", "check_elbo_loss", "check_interpolate",
           "check_kl_divergence", "check_linear_warmup", "check_mig", "check_reparameterize",
           "check_train_step", "show"]
