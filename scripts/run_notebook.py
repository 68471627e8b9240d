"""Execute one notebook headlessly, report its run time, and save every figure it draws as PNG.

    python scripts/run_notebook.py notebooks/01_autoencoder.ipynb [OUT_DIR]

Figures go to OUT_DIR (default build/figures/<notebook name>/) as cellNNN_K.png, and the
executed notebook as executed.ipynb beside them, so you can look at what a learner will see.
"""

import base64
import sys
import time
from pathlib import Path

import nbformat

from vae_course.execute import make_client


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    path = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 else Path("build/figures") / path.stem
    out.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    client = make_client(nb, path.parent, timeout=900)
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except Exception as err:  # report, then still save what ran
        error = err
    seconds = time.perf_counter() - start
    count = 0
    for i, cell in enumerate(nb.cells):
        for k, output in enumerate(cell.get("outputs", [])):
            data = output.get("data", {})
            if "image/png" in data:
                (out / f"cell{i:03d}_{k}.png").write_bytes(base64.b64decode(data["image/png"]))
                count += 1
    nbformat.write(nb, out / "executed.ipynb")
    print(f"{path}: {seconds:.1f} s, {count} figures in {out}")
    if error:
        print(f"ERROR: {str(error)[-3000:]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
