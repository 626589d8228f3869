"""The world of the page tests: the API's app with ``web.install``, on a SQLite
registry and a real ledger, with the expert scorecard in service (no training).

``web`` gives a :class:`WebWorld`: people with events, logged-in subjects and operators
as ``TestClient`` s that carry their cookies, and ``csrf(html)`` to read a form's token
the way a browser sends it back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fixtures.data import make_events, write_events

SECRET = "openscore-web-test-secret"
PASSWORD = "correct horse battery staple"
AS_OF = date(2025, 9, 1)
SOURCES = ("wallet", "credit", "rentals", "profile", "social")
HOST = "testserver"
ORIGIN = f"http://{HOST}"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ONCE = re.compile(r'name="once" value="([^"]+)"')


def csrf(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def once(html: str) -> str:
    found = _ONCE.search(html)
    assert found, "the page has no creating form"
    return found.group(1)


@dataclass
class WebWorld:
    app: FastAPI
    engine: Engine
    data_dir: Path
    _people: int = 0
    operators: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> Any:
        return self.app.state.openscore

    @property
    def settings(self) -> Any:
        return self.state.settings

    def client(self) -> TestClient:
        # Browsers send Origin with a form POST; the app refuses another origin.
        return TestClient(
            self.app,
            raise_server_exceptions=False,
            follow_redirects=False,
            headers={"Origin": ORIGIN},
        )

    def person(self, *, events: int = 60, sources: tuple[str, ...] = SOURCES) -> str:
        from openscore import registry
        from openscore.ingest import Ingester
        from openscore.online import registry_consent_gate

        self._people += 1
        person_id = f"web-{self._people:04d}"
        with self.engine.begin() as conn:
            registry.create_person(conn, actor="system", person_id=person_id)
            for source in sources:
                registry.grant_consent(conn, person_id, source, actor="subject")
        if events:
            table = make_events(events, seed=self._people, people=1, prefix=f"{person_id}-e")
            table = table.set_column(
                table.schema.get_field_index("person_id"),
                "person_id",
                pa.array([person_id] * table.num_rows),
            )
            table = table.filter(pc.not_equal(table["type"], "relationship"))
            path = write_events(table, self.data_dir.parent / f"in-{time.monotonic_ns()}.jsonl")
            Ingester(
                self.state.ledger,
                consent_gate=registry_consent_gate(self.engine),
                settings=self.settings,
            ).run([path], "furnisher-a")
        return person_id

    def subject(self, person_id: str | None = None, **person_kw: Any) -> TestClient:
        """A browser logged in (through the log-in form) as a person with a login."""
        from openscore import registry

        person_id = person_id or self.person(**person_kw)
        login = f"{person_id}@example.org"
        with self.engine.begin() as conn:
            if registry.login_of(conn, person_id) is None:
                registry.set_credentials(
                    conn, person_id, login=login, password=PASSWORD, actor="system"
                )
        client = self.client()
        page = client.get("/login")
        answer = client.post(
            "/login",
            data={"csrf_token": csrf(page.text), "login": login, "password": PASSWORD},
        )
        assert answer.status_code == 303, answer.text
        client.person_id = person_id  # type: ignore[attr-defined]
        return client

    def operator_key(self, operator_id: str = "ops") -> str:
        from openscore import registry

        if operator_id not in self.operators:
            with self.engine.begin() as conn:
                registry.create_partner(
                    conn,
                    name=operator_id.title(),
                    actor="system",
                    role="operator",
                    partner_id=operator_id,
                )
                self.operators[operator_id] = registry.create_api_key(
                    conn, operator_id, label="test", actor="system"
                ).secret
        return self.operators[operator_id]

    def operator(self, operator_id: str = "ops") -> TestClient:
        """A browser logged in to the console with an operator key."""
        client = self.client()
        page = client.get("/console/login")
        answer = client.post(
            "/console/login",
            data={"csrf_token": csrf(page.text), "key": self.operator_key(operator_id)},
        )
        assert answer.status_code == 303, answer.text
        return client

    def partner(self, partner_id: str = "bikes") -> str:
        from openscore import registry

        with self.engine.begin() as conn:
            try:
                registry.get_partner(conn, partner_id)
            except Exception:
                registry.create_partner(
                    conn, name="City Bikes", actor="system", partner_id=partner_id
                )
        return partner_id


@pytest.fixture()
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """argon2 at its lowest cost (the code path is the same; a suite of log-ins cannot
    pay 0.3 s each)."""
    from argon2 import PasswordHasher

    from openscore.registry import credentials

    monkeypatch.setattr(
        credentials, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    credentials._dummy_hash.cache_clear()
    yield
    credentials._dummy_hash.cache_clear()


def build_web_world(data_dir: Path, **api_kw: Any) -> WebWorld:
    from openscore.api import ApiSettings
    from openscore.config import Settings
    from openscore.features.expert import expert_scorecard
    from openscore.online import install_model
    from openscore.registry import create_registry_engine, upgrade
    from openscore.server import create_app
    from openscore.web import install

    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{data_dir / 'registry.sqlite'}"
    engine = create_registry_engine(url, secret_key=SECRET)
    upgrade(engine)
    settings = Settings(
        data_dir=data_dir, registry_url=url, secret_key=SECRET, environment="test", as_of=AS_OF
    )
    install_model(expert_scorecard().save(data_dir.parent / "expert.json"), settings)
    app = create_app(settings, ApiSettings(**api_kw), engine=engine)
    install(app)
    return WebWorld(app, engine, data_dir)


@pytest.fixture()
def web(tmp_path: Path, cheap_hashes: None) -> Iterator[WebWorld]:
    world = build_web_world(tmp_path / "data")
    yield world
    world.engine.dispose()
