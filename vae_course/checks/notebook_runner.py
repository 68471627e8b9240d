"""``vae-course check PATH.ipynb``: run an exercise notebook headlessly and report its checks.

The notebook runs top to bottom in a fresh kernel of the current Python environment, the way
"Restart & Run All" would, except that an error does not stop the run: every cell gets its
chance. Each check cell prints a marker line (see ``vae_course.checks``); this command collects
them and prints one line per check:

    PASS             reparameterize   z = mu + sigma·eps: ...
    NOT IMPLEMENTED  kl_divergence    kl_divergence(mu, logvar) is not implemented yet ...
    MISTAKE          elbo_loss        [elbo.recon_mean_over_pixels] recon: you averaged ...

plus one line for each cell that raised (except a stub's own NotImplementedError while a check
already reports "not implemented": that would say the same twice), hung (longer than ``--timeout`` seconds), killed the
kernel, or printed more than ``--max-output`` characters. The exit status is 0 only when every
check in the notebook ran and passed and no cell raised or hung; 1 otherwise; 2 when the
notebook cannot be run at all (missing file, not a notebook, no kernel).
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from ..cli import positive_seconds
from ..execute import current_env_kernel_manager, make_client
from ..kernels import kernel_session
from ..stopping import exit_code, signal_name, stop_on_signals
from .framework import LABELS, MARKER_RE, PASS, TODO

CHECK_CALL_RE = re.compile(r"^\s*(?:[\w.]+\s*=\s*)?check_(\w+)\s*\(", re.MULTILINE)
STATUS_OF_LABEL = {label: status for status, label in LABELS.items()}


def expected_checks(nb):
    """Names of the checks the notebook calls, in order (``check_kl_divergence(...)`` ->
    ``kl_divergence``)."""
    names = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            for name in CHECK_CALL_RE.findall(cell.source):
                if name not in names:
                    names.append(name)
    return names


def _texts(output):
    """Plain text of one cell output (stream text, or the text/plain of a display)."""
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return data.get("text/plain", "") if isinstance(data, dict) else ""


def parse_results(nb):
    """{check name: (status, code, message)} from the outputs of an executed notebook; the last
    result of a check wins."""
    results = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue  # only a check's display counts, not text a learner printed
            for line in _texts(output).splitlines():
                match = MARKER_RE.match(line.strip())
                if match:
                    name, label, code, message = match.groups()
                    results[name] = (STATUS_OF_LABEL[label], code, message)
    return results


TIMEOUT_ENAME = "CellTimeoutError"


def run_notebook(nb, cwd, timeout=60, max_output=200_000, kernel_name="python3",
                 startup_timeout=60):
    """Execute ``nb`` in place, cell by cell. Returns a list of problems, each a dict with
    ``cell`` (1-based index among all cells), ``kind`` (error/todo/timeout/stuck/dead/flood) and
    ``text``.

    A cell that runs longer than ``timeout`` seconds is interrupted (nbclient's
    ``interrupt_on_timeout``) and the run goes on with the next cell; if the kernel does not
    answer a trivial request after that, the run stops there.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    problems = []
    flooded = {}
    failed = {}  # cell index -> ename of its execute reply

    class Client(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            size = flooded.setdefault(cell_index, [0, False])
            content = msg.get("content", {})
            text = content.get("text", "") or str(content.get("data", {}).get("text/plain", ""))
            is_marker = "[check]" in text and msg.get("msg_type") != "stream"
            size[0] += output_size(content)  # every mime type: HTML, images, JSON too
            if size[0] > max_output and not is_marker:
                size[1] = True
                return None  # drop it: keep the notebook (and our memory) small
            return super().output(outs, msg, display_id, cell_index)

    def on_error(cell, cell_index, execute_reply):
        failed[cell_index] = execute_reply["content"].get("ename")

    limit = {"seconds": timeout}  # per cell; nbclient's own ``timeout`` takes whole seconds
    client = make_client(nb, cwd, None, kernel_name=kernel_name, client_class=Client,
                         timeout_func=lambda cell: limit["seconds"],
                         allow_errors=True, startup_timeout=startup_timeout, iopub_timeout=5,
                         interrupt_on_timeout=True, on_cell_error=on_error,
                         error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": "timeout",
                                           "traceback": []},
                         km=current_env_kernel_manager(kernel_name))
    with kernel_session(client, stderr=subprocess.DEVNULL):  # ends the kernel, whatever
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except DeadKernelError:
                problems.append({"cell": index + 1, "kind": "dead",
                                 "text": "the kernel died (crashed or ran out of memory); the "
                                         "remaining cells did not run"})
                break
            if failed.get(index) == TIMEOUT_ENAME:
                problems.append({"cell": index + 1, "kind": "timeout",
                                 "text": f"still running after {timeout:g} s (an endless loop, "
                                         f"or too much work for the --timeout); interrupted"})
                if not _responsive(client, index, failed, limit,
                                   wait=max(5.0, min(15.0, timeout))):
                    client.shutdown_kernel = "immediate"
                    problems.append({"cell": index + 1, "kind": "stuck",
                                     "text": "the kernel did not recover from the interrupt; "
                                             "the remaining cells did not run"})
                    break
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    todo = output.get("ename") == "NotImplementedError"
                    problems.append({"cell": index + 1, "kind": "todo" if todo else "error",
                                     "text": f"{output.get('ename')}: "
                                             f"{_first_line(output.get('evalue', ''))}",
                                     "ename": output.get("ename")})
            if flooded.get(index, [0, False])[1]:
                problems.append({"cell": index + 1, "kind": "flood",
                                 "text": f"printed {flooded[index][0]:,} characters; kept the "
                                         f"first {max_output:,}"})
    return problems


