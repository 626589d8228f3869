"""The model card: what a model is, how it was validated, in words and charts.

Rendered from the scorecard file alone (its ``metrics`` carry the ROC points, score
histograms and band table), so a card can be regenerated from any saved model and never
disagrees with it. Files: ``model-card.md``, ``model-card.json`` and three charts, each
as PNG and SVG (ROC, score distribution by outcome, calibration by band).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from openscore.fsio import atomic_path, atomic_write
from openscore.model.format import Scorecard

CHARTS = ("roc", "score_distribution", "calibration")


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def card_data(card: Scorecard) -> dict[str, Any]:
    """The card's machine-readable content."""
    m = card.metrics
    return {
        "model_id": card.model_id,
        "method": card.method,
        "created_at": card.created_at,
        "audit_only": card.audit_only,
        "target": card.target,
        "id_column": card.id_column,
        "scaling": card.scaling.to_dict(),
        "intercept_points": card.intercept_points,
        "features": [f.to_dict() for f in card.features],
        "terms": [
            {
                "name": t.name,
                "features": list(t.features),
                "dimension": t.dimension,
                "min_points": t.min_points,
                "max_points": t.max_points,
            }
            for t in card.terms
        ],
        "dimensions": {k: v.to_dict() for k, v in card.dimensions.items()},
        "training": card.training,
        "metrics": {k: v for k, v in m.items() if k not in ("roc", "score_distribution")},
        "charts": {name: {"png": f"{name}.png", "svg": f"{name}.svg"} for name in CHARTS},
    }


