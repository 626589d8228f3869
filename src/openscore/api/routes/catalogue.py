"""Public reference data: the products and their policies, and the partners a person can
authorise. Both are public on purpose: a person should know every threshold and every
business that may ask about them before signing anything."""

from __future__ import annotations

from fastapi import APIRouter

from openscore import online
from openscore.api.deps import StateDep
from openscore.domain import DIMENSION_LABELS, Dimension
from openscore.scoring.eligibility import ScoringRule
from openscore.scoring.weights import dimension_weights, weight_notes
from openscore.services import partners
from openscore.services.schemas import (
    DimensionWeightPublic,
    ModelWeightsPublic,
    PartnerDirectoryPublic,
    ProductPublic,
    ProductsPublic,
)
from openscore.services.scores import ensure_model

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
                unscorable=p.unscorable.model_dump(mode="json", exclude_none=True),
            )
            for p in catalogue.products
        ],
    )


@router.get("/model/weights", response_model=ModelWeightsPublic)
def model_weights(state: StateDep) -> ModelWeightsPublic:
    """The model in service and each dimension's weight, computed from its file (its share
    of the total point range), with why a dimension carries none."""
    ensure_model(state)
    card = online.current_model(state.settings)
    weights = dimension_weights(card)
    notes = weight_notes(card)
    return ModelWeightsPublic(
        model_id=card.model_id,
        method=card.method,
        dimensions=[
            DimensionWeightPublic(
                dimension=d.value,
                label=DIMENSION_LABELS[d],
                weight=weights[d.value],
                note=notes.get(d.value),
            )
            for d in Dimension
        ],
        scorable_when=ScoringRule.from_settings(state.settings).describe(),
    )


@router.get("/partners", response_model=PartnerDirectoryPublic)
def list_partners(state: StateDep) -> PartnerDirectoryPublic:
    """Active partners (not operators): who a grant can be given to."""
    return partners.directory(state)
