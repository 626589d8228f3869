"""Public reference data: the products and their policies, and the partners a person can
authorise. Both are public on purpose: a person should know every threshold and every
business that may ask about them before signing anything."""

from __future__ import annotations

from fastapi import APIRouter

from openscore.api.deps import StateDep
from openscore.services import partners
from openscore.services.schemas import (
    PartnerDirectoryPublic,
    ProductPublic,
    ProductsPublic,
)

router = APIRouter(prefix="/v1", tags=["catalogue"])


@router.get("/products", response_model=ProductsPublic)
def list_products(state: StateDep) -> ProductsPublic:
    catalogue = state.catalogue
    return ProductsPublic(
        currency=catalogue.currency,
        items=[
            ProductPublic(
                id=p.id,
                name=p.name,
                kind=p.kind.value,
                min_score=p.min_score,
                description=p.description,
                deposit=p.deposit,
                decline_on_public_records=list(p.decline_on_public_records),
                loan=p.loan.model_dump() if p.loan else None,
            )
            for p in catalogue.products
        ],
    )


@router.get("/partners", response_model=PartnerDirectoryPublic)
def list_partners(state: StateDep) -> PartnerDirectoryPublic:
    """Active partners (not operators): who a grant can be given to."""
    return partners.directory(state)
