"""The sections of ``vae-course bench``, in the order they run and appear in the results table.

A section is a module here with

* ``NAME`` (what ``--only`` takes) and ``HELP`` (its paragraph in ``vae-course bench --help``);
* ``FULL`` and ``QUICK``: its settings (a dict, keys unique across sections; ``--quick`` takes
  ``QUICK``), saved with the results;
* ``run(ctx)``: do the work and return a dict of results (JSON-able); ``ctx`` (see
  ``runner.Context``) holds the data, the device, the settings and what earlier sections shared;
* ``rows(results)``: its rows of the results table, ``(measure, result, target, met)``, none
  when its results are absent;
* optionally ``NEEDS``: names of sections that must run first (their results are in ``ctx``).

To add a section: write the module and add it to ``REGISTRY`` below; nothing else changes.
"""

from . import (anomaly, binarised, class_load, equal_budget, likelihood, notebooks, sprites,
               throughput)

# class_load is opt-in (OPT_IN = True): it runs only when named with --only.
REGISTRY = (throughput, equal_budget, likelihood, binarised, notebooks, sprites, anomaly,
            class_load)
SECTIONS = tuple(section.NAME for section in REGISTRY)
