"""A quick scorecard over a generated world: does the world carry the intended signal?

Not part of scoring (``features/`` and ``model/`` own that): a plain pandas + logistic
regression check, run by the tests and for ``docs/synthetic-data.md``. It computes a few
per-person features from the *events* (worst days past due, late repayments, card
utilisation, bills paid on time, rentals late or lost, verified income, payment
regularity, account age, live public records, friends' average first-stage score), fits
a logistic regression on half the people and reports the AUC on the other half, beside
the oracle's (the true default probability, the ceiling no scorecard can pass).

    python -m openscore.synth.check OUT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq


def _events(out: Path, source: str, columns: list[str]) -> pd.DataFrame:
    dataset = ds.dataset(out / "events" / source, format="parquet")
    return dataset.to_table(columns=columns).to_pandas()


def features(out: Path) -> pd.DataFrame:
    """One row per person: the check's features (NaN where a source is not shared)."""
    people = pq.read_table(out / "people.parquet").to_pandas().set_index("person_id")
    as_of = pd.Timestamp(json.loads((out / "manifest.json").read_text())["as_of"])
    f = pd.DataFrame(index=people.index)

    rep = _events(
        out,
        "credit",
        [
            "type",
            "person_id",
            "account_id",
            "occurred_at",
            "credit_limit",
            "account_kind",
            "due_date",
            "paid_date",
            "amount_due",
        ],
    )
    acc = rep[rep["type"] == "credit_account"]
    rep = rep[rep["type"] == "repayment"]
    due = pd.to_datetime(rep["due_date"])
    paid = pd.to_datetime(rep["paid_date"])
    dpd = ((paid.fillna(as_of) - due).dt.days).clip(lower=0)
    rep = rep.assign(dpd=dpd, late=dpd > 0, unpaid=paid.isna())
    g = rep.groupby("person_id")
    f["worst_dpd"] = g["dpd"].max()
    f["late_count"] = g["late"].sum()
    f["unpaid_count"] = g["unpaid"].sum()
    f["late_share"] = g["late"].mean()
    limits = acc[acc["account_kind"] == "credit_card"].groupby("account_id")["credit_limit"].max()
    cards = rep[rep["account_id"].isin(limits.index)]
    cards = cards.assign(util=cards["amount_due"] / cards["account_id"].map(limits))
    f["utilisation"] = cards.groupby("person_id")["util"].mean()
    opened = acc.groupby("person_id")["occurred_at"].min()
    f["account_age_years"] = (as_of.tz_localize("UTC") - opened).dt.days / 365.25
    f["n_accounts"] = acc.groupby("person_id")["account_id"].nunique()

    wal = _events(out, "wallet", ["type", "person_id", "occurred_at", "due_date", "paid_date"])
    bills = wal[wal["type"] == "bill_payment"]
    bdue, bpaid = pd.to_datetime(bills["due_date"]), pd.to_datetime(bills["paid_date"])
    on_time = bpaid.notna() & (bpaid <= bdue)
    bills = bills.assign(on_time=on_time, late30=(bpaid.fillna(as_of) - bdue).dt.days >= 30)
    gb = bills.groupby("person_id")
    f["bills_on_time"] = gb["on_time"].mean()
    f["bills_late30"] = gb["late30"].sum()
    pay = wal[wal["type"] == "payment"]
    month = pay["occurred_at"].dt.strftime("%Y-%m")
    months = int(json.loads((out / "manifest.json").read_text())["params"]["months"])
    f["payment_regularity"] = pay.assign(m=month).groupby("person_id")["m"].nunique() / months
    f["payments"] = pay.groupby("person_id").size()

    ren = _events(out, "rentals", ["person_id", "due_back", "returned_at", "rental_outcome"])
    ren = ren.assign(
        late=(ren["returned_at"] > ren["due_back"]), lost=ren["rental_outcome"] == "lost"
    )
    gr = ren.groupby("person_id")
    f["rentals_late"] = gr["late"].sum()
    f["rentals_lost"] = gr["lost"].sum()
    f["rentals"] = gr.size()

    pro = _events(out, "profile", ["person_id", "fact", "verified"])
    inc = pro[(pro["fact"] == "income")]
    f["income_verified"] = inc.groupby("person_id")["verified"].max().astype(float)

    pub = _events(out, "public_records", ["person_id", "expires_at"])
    live = pub[pub["expires_at"] > as_of.tz_localize("UTC")]
    f["live_records"] = live.groupby("person_id").size()
    f["live_records"] = f["live_records"].fillna(0)

    for src in ("wallet", "credit", "rentals", "profile"):
        shared = people[f"shares_{src}"]
        cols = {
            "wallet": ["bills_on_time", "bills_late30", "payment_regularity", "payments"],
            "credit": ["worst_dpd", "late_count", "unpaid_count", "late_share", "n_accounts"],
            "rentals": ["rentals_late", "rentals_lost", "rentals"],
            "profile": ["income_verified"],
        }[src]
        for c in cols:
            f.loc[shared & f[c].isna(), c] = 0.0
    f["friends"] = _events(out, "social", ["person_id"]).groupby("person_id").size()
    return f


