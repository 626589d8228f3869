"""Bootstrap commands for the people who run openscore, and accounts for the people it
scores:

* ``openscore registry upgrade``: create or migrate the registry's tables;
* ``openscore operators create NAME`` / ``openscore partners create NAME``: a principal
  and its first API key, printed once (only its hash is stored);
* ``openscore keys create PRINCIPAL_ID``: another key for a partner or operator;
* ``openscore accounts create PERSON_ID --password-stdin``: a log-in for a person the
  registry already holds (the demo's synthetic people); ``--create`` registers the
  person first;
* ``openscore accounts enrolment-code PERSON_ID``: a one-time code with which the person
  signs up themselves (``POST /v1/signup`` with ``enrolment_code``).

Every change is made with actor ``system:cli`` and lands in the audit log.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Literal, cast

import typer

from openscore.cli.app import app, console, err_console
from openscore.errors import InputError

ACTOR = "system:cli"

registry_app = typer.Typer(help="The registry database.", no_args_is_help=True)
operators_app = typer.Typer(
    help="Operators (API keys with the operator role).", no_args_is_help=True
)
partners_app = typer.Typer(help="Partners (lenders, rentals, insurers).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys of partners and operators.", no_args_is_help=True)
accounts_app = typer.Typer(help="Log-in accounts of scored people.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")
app.add_typer(operators_app, name="operators")
app.add_typer(partners_app, name="partners")
app.add_typer(keys_app, name="keys")
app.add_typer(accounts_app, name="accounts")

AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _engine():
    from openscore.registry import engine_from_settings, ensure_current

    engine = engine_from_settings()
    ensure_current(engine)
    return engine


def _print_key(what: str, principal_id: str, secret: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"id": principal_id, "api_key": secret}))
        return
    console.print(
        f"{what} [bold]{principal_id}[/] created. Its API key (shown once, store it now):"
    )
    print(secret)


def _create_principal(
    name: str,
    principal_id: str | None,
    role: str,
    as_json: bool,
    products: list[str] | None = None,
) -> None:
    from openscore import registry

    if products:
        from openscore.api.settings import ApiSettings
        from openscore.decisions import load_catalogue
        from openscore.errors import InputError

        ids = load_catalogue(ApiSettings().catalogue_path).ids
        unknown = [p for p in products if p not in ids]
        if unknown:
            raise InputError(
                f"{', '.join(unknown)} not in the product catalogue ({', '.join(ids)})",
                field="--product",
            )
    engine = _engine()
    try:
        with engine.begin() as conn:
            partner = registry.create_partner(
                conn,
                name=name,
                actor=ACTOR,
                role=cast(Literal["partner", "operator"], role),
                partner_id=principal_id,  # type: ignore[arg-type]
                products=products or None,
            )
            new = registry.create_api_key(conn, partner.id, label="initial", actor=ACTOR)
    finally:
        engine.dispose()
    _print_key(role.title(), partner.id, new.secret, as_json)


@registry_app.command("upgrade")
def registry_upgrade() -> None:
    """Create the registry's tables or migrate them to the current version."""
    from openscore.registry import current_revision, engine_from_settings, upgrade

    engine = engine_from_settings()
    try:
        upgrade(engine)
        revision = current_revision(engine)
    finally:
        engine.dispose()
    console.print(f"registry at revision [bold]{revision}[/]", highlight=False)


@operators_app.command("create")
def operators_create(
    name: Annotated[str, typer.Argument(help="Who operates (a team or a person).")],
    operator_id: Annotated[
        str | None, typer.Option("--id", help="A slug (a-z, 0-9, _ -); default: random.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Register an operator and print its first API key, once."""
    _create_principal(name, operator_id, "operator", as_json)


@partners_app.command("create")
def partners_create(
    name: Annotated[str, typer.Argument(help="The partner's name.")],
    partner_id: Annotated[
        str | None, typer.Option("--id", help="A slug (a-z, 0-9, _ -); default: random.")
    ] = None,
    products: Annotated[
        list[str] | None,
        typer.Option(
            "--product",
            help="A catalogue product it offers (repeat); people can grant it only these. "
            "Default: any product.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Register a partner and print its first API key, once."""
    _create_principal(name, partner_id, "partner", as_json, products)


@keys_app.command("create")
def keys_create(
    principal_id: Annotated[str, typer.Argument(help="The partner's or operator's id.")],
    label: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    as_json: AsJson = False,
) -> None:
    """Another API key for a partner or operator, printed once."""
    from openscore import registry

    engine = _engine()
    try:
        with engine.begin() as conn:
            new = registry.create_api_key(conn, principal_id, label=label, actor=ACTOR)
    finally:
        engine.dispose()
    _print_key("Key for", principal_id, new.secret, as_json)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise InputError("give the password on standard input with --password-stdin")
    if not password:
        raise InputError("the password is empty", field="password")
    return password


@accounts_app.command("create")
def accounts_create(
    person_id: Annotated[str, typer.Argument(help="The person's registry id.")],
    login: Annotated[
        str | None, typer.Option(help="The login name (default: the person id, lower-cased).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    create: Annotated[
        bool, typer.Option("--create", help="Register the person first if they are not yet.")
    ] = False,
) -> None:
    """Give a registered person a log-in (argon2id hash of the password)."""
    from openscore import registry

    password = _read_password(password_stdin)
    login = login or person_id.lower()
    engine = _engine()
    try:
        with engine.begin() as conn:
            if create and not registry.person_exists(conn, person_id):
                registry.create_person(conn, actor=ACTOR, person_id=person_id)
            registry.set_credentials(conn, person_id, login=login, password=password, actor=ACTOR)
    finally:
        engine.dispose()
    console.print(f"account [bold]{login}[/] can log in as person {person_id}", highlight=False)


@accounts_app.command("enrolment-code")
def accounts_enrolment_code(
    person_id: Annotated[str, typer.Argument(help="The person's registry id.")],
) -> None:
    """A one-time code for the person to sign up with (valid for a week by default)."""
    from openscore import registry
    from openscore.api.sessions import EnrolmentCodes
    from openscore.api.settings import ApiSettings
    from openscore.config import get_settings
    from openscore.errors import Conflict

    engine = _engine()
    try:
        with engine.connect() as conn:
            registry.get_person(conn, person_id)
            if registry.login_of(conn, person_id) is not None:
                raise Conflict("this person already has a login")
    finally:
        engine.dispose()
    codes = EnrolmentCodes(
        get_settings().secret_key, max_age_seconds=ApiSettings().enrolment_code_max_age_seconds
    )
    code, expires_at = codes.issue(person_id)
    err_console.print(
        f"enrolment code for {person_id}, valid until {expires_at:%Y-%m-%d %H:%M} UTC:"
    )
    print(code)
