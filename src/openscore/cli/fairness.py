"""``openscore fairness``: audit a model's scores and decisions by group (fairlearn).

``--data`` is a prepared directory (``openscore synth`` or ``openscore convert taiwan``
output: features from its own events, groups from its side file) or a table (CSV/Parquet)
for a tabular model (groups from the table's protected columns). The report goes to
``DATA_DIR/reports/fairness/<time>/`` (and becomes the latest the console shows) or to
``--out``. See ``docs/fairness.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openscore.cli.app import app, console, err_console


def _say(message: str) -> None:
    err_console.print(f"[dim]{message}[/]", highlight=False)


@app.command()
def fairness(
    model: Annotated[Path, typer.Option("--model", help="The scorecard to audit (JSON).")],
    data: Annotated[
        Path,
        typer.Option(
            "--data", help="A synth / converted-Taiwan directory, or a table for a tabular model."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the report here (default: the data dir's reports)."),
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            help="Group attribute (repeatable): sex, age_band, education, marital_status, "
            "e_literacy_band, city_size or any column of the side file. Default: by data.",
        ),
    ] = None,
    min_group_size: Annotated[
        int,
        typer.Option("--min-group-size", help="Smaller groups are named by size, not compared."),
    ] = 50,
    all_rows: Annotated[
        bool,
        typer.Option("--all-rows", help="Audit every row even of the model's own training table."),
    ] = False,
    thin_file: Annotated[
        bool,
        typer.Option("--thin-file/--no-thin-file", help="Thin-file analysis (synthetic data)."),
    ] = True,
) -> None:
    """Audit a model by group: approval, four-fifths ratio, FNR gap, AUC, calibration.

    At each product threshold of the catalogue; on a synthetic world also the thin-file
    analysis against a naive missing-is-bad model.
    """
    from openscore.fairness import publish_report, report_data, run_fairness_audit
    from openscore.model import Scorecard

    card = Scorecard.load(model)
    report = run_fairness_audit(
        card,
        data,
        groups=group or None,
        min_group_size=min_group_size,
        all_rows=all_rows,
        thin_file=thin_file,
        progress=_say,
    )
    for notice in report.notices:
        console.print(f"[yellow]notice:[/] {notice}", highlight=False)
    summary = report_data(report)
    h = summary["headline"]
    console.print(
        f"[bold]{report.model_id}[/] on {report.data.evaluated_on}: AUC "
        f"{h['auc']['overall']:.3f} (groups {h['auc']['lowest_group']:.3f}–"
        f"{h['auc']['highest_group']:.3f})",
        highlight=False,
    )
    for t, worst in h["lowest_approval_ratio"].items():
        ratio = worst["ratio"]
        if ratio is None:
            console.print(f"  ≥ {t}: nobody in the compared groups reaches it", highlight=False)
            continue
        flag = "" if ratio is None or ratio >= 0.8 else "  [red]below four-fifths[/]"
        shown = "–" if ratio is None else f"{ratio:.3f}"
        console.print(
            f"  ≥ {t}: lowest approval ratio {shown} ({worst['attribute']}: "
            f"{worst['lowest_group']} / {worst['highest_group']}){flag}",
            highlight=False,
        )
    fn = h["largest_fnr_gap"]
    console.print(
        f"  largest false-negative-rate gap {100 * fn['gap']:.1f} points "
        f"({fn['attribute']}, ≥ {fn['threshold']})",
        highlight=False,
    )
    if report.thin_file is not None:
        gaps = ", ".join(f"{m.name} {m.gap_equal_risk:+.1f}" for m in report.thin_file.models)
        console.print(f"  thin files at equal true risk (points): {gaps}", highlight=False)
    where = publish_report(report, out=out)
    console.print(f"report written to {where}", highlight=False)
