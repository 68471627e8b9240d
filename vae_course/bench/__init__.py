"""``vae-course bench``: how fast and how good the course is, measured on this machine.

    vae-course bench                     the full benchmark (about 20 minutes on 2 idle cores)
    vae-course bench --quick             a small version of every section (under 3 minutes)
    vae-course bench --json build/bench.json     also save the numbers (and a .md table beside)
    vae-course bench --table build/bench.json    print the README results table of a saved run

Layout: ``sections/`` holds one module per section (its settings, its work, its table rows) and
the registry of them (``sections.REGISTRY``; ``--only NAME`` runs some, ``--help`` lists them);
``baseline`` is the standard per-sample pipeline the course is compared with; ``runner`` runs
the sections, ``machine`` says what they ran on, ``report`` renders the results table, ``cli``
is the command line; ``trial_hub`` (a trial JupyterHub driven through its REST API) and
``kernel_ws`` (cells run over a kernel's websocket) serve the opt-in ``class`` section.

Every budget is in seconds or steps, so the benchmark takes the same time whichever MNIST is on
disk, and it runs unchanged on a GPU (``get_device()``). Wall times depend on what else the
machine is doing: the load average before and after is saved with the numbers.
"""

from ..paths import lecture_notebooks
from .baseline import STANDARD, standard_dataset, standard_loader, to_uint8, train_standard
from .cli import main
from .machine import machine_info
from .report import render_table
from .runner import run, settings
from .sections import REGISTRY, SECTIONS
from .sections.anomaly import ANOMALY, anomaly
from .sections.binarised import binarised_likelihood
from .sections.equal_budget import BEST_MNIST, equal_budget
from .sections.likelihood import likelihood
from .sections.notebooks import CACHE_WORDS, NOTEBOOK_CACHE_MODES, notebooks, time_notebook
from .sections.sprites import sprites, sprites_recipe
from .sections.throughput import throughput

# Every section's targets, by result key (each section keeps its own).
TARGETS = {key: value for section in REGISTRY for key, value in
           getattr(section, "TARGETS", {}).items()}
