"""``python -m vae_course.bench``: the same as ``vae-course bench``."""

import sys

from .cli import main

if __name__ == "__main__":  # importing the module (e.g. to list the package) runs nothing
    sys.exit(main())