def _responsive(client, index, failed, limit, wait=15):
    """After an interrupt: does the kernel answer a trivial request again (within ``wait``
    seconds; ``limit`` holds the cell timeout the client reads)?"""
    import nbformat

    probe = nbformat.v4.new_code_cell("pass")
    cell, old = client.nb.cells[index], limit["seconds"]
    failed.pop(index, None)
    limit["seconds"] = wait
    try:
        client.execute_cell(probe, index)  # nbclient stores the probe at that index...
        return failed.get(index) != TIMEOUT_ENAME
    except Exception:
        return False
    finally:
        client.nb.cells[index] = cell  # ...so put the learner's cell back
        limit["seconds"] = old
        failed[index] = TIMEOUT_ENAME


def output_size(content):
    """Characters one output message adds to a notebook: its stream text plus every
    representation in its ``data`` (text/html, base64 images, JSON...), so no output type
    escapes ``--max-output``."""
    import json

    size = len(content.get("text", "") or "")
    data = content.get("data", {})
    if isinstance(data, dict):
        for value in data.values():
            size += len(value) if isinstance(value, str) else len(json.dumps(value, default=str))
    return size


def _first_line(text):
    lines = str(text).strip().splitlines()
    return lines[0][:300] if lines else ""


def report(path, names, results, problems, out=None):
    """Print one line per check and per problem; return the exit status."""
    out = out or sys.stdout
    width = max([len(n) for n in names] + [10])
    ok = bool(names)
    print(f"Checks in {path}:", file=out)
    for name in names:
        if name in results:
            status, code, message = results[name]
            label = LABELS[status]
            detail = f"[{code}] {message}" if code else message
        else:
            label, detail = "DID NOT RUN", "its cell did not finish (see the problems below)"
            status = None
        ok = ok and status == PASS
        print(f"  {label:<16} {name:<{width}}  {detail}", file=out)
    if not names:
        print("  (no check cells found: a check cell calls check_<name>(...))", file=out)
    if any(results.get(n, (None,))[0] == TODO for n in names):
        # A cell that stopped on a stub's NotImplementedError says again what the check rows
        # already say (not implemented yet): one row per check, no extra row for the cell.
        problems = [p for p in problems if p["kind"] != "todo"]
    for problem in problems:
        kind = {"error": "ERROR", "todo": "NOT IMPLEMENTED", "timeout": "TIMEOUT",
                "dead": "KERNEL DIED", "stuck": "KERNEL STUCK",
                "flood": "FLOOD"}[problem["kind"]]
        print(f"  {kind:<16} cell {problem['cell']:<{width - 5}}  {problem['text']}", file=out)
        if problem["kind"] != "flood":
            ok = False
    passed = sum(results.get(n, (None,))[0] == PASS for n in names)
    print(f"{passed} of {len(names)} checks passed.", file=out)
    return 0 if ok else 1


def positive_count(text):
    """argparse type for ``--max-output``: a whole number of characters > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="vae-course check",
        description="Run an exercise notebook headlessly and report each check.")
    parser.add_argument("notebook", help="path of the .ipynb (or its paired .py) to run")
    parser.add_argument("--timeout", type=positive_seconds, default=120,
                        help="seconds one cell may run before it is interrupted (default 120; "
                             "fractions such as 2.5 are fine)")
    parser.add_argument("--max-output", type=positive_count, default=200_000,
                        help="characters of output kept per cell, every output type counted "
                             "(default 200000)")
    parser.add_argument("--kernel", default="python3",
                        help="kernel name (default: python3 of this environment)")
    args = parser.parse_args(argv)

    import nbformat

    path = Path(args.notebook)
    if not path.is_file():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    try:
        if path.suffix == ".py":
            import jupytext

            nb = jupytext.read(path, fmt="py:percent")
        else:
            nb = nbformat.read(path, as_version=4)
    except Exception as err:
        print(f"error: {path} is not a readable notebook: {type(err).__name__}: "
              f"{_first_line(err)}", file=sys.stderr)
        return 2
    names = expected_checks(nb)
    print(f"Running {path} (cell timeout {args.timeout:g} s)...", flush=True)
    start = time.perf_counter()
    try:
        with stop_on_signals():  # SIGTERM too, so the kernel is ended before we exit
            problems = run_notebook(nb, path.resolve().parent, timeout=args.timeout,
                                    max_output=args.max_output, kernel_name=args.kernel)
    except KeyboardInterrupt as err:  # Ctrl-C or SIGTERM: the kernel has been ended already
        print(f"Stopped by {signal_name(err)} after {time.perf_counter() - start:.1f} s: the "
              f"checks did not finish and the kernel was shut down.", file=sys.stderr)
        return exit_code(err)
    except Exception as err:  # the kernel could not start, or nbclient gave up
        print(f"error: could not run {path}: {type(err).__name__}: {_first_line(err)}",
              file=sys.stderr)
        return 2
    print(f"Ran in {time.perf_counter() - start:.1f} s.")
    return report(path, names, parse_results(nb), problems)


if __name__ == "__main__":
    sys.exit(main())
