"""``vae-course grade SUBMISSIONS_DIR --out grades.csv``: grade a class's exercise notebooks.

SUBMISSIONS_DIR holds one folder per learner (its name is the learner's name) with their exercise
notebooks anywhere below it, e.g. the JupyterHub homes ``homes/<learner>/vae-course-work/
exercises/03_elbo.ipynb``. A notebook is graded when its file name is one of the released
exercises (``exercises/*.ipynb`` of the course, or ``--exercises``).

For each learner and exercise the grader

1. copies the learner's notebook into a scratch folder (nothing is written in SUBMISSIONS_DIR or
   the course; the scratch folder is deleted afterwards);
2. puts the *released* check cells back in place of the learner's (a check cell is a code cell
   that calls ``check_<name>(...)``) and adds a first cell that limits the kernel's memory and
   blocks writes outside the scratch folder and the start of other programs;
3. runs it in a separate process with a fresh kernel, with a time limit per notebook;
4. reads each task's result from a file that only the grader's own check cells know: every
   check cell calls the checks from a fresh import of ``vae_course.checks`` (so replacing or
   redefining a check function in the learner's cells changes nothing) and writes its result
   tagged with a random per-run nonce. Text the learner's code prints or displays is never read.

It writes a CSV, one row per learner and task (status: pass / not implemented / mistake (named)
/ failed / timed out / crashed / missing), and a class report in Markdown with the most frequent
named mistakes per task. Grading executes learners' code: read INSTRUCTOR.md ("Grading") for
what the limits protect and what they do not.
"""

import argparse
import csv
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from .paths import COURSE_ROOT
from .process_tree import kill_everything, process_groups

PASS, TODO, MISTAKE, FAIL = "pass", "not implemented", "mistake", "failed"
TIMEOUT, CRASH, MISSING = "timed out", "crashed", "missing"
STATUS_OF_CHECK = {"pass": PASS, "todo": TODO, "mistake": MISTAKE, "fail": FAIL}
CHECK_CALL_RE = re.compile(r"^\s*(?:[\w.]+\s*=\s*)?check_(\w+)\s*\(", re.MULTILINE)
CSV_FIELDS = ["learner", "notebook", "task", "status", "mistake", "message", "notebook_status",
              "notebook_detail"]
GIB = 1 << 30


class Stop(Exception):
    """SIGTERM arrived: stop grading like Ctrl-C does."""


# ------------------------------------------------------------------ building the graded notebook


def check_names(source):
    """Names of the checks a cell calls, in order (``check_kl_divergence(...)`` ->
    ``kl_divergence``)."""
    return list(dict.fromkeys(CHECK_CALL_RE.findall(source)))


def released_check_cells(nb):
    """[(names, source)] of the released notebook's check cells, in order."""
    return [(check_names(c.source), c.source) for c in nb.cells
            if c.cell_type == "code" and check_names(c.source)]


