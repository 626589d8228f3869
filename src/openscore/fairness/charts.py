"""The audit's charts, PNG and SVG, drawn with matplotlib's Agg backend (no display, no
network): approval rates by group at each threshold, calibration by group, and the
thin-file comparison."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from openscore.fsio import atomic_path

if TYPE_CHECKING:
    from openscore.fairness.metrics import GroupAudit
    from openscore.fairness.thin_file import ThinFileResult

FORMATS = ("png", "svg")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "openscore"  # stable ids: the same report, the same SVG
    return plt


def save_figure(fig: Any, directory: Path, name: str, *, tight: bool = False) -> dict[str, str]:
    """Write ``name.png`` and ``name.svg`` (temporary file + rename); their file names.
    ``tight`` crops the margins (slower: the figure is laid out twice)."""
    plt = _pyplot()
    files = {}
    for ext in FORMATS:
        with atomic_path(directory / f"{name}.{ext}") as tmp:
            fig.savefig(tmp, format=ext, dpi=100, bbox_inches="tight" if tight else None)
        files[ext] = f"{name}.{ext}"
    plt.close(fig)
    return files


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 3)
    return (n + cols - 1) // cols, cols


def approval_chart(audit: GroupAudit, directory: Path) -> dict[str, str]:
    plt = _pyplot()
    names = list(audit.comparison.index)
    rows, cols = _grid(len(names))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.4 * rows), squeeze=False)
    thresholds = list(audit.thresholds)
    width = 0.8 / max(len(thresholds), 1)
    for ax, name in zip(axes.flat, names, strict=False):
        table = audit.by_group.loc[name]
        table = table[table["compared"].astype(bool)]
        x = range(len(table))
        ratios = []
        for i, t in enumerate(thresholds):
            bars = ax.bar(
                [k + (i - (len(thresholds) - 1) / 2) * width for k in x],
                table[f"approval_{t}"],
                width=width,
                color=f"C{i}",
                label=f"score ≥ {t}",
            )
            if not bool(audit.comparison.loc[name, f"four_fifths_{t}"]):
                for bar in bars:
                    bar.set_hatch("//")
            ratio = float(audit.comparison.loc[name, f"approval_ratio_{t}"])
            ratios.append("–" if ratio != ratio else f"{ratio:.2f}")
        ax.set_xticks(list(x), [str(g) for g in table.index], rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_title(f"{name} (ratios {' / '.join(ratios)})", fontsize=9)
        ax.set_ylabel("approval rate")
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncols=len(thresholds), fontsize=8)
    fig.suptitle("Approval rate by group at each threshold (hatched: ratio below 4/5)", x=0.3)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save_figure(fig, directory, "approval")


def calibration_chart(audit: GroupAudit, directory: Path) -> dict[str, str]:
    plt = _pyplot()
    names = list(audit.comparison.index)
    rows, cols = _grid(len(names))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        table = audit.by_group.loc[name]
        table = table[table["compared"].astype(bool)]
        x = list(range(len(table)))
        ax.bar([k - 0.2 for k in x], table["bad_rate"], width=0.4, label="observed")
        ax.bar(
            [k + 0.2 for k in x],
            table["expected_bad_rate"],
            width=0.4,
            label="expected from the scores",
        )
        for k, gap in zip(x, table["calibration_gap_points"], strict=True):
            if gap == gap:  # not NaN
                ax.annotate(
                    f"{round(gap):+d} pts",
                    (k, 0),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                )
        ax.set_xticks(x, [str(g) for g in table.index], rotation=30, ha="right")
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("bad rate")
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncols=2, fontsize=8)
    fig.suptitle("Calibration by group (points: how far too low the group's scores are)", x=0.3)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save_figure(fig, directory, "calibration")


def thin_file_chart(result: ThinFileResult, directory: Path) -> dict[str, str]:
    plt = _pyplot()
    fig, axes = plt.subplots(
        1, len(result.models), figsize=(4.6 * len(result.models), 3.8), sharey=True, squeeze=False
    )
    for ax, model in zip(axes.flat, result.models, strict=True):
        t = model.by_risk
        ax.plot(t["mean_true_pd"], t["full_mean_score"], "o-", label="full files")
        ax.plot(t["mean_true_pd"], t["thin_mean_score"], "s--", label="thin files")
        ax.set_xscale("log")
        ax.set_xlabel("true PD (mean of each tenth)")
        ax.set_title(f"{model.name}: {model.gap_equal_risk:+.1f} pts at equal risk", fontsize=9)
        ax.legend(fontsize=7)
    axes.flat[0].set_ylabel("mean score")
    fig.suptitle("Thin files against full files of the same true risk")
    fig.tight_layout()
    return save_figure(fig, directory, "thin_file")
