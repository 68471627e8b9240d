"""Checks for the exercises: run a learner's function on crafted inputs and say what is wrong.

Each exercise notebook calls one check per function, e.g. ``check_kl_divergence(kl_divergence)``,
and gets a ``CheckResult``: PASS, NOT IMPLEMENTED, a named MISTAKE, or FAIL (see ``framework``).
The checks compare against the course's own functions internally; they show what was expected and
what came back, never the reference code.

Layout: ``framework`` (the result, its display, the runner), ``compare`` (validators and
comparisons shared by the checks), ``gradients`` (does a result back-propagate like the
reference's), one module per exercise (``autoencoder``, ``reparameterise``, ``elbo``,
``vae_module``, ``iwae``, ``annealing``, ``mig``, ``interpolation``; ``nn_module`` holds what the
checks of a learner's ``nn.Module`` share), and ``notebook_runner`` (``vae-course check``, which
runs a notebook and reads the checks' marker lines back). A new exercise's checks go in a new
module here, added to the imports and to ``CHECKS`` below.
"""

from .annealing import check_active_units, check_linear_warmup, check_train_step
from .elbo import check_elbo_loss, check_kl_divergence
from .framework import FAIL, LABELS, MARKER, MARKER_RE, MISTAKE, PASS, TODO, CheckResult, show
from .interpolation import check_interpolate
from .mig import check_mig
from .reparameterise import check_reparameterize

# exercises 01-03
from .autoencoder import check_autoencoder
from .iwae import check_iwae_from_log_weights
from .vae_module import check_vae_module

CHECKS = {"reparameterize": check_reparameterize, "kl_divergence": check_kl_divergence,
          "elbo_loss": check_elbo_loss, "linear_warmup": check_linear_warmup,
          "train_step": check_train_step, "active_units": check_active_units,
          "mig": check_mig, "interpolate": check_interpolate}
# exercises 01-03
CHECKS.update({"autoencoder": check_autoencoder, "vae_module": check_vae_module,
               "iwae_from_log_weights": check_iwae_from_log_weights})

__all__ = ["CHECKS", "CheckResult", "FAIL", "LABELS", "MARKER", "MARKER_RE", "MISTAKE", "PASS",
           "TODO", "check_active_units", "check_elbo_loss", "check_interpolate",
           "check_kl_divergence", "check_linear_warmup", "check_mig", "check_reparameterize",
           "check_train_step", "show"]
# exercises 01-03
__all__ += ["check_autoencoder", "check_iwae_from_log_weights", "check_vae_module"]

# exercises 04-07
from .annealing import check_cyclical_beta  # noqa: E402
from .anomaly import check_anomaly_score, check_auroc  # noqa: E402
from .attribute import check_attribute_vector  # noqa: E402
from .debugging import (check_fix_kl_loss, check_fix_logits_loss,  # noqa: E402
                        check_fix_recon_error, check_fix_recon_loss)
from .free_bits import check_free_bits_kl  # noqa: E402
from .information import check_discretize, check_mutual_information  # noqa: E402

EXERCISES_04_07 = {
    "cyclical_beta": check_cyclical_beta, "free_bits_kl": check_free_bits_kl,
    "discretize": check_discretize, "mutual_information": check_mutual_information,
    "anomaly_score": check_anomaly_score, "auroc": check_auroc,
    "attribute_vector": check_attribute_vector, "fix_kl_loss": check_fix_kl_loss,
    "fix_recon_loss": check_fix_recon_loss, "fix_logits_loss": check_fix_logits_loss,
    "fix_recon_error": check_fix_recon_error,
}
CHECKS.update(EXERCISES_04_07)
__all__ += [f"check_{name}" for name in EXERCISES_04_07]