def _design(f: pd.DataFrame) -> pd.DataFrame:
    x = pd.DataFrame(index=f.index)
    for c in f.columns:
        v = f[c].astype(float)
        if c in {
            "worst_dpd",
            "late_count",
            "unpaid_count",
            "bills_late30",
            "payments",
            "rentals",
            "rentals_late",
            "rentals_lost",
            "live_records",
            "friends",
        }:
            v = np.log1p(v)
        x[c + "_missing"] = v.isna().astype(float)
        x[c] = v.fillna(v.median() if v.notna().any() else 0.0)
    return x.loc[:, x.std() > 0]


def run_check(out: Path, seed: int = 0) -> dict[str, Any]:
    """AUC of the quick scorecard (held-out half) and of the oracle, on the same half."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    people = pq.read_table(out / "people.parquet").to_pandas().set_index("person_id")
    f = features(out)
    y = people.loc[f.index, "defaulted"].astype(int).to_numpy()
    rng = np.random.default_rng(seed)
    train = rng.random(len(f)) < 0.5

    def fit(x: pd.DataFrame) -> np.ndarray:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(x[train], y[train])
        return model.predict_proba(x)[:, 1]

    base = f.drop(columns=["friends"])
    stage1 = fit(_design(base))
    # Friends' average first-stage score, over the relationship events (consented only).
    rel = _events(out, "social", ["person_id", "counterparty_id"])
    score = pd.Series(np.log(stage1 / (1 - stage1)), index=f.index)
    rel = rel.assign(s=rel["counterparty_id"].map(score))
    f = f.assign(friends_avg_score=rel.groupby("person_id")["s"].mean())
    full = fit(_design(f))
    test = ~train
    friends = f["friends_avg_score"].notna().to_numpy()
    sharers = people.loc[f.index, "shares_credit"].to_numpy()
    return {
        "people": int(len(f)),
        "bad_rate": float(y.mean()),
        "auc_scorecard": float(roc_auc_score(y[test], full[test])),
        "auc_scorecard_no_friends": float(roc_auc_score(y[test], stage1[test])),
        "auc_oracle": float(roc_auc_score(y[test], people.loc[f.index, "true_pd"][test])),
        # friends' average score alone, for people with friends who share: the graph's
        # own signal
        "auc_friends_only": float(
            roc_auc_score(y[test & friends], f["friends_avg_score"].to_numpy()[test & friends])
        ),
        "people_with_friends_shared": float(friends.mean()),
        "auc_scorecard_credit_sharers": float(
            roc_auc_score(y[test & sharers], full[test & sharers])
        ),
        "auc_scorecard_credit_non_sharers": float(
            roc_auc_score(y[test & ~sharers], full[test & ~sharers])
        ),
    }


if __name__ == "__main__":  # pragma: no cover - a manual check
    print(json.dumps(run_check(Path(sys.argv[1])), indent=2))
