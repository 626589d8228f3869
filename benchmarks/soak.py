"""Benchmark: a soak — a mixed workload at a fixed rate for minutes against one
``openscore serve``, with ingestion in the background; errors, p99 and the server's memory
over time, and a full integrity check at the end.

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--rate 30] [--backend sqlite]
        [--events 2000000] [--people 20000] [--population 300] [--subjects 40]
        [--ingest-every 60] [--ingest-events 5000] [--health-seconds 30] [--window 60]
        [--trial]

What it does, on 127.0.0.1 only, every request loop bounded in count and time:

1. a compacted ledger of ``--events`` events over ``--people`` people, the expert
   scorecard in service, ``--population`` people who granted the partner and have a
   published score, ``--subjects`` people with a log-in (``decisions.py`` builds all of
   it: ``build_ledger``, ``populate``);
2. ``openscore serve`` (production settings, one worker) is started, and the baseline of
   the same run is measured: ``GET /v1/health`` at ``--rate`` on the idle server;
3. the soak: ``--rate`` requests a second for ``--minutes``, an open loop (requests leave
   on schedule whether earlier ones came back or not), mixed: partner decisions
   (``POST /v1/decisions``), subjects reading their score (``GET /v1/me/score``),
   fulfilment reports (``POST /v1/fulfilment``, 1-5 reports under a fresh
   ``Idempotency-Key``), consent changes (``DELETE``/``PUT /v1/me/consents/{source}``:
   a revocation purges the source from the ledger and republishes the score) and
   ``GET /v1/health`` as a probe of queueing; meanwhile a furnisher's batch of
   ``--ingest-events`` events is ingested every ``--ingest-every`` seconds by
   ``openscore ingest`` in a process of its own, and the server's memory (RSS of it
   and its children), the ledger's segment count and the load average are sampled
   every 5 s;
4. the integrity check: the ledger against its manifest (checksums, no event id twice),
   the audit log verifies, SQLite's own checks, every 2xx decision is there with its
   inquiry, every accepted report and ingested event is in the ledger, every consent is
   as the last 2xx left it and no revoked source has a row left.

Figures per ``--window`` seconds: requests, errors, p50/p99 (all, and per kind), server
RSS; overall p99 as a ratio to the idle health p99 (the named baseline, same run), p50/p99
per kind of the requests sent while a background ingestion ran against the others, and
the memory trend (least-squares slope after the first window). Results:
``benchmarks/results/soak.json`` and a line in ``docs/benchmarks.md``; ``--trial`` keeps
both out of the repository (for trying settings).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, save
from decisions import (
    AS_OF,
    KEEPALIVE_REUSE_SECONDS,
    PASSWORD,
    SECRET,
    Connection,
    _event_sql,
    build_ledger,
    drop_database,
    free_port,
    make_registry,
    percentile,
    person_id,
    populate,
    request_bytes,
    run_load,
    server_env,
    start_server,
    stop_server,
)

SOURCES = ("wallet", "credit", "rentals", "profile", "social")
#: share of each kind of request in the mix (drawn per request, seeded). Ledger writers
#: (fulfilment, consent changes) are the rare ones, as they are in use: a partner batches
#: its reports, a person changes a consent now and then; each is a ledger commit.
MIX = {"decision": 0.56, "score": 0.34, "fulfilment": 0.02, "consent": 0.01, "health": 0.07}
EXPECT = {"decision": 201, "score": 200, "fulfilment": 201, "consent": 200, "health": 200}
FURNISHER = "soak-furnisher"
SAMPLE_SECONDS = 5.0


# -- the mixed open loop ----------------------------------------------------------------------


@dataclass
class Outcome:
    at: float  # seconds since the soak began (when the request was scheduled)
    kind: str
    ms: float | None  # None: no answer (connection error, timeout)
    ok: bool
    status: int


@dataclass
class Book:
    """What the client saw, for the integrity check."""

    decisions: list[dict] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    #: (subject, source) -> shared, as the last 2xx left it
    consents: dict[tuple[str, str], bool] = field(default_factory=dict)
    #: (subject, source) whose change got no clean answer: either state is consistent
    unsure: set[tuple[str, str]] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)


class Workload:
    """Builds each request when its time comes (consents depend on earlier answers)."""

    def __init__(self, setup, sessions: dict[str, dict[str, str]], seed: int) -> None:
        self.rng = random.Random(seed)
        self.auth = {"Authorization": f"Bearer {setup.partner_key}"}
        self.grants = setup.grants
        self.sessions = sessions
        self.subjects = list(sessions)
        self.book = Book(consents={(s, src): True for s in sessions for src in SOURCES})
        self.in_flight: set[tuple[str, str]] = set()
        self.kinds = list(MIX)
        self.weights = [MIX[k] for k in self.kinds]
        self.n = 0

    def next(self) -> tuple[str, bytes, object]:
        self.n += 1
        kind = self.rng.choices(self.kinds, self.weights)[0]
        if kind == "decision":
            g = self.rng.choice(self.grants)
            body = {**g, "product_id": "bike", "purpose": "bench"}
            return kind, request_bytes("POST", "/v1/decisions", body, self.auth), g["person_id"]
        if kind == "fulfilment":
            reports = []
            for k in range(self.rng.randint(1, 5)):
                g = self.rng.choice(self.grants)
                report_id = f"soak-{self.n}-{k}"
                day = 1 + self.rng.randrange(28)
                reports.append(
                    {
                        "kind": "rental",
                        "report_id": report_id,
                        "person_id": g["person_id"],
                        "grant_id": g["grant_id"],
                        "product": "bike",
                        "deposit_waived": True,
                        "started_at": f"2025-08-{day:02d}T10:00:00Z",
                        "due_back": f"2025-08-{day:02d}T12:00:00Z",
                        "returned_at": f"2025-08-{day:02d}T11:30:00Z",
                        "outcome": "returned",
                    }
                )
            headers = {**self.auth, "Idempotency-Key": f"soak-{self.n}"}
            raw = request_bytes("POST", "/v1/fulfilment", {"reports": reports}, headers)
            return kind, raw, [r["report_id"] for r in reports]
        if kind == "health":
            return kind, request_bytes("GET", "/v1/health", None, {}), None
        subject = self.rng.choice(self.subjects)
        headers = self.sessions[subject]
        if kind == "consent":
            free = [s for s in SOURCES if (subject, s) not in self.in_flight]
            if free:
                source = self.rng.choice(free)
                shared = self.book.consents[(subject, source)]
                self.in_flight.add((subject, source))
                method = "DELETE" if shared else "PUT"
                raw = request_bytes(method, f"/v1/me/consents/{source}", None, headers)
                return kind, raw, (subject, source, not shared)
            kind = "score"
        return kind, request_bytes("GET", "/v1/me/score", None, headers), None

    def settle(self, kind: str, tag: object, status: int | None, body: bytes) -> None:
        ok = status == EXPECT[kind]
        if kind == "decision" and ok:
            answer = json.loads(body)
            self.book.decisions.append(
                {"id": answer["decision_id"], "inquiry": answer["inquiry_id"], "person": tag}
            )
        elif kind == "fulfilment" and ok:
            answer = json.loads(body)
            if answer["accepted"] == len(tag):
                self.book.reports.extend(tag)
            elif len(self.book.examples) < 5:
                self.book.examples.append(f"fulfilment partly refused: {body[:300]!r}")
        elif kind == "consent":
            subject, source, wanted = tag
            self.in_flight.discard((subject, source))
            if ok:
                self.book.consents[(subject, source)] = wanted
            else:
                self.book.unsure.add((subject, source))
        if not ok and len(self.book.examples) < 5:
            self.book.examples.append(f"{kind} {status}: {body[:200]!r}")


async def mixed_loop(
    port: int,
    work: Workload,
    rate: float,
    seconds: float,
    origin: float,
    max_connections: int = 256,
) -> list[Outcome]:
    """The open loop; each outcome's ``at`` is its schedule in seconds since ``origin``
    (a ``time.monotonic()`` value: asyncio's loop clock is the same clock)."""
    loop = asyncio.get_running_loop()
    idle: list[Connection] = []
    opened = 0
    outcomes: list[Outcome] = []
    total = int(rate * seconds)
    t0 = loop.time() + 0.1

    async def fire(kind: str, raw: bytes, tag: object, at: float) -> None:
        nonlocal opened
        conn = None
        while idle and conn is None:
            conn = idle.pop()
            if loop.time() - conn.last_used > KEEPALIVE_REUSE_SECONDS:
                conn.close()
                opened -= 1
                conn = None
        try:
            if conn is None:
                if opened >= max_connections:
                    outcomes.append(Outcome(at, kind, None, False, -2))
                    work.settle(kind, tag, None, b"client connection limit")
                    return
                opened += 1
                conn = await Connection.open(port)
            sent = loop.time()
            status, body, keep = await asyncio.wait_for(conn.send(raw), timeout=30)
            ms = (loop.time() - sent) * 1000
            outcomes.append(Outcome(at, kind, ms, status == EXPECT[kind], status))
            work.settle(kind, tag, status, body)
            if keep:
                conn.last_used = loop.time()
                idle.append(conn)
            else:
                conn.close()
                opened -= 1
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            outcomes.append(Outcome(at, kind, None, False, -1))
            work.settle(kind, tag, None, type(exc).__name__.encode())
            if conn is not None:
                conn.close()
                opened -= 1

    tasks = []
    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        kind, raw, tag = work.next()
        tasks.append(asyncio.ensure_future(fire(kind, raw, tag, scheduled - origin)))
    await asyncio.gather(*tasks)
    for conn in idle:
        conn.close()
    return outcomes


# -- background work: ingestion, sampling ------------------------------------------------------


def ingestion_batch(path: Path, round_: int, people: list[int], per_person: int, n: int) -> Path:
    """``n`` events of the ledger's kinds for a few of ``people`` (indexes), under fresh
    event ids, as a Parquet file in the input format."""
    import duckdb

    from openscore.domain.events import EVENT_COLUMNS

    rng = random.Random(round_)
    chosen = rng.sample(people, max(1, n // per_person))
    parts = []
    for p in chosen:
        start = p * per_person
        parts.append(f"({_event_sql(start, start + per_person, per_person, 50)})")
    names = [c.name for c in EVENT_COLUMNS if c.name != "furnisher_id"]
    cols = ", ".join(
        f"'in{round_}-' || event_id AS event_id" if c == "event_id" else c for c in names
    )
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(
        f"COPY (SELECT {cols} FROM ({' UNION ALL '.join(parts)}) LIMIT {n}) "
        f"TO '{path}' (FORMAT parquet)"
    )
    con.close()
    return path


class Background:
    """Ingestion every ``every`` seconds (a furnisher's batch through ``openscore ingest``,
    in its own process), and samples of the server's memory every 5 s."""

    def __init__(self, env: dict, server: subprocess.Popen, args, work: Path, population) -> None:
        self.env, self.server, self.args, self.work = env, server, args, work
        self.population = population
        self.stop = threading.Event()
        self.samples: list[dict] = []
        self.batches: list[dict] = []
        self.started = 0.0
        self.threads = [
            threading.Thread(target=self._sample, daemon=True),
            threading.Thread(target=self._ingest, daemon=True),
        ]

    def start(self) -> None:
        self.started = time.monotonic()
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=600)

    def _sample(self) -> None:
        import psutil

        from openscore.ledger import Ledger

        root = psutil.Process(self.server.pid)
        ledger = Ledger(Path(self.env["OPENSCORE_DATA_DIR"]) / "ledger")
        while not self.stop.is_set():
            rss = 0
            for proc in [root, *root.children(recursive=True)]:
                try:
                    rss += proc.memory_info().rss
                except psutil.Error:
                    pass
            try:
                segments = len(ledger.manifest().segments)
            except Exception:
                segments = None
            self.samples.append(
                {
                    "at": round(time.monotonic() - self.started, 1),
                    "rss_mb": round(rss / 2**20, 1),
                    "segments": segments,
                    "load1": round(os.getloadavg()[0], 2),
                }
            )
            self.stop.wait(SAMPLE_SECONDS)

    def _ingest(self) -> None:
        every = self.args.ingest_every
        round_ = 0
        while every > 0 and not self.stop.wait(every):
            round_ += 1
            path = ingestion_batch(
                self.work / f"batch-{round_}.parquet",
                round_,
                self.population,
                self.args.per_person,
                self.args.ingest_events,
            )
            started = time.monotonic()
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "openscore",
                    "ingest",
                    str(path),
                    "--furnisher",
                    FURNISHER,
                    "--json",
                ],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            seconds = time.monotonic() - started
            entry = {
                "at": round(started - self.started, 1),
                "seconds": round(seconds, 2),
                "ok": run.returncode == 0,
            }
            if run.returncode == 0:
                body = json.loads(run.stdout[run.stdout.index("{") :])
                entry |= {"accepted": body.get("accepted"), "rejected": body.get("rejected")}
                entry["event_ids"] = f"in{round_}-"
            else:
                entry["error"] = (run.stderr or run.stdout)[-500:]
            self.batches.append(entry)


# -- the integrity check ---------------------------------------------------------------------


def integrity(settings, url: str, book: Book, batches: list[dict]) -> dict:
    """The full check at the end (see the module docstring); each finding by name."""
    import sqlalchemy as sa

    from openscore.engines.duckdb import connect, parquet_list
    from openscore.ledger import Ledger, pending_operations, verify
    from openscore.online import recover
    from openscore.registry import audit, consent_map, create_registry_engine, read_only
    from openscore.registry.metadata import decisions, inquiries

    problems: list[str] = []
    engine = create_registry_engine(url, secret_key=SECRET)
    ledger = Ledger.open(settings)
    pending = len(pending_operations(ledger))
    if pending:  # the server was stopped with work owed: what its next start would do
        recover(engine, settings=settings, min_age_seconds=0)
    report = verify(ledger, deep=True)
    if not report.ok:
        problems += [f"ledger: {p}" for p in report.problems]
    if report.duplicate_ids:
        problems.append(f"ledger: {report.duplicate_ids} event ids stored twice")
    with read_only(engine).connect() as conn:
        if engine.dialect.name == "sqlite":
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            if check != "ok":
                problems.append(f"sqlite integrity_check: {check}")
            if conn.exec_driver_sql("PRAGMA foreign_key_check").all():
                problems.append("sqlite foreign_key_check found orphans")
        verdict = audit.verify(conn)
        if not verdict.ok:
            problems.append(f"audit log: {verdict.problem}")
        held = set(conn.execute(sa.select(decisions.c.id)).scalars())
        asked = set(conn.execute(sa.select(inquiries.c.id)).scalars())
        subjects = sorted({s for s, _ in book.consents})
        shared = consent_map(conn, subjects)
    lost = [d["id"] for d in book.decisions if d["id"] not in held]
    if lost:
        problems.append(f"{len(lost)} answered decisions missing, e.g. {lost[:3]}")
    no_inquiry = [d["id"] for d in book.decisions if d["inquiry"] not in asked]
    if no_inquiry:
        problems.append(f"{len(no_inquiry)} decisions without their inquiry")
    wrong = [
        pair
        for pair, want in book.consents.items()
        if pair not in book.unsure
        and (pair[1] in {s.value for s in shared.get(pair[0], frozenset())}) != want
    ]
    if wrong:
        problems.append(f"{len(wrong)} consents not as the last 2xx left them, e.g. {wrong[:3]}")
    snap = ledger.snapshot()
    con = connect()
    try:
        files = parquet_list(snap.paths)
        con.execute(
            "CREATE TEMP TABLE stored AS SELECT furnisher_id, event_id, person_id, source "
            f"FROM read_parquet({files})"
        )
        con.execute("CREATE TEMP TABLE reported (event_id VARCHAR)")
        con.executemany("INSERT INTO reported VALUES (?)", [(r,) for r in book.reports])
        missing_reports = con.execute(
            "SELECT count(*) FROM reported r ANTI JOIN stored s "
            "ON s.furnisher_id = 'bench' AND s.event_id = r.event_id"
        ).fetchone()[0]
        ingested = con.execute(
            f"SELECT count(*) FROM stored WHERE furnisher_id = '{FURNISHER}'"
        ).fetchone()[0]
        revoked = [
            (s, src)
            for (s, src), want in book.consents.items()
            if not want and (s, src) not in book.unsure
        ]
        con.execute("CREATE TEMP TABLE revoked (person_id VARCHAR, source VARCHAR)")
        if revoked:  # executemany refuses an empty list (a short soak may revoke nothing)
            con.executemany("INSERT INTO revoked VALUES (?, ?)", revoked)
        leftover = con.execute(
            "SELECT count(*) FROM stored JOIN revoked USING (person_id, source)"
        ).fetchone()[0]
    finally:
        con.close()
    if missing_reports:
        problems.append(f"{missing_reports} accepted fulfilment reports missing from the ledger")
    accepted = sum(b.get("accepted") or 0 for b in batches)
    if ingested != accepted:
        problems.append(f"ingested events: {accepted} accepted, {ingested} in the ledger")
    if leftover:
        problems.append(f"{leftover} ledger rows of revoked sources")
    engine.dispose()
    return {
        "ok": not problems,
        "problems": problems,
        "pending_at_stop": pending,
        "ledger_rows": report.rows,
        "segments": len(snap.paths),
        "decisions_checked": len(book.decisions),
        "reports_checked": len(book.reports),
        "consents_checked": len(book.consents) - len(book.unsure),
        "ingested_events_checked": accepted,
        "audit_entries": verdict.tree_size,
    }


# -- figures ------------------------------------------------------------------------------------


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def windows(
    outcomes: list[Outcome], samples: list[dict], window: float, seconds: float
) -> list[dict]:
    """Figures per ``window`` seconds of a soak of ``seconds`` (the requests scheduled in
    the loop's last instant, past ``seconds``, count in the last window)."""
    out = []
    count = max(1, math.ceil(seconds / window))

    def index(at: float) -> int:
        return min(count - 1, max(0, int(at // window)))

    for i in range(count):
        start = i * window
        part = [o for o in outcomes if index(o.at) == i]
        ms = [o.ms for o in part if o.ms is not None]
        rss = [s["rss_mb"] for s in samples if start <= s["at"] < start + window]
        segs = [s["segments"] for s in samples if start <= s["at"] < start + window]
        by_kind = {}
        for kind in MIX:
            k_ms = [o.ms for o in part if o.kind == kind and o.ms is not None]
            by_kind[kind] = round(percentile(k_ms, 99), 1) if k_ms else None
        out.append(
            {
                "from_s": start,
                "requests": len(part),
                "errors": sum(not o.ok for o in part),
                "p50_ms": round(percentile(ms, 50), 1) if ms else None,
                "p99_ms": round(percentile(ms, 99), 1) if ms else None,
                "p99_ms_by_kind": by_kind,
                "rss_mb_max": max(rss) if rss else None,
                "segments_max": max((s for s in segs if s is not None), default=None),
            }
        )
    return out


def ingestion_split(outcomes: list[Outcome], batches: list[dict]) -> dict:
    """p50/p99 per kind of the requests sent while a background ingestion ran, and of
    the others: the same run's baseline for what a ledger writer does to the API."""
    spans = [(b["at"], b["at"] + b["seconds"]) for b in batches]

    def during(o: Outcome) -> bool:
        return any(a <= o.at <= b for a, b in spans)

    out = {}
    for kind in MIX:
        for name, part in (("during", True), ("outside", False)):
            ms = [
                o.ms for o in outcomes if o.kind == kind and o.ms is not None and during(o) == part
            ]
            out.setdefault(kind, {})[name] = {
                "requests": len(ms),
                "p50_ms": round(percentile(ms, 50), 1) if ms else None,
                "p99_ms": round(percentile(ms, 99), 1) if ms else None,
            }
    return out


def summarise(outcomes: list[Outcome]) -> dict:
    ms = [o.ms for o in outcomes if o.ms is not None]
    errors: dict[str, int] = {}
    for o in outcomes:
        if not o.ok:
            key = f"{o.kind}:{o.status}"
            errors[key] = errors.get(key, 0) + 1
    kinds = {}
    for kind in MIX:
        k = [o.ms for o in outcomes if o.kind == kind and o.ms is not None]
        kinds[kind] = {
            "requests": sum(o.kind == kind for o in outcomes),
            "p50_ms": round(percentile(k, 50), 1) if k else None,
            "p99_ms": round(percentile(k, 99), 1) if k else None,
            "max_ms": round(max(k), 1) if k else None,
        }
    return {
        "requests": len(outcomes),
        "answered": len(ms),
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else None,
        "by_kind": kinds,
    }


# -- main -------------------------------------------------------------------------------------


def log_in(port: int, subjects: list[str]) -> dict[str, dict[str, str]]:
    import httpx

    sessions = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for pid in subjects:
            client.cookies.clear()
            answer = client.post("/v1/login", json={"login": pid, "password": PASSWORD})
            answer.raise_for_status()
            cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
            sessions[pid] = {"Cookie": cookie, "X-CSRF-Token": answer.json()["csrf_token"]}
    return sessions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rate", type=float, default=30, help="requests per second, all kinds")
    ap.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    ap.add_argument("--events", type=int, default=2_000_000, help="ledger size at the start")
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--population", type=int, default=300, help="people partners ask about")
    ap.add_argument("--subjects", type=int, default=40, help="people who log in")
    ap.add_argument("--ingest-every", type=float, default=60, help="seconds; 0: none")
    ap.add_argument("--ingest-events", type=int, default=5_000)
    ap.add_argument("--health-seconds", type=float, default=30, help="the idle baseline")
    ap.add_argument("--window", type=float, default=60, help="seconds per figure over time")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--trial",
        action="store_true",
        help="a trial run: results under benchmarks/work/soak, docs/benchmarks.md untouched",
    )
    args = ap.parse_args()
    args.per_person = max(1, args.events // args.people)

    work = WORK / "soak"
    data = work / "data"
    shutil.rmtree(work, ignore_errors=True)
    data.mkdir(parents=True)
    print(f"building a ledger of {args.people * args.per_person:,} events", flush=True)
    ledger = build_ledger(data, people=args.people, per_person=args.per_person, public_every=50)

    from openscore.config import Settings
    from openscore.features.expert import expert_scorecard
    from openscore.online import install_model

    install_model(
        expert_scorecard().save(work / "expert.json"), Settings(data_dir=data, secret_key=SECRET)
    )
    spread = args.people // (args.population + args.subjects + 1)
    indexes = [1 + i * spread for i in range(args.population + args.subjects)]
    population = [person_id(i) for i in indexes[: args.population]]
    subjects = [person_id(i) for i in indexes[args.population :]]
    url, database = make_registry(args.backend, work)
    settings = Settings(
        data_dir=data, registry_url=url, secret_key=SECRET, environment="production", as_of=AS_OF
    )
    proc = None
    try:
        print("registry: people, partner, grants, published scores", flush=True)
        setup = populate(url, settings, population=population, subjects=subjects)
        env = server_env(data, url)
        port = free_port()
        proc, startup = start_server(env, port, 1, work / "server.log")
        print(f"server up in {startup:.1f} s", flush=True)
        sessions = log_in(port, subjects)
        health = [request_bytes("GET", "/v1/health", None, {})]
        print(f"baseline: idle GET /v1/health at {args.rate}/s for {args.health_seconds} s")
        idle = run_load(port, health, args.rate, args.health_seconds, 200, proc)
        print(f"  idle health p99 {idle['p99_ms']} ms", flush=True)

        seconds = args.minutes * 60
        print(f"soak: {args.rate}/s mixed for {seconds:.0f} s", flush=True)
        workload = Workload(setup, sessions, args.seed)
        background = Background(env, proc, args, work, indexes[: args.population])
        load_before = os.getloadavg()
        background.start()
        outcomes = asyncio.run(
            mixed_loop(port, workload, args.rate, seconds, origin=background.started)
        )
        background.finish()
        load_after = os.getloadavg()
        samples = background.samples
        print("integrity check", flush=True)
        stop_server(proc)
        proc = None
        check = integrity(settings, url, workload.book, background.batches)
    finally:
        if proc is not None:
            stop_server(proc)
        if database:
            drop_database(database)

    overall = summarise(outcomes)
    over_time = windows(outcomes, samples, args.window, seconds)
    steady = [(s["at"] / 60, s["rss_mb"]) for s in samples if s["at"] >= args.window]
    rss = [s["rss_mb"] for s in samples]
    first = [s["rss_mb"] for s in samples if s["at"] < args.window]
    last = [s["rss_mb"] for s in samples if s["at"] >= samples[-1]["at"] - args.window]
    memory = {
        "first_window_max_mb": max(first) if first else None,
        "last_window_max_mb": max(last) if last else None,
        "peak_mb": max(rss) if rss else None,
        "slope_mb_per_minute_after_first_window": round(_slope(steady), 2),
        "samples": [[s["at"], s["rss_mb"], s["segments"], s["load1"]] for s in samples],
    }
    ratio = round(overall["p99_ms"] / idle["p99_ms"], 1) if idle["p99_ms"] else None
    probe = overall["by_kind"]["health"]["p99_ms"]
    probe_ratio = round(probe / idle["p99_ms"], 1) if probe and idle["p99_ms"] else None
    p99s = [w["p99_ms"] for w in over_time if w["p99_ms"] is not None]
    batches = background.batches
    split = ingestion_split(outcomes, batches)
    figures = {
        "backend": args.backend,
        "minutes": args.minutes,
        "rate": args.rate,
        "mix": MIX,
        "ledger_at_start": ledger,
        "population": args.population,
        "subjects": args.subjects,
        "as_of": AS_OF.isoformat(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "baseline_idle_health": idle,
        "soak": overall,
        "p99_ratio_to_idle_health": ratio,
        "health_probe_p99_ratio_to_idle_health": probe_ratio,
        "over_time": over_time,
        "memory": memory,
        "ingestion": {
            "every_seconds": args.ingest_every,
            "events_per_batch": args.ingest_events,
            "batches": len(batches),
            "failed": sum(not b["ok"] for b in batches),
            "seconds_p50": round(percentile([b["seconds"] for b in batches], 50), 2)
            if batches
            else None,
            "runs": batches,
        },
        "while_ingesting_vs_not": split,
        "error_examples": workload.book.examples,
        "integrity": check,
    }
    summary = (
        f"{args.minutes:g} min at {args.rate:g}/s mixed ({args.backend}, one worker, ledger "
        f"{ledger['events']:,} events + ingestion every {args.ingest_every:g} s): "
        f"{overall['requests']:,} requests, {overall['errors']} errors; p50 "
        f"{overall['p50_ms']} ms, p99 {overall['p99_ms']} ms = {ratio}x idle health p99 "
        f"({idle['p99_ms']} ms); p99 per {args.window:g} s from {min(p99s)} to {max(p99s)} ms; "
        f"decisions p50/p99 {split['decision']['outside']['p50_ms']}/"
        f"{split['decision']['outside']['p99_ms']} ms, while a background ingestion runs "
        f"{split['decision']['during']['p50_ms']}/{split['decision']['during']['p99_ms']} ms; "
        f"server RSS {memory['first_window_max_mb']} -> {memory['last_window_max_mb']} MB "
        f"({memory['slope_mb_per_minute_after_first_window']:+} MB/min); integrity "
        f"{'ok' if check['ok'] else 'FAILED: ' + '; '.join(check['problems'])} "
        f"({check['decisions_checked']:,} decisions, {check['reports_checked']:,} reports, "
        f"{check['ingested_events_checked']:,} ingested events checked); load average "
        f"{load_before[0]:.1f} at start (aim: 0 errors, flat p99 and memory, integrity ok)"
    )
    save(
        "soak",
        figures,
        summary,
        "python benchmarks/soak.py " + " ".join(sys.argv[1:]),
        path=work / "soak.json" if args.trial else None,
        doc=not args.trial,
    )
    if not check["ok"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