GUARD = r'''
# vae-course grade: set up by the grader, not by the learner.
def _vae_grade_guard(scratch, allowed, log_path, memory):
    import os, sys
    if memory and sys.platform.startswith("linux"):
        import resource
        try:
            import torch  # noqa: F401  its libraries map ~GBs of address space: count them first
        except ImportError:
            pass
        with open("/proc/self/status") as f:
            mapped = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (mapped + memory, mapped + memory))
    try:
        import matplotlib.font_manager  # noqa: F401  builds its font cache now (it runs fc-list)
    except ImportError:
        pass
    sys.dont_write_bytecode = True
    log = open(log_path, "a", buffering=1)
    root = os.path.realpath(scratch)
    allowed = {os.path.realpath(p) for p in allowed}
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    path_events = {"os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.chmod", "os.chown",
                   "os.link", "os.symlink", "os.truncate", "os.utime", "shutil.rmtree",
                   "shutil.copyfile", "shutil.copymode", "shutil.copystat", "shutil.move"}
    programs = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                "pty.spawn"}
    busy = []

    def inside(path):
        if isinstance(path, int):
            return True  # an open file descriptor: its opening was checked
        real = os.path.realpath(os.fsdecode(path))
        return (real == root or real.startswith(root + os.sep) or real in allowed
                or real.startswith("/dev/") or real.startswith("/proc/"))

    def refuse(what):
        log.write(what.replace("\n", " ") + "\n")
        raise PermissionError(f"grading: {what} is not allowed")

    def hook(event, args):
        if busy:
            return
        busy.append(1)
        try:
            if event == "open" and args[2] and args[2] & writing and not inside(args[0]):
                refuse(f"writing {os.fsdecode(args[0])} (outside the notebook's folder)")
            elif event in path_events:
                for path in args[:2]:
                    if isinstance(path, (str, bytes, os.PathLike)) and not inside(path):
                        refuse(f"{event} on {os.fsdecode(path)} (outside the notebook's folder)")
            elif event in programs:
                refuse(f"starting another program ({event})")
        finally:
            busy.pop()

    sys.addaudithook(hook)  # an audit hook cannot be removed again


_vae_grade_guard(@@SCRATCH@@, [@@RESULTS@@], @@LOG@@, @@MEMORY@@)
del _vae_grade_guard
'''

CHECK_CELL = r'''
# vae-course grade: the released check cell, run with checks from a fresh import.
def _vae_grade_check():
    import importlib, json, sys
    own = lambda k: k == "vae_course" or k.startswith("vae_course.")
    learners = {k: sys.modules.pop(k) for k in [k for k in sys.modules if own(k)]}
    results = []
    try:
        checks = importlib.import_module("vae_course.checks")
        namespace = dict(globals())
        for name in dir(checks):
            if name.startswith("check_"):
                fresh = getattr(checks, name)
                namespace[name] = (lambda fresh: lambda *a, **k: results.append(
                    fresh(*a, **{**k, "show": False})))(fresh)
        exec(compile(@@SOURCE@@, "<released check cell>", "exec"), namespace)
        rows = [{"name": r.name, "status": r.status, "code": r.code, "message": r.message}
                for r in results]
    except BaseException as err:
        rows = [{"name": n, "status": "fail", "code": None,
                  "message": f"the check could not run: {type(err).__name__}: {err}"}
                for n in @@NAMES@@ if n not in [r.name for r in results]]
        rows += [{"name": r.name, "status": r.status, "code": r.code, "message": r.message}
                 for r in results]
    finally:
        for k in [k for k in sys.modules if own(k)]:
            del sys.modules[k]
        sys.modules.update(learners)
    with open(@@RESULTS_PATH@@, "a") as f:
        for row in rows:
            f.write(json.dumps({"nonce": @@NONCE@@, **row}) + "\n")


_vae_grade_check()
del _vae_grade_check
'''


def fill(template, **values):
    """The template with each ``@@NAME@@`` replaced by the Python literal of ``values[name]``."""
    for name, value in values.items():
        template = template.replace(f"@@{name.upper()}@@", repr(value))
    assert "@@" not in template, "a placeholder was left unfilled"
    return template


def graded_notebook(learner_nb, released_nb, nonce, scratch, results_path, log_path, memory):
    """The notebook the grader runs: a guard cell, the learner's cells, and the released check
    cells in place of the learner's (a released check the learner deleted is appended)."""
    import nbformat

    released = released_check_cells(released_nb)
    by_name = {name: (names, source) for names, source in released for name in names}
    used = set()
    cells = [nbformat.v4.new_code_cell(fill(GUARD, scratch=str(scratch),
                                            results=str(results_path), log=str(log_path),
                                            memory=memory))]

    def check_cell(names, source):
        used.update(names)
        return nbformat.v4.new_code_cell(fill(CHECK_CELL, source=source, names=names,
                                              results_path=str(results_path), nonce=nonce))

    for cell in learner_nb.cells:
        names = check_names(cell.source) if cell.cell_type == "code" else []
        if not names:
            cells.append(cell)
            continue
        for name in names:  # the learner's check cell goes; the released one takes its place
            if name in by_name and name not in used:
                cells.append(check_cell(*by_name[name]))
    for names, source in released:
        if not set(names) & used:
            cells.append(check_cell(names, source))
    nb = nbformat.v4.new_notebook(metadata=learner_nb.get("metadata", {}))
    nb.cells = cells
    return nb


