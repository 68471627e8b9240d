"""The asserted claims of the lecture notebooks, recorded so their margins can be read across seeds.

A sentence of prose states a number; the cell below prints it and guards it:

    claim("16-D reconstructs better than 2-D (nats)", recon_2d - recon_16d, above=30)

``claim`` fails like an ``assert`` when the value is on the wrong side of a bound (its message
names the claim, the value and the bound), and returns the value. When ``$VAE_COURSE_CLAIMS``
names a file, it also appends one JSON line to it — the claim, the value, the bounds, the seed
(``$VAE_COURSE_SEED``) and the margin — so ``scripts/seed_margins.py`` can run the notebooks
under several seeds and print how close each claim came to failing.

The margin is the distance from the value to its nearest bound, as a fraction of that bound
(of 1 when the bound is 0): 0.5 means "half as much again would have been needed to fail".
"""

import json
import math
import os

CLAIMS_ENV = "VAE_COURSE_CLAIMS"


def margin(value, above=None, below=None):
    """Relative distance of ``value`` from its nearest bound (negative when a bound is broken)."""
    gaps = []
    if above is not None:
        gaps.append((value - above) / (abs(above) or 1.0))
    if below is not None:
        gaps.append((below - value) / (abs(below) or 1.0))
    return min(gaps)


def claim(name, value, *, above=None, below=None):
    """Assert that ``above < value < below`` (either bound may be left out) and record it.

    Returns ``value`` as a float, so a cell can print it. Raises AssertionError naming the
    claim when the value is not strictly inside the bounds (NaN never is)."""
    if above is None and below is None:
        raise ValueError(f"claim {name!r}: give a bound (above=, below= or both)")
    value = float(value)
    above = None if above is None else float(above)
    below = None if below is None else float(below)
    ok = (math.isfinite(value) and (above is None or value > above)
          and (below is None or value < below))
    _record(name, value, above, below, ok)
    if not ok:
        bounds = " and ".join(f"{word} {bound:g}" for word, bound in
                              (("above", above), ("below", below)) if bound is not None)
        raise AssertionError(f"claim failed: {name}: {value:.4g} is not {bounds}")
    return value


def _record(name, value, above, below, ok):
    path = os.environ.get(CLAIMS_ENV)
    if not path:
        return
    row = {"claim": name, "value": value, "above": above, "below": below, "ok": ok,
           "margin": margin(value, above, below) if math.isfinite(value) else None,
           "seed": os.environ.get("VAE_COURSE_SEED", "0")}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
