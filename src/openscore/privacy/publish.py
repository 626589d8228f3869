"""Publishing a city map release: spend the budget, write the files, move ``latest``.

Order matters for privacy. The budget is checked before any noise is drawn
(``check_budget``); the release is recorded in the registry's ``dp_releases`` table (which
checks the cap again, atomically, and appends to the audit log) while its files sit in a
hidden staging directory; only when that commit succeeds is the directory renamed into
place and ``latest`` moved. A refused release leaves no files; a crash after the commit
leaves budget spent and nothing shown — the safe way round.

Files (``DATA_DIR/reports/map/<time>/``): ``map.png`` / ``map.svg``, ``cities.csv`` and
``cities.json`` (the table: public city facts and noisy figures only), ``release.json``
(parameters, budget, expected error per city-size band — all data-independent or
post-processing).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine as SqlEngine

from openscore.config import Settings
from openscore.errors import Conflict, StorageError
from openscore.fairness.store import (
    REPORT_GONE,
    latest_report_dir,
    report_name,
    writing_report,
)
from openscore.privacy.charts import map_chart
from openscore.privacy.city_map import MAX_RELEASE_EPSILON, CityMapRelease, release_city_map

KIND = "map"
SCHEMA = "openscore.city-map/1"
DEFAULT_SCOPE = "city_map"
#: lifetime ε of a scope (basic composition over its releases): four releases at ε = 1
DEFAULT_EPSILON_BUDGET = 4.0

BUDGET_EXHAUSTED = (
    "privacy budget of {scope!r} would be exceeded: spent epsilon {spent:g} of {budget:g} "
    "over {releases} release(s); this release needs {epsilon:g}"
)


def check_budget(registry: SqlEngine, scope: str, epsilon: float, budget: float) -> None:
    """``Conflict`` before any noise is drawn if the release cannot fit in the budget."""
    from openscore.registry import dp_budget_spent

    with registry.connect() as conn:
        spent = dp_budget_spent(conn, scope)
    if spent.epsilon + epsilon > budget + 1e-12:
        raise Conflict(
            BUDGET_EXHAUSTED.format(
                scope=scope,
                spent=spent.epsilon,
                budget=budget,
                releases=spent.releases,
                epsilon=epsilon,
            )
        )


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is not None and str(value) == "<NA>":
        return None
    return value


def release_and_publish(
    placed: Any,
    cities: Any,
    registry: SqlEngine,
    *,
    epsilon: float,
    k: int,
    max_epsilon: float = MAX_RELEASE_EPSILON,
    scope: str = DEFAULT_SCOPE,
    epsilon_budget: float = DEFAULT_EPSILON_BUDGET,
    sources: dict[str, str] | None = None,
    out: Path | None = None,
) -> tuple[CityMapRelease, Path]:
    """The whole release, in the order privacy needs: the budget checked before any noise
    is drawn, one release of ``placed`` (``person_id, city_id, score``) over ``cities``,
    then recorded and written (``openscore map`` and the demo)."""
    check_budget(registry, scope, epsilon, epsilon_budget)
    release = release_city_map(
        placed,
        cities,
        epsilon=epsilon,
        k=k,
        max_epsilon=max_epsilon,
    )
    directory = publish_city_map(
        release, registry, scope=scope, epsilon_budget=epsilon_budget, sources=sources, out=out
    )
    return release, directory


def publish_city_map(
    release: CityMapRelease,
    registry: SqlEngine,
    *,
    scope: str = DEFAULT_SCOPE,
    epsilon_budget: float = DEFAULT_EPSILON_BUDGET,
    actor: str = "operator:cli",
    sources: dict[str, str] | None = None,
    out: Path | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Path:
    """Record the release's ε in the registry and write its files; the directory."""
    from openscore.registry import record_dp_release

    now = now or datetime.now(UTC)
    name = report_name(now)
    release_id = f"map-{name}"
    table = release.table
    body = {
        "schema": SCHEMA,
        "release": release_id,
        "scope": scope,
        "released_at": now.replace(microsecond=0).isoformat(),
        "parameters": release.parameters(),
        "cities": int(len(table)),
        "cities_published": int(table["published"].sum()),
        "expected_error": release.expected_error,
        "sources": sources or {},
        "files": {
            "map": {"png": "map.png", "svg": "map.svg"},
            "table": "cities.csv",
            "table_json": "cities.json",
        },
    }
    with writing_report(KIND, out=out, name=name, settings=settings) as staging:
        title = (
            f"City credit map {now:%Y-%m-%d} — ε = {release.epsilon:g}, k = {release.k}; "
            f"{body['cities_published']} of {body['cities']} cities published"
        )
        map_chart(release, staging, title=title)
        table.to_csv(staging / "cities.csv", index=False)
        rows = [_json(r) for r in table.astype(object).to_dict("records")]
        (staging / "cities.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False))
        with registry.begin() as conn:
            record = record_dp_release(
                conn,
                scope=scope,
                release=release_id,
                epsilon=release.epsilon,
                delta=0.0,
                epsilon_budget=epsilon_budget,
                actor=actor,
                details={
                    "k": release.k,
                    "epsilon_histogram": release.epsilon_histogram,
                    "epsilon_sum": release.epsilon_sum,
                    "cities_published": body["cities_published"],
                    "directory": str(out) if out is not None else name,
                },
                now=now,
            )
            body["registry_record"] = record.id
            (staging / "release.json").write_text(
                json.dumps(_json(body), indent=2, ensure_ascii=False) + "\n"
            )
    if out is not None:
        return Path(out)
    found = latest_report_dir(KIND, settings)
    if found is None:
        raise StorageError(REPORT_GONE.format(kind=KIND))
    return found


@dataclass(frozen=True)
class MapReleaseFiles:
    """A published map on disk, as the console and the public page show it."""

    directory: Path
    release: dict
    #: one dict per city: public facts and noisy figures (suppressed: figures null)
    cities: list[dict]
    map_png: Path
    map_svg: Path
    table_csv: Path


def read_map_release(directory: Path) -> MapReleaseFiles:
    directory = Path(directory)
    return MapReleaseFiles(
        directory=directory,
        release=json.loads((directory / "release.json").read_text()),
        cities=json.loads((directory / "cities.json").read_text()),
        map_png=directory / "map.png",
        map_svg=directory / "map.svg",
        table_csv=directory / "cities.csv",
    )


def latest_map_release(settings: Settings | None = None) -> MapReleaseFiles | None:
    """The latest published city map under the data directory, or None."""
    directory = latest_report_dir(KIND, settings)
    return read_map_release(directory) if directory is not None else None
