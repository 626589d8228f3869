"""The product catalogue: what partners can ask decisions for, and each product's policy.

The catalogue is data (``products.yaml``, shipped in the package, or a file the operator
points to), validated by pydantic when loaded. A bad file fails with one
:class:`~openscore.errors.InputError` naming the file and the field at fault
(``products[5] (car).min_score: ...``), never with a half-loaded catalogue.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from openscore.domain import BAND_NAMES, BANDS, SCORE_MAX, SCORE_MIN
from openscore.errors import InputError, NotFound

Score = Annotated[int, Field(ge=SCORE_MIN, le=SCORE_MAX, strict=True)]
Amount = Annotated[int, Field(ge=0, strict=True)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
# Spelled out for the type checker; a test checks they match the domain's vocabulary.
BandName = Literal["poor", "fair", "good", "very_good", "excellent"]
RecordKind = Literal["court_judgment_default", "tax_arrears", "bankruptcy", "enforcement_order"]


class ProductKind(StrEnum):
    DEPOSIT_WAIVER = "deposit_waiver"
    LOAN = "loan"
    PERK = "perk"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LineStep(_Strict):
    min_score: Score
    amount: Amount


class LoanTerms(_Strict):
    """A loan's price and size: an APR per band, and a credit line that steps up with the
    score (a step function is easy to explain: "from 700 your line is 6,000")."""

    apr_by_band: dict[BandName, Annotated[float, Field(ge=0, le=1)]]
    line_steps: Annotated[list[LineStep], Field(min_length=1)]

    @model_validator(mode="after")
    def _monotonic(self) -> LoanTerms:
        scores = [s.min_score for s in self.line_steps]
        if scores != sorted(set(scores)):
            raise ValueError("line_steps must have strictly increasing min_score")
        amounts = [s.amount for s in self.line_steps]
        if amounts != sorted(amounts):
            raise ValueError("line_steps amounts must not decrease as the score grows")
        rates = [self.apr_by_band[b] for b in BAND_NAMES if b in self.apr_by_band]
        if rates != sorted(rates, reverse=True):
            raise ValueError("apr_by_band must not increase as the band improves")
        return self

    def line_for(self, score: int) -> int:
        amount = 0
        for step in self.line_steps:
            if score >= step.min_score:
                amount = step.amount
        return amount


class UnscorableTreatment(StrEnum):
    """What a product does for a person with not enough data to score."""

    DEPOSIT = "deposit"  # deposit waivers: the service, with its deposit due
    SMALLER_LINE = "smaller_line"  # loans: a smaller starter line at a stated APR
    DECLINE = "decline"  # declined with the reason "not enough data to score"


class Unscorable(_Strict):
    """A product's declared treatment of unscorable people (required for every product)."""

    treatment: UnscorableTreatment
    credit_line: Amount | None = None  # smaller_line only
    apr: Annotated[float, Field(ge=0, le=1)] | None = None  # smaller_line only


class Product(_Strict):
    id: Slug
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: ProductKind
    min_score: Score
    #: what happens to a person with not enough data to score (no default: every product
    #: must say)
    unscorable: Unscorable
    description: str = ""
    deposit: Amount | None = None
    loan: LoanTerms | None = None
    decline_on_public_records: tuple[RecordKind, ...] = ()

    @model_validator(mode="after")
    def _unscorable_fits_kind(self) -> Product:
        u = self.unscorable
        deposit_waiver = self.kind is ProductKind.DEPOSIT_WAIVER
        if u.treatment is UnscorableTreatment.DEPOSIT and not deposit_waiver:
            raise ValueError("unscorable.treatment 'deposit' is only for deposit_waiver products")
        if u.treatment is UnscorableTreatment.SMALLER_LINE:
            if self.kind is not ProductKind.LOAN:
                raise ValueError("unscorable.treatment 'smaller_line' is only for loan products")
            if u.credit_line is None or u.apr is None or u.credit_line <= 0:
                raise ValueError(
                    "unscorable.treatment 'smaller_line' needs a credit_line and an apr"
                )
            if self.loan is not None and u.credit_line >= self.loan.line_steps[0].amount:
                raise ValueError(
                    "unscorable.credit_line must be smaller than the first line step "
                    f"({self.loan.line_steps[0].amount})"
                )
        elif u.credit_line is not None or u.apr is not None:
            raise ValueError("unscorable.credit_line and apr belong to 'smaller_line' only")
        return self

    @model_validator(mode="after")
    def _kind_fields(self) -> Product:
        if self.kind is ProductKind.DEPOSIT_WAIVER and self.deposit is None:
            raise ValueError("a deposit_waiver product needs its deposit")
        if self.kind is not ProductKind.DEPOSIT_WAIVER and self.deposit is not None:
            raise ValueError(f"a {self.kind.value} product has no deposit")
        if self.kind is ProductKind.LOAN:
            if self.loan is None:
                raise ValueError("a loan product needs loan terms")
            missing = [
                b.name
                for b in BANDS
                if b.high >= self.min_score and b.name not in self.loan.apr_by_band
            ]
            if missing:
                raise ValueError(f"loan.apr_by_band has no rate for {', '.join(missing)}")
            if self.loan.line_steps[0].min_score > self.min_score:
                raise ValueError(
                    "loan.line_steps must start at or below min_score, "
                    "so that every approved score has a line"
                )
        elif self.loan is not None:
            raise ValueError(f"a {self.kind.value} product has no loan terms")
        return self


class Catalogue(_Strict):
    schema_version: Literal[1]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    products: Annotated[list[Product], Field(min_length=1)]

    @field_validator("products")
    @classmethod
    def _unique(cls, products: list[Product]) -> list[Product]:
        first: dict[str, int] = {}
        for i, product in enumerate(products):
            if product.id in first:
                raise ValueError(
                    f"product id {product.id!r} appears twice "
                    f"(products[{first[product.id]}] and products[{i}])"
                )
            first[product.id] = i
        return products

    def get(self, product_id: str) -> Product:
        """The product, or :class:`NotFound`."""
        for product in self.products:
            if product.id == product_id:
                return product
        raise NotFound(f"product {product_id!r} not found")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.products)


def _field_name(loc: tuple[int | str, ...], raw: Any) -> str:
    """``('products', 5, 'min_score')`` -> ``products[5] (car).min_score``."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
            node = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                parts[-1] += f" ({node['id']})"
        else:
            parts.append(item)
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def parse_catalogue(raw: Any, *, path: str = "<catalogue>") -> Catalogue:
    """Validate already-parsed YAML/JSON into a :class:`Catalogue`."""
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        described = [
            f"{_field_name(tuple(e['loc']), raw) or '(top level)'}: {e['msg']}" for e in errors
        ]
        first = _field_name(tuple(errors[0]["loc"]), raw) or None
        raise InputError("; ".join(described), path=path, field=first) from None


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """The catalogue in ``path``, or the one shipped with openscore."""
    if path is None:
        text = resources.files("openscore.decisions").joinpath("products.yaml").read_text()
        where = "openscore/decisions/products.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
        where = str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"not valid YAML: {problem}", path=where, line=line) from None
    return parse_catalogue(raw, path=where)


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The shipped catalogue, loaded once."""
    return load_catalogue()
