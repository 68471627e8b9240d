"""The README "Results" table of a benchmark run: each section's rows, then the machine."""

from .sections import REGISTRY


def render_table(results):
    """The results table (markdown) of a benchmark run (a fresh one, or one loaded from JSON)."""
    r = results
    rows = [row for section in REGISTRY for row in section.rows(r)]
    lines = ["| measure | result | target | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    m = r.get("machine", {})
    if m:
        lines.append("")
        mnist = (f"MNIST {m.get('mnist')} ({m.get('mnist_train', 0):,} train / "
                 f"{m.get('mnist_test', 0):,} test)")
        lines.append(
            f"Measured {'with `--quick` ' if r.get('quick') else ''}"
            + (f"{m['date']} " if m.get("date") else "")
            + (f"on {m['cpu']}, " if m.get("cpu") else "on ") + f"{m.get('cores')} cores "
            f"({m.get('threads')} torch threads), device {m.get('device_name', m.get('device'))}, "
            f"torch {m.get('torch')}, {mnist}; load average {m.get('load_before')} before, "
            f"{m.get('load_after')} after; {r.get('total_seconds', 0) / 60:.1f} min in all.")
    if r.get("errors"):
        lines.append("")
        lines += [f"- section `{k}` failed: {v}" for k, v in r["errors"].items()]
    return "\n".join(lines) + "\n"
