"""``openscore map``: publish the city credit map with differential privacy (OpenDP).

Per city: the number of scored people, their mean score and the share in each band, with
discrete Laplace noise (ε split evenly between the band histogram and the score sums), and
cities whose noisy count is below k suppressed. The release's ε is recorded in the
registry (``dp_releases``) and refused when the scope's budget cannot hold it. Written to
``DATA_DIR/reports/map/<time>/`` (the latest is what the console and public page show) or
``--out``. See ``docs/privacy.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openscore.cli.app import app, console, err_console


@app.command("map")
def city_map(
    epsilon: Annotated[
        float, typer.Option("--epsilon", help="Privacy loss of this release (ε).")
    ] = 1.0,
    k: Annotated[
        int, typer.Option("--k", help="Suppress cities whose noisy count is below k.")
    ] = 20,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of the data dir's reports.")
    ] = None,
    scores: Annotated[
        Path | None,
        typer.Option("--scores", help="Scores file (person_id, score); default: published."),
    ] = None,
    people: Annotated[
        Path | None,
        typer.Option(
            "--people",
            help="person_id + city_id/city (e.g. a synth people.parquet); default: the "
            "ledger's address facts.",
        ),
    ] = None,
    cities: Annotated[
        Path | None,
        typer.Option("--cities", help="Public city list (cities.parquet); default: geonames."),
    ] = None,
    country: Annotated[
        str, typer.Option("--country", help="Country of the geonames city list.")
    ] = "CN",
    scope: Annotated[
        str, typer.Option("--scope", help="Budget scope in the registry.")
    ] = "city_map",
    budget: Annotated[
        float,
        typer.Option(
            "--budget",
            envvar="OPENSCORE_MAP_EPSILON_BUDGET",
            help="Total ε the scope may spend over all its releases.",
        ),
    ] = 4.0,
    max_epsilon: Annotated[
        float, typer.Option("--max-epsilon", help="Per-release cap on ε (raise on purpose).")
    ] = 1.0,
) -> None:
    """Release the DP city credit map: a map (PNG, SVG) and a table (CSV, JSON)."""
    from openscore.privacy import (
        check_parameters,
        place_people,
        public_cities,
        release_and_publish,
        residences_from_file,
        residences_from_ledger,
        scores_from_file,
        scores_from_registry,
    )
    from openscore.registry import engine_from_settings, ensure_current

    check_parameters(epsilon, k, max_epsilon=max_epsilon)
    registry = engine_from_settings()
    try:
        ensure_current(registry)
        if cities is None and people is not None and (people.parent / "cities.parquet").exists():
            cities = people.parent / "cities.parquet"
        city_list = public_cities(cities, country)
        scored = scores_from_file(scores) if scores else scores_from_registry(registry)
        where = residences_from_file(people) if people else residences_from_ledger()
        placed = place_people(scored, where, city_list)
        err_console.print(
            f"[dim]{len(placed):,} of {len(scored):,} scored people placed in a city; "
            f"{len(city_list)} cities on the public list[/]",
            highlight=False,
        )
        release, directory = release_and_publish(
            placed,
            city_list,
            registry,
            epsilon=epsilon,
            k=k,
            max_epsilon=max_epsilon,
            scope=scope,
            epsilon_budget=budget,
            sources={
                "scores": str(scores) if scores else "registry: current published scores",
                "residence": str(people) if people else "ledger: latest address profile fact",
                "cities": str(cities) if cities else f"geonames: {country}",
            },
            out=out,
        )
    finally:
        registry.dispose()
    shown = int(release.table["published"].sum())
    console.print(
        f"city map released with ε = {release.epsilon:g} (histogram "
        f"{release.epsilon_histogram:g}, sums {release.epsilon_sum:g}), k = {k}: {shown} of "
        f"{len(release.table)} cities published → {directory}",
        highlight=False,
    )
    for band, e in release.expected_error.items():
        if e["published"]:
            console.print(
                f"  {band}: {e['published']}/{e['cities']} cities, 95 % margin of the mean "
                f"±{e['median_mean_score_margin']:.1f} points, of a share "
                f"±{100 * e['median_share_margin']:.1f} points (median)",
                highlight=False,
            )
