"""``vae-course progress`` (also ``vae-course check`` with no notebook): where a learner stands.

Runs every exercise notebook of the learner's workspace headlessly, each in a fresh kernel, the
way ``vae-course check`` runs one (``vae_course.checks.notebook_runner``), and prints one table:
one row per task (check) of each exercise, with its result: pass, not implemented yet, the named
mistake, a generic failure, or "did not run" with the reason. Nothing is written: the learner's
notebooks are read, executed in memory and left as they are.

    exercise            task             result
    02_reparameterise   reparameterize   pass
    03_elbo             kl_divergence    mistake (kl.missing_half): Your KL is exactly twice ...
    03_elbo             elbo_loss        not implemented yet

The exit status is 0 when every task passes, 1 otherwise, 2 when there is nothing to run (no
workspace yet) and 130 after Ctrl-C.
"""

import argparse
import sys
import time

from .workspace import exercise_notebooks, workspace_dir

RESULT_WORDS = {"pass": "pass", "todo": "not implemented yet", "mistake": "mistake",
                "fail": "wrong"}
STOPPERS = ("timeout", "stuck", "dead")  # problems that keep a check cell from finishing
DETAIL_WIDTH = 70


def _first_line(text, width=DETAIL_WIDTH):
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def task_rows(nb, problems):
    """[(task, result text, passed?)] of one executed notebook."""
    from .checks.notebook_runner import expected_checks, parse_results

    results = parse_results(nb)
    stopper = next((p for p in problems if p["kind"] in STOPPERS), None)
    rows = []
    for name in expected_checks(nb):
        if name not in results:
            why = _first_line(stopper["text"], 50) if stopper else "its check cell did not finish"
            rows.append((name, f"did not run ({why})", False))
            continue
        status, code, message = results[name]
        word = RESULT_WORDS.get(status, status)
        if status == "pass":
            rows.append((name, word, True))
        elif status == "todo":
            rows.append((name, word, False))
        else:
            tag = f" ({code})" if code else ""
            rows.append((name, f"{word}{tag}: {_first_line(message)}", False))
    return rows


def run_exercise(path, timeout):
    """Execute one exercise notebook (a copy in memory) and return its task rows."""
    import nbformat

    from .checks.notebook_runner import run_notebook

    nb = nbformat.read(path, as_version=4)
    problems = run_notebook(nb, path.resolve().parent, timeout=timeout)
    return task_rows(nb, problems)


def print_table(rows, out):
    """Print (exercise, task, result) rows as aligned columns."""
    header = ("exercise", "task", "result")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in (0, 1)]
    for exercise, task, result in [header, *rows]:
        print(f"  {exercise:<{widths[0]}}  {task:<{widths[1]}}  {result}", file=out)


def main(argv=None, out=None):
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="vae-course progress",
        description="Run every exercise in your workspace and show each task's result.")
    parser.add_argument("--timeout", type=float, default=120,
                        help="seconds one cell may run before it is interrupted (default 120)")
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error("--timeout must be a positive number of seconds")

    work = workspace_dir()
    notebooks = exercise_notebooks(work)
    if not notebooks:
        print(f"No exercises in {work / 'exercises'} yet: `vae-course lab` (or `vae-course "
              "workspace`) copies them there.", file=sys.stderr)
        return 2
    print(f"Running the {len(notebooks)} exercises in {work / 'exercises'}, each in a fresh "
          "kernel...", file=out, flush=True)
    rows, done = [], 0
    try:
        for path in notebooks:
            start = time.perf_counter()
            try:
                tasks = run_exercise(path, args.timeout)
            except Exception as err:  # not a notebook, or no kernel: say so, go on
                tasks = [("(notebook)", f"could not run: {type(err).__name__}: "
                          f"{_first_line(err, 50)}", False)]
            rows += [(path.stem, task, text, ok) for task, text, ok in tasks]
            done += 1
            print(f"  {path.name}: {sum(ok for *_, ok in tasks)} of {len(tasks)} tasks pass "
                  f"({time.perf_counter() - start:.0f} s)", file=out, flush=True)
    except KeyboardInterrupt:
        print(f"Interrupted: {done} of {len(notebooks)} exercises checked; the table has "
              "those.", file=out)
        print_table([r[:3] for r in rows], out)
        return 130
    print("", file=out)
    print_table([r[:3] for r in rows], out)
    passed = sum(ok for *_, ok in rows)
    print(f"\n{passed} of {len(rows)} tasks pass.", file=out)
    return 0 if rows and passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
