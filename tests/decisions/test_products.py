"""The product catalogue: the shipped policies, and clear errors for a bad file."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
import yaml

from openscore.decisions import ProductKind, default_catalogue, load_catalogue
from openscore.decisions.products import BandName, RecordKind
from openscore.domain import BAND_NAMES
from openscore.domain.events import RECORD_KINDS, RENTAL_PRODUCTS
from openscore.errors import InputError, NotFound


def test_the_shipped_catalogue_has_the_products_and_thresholds() -> None:
    catalogue = default_catalogue()
    thresholds = {p.id: (p.kind, p.min_score) for p in catalogue.products}
    assert thresholds == {
        "bike": (ProductKind.DEPOSIT_WAIVER, 600),
        "power_bank": (ProductKind.DEPOSIT_WAIVER, 550),
        "umbrella": (ProductKind.DEPOSIT_WAIVER, 550),
        "room": (ProductKind.DEPOSIT_WAIVER, 650),
        "hotel": (ProductKind.DEPOSIT_WAIVER, 650),
        "car": (ProductKind.DEPOSIT_WAIVER, 700),
        "personal_loan": (ProductKind.LOAN, 600),
        "health_check": (ProductKind.PERK, 700),
    }
    # Every rental product the ledger knows can be asked about.
    assert set(RENTAL_PRODUCTS) <= set(catalogue.ids)
    loan = catalogue.get("personal_loan").loan
    assert loan is not None and set(loan.apr_by_band) == {"good", "very_good", "excellent"}
    with pytest.raises(NotFound):
        catalogue.get("yacht")


def test_the_literal_types_match_the_domain() -> None:
    assert set(typing.get_args(BandName)) == set(BAND_NAMES)
    assert set(typing.get_args(RecordKind)) == set(RECORD_KINDS)


def _raw() -> dict:  # type: ignore[type-arg]
    path = Path(__file__).parents[2] / "src/openscore/decisions/products.yaml"
    return yaml.safe_load(path.read_text())


def _load(tmp_path: Path, raw: object) -> InputError:
    path = tmp_path / "products.yaml"
    path.write_text(yaml.safe_dump(raw) if not isinstance(raw, str) else raw)
    with pytest.raises(InputError) as err:
        load_catalogue(path)
    assert err.value.path == str(path)
    return err.value


def _with(change: typing.Callable[[dict], None]) -> dict:  # type: ignore[type-arg]
    raw = _raw()
    change(raw)
    return raw


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda r: r["products"][5].update(min_score=990), "products[5] (car).min_score", "950"),
        (lambda r: r["products"][0].update(min_score="600"), "products[0] (bike).min_score", ""),
        (lambda r: r["products"][0].pop("deposit"), "products[0] (bike)", "needs its deposit"),
        (lambda r: r["products"][0].update(deposit=-5), "products[0] (bike).deposit", ""),
        (lambda r: r["products"][1].update(minscore=1), "products[1] (power_bank).minscore", ""),
        (lambda r: r["products"][2].update(kind="gift"), "products[2] (umbrella).kind", ""),
        (lambda r: r["products"][3].update(id="Room!"), "products[3] (Room!).id", "pattern"),
        (
            lambda r: r["products"][6]["loan"]["apr_by_band"].pop("good"),
            "products[6] (personal_loan)",
            "no rate for good",
        ),
        (
            lambda r: r["products"][6]["loan"]["line_steps"].reverse(),
            "products[6] (personal_loan).loan",
            "increasing",
        ),
        (
            lambda r: r["products"][6]["loan"]["apr_by_band"].update(excellent=0.5),
            "products[6] (personal_loan).loan",
            "must not increase",
        ),
        (
            lambda r: r["products"][5].update(decline_on_public_records=["parking_ticket"]),
            "products[5] (car).decline_on_public_records[0]",
            "",
        ),
        (lambda r: r["products"][7].update(deposit=10), "products[7] (health_check)", "no deposit"),
        (lambda r: r["products"].append(dict(r["products"][0])), "products", "appears twice"),
        (lambda r: r.update(currency="euro"), "currency", ""),
        (lambda r: r.update(schema_version=2), "schema_version", ""),
    ],
)
def test_a_bad_catalogue_names_the_field(
    tmp_path: Path,
    change: typing.Callable[[dict], None],
    field: str,
    words: str,  # type: ignore[type-arg]
) -> None:
    err = _load(tmp_path, _with(change))
    assert err.field == field
    assert field in str(err) and words in str(err)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    err = _load(tmp_path, "schema_version: 1\ncurrency: EUR\nproducts:\n  - id: [bike\n")
    assert err.line is not None and err.line >= 4
    assert "not valid YAML" in str(err)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_catalogue(tmp_path / "nope.yaml")
