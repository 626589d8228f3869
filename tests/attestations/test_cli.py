"""``openscore attest``: issue (or refuse, with the reason), export keys, verify offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from openscore import registry
from openscore.errors import Conflict, InputError
from openscore.registry import ScoreToPublish

from fixtures.api import ApiWorld
from fixtures.postgres import TEST_SECRET_KEY

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _cli(world: ApiWorld, *args: str) -> Result:
    from openscore.cli import app
    from openscore.config import get_settings

    env = {
        "OPENSCORE_DATA_DIR": str(world.data_dir),
        "OPENSCORE_REGISTRY_URL": world.engine.url.render_as_string(hide_password=False),
        "OPENSCORE_SECRET_KEY": TEST_SECRET_KEY,
    }
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


def test_issue_keys_verify(api_world: ApiWorld, tmp_path: Path) -> None:
    person = api_world.person()
    with api_world.engine.begin() as conn:
        registry.publish_score(
            conn,
            ScoreToPublish(person, 672, {}, [], "m", datetime(2025, 9, 1, tzinfo=UTC)),
            actor="system",
        )
    token_file = tmp_path / "token.txt"
    issued = _cli(
        api_world,
        "attest",
        "issue",
        person,
        "--claim",
        "min-score:650",
        "--claim",
        "band-at-least:very_good",
        "--claim",
        "no-public-record",
        "--expires-in-days",
        "30",
        "--out",
        str(token_file),
    )
    assert issued.exit_code == 0, issued.output
    refused = _cli(api_world, "attest", "issue", person, "--claim", "min-score:700")
    assert isinstance(refused.exception, Conflict)  # the CLI's main() exits 2 with it
    assert "the current score 672 is below 700" in str(refused.exception)
    bad = _cli(api_world, "attest", "issue", person, "--claim", "max-score:1")
    assert isinstance(bad.exception, InputError) and "unknown claim 'max-score:1'" in str(
        bad.exception
    )

    jwks = tmp_path / "jwks.json"
    assert _cli(api_world, "attest", "keys", "--out", str(jwks)).exit_code == 0
    assert all(
        set(k) == {"kty", "crv", "x", "kid", "use", "alg"}
        for k in json.loads(jwks.read_text())["keys"]
    )
    ok = _cli(api_world, "attest", "verify", str(token_file), "--keys", str(jwks))
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["claims"] == {
        "score_at_least": 650,
        "band_at_least": "very_good",
        "no_public_record": True,
    }
    token = token_file.read_text().strip()
    tampered = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    failed = _cli(api_world, "attest", "verify", tampered, "--keys", str(jwks))
    assert failed.exit_code == 1 and "refused:" in failed.output

    # after a rotation the old token still verifies against the new key set
    assert _cli(api_world, "attest", "rotate-keys").exit_code == 0
    assert _cli(api_world, "attest", "keys", "--out", str(jwks)).exit_code == 0
    assert len(json.loads(jwks.read_text())["keys"]) == 2
    assert _cli(api_world, "attest", "verify", token, "--keys", str(jwks)).exit_code == 0
    # against some other key set, it is an unknown key
    jwks.write_text(json.dumps({"keys": []}))
    unknown = _cli(api_world, "attest", "verify", token, "--keys", str(jwks))
    assert unknown.exit_code == 1 and "unknown key" in unknown.output