# ------------------------------------------------------------------- running one notebook


def run_job(job_path):
    """The worker (a separate process): run one graded notebook, write what happened."""
    import nbformat

    from .checks.notebook_runner import run_notebook

    job = json.loads(Path(job_path).read_text())
    nb = nbformat.read(job["notebook"], as_version=4)
    problems = run_notebook(nb, job["scratch"], timeout=job["cell_timeout"],
                            max_output=job["max_output"])
    Path(job["outcome"]).write_text(json.dumps(problems))
    return 0


def kill_tree(proc):
    """End the worker, its kernel (in a session of its own) and anything they started."""
    import psutil

    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        family = []
    kill_everything(proc, family, {proc.pid} | process_groups(family))


def grade_notebook(learner, path, released_nb, limits, workdir):
    """Grade one learner's notebook; returns (rows, notebook_status, detail)."""
    import nbformat

    names = [n for names, _ in released_check_cells(released_nb) for n in names]
    scratch = Path(tempfile.mkdtemp(prefix="nb-", dir=workdir))
    private = Path(tempfile.mkdtemp(prefix="grader-", dir=workdir))  # outside the scratch
    nonce = secrets.token_hex(16)
    results_path = private / f"results-{nonce}.jsonl"
    log_path = private / "refused.log"
    results, notebook_status, detail = {}, "ok", ""
    try:
        try:
            learner_nb = nbformat.read(path, as_version=4)
        except Exception as err:
            return ({n: (CRASH, None, f"not a readable notebook: {type(err).__name__}")
                     for n in names}, CRASH, "not a readable notebook")
        for sub in ("home", "tmp"):
            (scratch / sub).mkdir()
        shutil.copy(path, scratch / Path(path).name)
        nb = graded_notebook(learner_nb, released_nb, nonce, scratch, results_path, log_path,
                             limits["memory"])
        graded = private / "graded.ipynb"
        nbformat.write(nb, graded)
        job = private / "job.json"
        job.write_text(json.dumps({
            "notebook": str(graded), "scratch": str(scratch), "outcome": str(private / "out"),
            "cell_timeout": limits["timeout"], "max_output": limits["max_output"]}))
        env = dict(os.environ, HOME=str(scratch / "home"), TMPDIR=str(scratch / "tmp"),
                   MPLCONFIGDIR=str(Path(workdir) / "matplotlib"),  # font cache, shared
                   PYTHONDONTWRITEBYTECODE="1",
                   OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(COURSE_ROOT),
                                                            os.environ.get("PYTHONPATH")])))
        proc = subprocess.Popen([sys.executable, "-m", "vae_course.grade", "--run-job",
                                 str(job)], cwd=scratch, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(limits["notebook_timeout"])
        except subprocess.TimeoutExpired:
            notebook_status = TIMEOUT
            detail = f"still running after {limits['notebook_timeout']:g} s; stopped"
        finally:
            kill_tree(proc)  # also on Ctrl-C / SIGTERM while waiting
        problems = []
        if (private / "out").is_file():
            problems = json.loads((private / "out").read_text())
        elif notebook_status == "ok":
            notebook_status, detail = CRASH, "the grading worker died"
        kinds = {p["kind"]: p for p in problems}
        for kind, status in (("dead", CRASH), ("stuck", TIMEOUT), ("timeout", TIMEOUT),
                             ("flood", "flooded output")):
            if kind in kinds and notebook_status == "ok":
                notebook_status, detail = status, f"cell {kinds[kind]['cell'] - 1}: " \
                                                  f"{kinds[kind]['text']}"
        if log_path.is_file() and log_path.read_text().strip():
            refused = log_path.read_text().strip().splitlines()
            if notebook_status == "ok":
                notebook_status = "wrote outside its folder"
            detail = (detail + "; " if detail else "") + f"refused: {refused[0]}" + \
                (f" (+{len(refused) - 1} more)" if len(refused) > 1 else "")
        if results_path.is_file():
            for line in results_path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if row.get("nonce") == nonce and row.get("name") in names:
                    results[row["name"]] = (STATUS_OF_CHECK.get(row["status"], FAIL),
                                            row.get("code"), row.get("message", ""))
        fallback = notebook_status if notebook_status in (TIMEOUT, CRASH) else FAIL
        for name in names:
            if name not in results:
                results[name] = (fallback, None, detail or "its check cell did not finish")
        return results, notebook_status, detail
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)


