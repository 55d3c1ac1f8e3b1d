"""Report tables and plots of tracking results: the Markdown tables and pysot-toolkit-style plots of ``edcf eval``
(OPE success / precision / normalised precision, VOT expected overlap and accuracy-robustness) and the plots of
``edcf bench``. Plots use matplotlib's Agg canvas (no display, no global backend state)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import EDCFError
from . import metrics as M

def fmt(x, digits=1) -> str:
    """A figure with ``digits`` decimals; ``n/a`` when absent or not finite."""
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def partial_note(report: dict) -> str:
    """The line that says which sequences a ``--partial`` evaluation scored ("" for a whole dataset)."""
    if "partial" not in report:
        return ""
    p = report["partial"]
    return (f"Partial: scored {p['scored']} of {p['of']} sequences of {report['dataset']}: "
            f"{', '.join(report['videos'])}\n")


def markdown_table(report: dict) -> str:
    """Overall and per-sequence tables (trackers side by side)."""
    trackers = report["trackers"]
    lines = []
    if report["protocol"] == "ope":
        order = sorted(trackers, key=lambda t: -trackers[t]["overall"]["auc"])
        lines += ["| Tracker | AUC (%) | OP@0.5 (%) | DP@20 (%) | Norm. prec. @0.2 (%) | FPS |",
                  "|---|---:|---:|---:|---:|---:|"]
        for t in order:
            o = trackers[t]["overall"]
            lines.append(f"| {t} | {fmt(o['auc'])} | {fmt(o['op50'])} | {fmt(o['dp20'])} | "
                         f"{fmt(o['norm_p20'])} | {fmt(o['fps'])} |")
        lines += ["", "Per sequence, AUC / DP@20 (%):", "",
                  "| Sequence | " + " | ".join(order) + " |", "|---|" + "---:|" * len(order)]
        for v in report["videos"]:
            cells = [f"{fmt(trackers[t]['per_sequence'][v]['auc'])} / "
                     f"{fmt(trackers[t]['per_sequence'][v]['dp20'])}" for t in order]
            lines.append(f"| {v} | " + " | ".join(cells) + " |")
    else:
        order = sorted(trackers, key=lambda t: -np.nan_to_num(trackers[t]["overall"]["eao"], nan=-1.0))
        lo, hi = report["eao_range"]
        lines += [f"| Tracker | Accuracy | Robustness | Lost | EAO ({lo}-{hi}) | FPS |",
                  "|---|---:|---:|---:|---:|---:|"]
        for t in order:
            o = trackers[t]["overall"]
            lines.append(f"| {t} | {fmt(o['accuracy'], 3)} | {fmt(o['robustness'], 3)} | "
                         f"{fmt(o['lost'], 1)} | {fmt(o['eao'], 3)} | {fmt(o['fps'])} |")
        lines += ["", "Per sequence, accuracy / lost:", "",
                  "| Sequence | " + " | ".join(order) + " |", "|---|" + "---:|" * len(order)]
        for v in report["videos"]:
            cells = [f"{fmt(trackers[t]['per_sequence'][v]['accuracy'], 3)} / "
                     f"{fmt(trackers[t]['per_sequence'][v]['lost'], 0)}" for t in order]
            lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _figure():
    try:  # the Agg canvas directly: no pyplot, no global backend state, no display needed
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise EDCFError("the plots of --out need matplotlib: pip install 'edcf-plugin[pysot]'") from None
    fig = Figure(figsize=(6.0, 4.5), dpi=120)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(111)


_STYLES = ["-", "--", "-.", ":"]


def plot_ope(report: dict, out: Path) -> list[Path]:
    """success.png, precision.png and norm_precision.png (pysot-toolkit's OPE plots)."""
    trackers = report["trackers"]
    specs = [("success.png", "success_curve", M.SUCCESS_THRESHOLDS, "auc", "Overlap threshold",
              "Success rate", f"Success plots of OPE on {report['dataset']}", "AUC"),
             ("precision.png", "precision_curve", M.PRECISION_THRESHOLDS, "dp20",
              "Location error threshold (px)", "Precision", f"Precision plots of OPE on {report['dataset']}",
              "@20"),
             ("norm_precision.png", "norm_precision_curve", M.NORM_PRECISION_THRESHOLDS, "norm_p20",
              "Normalised location error threshold", "Precision",
              f"Normalised precision plots of OPE on {report['dataset']}", "@0.2")]
    paths = []
    for fname, key, xs, score, xlabel, ylabel, title, what in specs:
        fig, ax = _figure()
        order = sorted(trackers, key=lambda t: -trackers[t]["overall"][score])
        for i, t in enumerate(order):
            o = trackers[t]["overall"]
            ax.plot(xs, o[key], _STYLES[(i // 10) % 4], linewidth=1.8,
                    label=f"{t} [{what} {o[score] / 100:.3f}]")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(xs[0], xs[-1]), ylim=(0, 1.0))
        ax.grid(True, alpha=0.4)
        ax.legend(loc="lower left" if key == "success_curve" else "lower right", fontsize=8)
        fig.tight_layout()
        path = out / fname
        fig.savefig(path)
        paths.append(path)
    return paths


def plot_vot(report: dict, out: Path) -> list[Path]:
    """expected_overlap.png (curve and EAO interval) and ar.png (accuracy vs robustness)."""
    trackers = report["trackers"]
    lo, hi = report["eao_range"]
    fig, ax = _figure()
    for i, (t, r) in enumerate(trackers.items()):
        c = r["overall"]["expected_overlap_curve"]
        ax.plot(np.arange(1, len(c) + 1), c, _STYLES[(i // 10) % 4], linewidth=1.5,
                label=f"{t} [EAO {fmt(r['overall']['eao'], 3)}]")
    ax.axvspan(lo, hi, color="0.85", zorder=0)
    ax.set(xlabel="Sequence length (frames)", ylabel="Expected overlap", ylim=(0, 1.0),
           title=f"Expected overlap on {report['dataset']}")
    ax.grid(True, alpha=0.4)
    ax.legend(fontsize=8)
    fig.tight_layout()
    p1 = out / "expected_overlap.png"
    fig.savefig(p1)
    fig, ax = _figure()
    for t, r in trackers.items():
        o = r["overall"]
        ax.scatter([o["robustness"]], [o["accuracy"]], label=t)
    ax.set(xlabel="Robustness (failures per 100 frames; lower is better)", ylabel="Accuracy", ylim=(0, 1.0),
           title=f"Accuracy-robustness on {report['dataset']}")
    ax.grid(True, alpha=0.4)
    ax.legend(fontsize=8)
    fig.tight_layout()
    p2 = out / "ar.png"
    fig.savefig(p2)
    return [p1, p2]


def bench_plots(report: dict, out: Path) -> list[Path]:
    """``edcf bench``'s success.png, precision.png, norm_precision.png: :func:`plot_ope` on the median run of every
    tracker."""
    plot_report = {"dataset": report["source_short"],
                   "trackers": {t: {"overall": r} for t, r in report["trackers"].items()}}
    return plot_ope(plot_report, out)
