"""The learner's workspace: their own copies of the course's notebooks, apart from its sources.

The course's ``notebooks/``, ``exercises/`` and ``solutions/`` belong to the maintainer: they are
rebuilt by ``vae-course build`` and checked by the tests. A learner works in a separate folder,

1. ``$VAE_COURSE_WORK`` if it is set;
2. otherwise ``work/`` at the top of the course checkout (git-ignored);
3. otherwise, for an installation without a checkout, ``~/vae-course-work``,

which holds ``notebooks/``, ``exercises/`` and ``solutions/`` with a copy of each ``.ipynb``.
The copies carry no jupytext pairing, so saving one writes only that ``.ipynb``, and they carry
the kernel's own ``kernelspec`` and ``language_info``, so JupyterLab has nothing to fill in when a
notebook opens (which would mark it modified).

``sync()`` (run by every ``vae-course lab``) copies what the workspace lacks and never replaces a
file that is there: a notebook the course has changed since it was copied is only *reported*.
``refresh(name)`` fetches a fresh copy of one notebook and moves the learner's into
``backups/<folder>/<name>-<date-time>.ipynb``. What was copied, from which version of the course,
is recorded in the hidden ``.vae-course/manifest.json``.

Nothing in the build or the tests reads this folder.
"""

import datetime
import hashlib
import json
import os
import platform
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .paths import COURSE_ROOT, is_checkout

WORK_ENV = "VAE_COURSE_WORK"
FOLDERS = ("notebooks", "exercises", "solutions")
STATE_DIR = ".vae-course"  # hidden: JupyterLab's file browser does not list it
MANIFEST = "manifest.json"
BACKUPS = "backups"
GENERATED_BANNER = re.compile(r"^<!-- Generated from .* by `vae-course build`")


class WorkspaceError(ValueError):
    """A workspace request that cannot be carried out (e.g. an unknown notebook name)."""


def workspace_dir():
    """The learner's workspace folder (it may not exist yet)."""
    value = os.environ.get(WORK_ENV)
    if value:
        path = Path(value).expanduser()
        if path.exists() and not path.is_dir():
            raise WorkspaceError(f"{WORK_ENV}={value} is not a folder")
        return path
    if is_checkout():
        return COURSE_ROOT / "work"
    return Path.home() / "vae-course-work"


def course_notebooks(root=None):
    """{workspace-relative name: course source}, e.g. ``exercises/03_elbo.ipynb`` ->
    ``<course>/exercises/03_elbo.ipynb``, for every numbered notebook the course ships."""
    root = Path(root) if root is not None else COURSE_ROOT
    found = {}
    for folder in FOLDERS:
        for path in sorted((root / folder).glob("[0-9][0-9]_*.ipynb")):
            found[f"{folder}/{path.name}"] = path
    return found


def language_info():
    """What this environment's Python kernel reports about itself; JupyterLab writes it into a
    notebook's metadata when the kernel starts, so a copy that already has it stays unmodified."""
    try:
        from ipykernel.ipkernel import IPythonKernel

        info = dict(IPythonKernel.language_info)
    except Exception:  # no ipykernel here: the fields ipykernel would send
        info = {"name": "python", "mimetype": "text/x-python", "file_extension": ".py",
                "nbconvert_exporter": "python", "pygments_lexer": "ipython3",
                "codemirror_mode": {"name": "ipython", "version": 3}}
    info["version"] = platform.python_version()
    return info