# ------------------------------------------------------------------------ a whole class


def find_submissions(folder, released):
    """{learner: {exercise file name: path}} under ``folder`` (one sub-folder per learner)."""
    found = {}
    for learner_dir in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
        notebooks = {}
        for path in sorted(learner_dir.rglob("*.ipynb")):
            parts = path.relative_to(learner_dir).parts
            if any(part.startswith(".") or part == "backups" for part in parts):
                continue  # checkpoints, the workspace's state and backups
            if path.name in released and path.name not in notebooks:
                notebooks[path.name] = path
        found[learner_dir.name] = notebooks
    return found


def grade_class(submissions, exercises, limits, progress=print):
    """Grade every learner; returns the CSV rows (dicts with CSV_FIELDS)."""
    import nbformat

    released = {p.name: nbformat.read(p, as_version=4)
                for p in sorted(Path(exercises).glob("*.ipynb"))}
    if not released:
        raise FileNotFoundError(f"no released exercise notebooks in {exercises}")
    classes = find_submissions(submissions, released)
    rows = []
    with tempfile.TemporaryDirectory(prefix="vae-course-grade-") as workdir:
        for learner, notebooks in classes.items():
            for name, released_nb in released.items():
                tasks = [n for names, _ in released_check_cells(released_nb) for n in names]
                if name not in notebooks:
                    results = {n: (MISSING, None, "no such notebook handed in") for n in tasks}
                    nb_status, detail = MISSING, ""
                else:
                    start = time.perf_counter()
                    results, nb_status, detail = grade_notebook(
                        learner, notebooks[name], released_nb, limits, workdir)
                    progress(f"{learner:<16} {name:<28} {nb_status:<16} "
                             f"{time.perf_counter() - start:5.1f} s")
                for task in tasks:
                    status, code, message = results[task]
                    rows.append({"learner": learner, "notebook": name, "task": task,
                                  "status": status, "mistake": code or "",
                                  "message": " ".join(str(message).split()),
                                  "notebook_status": nb_status, "notebook_detail": detail})
    return rows


