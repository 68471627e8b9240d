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

from .annealing import (check_active_units, check_cyclical_beta, check_linear_warmup,
                        check_train_step)
from .anomaly import check_anomaly_score, check_auroc
from .attribute import check_attribute_vector
from .autoencoder import check_autoencoder
from .debugging import (check_fix_encode, check_fix_kl_loss, check_fix_logits_loss,
                        check_fix_recon_error, check_fix_recon_loss)
from .elbo import check_elbo_loss, check_kl_divergence
from .framework import FAIL, LABELS, MARKER, MARKER_RE, MISTAKE, PASS, TODO, CheckResult, show
from .free_bits import check_free_bits_kl
from .information import check_discretize, check_mutual_information
from .interpolation import check_interpolate
from .iwae import check_iwae_from_log_weights
from .mig import check_mig
from .reparameterise import check_reparameterize
from .vae_module import check_vae_module

# One entry per exercise task, in course order: the name the notebooks and `vae-course check`
# use, and its check.
CHECKS = {
    "autoencoder": check_autoencoder,  # 01
    "reparameterize": check_reparameterize,  # 02
    "kl_divergence": check_kl_divergence, "elbo_loss": check_elbo_loss,  # 03
    "vae_module": check_vae_module, "iwae_from_log_weights": check_iwae_from_log_weights,
    "linear_warmup": check_linear_warmup, "cyclical_beta": check_cyclical_beta,  # 04
    "free_bits_kl": check_free_bits_kl, "train_step": check_train_step,
    "active_units": check_active_units,
    "discretize": check_discretize, "mutual_information": check_mutual_information,  # 05
    "mig": check_mig,
    "interpolate": check_interpolate, "anomaly_score": check_anomaly_score,  # 06
    "auroc": check_auroc, "attribute_vector": check_attribute_vector,
    "fix_kl_loss": check_fix_kl_loss, "fix_recon_loss": check_fix_recon_loss,  # 07
    "fix_logits_loss": check_fix_logits_loss, "fix_recon_error": check_fix_recon_error,
    "fix_encode": check_fix_encode,
}

__all__ = ["CHECKS", "CheckResult", "FAIL", "LABELS", "MARKER", "MARKER_RE", "MISTAKE", "PASS",
           "TODO", "show"] + [f"check_{name}" for name in CHECKS]
