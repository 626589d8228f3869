"""Publishing the map: the budget is checked, spent and recorded; files appear whole."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import Conflict
from openscore.privacy import (
    BUDGET_EXHAUSTED,
    EPSILON_NOT_POSITIVE,
    K_BELOW_ONE,
    RELEASE_COLUMNS,
    check_budget,
    latest_map_release,
    publish_city_map,
    release_city_map,
    scores_from_registry,
)

from fixtures.cli import run_cli as run


@pytest.fixture()
def reg(data_dir: Path) -> Engine:
    engine = registry.engine_from_settings()
    registry.upgrade(engine)
    yield engine
    engine.dispose()


def test_a_release_spends_and_records_its_epsilon(reg: Engine, people, cities) -> None:
    release = release_city_map(people, cities, epsilon=0.75, k=20)
    directory = publish_city_map(release, reg, epsilon_budget=2.0, actor="operator:ops")
    found = latest_map_release()
    assert found is not None and found.directory == directory
    assert found.release["parameters"]["epsilon"] == pytest.approx(0.75)
    assert found.release["parameters"]["delta"] == 0.0
    with reg.connect() as conn:
        spent = registry.dp_budget_spent(conn, "city_map")
        (record,) = registry.list_dp_releases(conn, "city_map")
        actions = [e.action for e in registry.audit.list_entries(conn)]
    assert (spent.epsilon, spent.releases) == (pytest.approx(0.75), 1)
    assert record.release == found.release["release"] == f"map-{directory.name}"
    assert record.id == found.release["registry_record"]
    assert record.details["k"] == 20
    assert "dp.released" in actions
    assert sorted(p.name for p in directory.iterdir()) == [
        "cities.csv",
        "cities.json",
        "map.png",
        "map.svg",
        "release.json",
    ]
    table = pd.read_csv(directory / "cities.csv")
    assert list(table.columns) == list(RELEASE_COLUMNS)
    assert len(found.cities) == len(cities)
    assert found.map_svg.read_text().startswith("<?xml")


def test_a_release_over_the_budget_is_refused_and_leaves_nothing(
    reg: Engine, people, cities
) -> None:
    release = release_city_map(people, cities, epsilon=1.0, k=20)
    first = publish_city_map(release, reg, epsilon_budget=1.5)
    with pytest.raises(Conflict) as err:
        check_budget(reg, "city_map", 1.0, 1.5)
    assert err.value.message == BUDGET_EXHAUSTED.format(
        scope="city_map", spent=1.0, budget=1.5, releases=1, epsilon=1.0
    )
    # even without the early check, the registry refuses it in the publishing transaction
    with pytest.raises(Conflict, match="exhausted"):
        publish_city_map(release, reg, epsilon_budget=1.5, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert latest_map_release().directory == first  # type: ignore[union-attr]
    assert [p.name for p in first.parent.iterdir() if p.is_dir()] == [first.name]
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]
    with reg.connect() as conn:
        assert registry.dp_budget_spent(conn, "city_map").releases == 1
    # another scope has its own budget
    publish_city_map(release, reg, scope="city_map_2027", epsilon_budget=1.0)


def test_the_current_published_score_of_each_person_is_mapped(reg: Engine) -> None:
    now = datetime(2026, 6, 30, tzinfo=UTC)
    with reg.begin() as conn:
        for pid in ("a", "b"):
            registry.create_person(conn, actor="system", person_id=pid)
        for pid, score in (("a", 500), ("b", 700), ("a", 640)):
            registry.publish_score(
                conn,
                registry.ScoreToPublish(pid, score, {}, [], "m1", now),
                actor="system",
                now=now,
            )
    frame = scores_from_registry(reg).set_index("person_id")["score"].to_dict()
    assert frame == {"a": 640, "b": 700}


def test_the_command_releases_the_map_and_names_bad_parameters(
    reg: Engine, people, cities, tmp_path: Path, monkeypatch, capsys
) -> None:
    people[["person_id", "score"]].to_parquet(tmp_path / "scores.parquet")
    people[["person_id", "city_id"]].to_parquet(tmp_path / "people.parquet")
    cities.to_parquet(tmp_path / "cities.parquet")  # found beside people.parquet
    args = ["map", "--scores", tmp_path / "scores.parquet", "--people", tmp_path / "people.parquet"]
    code, text = run(monkeypatch, capsys, *args, "--budget", "1.5").in_words()
    assert code == 0, text
    assert "3 of 5 cities published" in text
    assert latest_map_release() is not None
    code, text = run(monkeypatch, capsys, *args, "--budget", "1.5").in_words()
    assert code == Conflict.exit_code
    assert "would be exceeded" in text
    code, text = run(monkeypatch, capsys, *args, "--epsilon", "0").in_words()
    assert code == 2 and EPSILON_NOT_POSITIVE.format(value=0.0) in text
    code, text = run(monkeypatch, capsys, *args, "--k", "0").in_words()
    assert code == 2 and K_BELOW_ONE.format(value=0) in text
    code, text = run(monkeypatch, capsys, *args, "--epsilon", "-0.5").in_words()
    assert code == 2 and EPSILON_NOT_POSITIVE.format(value=-0.5) in text