def write_csv(rows, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def first_sentence(text):
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def class_report(rows, top=3):
    """The class report in Markdown: per task, how many passed and the most frequent mistakes."""
    learners = sorted({r["learner"] for r in rows})
    tasks = list(dict.fromkeys((r["notebook"], r["task"]) for r in rows))
    n = len(learners)
    out = [f"# Class report: {n} learners, {len(tasks)} tasks", ""]
    out.append("## Most frequent mistakes, per task")
    out.append("")
    for notebook, task in tasks:
        mine = [r for r in rows if (r["notebook"], r["task"]) == (notebook, task)]
        counts = Counter(r["status"] for r in mine)
        summary = ", ".join(f"{counts[s]} {s}" for s in
                            (PASS, TODO, MISTAKE, FAIL, TIMEOUT, CRASH, MISSING) if counts[s])
        out.append(f"### `{task}` ({notebook}): {summary}")
        mistakes = Counter(r["mistake"] for r in mine if r["status"] == MISTAKE)
        example = {r["mistake"]: r["message"] for r in mine if r["status"] == MISTAKE}
        for code, k in mistakes.most_common(top):
            out.append(f"- **{k} of {n}**: {first_sentence(example[code])} (`{code}`)")
        if not mistakes:
            out.append("- no named mistake")
        out.append("")
    out.append("## Learners × tasks")
    out.append("")
    out.append("| learner | " + " | ".join(t for _, t in tasks) + " | notebook problems |")
    out.append("|---" * (len(tasks) + 2) + "|")
    cell = {(r["learner"], r["notebook"], r["task"]): r for r in rows}
    for learner in learners:
        marks = []
        for notebook, task in tasks:
            r = cell[(learner, notebook, task)]
            marks.append(f"{r['status']} ({r['mistake']})" if r["mistake"] else r["status"])
        problems = sorted({f"{r['notebook']}: {r['notebook_status']}" for r in rows
                           if r["learner"] == learner and r["notebook_status"]
                           not in ("ok", MISSING)})
        out.append(f"| {learner} | " + " | ".join(marks) + f" | {'; '.join(problems)} |")
    return "\n".join(out) + "\n"


def _parse_size(text):
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([GM])i?B?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"expected a size like 2GiB or 800MiB, got {text!r}")
    value, unit = float(match.group(1)), match.group(2).upper()
    return int(value * (GIB if unit == "G" else 1 << 20))


def _positive(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def _raise_stop(signum, frame):
    # one stop is enough: a second signal must not cut short the clean-up that follows
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Stop()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--run-job"]:
        return run_job(argv[1])
    parser = argparse.ArgumentParser(
        prog="vae-course grade",
        description="Grade every learner's exercise notebooks: a CSV and a class report.")
    parser.add_argument("submissions", help="folder with one sub-folder per learner")
    parser.add_argument("--out", default="grades.csv", help="the CSV to write")
    parser.add_argument("--report", help="the class report (default: the CSV's name, .md)")
    parser.add_argument("--exercises", default=str(COURSE_ROOT / "exercises"),
                        help="the released exercise notebooks (default: the course's)")
    parser.add_argument("--timeout", type=_positive, default=300,
                        help="seconds one notebook may run in all (default 300)")
    parser.add_argument("--cell-timeout", type=_positive, default=120,
                        help="seconds one cell may run before it is interrupted (default 120)")
    parser.add_argument("--memory", type=_parse_size, default=_parse_size("3GiB"),
                        help="memory a kernel may add to what it has at start (default 3GiB)")
    parser.add_argument("--max-output", type=int, default=200_000,
                        help="characters of output kept per cell (default 200000)")
    args = parser.parse_args(argv)
    submissions = Path(args.submissions).resolve()
    if not submissions.is_dir():
        print(f"error: {submissions} is not a folder", file=sys.stderr)
        return 2
    out = Path(args.out).resolve()
    report = Path(args.report).resolve() if args.report else out.with_suffix(".md")
    for target in (out, report):
        if target == submissions or submissions in target.parents:
            print(f"error: {target} is inside the submissions; write it elsewhere",
                  file=sys.stderr)
            return 2
    limits = {"notebook_timeout": args.timeout, "timeout": min(args.cell_timeout, args.timeout),
              "memory": args.memory, "max_output": args.max_output}
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)  # Ctrl-C, even where started with SIGINT ignored
    print(f"Grading {submissions} (each notebook: {args.timeout:g} s, "
          f"{args.memory / GIB:.1f} GiB)...", flush=True)
    try:
        rows = grade_class(submissions, args.exercises, limits,
                           progress=lambda line: print(line, flush=True))
    except (KeyboardInterrupt, Stop):
        print("\nGrading stopped (its kernels too); nothing was written.", file=sys.stderr)
        return 130
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    write_csv(rows, out)
    report.write_text(class_report(rows))
    passed = sum(r["status"] == PASS for r in rows)
    print(f"{passed} of {len(rows)} learner-tasks passed. Wrote {out} and {report}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
