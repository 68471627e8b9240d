"""The machinery every exercise check shares: the result, its display, and the runner.

A check never raises because of the learner's code: it answers with a ``CheckResult`` that is

* ``PASS``            the function meets its contract;
* ``NOT IMPLEMENTED`` the function still raises the stub's ``NotImplementedError``;
* ``MISTAKE``         a known mistake, named (``code``) and explained, e.g. a KL that is exactly
                      twice the right value (the ½ is missing);
* ``FAIL``            something else is wrong; the message says what was expected (type, shape,
                      dtype, values, gradient flow) and what came back.

In a notebook the result shows as a coloured box (green / orange / red). Every result also carries
one plain-text marker line, ``[check] NAME: STATUS (code) — message``, which is what
``vae-course check PATH.ipynb`` (``vae_course.checks.notebook_runner``) reads back from an
executed notebook.

A check is written as a body, ``check_<name>(check, fn)`` under ``@exercise_check(name,
signature)``: the body calls the learner's function through ``check.call`` and ends with
``check.passed``, ``check.mistake`` or ``check.fail``; the decorator makes it the
``check_<name>(fn, show=True)`` the notebooks call.
"""

import functools
import html
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

PASS, TODO, MISTAKE, FAIL = "pass", "todo", "mistake", "fail"
LABELS = {PASS: "PASS", TODO: "NOT IMPLEMENTED", MISTAKE: "MISTAKE", FAIL: "FAIL"}
MARKER = "[check]"
MARKER_RE = re.compile(r"^\[check\] ([A-Za-z_]\w*): (PASS|NOT IMPLEMENTED|MISTAKE|FAIL)"
                       r"(?: \(([^)]*)\))? — (.*)$")
# The first line of the box: what the result means for the learner. The status label and the
# mistake's code follow only as a small grey tag at the bottom.
HEADLINES = {PASS: "{name}: done, it passes the check.",
             TODO: "{name}: not written yet.",
             MISTAKE: "{name}: not right yet — a known mistake.",
             FAIL: "{name}: not right yet."}
_STYLE = {PASS: ("#2e7d32", "#e8f5e9", "✔"), TODO: ("#ef6c00", "#fff3e0", "…"),
          MISTAKE: ("#c62828", "#ffebee", "✘"), FAIL: ("#c62828", "#ffebee", "✘")}


@dataclass
class CheckResult:
    """The outcome of one check. ``code`` names a known mistake (e.g. ``"kl.missing_half"``)."""

    name: str
    status: str
    message: str
    code: str = None
    _shown: bool = field(default=False, repr=False, compare=False)

    @property
    def passed(self):
        return self.status == PASS

    def marker(self):
        """The one-line plain-text form that ``vae-course check`` parses."""
        code = f" ({self.code})" if self.code else ""
        text = " ".join(self.message.split())
        return f"{MARKER} {self.name}: {LABELS[self.status]}{code} — {text}"

    def __str__(self):
        return self.marker()

    def headline(self):
        """The box's first line, in words a learner understands (no internal code)."""
        return HEADLINES[self.status].format(name=self.name)

    def _repr_html_(self):
        border, background, icon = _STYLE[self.status]
        first = self.message.split(" ", 1)[0]
        message = (self.message[:1].upper() + self.message[1:]
                   if first.isalpha() and first.islower() else self.message)
        body = html.escape(message).replace("\n", "<br>")
        tag = (f"<div style='font-size:75%;color:#666;margin-top:6px'>{LABELS[self.status]}"
               f"{' · ' + html.escape(self.code) if self.code else ''}</div>")
        return (f"<div style='border-left:6px solid {border};background:{background};"
                f"color:#222;padding:8px 12px;margin:4px 0;font-family:sans-serif'>"
                f"<b style='color:{border}'>{icon} {html.escape(self.headline())}</b><br>"
                f"{body}{tag}</div>")

    def _ipython_display_(self):
        # A check displays its result as soon as it is known; returning it from the last line
        # of a cell must not show it a second time.
        if not self._shown:
            show(self)


def show(result):
    """Display a result: an HTML box plus the plain-text marker in a notebook, else a print."""
    result._shown = True
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display({"text/plain": result.marker(), "text/html": result._repr_html_()},
                    raw=True)
            return
    except ImportError:
        pass
    print(result.marker())


_show = show  # for check functions, whose `show` argument hides this name


_HERE = Path(__file__).resolve().parent


