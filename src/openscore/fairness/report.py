"""The audit as files: ``fairness.json`` (the figures, for the console and for machines),
``fairness.md`` (for people) and the charts, written into a report directory; and the
function the operator console calls to find the latest report."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from openscore.artifacts import REPORT_GONE, latest_report_dir, writing_report
from openscore.config import Settings
from openscore.errors import StorageError
from openscore.fairness.audit import FairnessReport
from openscore.fairness.charts import approval_chart, calibration_chart, thin_file_chart
from openscore.fairness.metrics import CALIBRATION_GAP_POINTS, FOUR_FIFTHS

KIND = "fairness"
SCHEMA = "openscore.fairness/1"
JSON_NAME = "fairness.json"
MARKDOWN_NAME = "fairness.md"


def _clean(value: Any) -> Any:
    """JSON-safe: NaN → null, numpy scalars → Python, keys → str."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    return value


def headline(report: FairnessReport) -> dict[str, Any]:
    """The few numbers a reader wants first."""
    cmp = report.audit.comparison
    out: dict[str, Any] = {"lowest_approval_ratio": {}, "four_fifths_failures": []}
    for t in report.audit.thresholds:
        col = f"approval_ratio_{t}"
        ratios = cmp[col].astype(float)
        if ratios.isna().all():  # nobody in any compared group reaches the threshold
            out["lowest_approval_ratio"][str(t)] = {
                "attribute": None,
                "ratio": None,
                "lowest_group": None,
                "highest_group": None,
            }
            continue
        worst = ratios.idxmin()
        out["lowest_approval_ratio"][str(t)] = {
            "attribute": worst,
            "ratio": float(cmp.loc[worst, col]),
            "lowest_group": cmp.loc[worst, f"lowest_{t}"],
            "highest_group": cmp.loc[worst, f"highest_{t}"],
        }
        for name in cmp.index:
            if not bool(cmp.loc[name, f"four_fifths_{t}"]):
                out["four_fifths_failures"].append(
                    {"attribute": name, "threshold": t, "ratio": float(cmp.loc[name, col])}
                )
    fnr = {t: cmp[f"fnr_gap_{t}"].astype(float) for t in report.audit.thresholds}
    t_max = max(fnr, key=lambda t: fnr[t].max())
    out["largest_fnr_gap"] = {
        "threshold": t_max,
        "attribute": fnr[t_max].idxmax(),
        "gap": float(fnr[t_max].max()),
    }
    out["auc"] = {
        "overall": report.audit.overall["auc"],
        "lowest_group": float(cmp["auc_min"].min()),
        "highest_group": float(cmp["auc_max"].max()),
    }
    cal_low = cmp["calibration_gap_points_min"].astype(float)
    cal_high = cmp["calibration_gap_points_max"].astype(float)
    out["calibration_gap_points"] = {
        "most_under_scored": {"attribute": cal_high.idxmax(), "points": float(cal_high.max())},
        "most_over_scored": {"attribute": cal_low.idxmin(), "points": float(cal_low.min())},
    }
    if report.thin_file is not None:
        out["thin_file_gap_equal_risk"] = {
            m.name: m.gap_equal_risk for m in report.thin_file.models
        }
    return out


def report_data(report: FairnessReport, charts: dict[str, dict[str, str]] | None = None) -> dict:
    """Everything in the report as JSON-ready data."""
    audit = report.audit
    attributes = {}
    for name in audit.comparison.index:
        table = audit.by_group.loc[name].reset_index()
        attributes[name] = {
            "comparison": audit.comparison.loc[name].to_dict(),
            "groups": table.to_dict("records"),
        }
    data = report.data
    body: dict[str, Any] = {
        "schema": SCHEMA,
        "generated_at": report.generated_at,
        "model": {
            "id": report.model_id,
            "method": report.model_method,
            "audit_only": report.audit_only,
        },
        "data": {
            "kind": data.kind,
            "source": str(data.source),
            "evaluated_on": data.evaluated_on,
            "as_of": data.as_of.isoformat() if data.as_of else None,
            "people": len(data),
            "bad_rate": float(np.mean(data.y_bad)),
        },
        "settings": {
            "groups": report.groups,
            "min_group_size": report.min_group_size,
            "four_fifths": FOUR_FIFTHS,
            "calibration_gap_limit_points": CALIBRATION_GAP_POINTS,
            "false_negative": "share of people who repaid but score below the threshold",
            "calibration_gap_points": "positive: the group repays better than its scores say "
            "(scores too low by about that many points)",
        },
        "thresholds": [{"min_score": t, "products": p} for t, p in audit.thresholds.items()],
        "overall": audit.overall,
        "headline": headline(report),
        "attributes": attributes,
        "thin_file": _thin_file_data(report),
        "notices": report.notices,
        "charts": charts or {},
    }
    return _clean(body)