def kernelspec():
    """The ``python3`` kernelspec as JupyterLab will record it (name, display name, language)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec("python3")
        return {"display_name": spec.display_name, "language": spec.language, "name": "python3"}
    except Exception:
        return {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def learner_copy(source):
    """The text of the workspace copy of a course notebook: no jupytext pairing, no banner
    addressed to maintainers, the metadata a started kernel would write."""
    nb = nbformat.read(source, as_version=4)
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = kernelspec()
    nb.metadata["language_info"] = language_info()
    if nb.cells and nb.cells[0].cell_type == "markdown" and \
            GENERATED_BANNER.match(nb.cells[0].source):
        del nb.cells[0]
    return nbformat.writes(nb) + "\n"


def _digest(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def _manifest_path(work):
    return work / STATE_DIR / MANIFEST


def read_manifest(work):
    """{name: {"course": digest of the course file copied, "copy": digest of the copy written}}."""
    path = _manifest_path(work)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("notebooks", {})
    except (OSError, ValueError):
        return {}  # a damaged manifest only costs the "changed" reports until the next sync


def _write_manifest(work, entries):
    path = _manifest_path(work)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"notebooks": entries}, indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)


def _write_new(path, text):
    """Create ``path`` with ``text`` in one step, never replacing a file that exists (returns
    False then). The text goes to a hidden ``.part`` file first and is linked into place, so an
    interrupted copy leaves no half-written notebook that a later start would keep."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    try:
        part.write_text(text, encoding="utf-8")
        try:
            os.link(part, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive create instead
            try:
                with open(path, "x", encoding="utf-8") as f:
                    f.write(text)
            except FileExistsError:
                return False
    finally:
        part.unlink(missing_ok=True)
    return True


@dataclass
class SyncReport:
    """What ``sync`` did: the workspace, notebooks copied, and notebooks the course changed
    since the learner's copy was made (left alone), each with whether the learner edited it."""

    work: Path
    copied: list
    changed: list  # (name, edited by the learner?)
    kept: int

    def lines(self):
        out = []
        if len(self.copied) > 3:
            counts = {f: sum(n.startswith(f + "/") for n in self.copied) for f in FOLDERS}
            out.append(f"Copied {len(self.copied)} notebooks into your workspace {self.work}: "
                       + ", ".join(f"{f}/ ({n})" for f, n in counts.items() if n))
        elif self.copied:
            out.append(f"Copied into your workspace {self.work}: " + ", ".join(self.copied))
        for name, edited in self.changed:
            yours = "your edited copy" if edited else "your copy (not edited)"
            out.append(f"The course has a newer {name}; {yours} is left as it is. "
                       f"`vae-course workspace --refresh {name}` fetches the new one and keeps "
                       f"yours in {BACKUPS}/.")
        return out


def sync(work=None, root=None):
    """Bring the workspace up to date without touching the learner's files: copy every course
    notebook it lacks, report those the course changed since they were copied."""
    work = Path(work) if work is not None else workspace_dir()
    work.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(work)
    copied, changed, kept = [], [], 0
    for name, source in course_notebooks(root).items():
        course_digest = _digest(source.read_bytes())
        target = work / name
        if not target.exists():
            text = learner_copy(source)
            if _write_new(target, text):
                manifest[name] = {"course": course_digest, "copy": _digest(text)}
                copied.append(name)
                continue
        kept += 1
        entry = manifest.get(name)
        if entry is None:  # a file we did not write (or a lost manifest): take it as current
            manifest[name] = {"course": course_digest, "copy": None}
        elif entry.get("course") != course_digest:
            edited = entry.get("copy") != _digest(target.read_bytes())
            changed.append((name, edited))
    _write_manifest(work, manifest)
    return SyncReport(work, copied, changed, kept)


def resolve(name, root=None):
    """The workspace-relative name of a course notebook from what a learner types:
    ``exercises/03_elbo.ipynb``, ``exercises/03_elbo``, ``03_elbo.ipynb`` or ``05_mig``."""
    names = course_notebooks(root)
    wanted = name.replace("\\", "/").strip("/")
    if not wanted.endswith(".ipynb"):
        wanted += ".ipynb"
    if wanted in names:
        return wanted
    matches = [n for n in names if n.split("/", 1)[1] == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise WorkspaceError(f"{name!r} is in several folders; say which: " + ", ".join(matches))
    raise WorkspaceError(f"the course has no notebook {name!r}; it has: " + ", ".join(names))


def refresh(name, work=None, root=None, now=None):
    """Replace the learner's copy of one notebook by a fresh copy of the course's, after moving
    theirs to ``backups/``. Returns (workspace name, backup path or None)."""
    work = Path(work) if work is not None else workspace_dir()
    name = resolve(name, root)
    source = course_notebooks(root)[name]
    target = work / name
    backup = None
    if target.exists():
        stamp = (now or datetime.datetime.now()).strftime("%Y-%m-%d-%H%M%S")
        folder, file = name.split("/", 1)
        backup = work / BACKUPS / folder / f"{Path(file).stem}-{stamp}.ipynb"
        n = 1
        while backup.exists():
            n += 1
            backup = backup.with_name(f"{Path(file).stem}-{stamp}-{n}.ipynb")
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, backup)  # copy first: the learner's file exists at every moment
    text = learner_copy(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.new")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    manifest = read_manifest(work)
    manifest[name] = {"course": _digest(source.read_bytes()), "copy": _digest(text)}
    _write_manifest(work, manifest)
    return name, backup


def exercise_notebooks(work=None):
    """The learner's exercise notebooks, in course order."""
    work = Path(work) if work is not None else workspace_dir()
    return sorted((work / "exercises").glob("[0-9][0-9]_*.ipynb"))
