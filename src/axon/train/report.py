"""report.html: one self-contained page per run — curves, tables, config, the model.

Made from the run's records (metrics.jsonl): loss and metric curves for train
and val, the learning-rate curve, the final metrics table, the per-epoch
history, the config, the model summary, and any extra sections (a generated
text sample, diagnostics). Plots are PNGs embedded as base64, so the file can
be mailed or opened offline. matplotlib is optional (``pip install
axon[plot]``): it is imported only here, through its object API (no pyplot,
no global backend change); without it the report has the tables only.

Example::

    >>> html = render_report(title="run", records=read_records("runs/x/metrics.jsonl"))
    >>> Path("report.html").write_text(html)
"""

from __future__ import annotations

import base64
import io
import json
import math
from html import escape

NOT_METRICS = {"split", "step", "epoch", "time", "lr", "samples_per_s", "grad_norm", "reason"}

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.plots img { width: 48%; min-width: 320px; } .stop { background: #fff3cd; padding: 0.6em; }
.note { color: #777; font-size: 0.9em; }
"""


def _fmt(value, column: str = "") -> str:
    if column == "samples_per_s" and isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:,.0f}"
    if isinstance(value, float):
        if math.isfinite(value) and value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4g}"
    return str(value)


def _table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return '<p class="note">(nothing recorded)</p>'
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_fmt(r.get(c, ''), c))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _thin(rows: list[dict], n: int = 60) -> list[dict]:
    """At most ``n`` rows, evenly spread, always keeping the last."""
    if len(rows) <= n:
        return rows
    stride = math.ceil(len(rows) / n)
    return rows[::stride] + ([rows[-1]] if (len(rows) - 1) % stride else [])


def curves(records: list[dict]) -> dict[str, list[tuple[str, list, list]]]:
    """Panels to plot: ``{title: [(label, steps, values), ...]}`` from the run's records."""
    by = {s: [r for r in records if r.get("split") == s] for s in ("train", "val", "epoch", "lr")}
    train = by["train"] if len(by["train"]) >= 2 else by["epoch"]
    names = [k for r in train + by["val"] for k in r if k not in NOT_METRICS]
    panels: dict[str, list] = {}
    for name in dict.fromkeys(names):
        lines = []
        for label, rows in (("train", train), ("val", by["val"])):
            pts = [(r["step"], r[name]) for r in rows if isinstance(r.get(name), (int, float))]
            if pts:
                lines.append((label, [p[0] for p in pts], [p[1] for p in pts]))
        if lines:
            panels[name] = lines
    lr_rows = by["lr"] or train
    pts = [(r["step"], r["lr"]) for r in lr_rows if isinstance(r.get("lr"), (int, float))]
    if pts:
        panels["learning rate"] = [("lr", [p[0] for p in pts], [p[1] for p in pts])]
    norms = [(r["step"], r["grad_norm"]) for r in by["train"] if "grad_norm" in r]
    if norms:
        panels["gradient norm (before clipping)"] = [
            ("grad norm", *map(list, zip(*norms, strict=True)))
        ]
    return panels


def plot_png(title: str, lines) -> str | None:
    """One panel as a base64 PNG, or None without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    fig = Figure(figsize=(5.2, 3.2), dpi=90)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for label, xs, ys in lines:
        marker = "o" if label == "val" or len(xs) < 20 else None  # sparse points: show them
        ax.plot(xs, ys, label=label, linewidth=1.2, marker=marker, markersize=3)
    ax.set_title(title)
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    if len(lines) > 1:
        ax.legend()
    fig.subplots_adjust(
        left=0.15, right=0.97, top=0.9, bottom=0.15
    )  # tight_layout costs a 2nd draw
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def render_report(
    title: str,
    records: list[dict],
    config: dict | None = None,
    model_summary: str | None = None,
    final: dict | None = None,
    sections=(),
    stop_reason: str | None = None,
) -> str:
    """The whole report as one HTML string (see the module docstring)."""
    parts = [f"<h1>{escape(title)}</h1>"]
    if stop_reason:
        parts.append(f'<p class="stop">Stopped early: {escape(stop_reason)}</p>')
    if final:
        parts += [
            "<h2>Final metrics</h2>",
            _table([{"metric": k, "value": v} for k, v in final.items()]),
        ]
    panels = curves(records)
    images = [(name, plot_png(name, lines)) for name, lines in panels.items()]
    parts.append("<h2>Curves</h2>")
    if any(img for _, img in images):
        parts.append('<div class="plots">')
        parts += [
            f'<img alt="{escape(n)}" src="data:image/png;base64,{img}">' for n, img in images if img
        ]
        parts.append("</div>")
    elif panels:
        parts.append('<p class="note">matplotlib is not installed, so no curves are drawn; '
                     "see the History table (pip install matplotlib).</p>")  # fmt: skip
    else:
        parts.append('<p class="note">(no curves recorded)</p>')
    epochs = [r for r in records if r.get("split") == "epoch"]
    history = epochs or [r for r in records if r.get("split") in ("train", "val")]
    parts += [
        "<h2>History</h2>",
        _table([{k: v for k, v in r.items() if k != "time"} for r in _thin(history)]),
    ]
    for title_, content, is_html in sections:
        parts.append(f"<h2>{escape(title_)}</h2>")
        parts.append(content if is_html else f"<pre>{escape(content)}</pre>")
    if model_summary:
        parts += ["<h2>Model</h2>", f"<pre>{escape(model_summary)}</pre>"]
    if config is not None:
        text = json.dumps(config, indent=2, default=str)
        parts += ["<h2>Config</h2>", f"<pre>{escape(text)}</pre>"]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
