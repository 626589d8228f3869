"""A grant is for the partner's own products, and its purpose is the kind of one of
them: anything else is a 422 naming the field."""

from __future__ import annotations

import pytest

from fixtures.api import ApiWorld

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def test_grants_are_for_the_partners_own_products(api_world: ApiWorld) -> None:
    operator = api_world.operator()
    made = operator.post(
        "/v1/operator/partners",
        json={"name": "Spoke Rentals", "partner_id": "spokes", "products": ["bike", "umbrella"]},
    )
    assert made.status_code == 201, made.text
    assert made.json()["products"] == ["bike", "umbrella"]
    bad = operator.put("/v1/operator/partners/spokes/products", json={"products": ["rocket"]})
    assert bad.status_code == 422 and bad.json()["field"] == "products"
    assert "'rocket' is not in the product catalogue" in bad.json()["message"]

    listed = {p["id"]: p for p in api_world.client().get("/v1/partners").json()["items"]}
    assert listed["spokes"]["products"] == ["bike", "umbrella"]
    assert listed["spokes"]["purposes"] == ["deposit_waiver"]

    subject = api_world.subject()

    def grant(products: list[str], purpose: str):  # type: ignore[no-untyped-def]
        body = {"partner_id": "spokes", "products": products, "purpose": purpose}
        return subject.post("/v1/me/grants", json=body)

    loan = grant(["personal_loan"], "loan")
    assert loan.status_code == 422
    assert loan.json()["field"] == "products"
    assert loan.json()["message"] == (
        "'personal_loan' is not one of Spoke Rentals's products; it offers bike, umbrella"
    )
    purpose = grant(["bike"], "loan")
    assert purpose.status_code == 422 and purpose.json()["field"] == "purpose"
    assert "choose 'deposit_waiver'" in purpose.json()["message"]
    assert grant(["spaceship"], "loan").status_code == 404  # not in the catalogue at all
    ok = grant(["bike"], "deposit_waiver")
    assert ok.status_code == 201, ok.text

    # an operator widens the partner's products; the loan's purpose then fits the loan
    widened = operator.put(
        "/v1/operator/partners/spokes/products", json={"products": ["bike", "personal_loan"]}
    )
    assert widened.status_code == 200 and widened.json()["products"] == ["bike", "personal_loan"]
    assert grant(["personal_loan"], "loan").status_code == 201
