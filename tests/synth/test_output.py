"""What ``openscore synth`` writes: the ledger's input format, consent, dates, the graph."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from openscore.domain.events import EVENT_COLUMNS, EVENT_TYPES
from openscore.eventfiles.columns import EVENT_FILE_SCHEMA
from openscore.eventfiles.writer import ROW_GROUP, sha256_file
from openscore.synth.run import SOURCES

from .conftest import SMALL

AS_OF = date(2026, 6, 30)
AS_OF_TS = datetime(2026, 6, 30, tzinfo=UTC)


def events(out: Path, source: str | None = None) -> pa.Table:
    path = out / "events" / source if source else out / "events"
    return ds.dataset(path, format="parquet").to_table()


def people(out: Path) -> pd.DataFrame:
    return pq.read_table(out / "people.parquet").to_pandas()


def test_layout_and_manifest(small_world: Path) -> None:
    manifest = json.loads((small_world / "manifest.json").read_text())
    written = {str(p.relative_to(small_world)) for p in small_world.rglob("*") if p.is_file()} - {
        "manifest.json"
    }
    assert written == set(manifest["files"])
    for source in SOURCES:
        assert (small_world / "events" / source / "part-00000.parquet").exists()
    for rel, info in manifest["files"].items():
        path = small_world / rel
        assert sha256_file(path) == info["sha256"], rel
        assert pq.ParquetFile(path).metadata.num_rows == info["rows"], rel
    assert manifest["counts"]["events"] == sum(manifest["counts"]["types"].values())
    assert manifest["seed"] == SMALL["seed"] and manifest["as_of"] == "2026-06-30"
    assert not list(small_world.parent.glob(".*partial*"))


def test_event_files_have_the_ledger_input_schema(small_world: Path) -> None:
    for path in (small_world / "events").rglob("*.parquet"):
        f = pq.ParquetFile(path)
        assert f.schema_arrow.equals(EVENT_FILE_SCHEMA), path
        assert "furnisher_id" not in f.schema_arrow.names
        for i in range(f.metadata.num_row_groups - 1):
            assert f.metadata.row_group(i).num_rows == ROW_GROUP


def test_types_sources_and_columns_agree_with_the_vocabulary(small_world: Path) -> None:
    table = events(small_world)
    columns = {c.name for c in EVENT_COLUMNS} - {"furnisher_id"}
    common = {"event_id", "type", "person_id", "source", "occurred_at"}
    seen = set()
    for event_type, spec in EVENT_TYPES.items():
        rows = table.filter(pc.equal(table["type"], event_type.value))
        if rows.num_rows == 0:
            continue
        seen.add(event_type.value)
        assert pc.all(pc.equal(rows["source"], spec.source.value)).as_py(), event_type
        for name in common | set(spec.required):
            assert rows[name].null_count == 0, (event_type, name)
        for name in columns - common - set(spec.columns):
            assert rows[name].null_count == rows.num_rows, (event_type, name)
    assert seen == {t.value for t in EVENT_TYPES}


def test_ids_are_unique_and_well_formed(small_world: Path) -> None:
    table = events(small_world)
    ids = table["event_id"]
    assert pc.count_distinct(ids).as_py() == table.num_rows
    ppl = people(small_world)
    assert len(ppl) == SMALL["people"] and ppl["person_id"].is_unique
    assert ppl["person_id"].str.fullmatch(r"p\d{7}").all()
    numbers = ppl["person_id"].str[1:].astype(int)
    assert sorted(numbers) == list(range(1, SMALL["people"] + 1))
    assert set(pc.unique(table["person_id"]).to_pylist()) <= set(ppl["person_id"])
    # people.parquet is in id order, and ids are permuted: the first rows are not one city
    assert ppl["person_id"].is_monotonic_increasing
    assert ppl["city"].head(1000).nunique() > 50


def test_nothing_on_or_after_as_of_and_nothing_before_1900(small_world: Path) -> None:
    table = events(small_world)
    floor = datetime(1900, 1, 1, tzinfo=UTC)
    for name in ("occurred_at", "returned_at"):
        col = table[name].drop_null()
        assert pc.max(col).as_py() < AS_OF_TS, name
        assert pc.min(col).as_py() >= floor, name
    for name in ("due_date", "paid_date"):
        col = table.filter(pc.is_valid(table[name]))[name]
        assert pc.max(col).as_py() < AS_OF, name
        assert pc.min(col).as_py() >= date(1900, 1, 1), name
    for name in ("amount", "credit_limit", "amount_due", "amount_paid"):
        col = table[name].drop_null()
        assert pc.min(col).as_py() >= 0, name


def test_repayments_and_bills(small_world: Path) -> None:
    table = events(small_world)
    owed = table.filter(pc.is_in(table["type"], pa.array(["repayment", "bill_payment"])))
    df = owed.select(["due_date", "paid_date", "amount_paid", "occurred_at"]).to_pandas()
    unpaid = df["paid_date"].isna()
    assert unpaid.any() and (~unpaid).any()
    assert (df.loc[unpaid, "amount_paid"] == 0).all()
    late = pd.to_datetime(df["paid_date"]) > pd.to_datetime(df["due_date"])
    assert 0.02 < late.mean() < 0.3


def test_public_records_expire_after_they_start_and_some_have_expired(small_world: Path) -> None:
    df = events(small_world, "public_records").to_pandas()
    assert len(df) > 20
    assert (df["expires_at"] > df["occurred_at"]).all()
    assert (df["expires_at"] < AS_OF_TS).any() and (df["expires_at"] > AS_OF_TS).any()
    assert df["legal_basis"].str.contains("art.").all()


def test_rentals_still_out_have_no_outcome(small_world: Path) -> None:
    df = events(small_world, "rentals").to_pandas()
    assert (df["due_back"] > df["occurred_at"]).all()
    out = df["rental_outcome"].isna()
    assert out.any()
    assert df.loc[out, "returned_at"].isna().all()
    assert df.loc[df["rental_outcome"] == "lost", "returned_at"].isna().all()
    back = df[df["rental_outcome"] == "returned"]
    assert (back["returned_at"] > back["occurred_at"]).all()
    assert set(df["rental_outcome"].dropna()) <= {"returned", "damaged", "lost"}


def test_only_shared_sources_are_written(small_world: Path) -> None:
    ppl = people(small_world).set_index("person_id")
    for source in ("wallet", "credit", "rentals", "profile", "social"):
        who = pc.unique(events(small_world, source)["person_id"]).to_pylist()
        assert ppl.loc[who, f"shares_{source}"].all(), source
        share = ppl[f"shares_{source}"].mean()
        expected = {"wallet": 0.9, "credit": 0.75, "rentals": 0.7, "profile": 0.5}.get(source, 0.35)
        assert abs(share - expected) < 0.03, source
    # Relationships need both people's consent.
    rel = events(small_world, "social").to_pandas()
    assert ppl.loc[rel["counterparty_id"], "shares_social"].all()


def test_relationships_are_mutual_without_loops_or_duplicates(small_world: Path) -> None:
    rel = events(small_world, "social").to_pandas()
    assert len(rel) > 1000
    assert (rel["person_id"] != rel["counterparty_id"]).all()
    pairs = rel.set_index(["person_id", "counterparty_id"])["occurred_at"]
    assert pairs.index.is_unique
    reverse = rel.set_index(["counterparty_id", "person_id"])["occurred_at"]
    reverse.index.names = pairs.index.names
    assert pairs.sort_index().equals(reverse.sort_index())


def test_friend_graph_degree_and_homophily(small_world: Path) -> None:
    ppl = people(small_world).set_index("person_id")
    degree = ppl["degree"]
    # A small world loses edges at its two ends; a million people reach 19-21.
    assert 17 <= degree.mean() <= 22
    assert degree.max() > 8 * degree.mean()  # heavy tail
    assert np.percentile(degree, 50) < degree.mean()  # right-skewed
    rel = events(small_world, "social").to_pandas()
    same_city = (
        ppl.loc[rel["person_id"], "city"].to_numpy()
        == ppl.loc[rel["counterparty_id"], "city"].to_numpy()
    ).mean()
    random_city = (ppl["city"].value_counts(normalize=True) ** 2).sum()
    assert same_city > 10 * random_city
    risk = np.corrcoef(
        ppl.loc[rel["person_id"], "latent_risk"], ppl.loc[rel["counterparty_id"], "latent_risk"]
    )[0, 1]
    assert 0.08 < risk < 0.6


def test_bad_rate_and_truth(small_world: Path) -> None:
    ppl = people(small_world)
    assert 0.065 < ppl["defaulted"].mean() < 0.095
    assert abs(ppl["true_pd"].mean() - 0.08) < 0.01
    # The riskier half defaults far more often.
    high = ppl["latent_risk"] > ppl["latent_risk"].median()
    assert ppl.loc[high, "defaulted"].mean() > 3 * ppl.loc[~high, "defaulted"].mean()
    outcomes = pq.read_table(small_world / "outcomes.parquet").to_pandas()
    assert outcomes["person_id"].tolist() == ppl["person_id"].tolist()
    assert (outcomes["defaulted_12m"] == ppl["defaulted"].astype(int)).all()
    assert (outcomes["as_of"] == AS_OF).all()


def test_e_literacy_follows_age_and_city_not_risk_given_income(small_world: Path) -> None:
    ppl = people(small_world)
    logit = np.log(ppl["e_literacy"] / (1 - ppl["e_literacy"]))
    band = ppl["city_size_band"].map({"small": 0, "medium": 1, "large": 2, "mega": 3})
    edu = pd.get_dummies(ppl["education"], drop_first=True, dtype=float)
    x = np.column_stack(
        [
            np.ones(len(ppl)),
            np.log(ppl["income"]),
            ppl["age"],
            ppl["age"] ** 2,
            band,
            edu,
            ppl["latent_risk"],
        ]
    )
    coef, *_ = np.linalg.lstsq(x, logit, rcond=None)
    assert coef[2] + 2 * coef[3] * 40 < -0.02  # falls with age
    assert coef[4] > 0.2  # rises with city size
    assert abs(coef[-1]) < 0.03  # and says nothing about risk once income is known
    # Thin files with ordinary risk exist: the least e-literate quarter is not riskier.
    low = ppl["e_literacy"] < ppl["e_literacy"].quantile(0.25)
    assert abs(ppl.loc[low, "true_pd"].mean() - ppl["true_pd"].mean()) < 0.02


def test_cities(small_world: Path) -> None:
    cities = pq.read_table(small_world / "cities.parquet").to_pandas()
    assert len(cities) == 381 and (cities["country"] == "CN").all()
    assert cities["population"].is_monotonic_decreasing
    assert set(cities["size_band"]) == {"small", "medium", "large", "mega"}
    ppl = people(small_world)
    assert set(ppl["city_id"]) <= set(cities["city_id"])
    shares = ppl["city"].value_counts(normalize=True)
    assert shares.index[0] == cities["name"].iloc[0]  # the biggest city holds the most
    assert ppl[["latitude", "longitude"]].notna().all().all()


def test_about_four_events_per_person_month(small_world: Path) -> None:
    """~100 events per person over 24 months (consent included), whatever the length."""
    counts = json.loads((small_world / "manifest.json").read_text())["counts"]
    per_person_month = counts["events"] / SMALL["people"] / SMALL["months"]
    assert 3.5 < per_person_month < 5.0
    assert counts["sources"]["wallet"] > counts["sources"]["credit"] > counts["sources"]["profile"]


def test_event_ids_name_type_block_and_sequence(small_world: Path) -> None:
    ids = events(small_world, "wallet")["event_id"].to_pylist()
    assert all(re.fullmatch(r"(pay|bil)-\d{6}-\d{7}", i) for i in ids[:5000])
