"""Building the demo world step by step; each step is skipped when already done.

synthetic population → registry (people and their consents) → ingestion through the
consent gate → compaction → training (event mode) → batch scores published → the
fairness audit of the model on the world → the differentially private city map of the
published scores → personas with logins, an operator key, a partner with a grant and a
few decisions. The console shows the model card, the fairness report and the map.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from openscore.config import Settings, get_settings
from openscore.domain.sources import CONSENTABLE_SOURCES

Say = Callable[[str], None]

DEMO_PASSWORD = "demo-password-1"
SYNTH_AS_OF = date(2026, 6, 30)


@dataclass
class DemoWorld:
    data_dir: Path
    world_dir: Path
    people: int
    model_id: str = ""
    test_auc: float | None = None
    logins: list[dict] = field(default_factory=list)
    operator_key: str = ""
    partner_key: str = ""
    facts: dict = field(default_factory=dict)


def build_world(
    *,
    people: int = 20_000,
    seed: int = 7,
    settings: Settings | None = None,
    say: Say = print,
    history_months: int = 24,
    method: str = "auto",
) -> DemoWorld:
    settings = settings or get_settings()
    os.environ["OPENSCORE_AS_OF"] = SYNTH_AS_OF.isoformat()
    get_settings.cache_clear()
    settings = get_settings()
    world = DemoWorld(settings.data_dir, settings.data_dir / "world", people)
    _synth(world, seed, say)
    registry = _registry(world, say)
    _ingest(world, registry, say)
    _train(world, say, method)
    _publish(world, registry, say)
    _fairness(world, say)
    _city_map(world, registry, say)
    _personas(world, registry, say)
    if history_months:
        _history(world, registry, say, history_months)
    (settings.data_dir / "demo.json").write_text(json.dumps(_summary(world), indent=2))
    return world


def _summary(world: DemoWorld) -> dict:
    return {
        "model_id": world.model_id,
        "test_auc": world.test_auc,
        "logins": world.logins,
        "operator_key": world.operator_key,
        "partner_key": world.partner_key,
        "facts": world.facts,
    }


# -- steps --------------------------------------------------------------------------------


def _synth(world: DemoWorld, seed: int, say: Say) -> None:
    if (world.world_dir / "manifest.json").exists():
        say(f"synthetic world already in {world.world_dir}")
        return
    from openscore.synth import SynthParams, generate

    say(f"generating {world.people:,} people × 24 months (seed {seed})")
    generate(SynthParams(people=world.people, months=24, seed=seed), world.world_dir)


def _registry(world: DemoWorld, say: Say):
    """Every synthetic person in the registry with the consents the world gave them."""
    from openscore.registry import (
        create_person,
        engine_from_settings,
        grant_consent,
        person_exists,
        upgrade,
    )

    engine = engine_from_settings()
    upgrade(engine)
    people = pd.read_parquet(world.world_dir / "people.parquet")
    with engine.connect() as conn:
        if person_exists(conn, people["person_id"].iloc[-1]):
            say("people already enrolled in the registry")
            return engine
    say(f"enrolling {len(people):,} people and their consents in the registry")
    flags = [f"shares_{s.value}" for s in CONSENTABLE_SOURCES]
    for start in range(0, len(people), 2_000):
        with engine.begin() as conn:
            for row in people.iloc[start : start + 2_000][["person_id", *flags]].itertuples():
                create_person(conn, actor="system:demo", person_id=row.person_id)
                for source, shared in zip(CONSENTABLE_SOURCES, row[2:], strict=True):
                    if shared:
                        grant_consent(conn, row.person_id, source, actor="system:demo")
    return engine


def _ingest(world: DemoWorld, registry, say: Say) -> None:
    from openscore.ingest import Ingester
    from openscore.ledger import Ledger, compact, ledger_stats
    from openscore.online import registry_consent_gate, registry_suppression_check

    ledger = Ledger.open()
    if ledger.manifest().batches:
        say("events already ingested")
    else:
        say("ingesting the events through the consent gate")
        result = Ingester(
            ledger,
            consent_gate=registry_consent_gate(registry),
            suppressed=registry_suppression_check(registry),
        ).run([world.world_dir / "events"], "synth-furnisher")
        world.facts["ingest"] = {"accepted": result.accepted, "rejected": result.rejected}
        say(f"  {result.accepted:,} events accepted, {result.rejected:,} rejected")
        say("compacting the ledger (sorted by person)")
        compact(ledger)
    stats = ledger_stats(ledger)
    world.facts["ledger"] = {
        "events": stats["total"],
        "people": stats["people"],
        "segments": stats["segments"],
    }


def _train(world: DemoWorld, say: Say, method: str = "auto") -> None:
    from openscore.engines.base import get_engine
    from openscore.jobs import train_from_events
    from openscore.ledger import Ledger
    from openscore.model import Scorecard, write_model_card
    from openscore.online import current_model, install_model

    try:
        card = current_model()
        say(f"model in service: {card.model_id}")
    except Exception:
        if method == "auto":
            say("training: optbinning scorecard vs EBM by cross-validation (a minute or two)")
        else:
            say(f"training: {method} (chosen by --method, no cross-validation)")
        engine = get_engine("duckdb")
        try:
            card = train_from_events(
                engine,
                Ledger.open(),
                world.world_dir / "outcomes.parquet",
                method=method,
                progress=lambda m: say(f"  {m}"),
            )
        finally:
            engine.close()
        path = world.data_dir / "models" / "trained.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        card.save(path)
        install_model(path)
        write_model_card(card, world.data_dir / "reports" / "model-card")
        card = Scorecard.load(path)
    world.model_id = card.model_id
    world.test_auc = (card.metrics or {}).get("test", {}).get("auc")


def _publish(world: DemoWorld, registry, say: Say) -> None:
    from openscore.engines.base import get_engine
    from openscore.jobs import batch_scores, publish_batch
    from openscore.ledger import Ledger
    from openscore.online import current_model
    from openscore.registry import current_score

    people = pd.read_parquet(world.world_dir / "people.parquet", columns=["person_id"])
    with registry.connect() as conn:
        try:
            current_score(conn, people["person_id"].iloc[0])
            say("scores already published")
            return
        except Exception:
            pass
    say("scoring everyone (one Ibis expression on DuckDB) and publishing")
    engine = get_engine("duckdb")
    try:
        table = engine.table(people, "registered")
        expr = batch_scores(
            engine, Ledger.open(), current_model(), SYNTH_AS_OF, table, term_points=True
        )
        scores = engine.to_pandas(expr)
    finally:
        engine.close()
    scores = scores[scores["person_id"].isin(set(people["person_id"]))]
    scores.to_parquet(world.data_dir / "scores.parquet")
    n = publish_batch(registry, scores)
    say(f"  {n:,} scores published; mean {scores['score'].mean():.0f}")


def _history(world: DemoWorld, registry, say: Say, months: int) -> None:
    """The personas' scores as of each of the 24 month-ends of the ledger (``openscore
    history backfill --person …``): recomputed with today's model, shown as such in the
    portal. Only the personas: everyone's would cost a pass over the whole ledger per
    month-end (run ``openscore history backfill`` for that)."""
    import time

    from openscore.engines.base import get_engine
    from openscore.jobs.history import backfill
    from openscore.ledger import Ledger
    from openscore.online import current_model

    started = time.perf_counter()
    engine = get_engine("duckdb")
    try:
        report = backfill(
            engine,
            Ledger.open(),
            registry.begin,
            current_model(),
            until=SYNTH_AS_OF,
            months=months,
            people=[login["person_id"] for login in world.logins],
        )
    finally:
        engine.close()
    if report.stored:
        say(
            f"score history of the personas: {report.points:,} recomputed points over "
            f"{len(report.stored)} month-ends ({time.perf_counter() - started:.0f} s)"
        )
    else:
        say("score history already recomputed")
    world.facts["history_month_ends"] = len(report.stored) + len(report.skipped)


def _fairness(world: DemoWorld, say: Say) -> None:
    """The fairness audit of the model in service on the world (its test split)."""
    from openscore.errors import InputError
    from openscore.fairness import latest_fairness_report, publish_report, run_fairness_audit
    from openscore.online import current_model

    if latest_fairness_report() is not None:
        say("fairness report already written")
        return
    say("fairness audit: approval by group, four-fifths ratio, thin files vs a naive model")
    try:
        report = run_fairness_audit(
            current_model(), world.world_dir, progress=lambda m: say(f"  {m}")
        )
    except InputError as exc:  # a small world: groups or thin files too few to compare
        say(f"  no fairness report: {exc.message} (a larger --people gives one)")
        world.facts["fairness"] = f"skipped: {exc.message}"
        return
    publish_report(report)
    if report.thin_file is not None:
        gaps = ", ".join(f"{m.name} {m.gap_equal_risk:+.1f}" for m in report.thin_file.models)
        say(f"  thin files at equal true risk (points): {gaps}")
        world.facts["thin_file_gap_equal_risk"] = {
            m.name: round(m.gap_equal_risk, 1) for m in report.thin_file.models
        }


def _city_map(world: DemoWorld, registry, say: Say) -> None:
    """The city credit map of the published scores, ε = 1, cities under 20 suppressed."""
    from openscore.privacy import (
        latest_map_release,
        place_people,
        public_cities,
        release_and_publish,
        residences_from_file,
        scores_from_registry,
    )

    if latest_map_release() is not None:
        say("city map already released")
        return
    cities = public_cities(world.world_dir / "cities.parquet")
    placed = place_people(
        scores_from_registry(registry),
        residences_from_file(world.world_dir / "people.parquet"),
        cities,
    )
    release, _ = release_and_publish(
        placed,
        cities,
        registry,
        epsilon=1.0,
        k=20,
        sources={
            "scores": "registry: current published scores",
            "residence": "synthetic people.parquet (the world's city of each person)",
            "cities": "synthetic cities.parquet",
        },
    )
    shown = int(release.table["published"].sum())
    say(f"city map released (ε = 1, k = 20): {shown} of {len(release.table)} cities published")
    world.facts["city_map_cities_published"] = shown


def _personas(world: DemoWorld, registry, say: Say) -> None:
    """A high scorer, a thin-file person, one with a public record; an operator; a partner."""
    from openscore.registry import (
        create_api_key,
        create_grant,
        create_partner,
        list_partners,
        login_of,
        set_credentials,
    )

    people = pd.read_parquet(world.world_dir / "people.parquet")
    scores = pd.read_parquet(world.data_dir / "scores.parquet")
    df = people.merge(scores, on="person_id")
    if "status" in df.columns:  # personas show a score: pick them among the scored
        df = df[df["status"] == "scored"]
    all_shared = df[[f"shares_{s.value}" for s in CONSENTABLE_SOURCES]].all(axis=1)
    personas = {
        "high scorer": df[all_shared].sort_values("score", ascending=False).iloc[0],
        "thin file": df[df["shares_wallet"] & ~df["shares_credit"] & ~df["shares_profile"]]
        .assign(gap=lambda d: (d["true_pd"] - d["true_pd"].median()).abs())
        .sort_values("gap")
        .iloc[0],
    }
    records = _people_with_public_records(world)
    pr = df[df["person_id"].isin(records)]
    if len(pr):
        personas["public record"] = pr.sort_values("score").iloc[len(pr) // 2]
    world.logins = []
    with registry.begin() as conn:
        for label, row in personas.items():
            login = label.replace(" ", "-") + "@demo.openscore"
            if login_of(conn, row.person_id) is None:
                set_credentials(
                    conn, row.person_id, login=login, password=DEMO_PASSWORD, actor="system:demo"
                )
            world.logins.append(
                {
                    "who": label,
                    "login": login,
                    "password": DEMO_PASSWORD,
                    "person_id": row.person_id,
                    "score": int(row.score),
                    "band": row.band,
                }
            )
        existing = {p.name: p for p in list_partners(conn)}
        if "Demo operator" not in existing:
            op = create_partner(conn, name="Demo operator", role="operator", actor="system:demo")
            world.operator_key = create_api_key(
                conn, op.id, label="demo", actor="system:demo"
            ).secret
            bikes = create_partner(
                conn,
                name="City Bikes",
                actor="system:demo",
                products=["bike", "power_bank", "umbrella"],
            )
            world.partner_key = create_api_key(
                conn, bikes.id, label="demo", actor="system:demo"
            ).secret
            top = personas["high scorer"]
            create_grant(
                conn,
                top.person_id,
                partner_id=bikes.id,
                products=["bike", "power_bank"],
                purpose="deposit_waiver",
                expires_at=datetime.now(UTC) + timedelta(days=180),
                actor="subject",
                scope="band",
            )
        else:
            prev = json.loads((world.data_dir / "demo.json").read_text())
            world.operator_key, world.partner_key = prev["operator_key"], prev["partner_key"]


def _people_with_public_records(world: DemoWorld) -> set[str]:
    import pyarrow.dataset as ds

    src = world.world_dir / "events" / "public_records"
    if not src.exists():
        return set()
    t = ds.dataset(str(src), format="parquet").to_table(columns=["person_id", "expires_at"])
    live = t.filter(ds.field("expires_at") > pd.Timestamp(SYNTH_AS_OF, tz="UTC"))
    return set(live.column("person_id").to_pylist())
