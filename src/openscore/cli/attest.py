"""``openscore attest``: issue a score attestation for a person, export the public keys,
verify a token offline, rotate the signing key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from openscore.cli.app import app, err_console

attest_app = typer.Typer(
    name="attest",
    help="Score attestations: signed SD-JWTs a person can show anyone, checked offline.",
    no_args_is_help=True,
)
app.add_typer(attest_app, name="attest")


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    err_console.print(f"wrote {out}", highlight=False)


@attest_app.command("issue")
def issue_command(
    person_id: Annotated[str, typer.Argument(help="The person's id.")],
    claim: Annotated[
        list[str],
        typer.Option(
            "--claim",
            help="min-score:N, band-at-least:BAND, no-public-record or exact-score (repeat).",
        ),
    ],
    expires_in_days: Annotated[int, typer.Option("--expires-in-days", min=1)] = 30,
    audience: Annotated[str | None, typer.Option("--audience", help="Who it is for.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the token here.")] = None,
) -> None:
    """Sign the claims if the person's current published score supports them all;
    refused with the reason otherwise. Recorded as an inquiry the person sees."""
    from openscore import online
    from openscore.attestations import ClaimRequest, parse_claim
    from openscore.config import get_settings
    from openscore.errors import NotFound
    from openscore.ledger import Ledger
    from openscore.registry import current_score, engine_from_settings, ensure_current
    from openscore.services import attestations as service
    from openscore.services.records import PublicRecordIndex

    fields: dict[str, Any] = {}
    for text in claim:
        fields.update(parse_claim(text))
    settings = get_settings()
    engine = engine_from_settings()
    try:
        ensure_current(engine)
        with engine.connect() as conn:
            try:
                current_score(conn, person_id)
                published = True
            except NotFound:
                published = False
        if not published:
            online.publish(engine, person_id, actor="system", settings=settings)
        index = PublicRecordIndex(Ledger.open(settings))
        issued = service.issue(
            engine,
            settings,
            person_id,
            ClaimRequest(**fields),
            expires_in_days=expires_in_days,
            audience=audience,
            records_of=index.live_for,
        )
    finally:
        engine.dispose()
    _write(issued.token, out)


@attest_app.command("keys")
def keys_command(
    out: Annotated[Path | None, typer.Option("--out", help="Write the JWKS here.")] = None,
) -> None:
    """The public signing keys (JWKS) a verifier needs; never a private member."""
    from openscore.config import get_settings
    from openscore.services import attestations as service

    _write(json.dumps(service.jwks(get_settings()), indent=2), out)


@attest_app.command("rotate-keys")
def rotate_command() -> None:
    """Make a new signing key; the old one stays published while its tokens can live."""
    from openscore.attestations import KeyStore
    from openscore.config import get_settings

    key = KeyStore.for_settings(get_settings()).rotate()
    typer.echo(key.kid)


@attest_app.command("verify")
def verify_command(
    token: Annotated[str, typer.Argument(help="The token, or a file holding it.")],
    keys: Annotated[Path, typer.Option("--keys", help="The JWKS (from `attest keys`).")],
    status: Annotated[
        Path | None,
        typer.Option("--status", help="The status list (GET /v1/attestations/status)."),
    ] = None,
    audience: Annotated[
        str | None, typer.Option("--audience", help="Refuse a token made out to anyone else.")
    ] = None,
) -> None:
    """Offline: exit 0 and print the disclosed claims as JSON, or exit 1 and say why."""
    from openscore.attestations import Refused, verify

    try:
        if "~" not in token:  # a token always has one; a file name here never needs one
            token = Path(token).read_text(encoding="utf-8").strip()
        jwks = json.loads(keys.read_text(encoding="utf-8"))
        revoked = []
        if status is not None:
            revoked = [r["id"] for r in json.loads(status.read_text("utf-8"))["revoked"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        err_console.print(f"refused: cannot read the inputs ({exc})", highlight=False)
        raise typer.Exit(1) from None
    try:
        verified = verify(token, jwks, audience=audience, revoked=revoked)
    except (Refused, ValueError) as exc:
        err_console.print(f"refused: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(verified.to_dict(), indent=2))