class _Stop(Exception):
    """Raised inside a check to end it with a result."""

    def __init__(self, result):
        super().__init__(result.message)
        self.result = result


class Check:
    """What a running check knows: its name and the contract it states in messages."""

    def __init__(self, name, signature, explain=None):
        self.name, self.signature, self.explain = name, signature, explain

    def result(self, status, message, code=None):
        return CheckResult(self.name, status, message, code)

    def passed(self, message):
        return self.result(PASS, message)

    def mistake(self, code, message):
        raise _Stop(self.result(MISTAKE, message, code))

    def fail(self, message):
        raise _Stop(self.result(FAIL, message))

    def call(self, fn, *args, **kwargs):
        """Call the learner's function; turn any exception into feedback."""
        try:
            return fn(*args, **kwargs)
        except NotImplementedError as err:
            if _raised_inside_torch(err):
                self.fail(f"calling {self.signature} raised NotImplementedError inside PyTorch: "
                          f"{_first_line(err)}. Some operation is not supported for these "
                          f"inputs.")
            hint = f" Hint: {_first_line(err).rstrip('.')}." if str(err) else ""
            inner = _innermost_function(err)
            own = getattr(fn, "__name__", None)
            if inner and own and inner != own:
                message = (f"{self.signature} calls {inner}, which is not implemented yet: "
                           f"finish {inner} first.{hint}")
            else:
                message = (f"{self.signature} is not implemented yet: replace the `raise "
                           f"NotImplementedError` line with your code.{hint}")
            raise _Stop(self.result(TODO, message)) from None
        except (_Stop, KeyboardInterrupt):
            raise  # a result, or the learner pressing stop: not the learner's code failing
        except BaseException as err:  # learner code: any exception, SystemExit too, is feedback
            known = self.explain(err) if self.explain else None
            if known:
                self.mistake(*known)
            self.fail(f"calling {self.signature} raised {type(err).__name__}: "
                      f"{_first_line(err)}{_where(err)}")


def _first_line(err):
    text = str(err).strip().splitlines()
    return text[0][:300] if text else "(no message)"


def _where(err):
    """' (line N of your code)' for the innermost frame outside torch and this package."""
    frames = traceback.extract_tb(err.__traceback__)
    for frame in reversed(frames):
        if "torch" not in frame.filename.replace("\\", "/").split("/") and \
                Path(frame.filename).resolve().parent != _HERE:
            return f" (in {frame.name}, line {frame.lineno}: `{(frame.line or '').strip()}`)"
    return ""


def _innermost_function(err):
    frames = traceback.extract_tb(err.__traceback__)
    return frames[-1].name if frames else None


def _raised_inside_torch(err):
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and "torch" in frames[-1].filename.replace("\\", "/").split("/")


def run_check(check, body, fn):
    """Run ``body(check, fn)`` with a fixed seed (the caller's random state is kept); the
    result it ends with, or a FAIL when ``fn`` is not a function or the body choked."""
    if fn is None or not callable(fn):
        return check.result(FAIL, f"pass the function itself, e.g. check_{check.name}"
                                  f"({check.name}); got {type(fn).__name__} instead.")
    try:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            return body(check, fn)
    except _Stop as stop:
        return stop.result
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # e.g. an odd return value the check could not digest
        return check.result(FAIL, f"the check could not use what {check.signature} returned: "
                                  f"{type(err).__name__}: {_first_line(err)}")


def exercise_check(name, signature, explain=None):
    """Decorator that turns a check's body, ``check_<name>(check, fn)``, into the public
    ``check_<name>(fn, show=True)`` the notebooks call: the body runs under ``run_check``, the
    result is shown unless ``show`` is False, and returned.

    ``signature`` is the contract as messages quote it. ``explain`` names the known mistake
    behind an error the learner's code raised: a dict ``{text in the message: (code,
    explanation)}``, or a function ``err -> (code, explanation)`` (None when it knows no
    mistake) where one text is not enough."""
    if explain is None or callable(explain):
        explain_error = explain
    else:
        known = dict(explain)

        def explain_error(err):
            return next((m for text, m in known.items() if text in str(err)), None)

    def decorate(body):
        @functools.wraps(body)
        def check_function(fn, show=True):
            result = run_check(Check(name, signature, explain_error), body, fn)
            if show:
                _show(result)
            return result

        del check_function.__wrapped__  # its signature is (fn, show=True), not the body's
        return check_function
    return decorate
