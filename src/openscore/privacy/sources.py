"""Where the map's inputs come from: who is scored, where they live, and the public city
list.

* **Scores**: by default each person's *current published score* in the registry (the
  latest row of ``published_scores``) — the people the platform actually scores. Or a
  scores file (``openscore score --out scores.parquet``: ``person_id``, ``score``).
* **Where a person lives**: by default the latest ``address`` fact of the ``profile``
  source in the ledger (its value is the city). It is there only for people who share
  their profile, and it disappears when they revoke it: the map follows consent.
  People without one are not on the map. For the demo, a file with ``person_id`` and
  ``city_id`` (or ``city``) — the synthetic world's ``people.parquet`` — places everyone.
* **The public city list**: ``cities.parquet`` of a synthetic world, or the country's most
  populous cities from geonames (the list the generator uses). It is public and fixed
  before the data is read, so which cells exist reveals nothing; people whose city is not
  on it are counted in no released cell.

A city named by text is matched case-insensitively to the list; where two cities share a
name the more populous is taken (the list is ordered by population).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from openscore.errors import InputError

SCORES_COLUMNS = "a scores file needs columns person_id and score ({path})"
PEOPLE_FILE_COLUMNS = "a people file needs person_id and city_id or city ({path})"
NO_SCORES = "nobody is scored yet: publish scores first (openscore score --publish)"


def _read(path: Path) -> pd.DataFrame:
    from openscore.model.tabular import read_table

    return read_table(path)


def scores_from_file(path: Path) -> pd.DataFrame:
    df = _read(path)
    if not {"person_id", "score"} <= set(df.columns):
        raise InputError(SCORES_COLUMNS.format(path=path), path=str(path))
    return df[["person_id", "score"]]


def scores_from_registry(engine: object) -> pd.DataFrame:
    """Each registered person's current published score."""
    import sqlalchemy as sa

    from openscore.registry.metadata import published_scores as ps

    latest = sa.select(sa.func.max(ps.c.id)).group_by(ps.c.person_id).scalar_subquery()
    # Unscorable people (no number: not enough data) are not on the map.
    query = sa.select(ps.c.person_id, ps.c.score).where(
        ps.c.id.in_(latest), ps.c.score.is_not(None)
    )
    with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(query).all()
    if not rows:
        raise InputError(NO_SCORES)
    return pd.DataFrame(rows, columns=["person_id", "score"])


def residences_from_file(path: Path) -> pd.DataFrame:
    """``person_id`` with ``city_id`` or ``city`` (e.g. a synthetic ``people.parquet``)."""
    df = _read(path)
    if "person_id" not in df.columns or not ({"city_id", "city"} & set(df.columns)):
        raise InputError(PEOPLE_FILE_COLUMNS.format(path=path), path=str(path))
    return df[[c for c in ("person_id", "city_id", "city") if c in df.columns]]


def residences_from_ledger(ledger: object | None = None) -> pd.DataFrame:
    """Each person's latest ``address`` profile fact in the ledger: ``person_id, city``."""
    from openscore.engines.base import get_engine
    from openscore.ledger import Ledger

    ledger = ledger or Ledger.open()
    engine = get_engine("duckdb")
    try:
        events = engine.ledger(ledger.snapshot().paths)  # type: ignore[attr-defined]
        facts = events.filter(
            (events.type == "profile_fact")
            & (events.fact == "address")
            & events.fact_value.notnull()
        )
        latest = facts.group_by("person_id").aggregate(
            city=facts.fact_value.argmax(facts.occurred_at)
        )
        out = engine.to_pandas(latest)
    finally:
        engine.close()
    return out


def public_cities(path: Path | None = None, country: str = "CN") -> pd.DataFrame:
    """The public list: ``cities.parquet`` when given, else geonames' cities of
    ``country`` — ``city_id, name, latitude, longitude, size_band``, most populous first."""
    if path is not None:
        df = _read(Path(path))
        if "population" in df.columns:
            df = df.sort_values("population", ascending=False, kind="stable")
        return df.reset_index(drop=True)
    from openscore.geo.cities import load_cities

    return load_cities(country.upper()).table().to_pandas()


def place_people(
    scores: pd.DataFrame, residences: pd.DataFrame, cities: pd.DataFrame
) -> pd.DataFrame:
    """``person_id, city_id, score`` of everyone scored who has a residence; a city given
    by name is matched to the list (case-insensitive, most populous first)."""
    frame = scores.merge(residences, on="person_id", how="inner")
    if "city_id" not in frame.columns:
        key = cities["name"].astype(str).str.casefold()
        lookup = pd.Series(cities["city_id"].to_numpy(), index=key)
        lookup = lookup[~lookup.index.duplicated(keep="first")]
        frame["city_id"] = frame["city"].astype(str).str.casefold().map(lookup)
    return frame[["person_id", "city_id", "score"]]
