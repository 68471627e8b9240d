"""vae_course: the helper package of the VAE course.

The notebooks import from the small modules directly, so a reader can find every function:

    from vae_course.data import load_mnist          # MNIST, offline first
    from vae_course.sprites import make_sprites     # shapes with known factors
    from vae_course.models import Autoencoder, VAE  # encode -> (mu, logvar), decode -> logits
    from vae_course.losses import elbo_loss, kl_divergence, iwae_bound
    from vae_course.schedules import Constant, LinearWarmup, Cyclical
    from vae_course.train import fit, evaluate
    from vae_course.metrics import active_units, mig, auroc
    from vae_course.plots import show_images, plot_latent_map, plot_history
    from vae_course.device import get_device, seed_everything
"""

__version__ = "0.1.0"