def _thin_file_data(report: FairnessReport) -> dict | None:
    r = report.thin_file
    if r is None:
        return None
    return {
        "definition": r.definition,
        "people": r.people,
        "mean_true_pd": r.mean_true_pd,
        "models": [
            {
                "name": m.name,
                "description": m.description,
                "auc": m.auc,
                "gap_equal_risk_points": m.gap_equal_risk,
                "gap_equal_score_points": m.gap_equal_score,
                "gap_equal_score_bad_rate_points": m.gap_equal_score_bad_rate,
                "gap_no_wallet_points": m.gap_no_wallet,
                "gap_low_wallet_points": m.gap_low_wallet,
                "terms": m.terms,
                "by_risk": m.by_risk.to_dict("records"),
            }
            for m in r.models
        ],
        "naive_fills": r.naive_fills,
    }


def _f(value: Any, fmt: str = ".3f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format(value, fmt)


def _pct(value: Any) -> str:
    return _f(None if value is None else 100 * value, ".1f") + ("" if value is None else " %")


def report_markdown(data: dict) -> str:
    """The report for people, from ``report_data``."""
    d, h = data["data"], data["headline"]
    ts = [t["min_score"] for t in data["thresholds"]]
    lines = [
        f"# Fairness audit of {data['model']['id']}",
        "",
        f"Generated {data['generated_at']}. Model: {data['model']['id']} "
        f"({data['model']['method']}). Data: {d['kind']}, `{d['source']}` — "
        f"{d['evaluated_on']}; bad rate {_pct(d['bad_rate'])}"
        + (f"; as of {d['as_of']}" if d["as_of"] else "")
        + ".",
        "",
        "Group attributes come from the side file (or a table's protected columns, which "
        "training excludes) and are never model inputs. Groups under "
        f"{data['settings']['min_group_size']} people are named with their size only.",
        "",
        "## Headline",
        "",
        "| threshold | products | approved overall | lowest four-fifths ratio | "
        "attribute (lowest / highest group) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in data["thresholds"]:
        w = h["lowest_approval_ratio"][str(t["min_score"])]
        approved = data["overall"]["approval_" + str(t["min_score"])]
        head = f"| ≥ {t['min_score']} | {', '.join(t['products'])} | {_pct(approved)} | "
        if w["ratio"] is None:
            lines.append(head + "– | nobody compared reaches it |")
            continue
        flag = "" if w["ratio"] >= FOUR_FIFTHS else " **below 0.8**"
        lines.append(
            head + f"{_f(w['ratio'])}{flag} | "
            f"{w['attribute']} ({w['lowest_group']} / {w['highest_group']}) |"
        )
    fn = h["largest_fnr_gap"]
    lines += [
        "",
        f"- Largest false-negative-rate gap (repaid but declined): {_pct(fn['gap'])} points, "
        f"{fn['attribute']} at ≥ {fn['threshold']}.",
        f"- AUC overall {_f(h['auc']['overall'])}; by group from "
        f"{_f(h['auc']['lowest_group'])} to {_f(h['auc']['highest_group'])}.",
        f"- Calibration: most under-scored group "
        f"{_f(h['calibration_gap_points']['most_under_scored']['points'], '+.1f')} points "
        f"({h['calibration_gap_points']['most_under_scored']['attribute']}), most over-scored "
        f"{_f(h['calibration_gap_points']['most_over_scored']['points'], '+.1f')} points "
        f"({h['calibration_gap_points']['most_over_scored']['attribute']}).",
    ]
    failures = h["four_fifths_failures"]
    lines.append(
        "- Four-fifths rule: "
        + (
            "; ".join(
                f"{x['attribute']} at ≥ {x['threshold']} ({_f(x['ratio'])})" for x in failures
            )
            if failures
            else "no attribute below 0.8 at any threshold."
        )
    )
    if data["thin_file"]:
        lines += ["", *_thin_markdown(data["thin_file"])]
    for name, attr in data["attributes"].items():
        lines += ["", f"## {name}", ""]
        lines += [
            "| group | people | bad rate | mean score | AUC | expected bad rate | "
            "calibration gap (pts) | "
            + " | ".join(f"approval ≥ {t}" for t in ts)
            + " | "
            + " | ".join(f"FNR ≥ {t}" for t in ts)
            + " |",
            "| --- " * (7 + 2 * len(ts)) + "|",
        ]
        for g in attr["groups"]:
            if not g["compared"]:
                lines.append(
                    f"| {g['group']} | {g['people']} | *too small to compare* |"
                    + " |" * (4 + 2 * len(ts))
                )
                continue
            lines.append(
                f"| {g['group']} | {g['people']:,} | {_pct(g['bad_rate'])} | "
                f"{_f(g['mean_score'], '.0f')} | {_f(g['auc'])} | {_pct(g['expected_bad_rate'])}"
                f" | {_f(g['calibration_gap_points'], '+.1f')} | "
                + " | ".join(_pct(g[f"approval_{t}"]) for t in ts)
                + " | "
                + " | ".join(_pct(g[f"fnr_{t}"]) for t in ts)
                + " |"
            )
        c = attr["comparison"]
        lines.append(
            f"| **ratio / gap** | | | | {_f(c['auc_gap'])} | | | "
            + " | ".join(
                _f(c[f"approval_ratio_{t}"]) + ("" if c[f"four_fifths_{t}"] else " ⚠") for t in ts
            )
            + " | "
            + " | ".join(_pct(c[f"fnr_gap_{t}"]) for t in ts)
            + " |"
        )
    if data["notices"]:
        lines += ["", "## Notices", ""] + [f"- {n}" for n in data["notices"]]
    if data["charts"]:
        lines += ["", "## Charts", ""]
        lines += [f"![{name}]({files['png']})" for name, files in data["charts"].items()]
    return "\n".join(lines) + "\n"


def _thin_markdown(t: dict) -> list[str]:
    p = t["people"]
    lines = [
        "## Thin files",
        "",
        f"Thin file: {t['definition']['thin_file']}. Ordinary risk: "
        f"{t['definition']['ordinary_risk']}. Two models are retrained the same way "
        f"({t['definition']['method']}) on {t['definition']['train_people']:,} people and, "
        f"with the audited model, measured on the other {t['definition']['evaluation_people']:,}"
        f": {p['thin']:,} thin files ({p['no_wallet']:,} without any wallet payment, "
        f"{p['low_wallet']:,} with a few), {p['full']:,} full; mean true PD thin "
        f"{_pct(t['mean_true_pd']['thin'])}, full {_pct(t['mean_true_pd']['full'])}.",
        "",
        "Points thin files score above (+) or below (−) full files:",
        "",
        "| model | AUC | at equal true risk | no wallet payments | a few payments | "
        "at equal score (calibration) | at equal score, in bad rates | "
        "largest terms of the gap |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in t["models"]:
        terms = ", ".join(f"{k} {v:+.1f}" for k, v in list(m["terms"].items())[:3])
        lines.append(
            f"| {m['name']}: {m['description']} | {_f(m['auc'])} | "
            f"{_f(m['gap_equal_risk_points'], '+.1f')} | {_f(m['gap_no_wallet_points'], '+.1f')}"
            f" | {_f(m['gap_low_wallet_points'], '+.1f')} | "
            f"{_f(m['gap_equal_score_points'], '+.1f')} | "
            f"{_f(m.get('gap_equal_score_bad_rate_points'), '+.1f')} | {terms} |"
        )
    return lines


def write_report(report: FairnessReport, directory: Path) -> Path:
    """Write the JSON, Markdown and charts into ``directory``; the Markdown's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    charts = {
        "approval": approval_chart(report.audit, directory),
        "calibration": calibration_chart(report.audit, directory),
    }
    if report.thin_file is not None:
        charts["thin_file"] = thin_file_chart(report.thin_file, directory)
    data = report_data(report, charts)
    (directory / JSON_NAME).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    path = directory / MARKDOWN_NAME
    path.write_text(report_markdown(data))
    return path


def publish_report(
    report: FairnessReport, *, out: Path | None = None, settings: Settings | None = None
) -> Path:
    """Write the report whole into ``out``, or into ``DATA_DIR/reports/fairness/<time>/``
    and make it the latest; the directory."""
    with writing_report(KIND, out=out, settings=settings) as staging:
        write_report(report, staging)
    if out is not None:
        return Path(out)
    found = latest_report_dir(KIND, settings)
    if found is None:
        raise StorageError(REPORT_GONE.format(kind=KIND))
    return found


@dataclass(frozen=True)
class ReportFiles:
    """A finished report on disk, as the console shows it."""

    directory: Path
    data: dict
    markdown: str
    #: chart name → {"png": path, "svg": path}
    charts: dict[str, dict[str, Path]]


def read_report(directory: Path) -> ReportFiles:
    directory = Path(directory)
    data = json.loads((directory / JSON_NAME).read_text())
    charts = {
        name: {ext: directory / file for ext, file in files.items()}
        for name, files in data.get("charts", {}).items()
    }
    return ReportFiles(directory, data, (directory / MARKDOWN_NAME).read_text(), charts)


def latest_fairness_report(settings: Settings | None = None) -> ReportFiles | None:
    """The latest fairness report under the data directory, or None if there is none."""
    directory = latest_report_dir(KIND, settings)
    return read_report(directory) if directory is not None else None