def _markdown(card: Scorecard) -> str:
    m = card.metrics
    lines = [
        f"# Model card: {card.model_id}",
        "",
        f"- method: **{card.method}**" + (" (chosen by cross-validation)" if "cv" in m else ""),
        f"- created: {card.created_at}",
        f"- target: `{card.target}`" if card.target else "- target: event outcomes",
        f"- audit only: {'**yes — cannot score people**' if card.audit_only else 'no'}",
        f"- scaling: {card.scaling.base_score:g} points at {card.scaling.base_odds:g}:1 "
        f"good:bad, {card.scaling.pdo:g} points to double the odds, clipped to "
        f"{card.scaling.score_min}–{card.scaling.score_max}",
        f"- intercept: {card.intercept_points} points (the score of a person with no data)",
        f"- terms: {len(card.terms)} ({sum(t.is_pair for t in card.terms)} two-feature "
        "interactions)",
        f"- training rows: {card.training.get('rows')} (bad rate "
        f"{_fmt(card.training.get('bad_rate'))})",
        "",
    ]
    split = m.get("split", {})
    if split:
        lines += [
            "## Validation",
            "",
            f"Split: {split.get('method')}, test share {split.get('test_size')}, random state "
            f"{split.get('random_state')}; {split.get('train_rows')} training / "
            f"{split.get('test_rows')} test rows"
            + (f"; out-of-time from {split['oot_from']}" if "oot_from" in split else "")
            + ".",
            "",
            "| part | rows | AUC | Gini | KS |",
            "|---|---|---|---|---|",
        ]
        for part in ("train", "test", "oot"):
            if part in m:
                p = m[part]
                lines.append(
                    f"| {part} | {p['rows']} | {_fmt(p['auc'])} | {_fmt(p['gini'])} | "
                    f"{_fmt(p['ks'])} |"
                )
        lines.append("")
    if "cv" in m:
        cv = m["cv"]
        lines += [
            f"## Method choice ({cv['folds']}-fold cross-validation on the training part)",
            "",
            "| method | mean CV AUC | std | folds |",
            "|---|---|---|---|",
        ]
        for method in ("scorecard", "ebm"):
            if method in cv:
                c = cv[method]
                lines.append(
                    f"| {method}{' (chosen)' if cv.get('chosen') == method else ''} | "
                    f"{_fmt(c['auc_mean'])} | {_fmt(c['auc_std'])} | "
                    f"{', '.join(_fmt(a) for a in c['aucs'])} |"
                )
        lines.append("")
    if "bands" in m:
        lines += [
            "## Bad rate and calibration by band (test part)",
            "",
            "| band | scores | rows | bads | observed bad rate | predicted bad rate |",
            "|---|---|---|---|---|---|",
        ]
        for b in m["bands"]:
            lines.append(
                f"| {b['band']} | {b['low']}–{b['high']} | {b['rows']} | {b['bads']} | "
                f"{_fmt(b['bad_rate'])} | {_fmt(b['predicted_bad_rate'])} |"
            )
        falls = m.get("bad_rate_falls")
        lines += [
            "",
            f"Bad rate falls band by band: **{'yes' if falls else 'no'}** (bands with rows).",
            "",
        ]
    if "scale" in m:
        sc = m["scale"]
        lines += [
            "## The scale (chosen from the training population)",
            "",
            f"Rule: {sc.get('chosen', {}).get('rule', '')}; {sc['people']} scorable "
            f"training people ({_fmt(sc['unscorable_share'])} of rows not enough data to "
            "score). Score percentiles: "
            + ", ".join(f"{k} {v}" for k, v in sc["percentiles"].items())
            + ".",
            "",
            "| band | scores | people | share | bad rate |",
            "|---|---|---|---|---|",
        ]
        for b in sc["bands"]:
            lines.append(
                f"| {b['band']} | {b['low']}–{b['high']} | {b['people']} | "
                f"{_fmt(b['share'])} | {_fmt(b['bad_rate'])} |"
            )
        lines += [
            "",
            f"Bad rate falls band by band: **{'yes' if sc['bad_rate_falls'] else 'no'}**; "
            f"bands under 5 %: {', '.join(sc['thin_bands']) or 'none'}.",
            "",
            "| product | threshold | approved share |",
            "|---|---|---|",
        ]
        for pid, a in sc["approval_share"].items():
            lines.append(f"| {pid} | {a['threshold']} | {_fmt(a['share'])} |")
        lines.append("")
    if "psi" in m:
        psi = m["psi"]
        lines += [
            "## Stability (PSI, train vs test)",
            "",
            f"Score PSI: {_fmt(psi.get('score'))}",
            "",
            "| feature | PSI |",
            "|---|---|",
        ]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in psi.get("features", {}).items()]
        lines.append("")
    lines += ["## Dimensions", "", "| dimension | min points | max points | weight |"]
    lines.append("|---|---|---|---|")
    for d, r in card.dimensions.items():
        lines.append(f"| {d} | {r.min_points} | {r.max_points} | {r.weight:.3f} |")
    lines += ["", "## Features", "", "| feature | dimension | type | monotonic risk |"]
    lines.append("|---|---|---|---|")
    for f in card.features:
        lines.append(f"| {f.name} | {f.dimension} | {f.type} | {f.monotonic} |")
    excluded = card.training.get("excluded") or {}
    if excluded:
        lines += ["", "## Columns not used", "", "| column | why |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in excluded.items()]
    lines += ["", "## Charts", ""]
    lines += [f"![{name}]({name}.png)" for name in CHARTS]
    return "\n".join(lines) + "\n"


def _charts(card: Scorecard, directory: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = card.metrics

    def save(fig: Any, name: str) -> None:
        for ext in ("png", "svg"):
            with atomic_path(directory / f"{name}.{ext}") as tmp:
                fig.savefig(tmp, format=ext, dpi=110, bbox_inches="tight")
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5))
    roc = m.get("roc", {"fpr": [0, 1], "tpr": [0, 1]})
    test_auc = m.get("test", {}).get("auc")
    ax.plot(roc["fpr"], roc["tpr"], label=f"test AUC {_fmt(test_auc)}")
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=0.8)
    ax.set(
        xlabel="share of goods below the cut-off",
        ylabel="share of bads below the cut-off",
        title="ROC (test part)",
    )
    ax.legend(loc="lower right")
    save(fig, "roc")

    fig, ax = plt.subplots(figsize=(7, 4))
    dist = m.get("score_distribution")
    if dist:
        edges = dist["edges"]
        mids = [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)]
        width = edges[1] - edges[0]
        ng, nb = max(sum(dist["good"]), 1), max(sum(dist["bad"]), 1)
        ax.bar(mids, [g / ng for g in dist["good"]], width=width, alpha=0.6, label="good")
        ax.bar(mids, [b / nb for b in dist["bad"]], width=width, alpha=0.6, label="bad")
        ax.legend()
    ax.set(xlabel="score", ylabel="share of outcome group", title="Score distribution by outcome")
    save(fig, "score_distribution")

    fig, ax = plt.subplots(figsize=(7, 4))
    bands = [b for b in m.get("bands", []) if b["rows"]]
    names = [b["band"] for b in bands]
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], [b["bad_rate"] for b in bands], width=0.4, label="observed")
    ax.bar(
        [i + 0.2 for i in x],
        [b["predicted_bad_rate"] for b in bands],
        width=0.4,
        label="predicted by the scaling",
    )
    ax.set_xticks(list(x), names)
    ax.set(ylabel="bad rate", title="Calibration by band (test part)")
    ax.legend()
    save(fig, "calibration")


def write_model_card(card: Scorecard, directory: str | os.PathLike[str]) -> Path:
    """Write the card (Markdown, JSON, charts) into ``directory``; return the Markdown path."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    _charts(card, d)
    atomic_write(d / "model-card.json", json.dumps(card_data(card), indent=2) + "\n")
    return atomic_write(d / "model-card.md", _markdown(card))
