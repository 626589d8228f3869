"""The grants page offers a partner only its own products, and the purposes those serve;
a purpose or product that is not the partner's is refused beside its field, and grants
given before purposes were checked still show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openscore import registry
from web.world import WebWorld, csrf, once


def test_a_partner_is_offered_only_its_own_products(web: WebWorld) -> None:
    with web.engine.begin() as conn:
        registry.create_partner(
            conn, name="Spoke Rentals", actor="system", partner_id="spokes", products=["bike"]
        )
    subject = web.subject(events=0)
    choose = subject.get("/grants").text
    assert '<option value="spokes">Spoke Rentals</option>' in choose
    assert 'name="products"' not in choose  # products come once a partner is chosen
    page = subject.get("/grants?partner_id=spokes").text
    assert 'value="bike"' in page
    for other in ("personal_loan", "health_check", "room", "power_bank"):
        assert f'value="{other}"' not in page, other
    assert 'name="purpose" value="deposit_waiver" checked' in page
    assert 'value="loan"' not in page

    # a loan and a loan's purpose, sent by hand, are refused beside their fields
    form = {
        "csrf_token": csrf(page),
        "once": once(page),
        "partner_id": "spokes",
        "products": ["personal_loan"],
        "purpose": "deposit_waiver",
        "scope": "decision",
        "expires_in_days": "30",
    }
    refused = subject.post("/grants", data=form)
    assert refused.status_code == 422
    assert "&#39;personal_loan&#39; is not one of Spoke Rentals&#39;s products" in refused.text
    assert 'id="f-products-error"' in refused.text
    form.update(products=["bike"], purpose="loan", once=once(refused.text))
    refused = subject.post("/grants", data=form)
    assert refused.status_code == 422 and 'id="f-purpose-error"' in refused.text
    assert "is not a purpose of the products granted; choose &#39;deposit_waiver&#39;" in (
        refused.text
    )
    assert 'value="bike" checked' in refused.text  # what was ticked stays
    form.update(purpose="deposit_waiver", once=once(refused.text))
    assert subject.post("/grants", data=form).status_code == 303
    with web.engine.connect() as conn:
        (grant,) = registry.list_grants(conn, subject.person_id)
    assert (list(grant.products), grant.purpose) == (["bike"], "deposit_waiver")
    shown = subject.get("/grants").text
    assert '<td data-label="Purpose">Deposit-free services</td>' in shown

    # a grant stored before purposes were checked shows its free text as it was
    with web.engine.begin() as conn:
        registry.create_grant(
            conn,
            subject.person_id,
            partner_id="spokes",
            products=["bike"],
            purpose="deposit-free-rentals",
            expires_at=datetime.now(UTC) + timedelta(days=3),
            actor="subject",
        )
    assert '<td data-label="Purpose">deposit free rentals</td>' in subject.get("/grants").text
