"""The vocabulary of openscore: sources, event types, dimensions, bands. No I/O."""

from openscore.domain.bands import (
    BAND_NAMES,
    BANDS,
    SCORE_MAX,
    SCORE_MIN,
    Band,
    band_of,
    clip_score,
)
from openscore.domain.dimensions import DIMENSION_LABELS, DIMENSION_WEIGHTS, Dimension
from openscore.domain.events import (
    ALL_COLUMNS,
    COLUMNS_BY_NAME,
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    EVENT_TYPES,
    LEDGER_SCHEMA,
    Column,
    EventType,
    EventTypeSpec,
    Kind,
)
from openscore.domain.sources import CONSENTABLE_SOURCES, SOURCE_DESCRIPTIONS, Source

__all__ = [
    "ALL_COLUMNS",
    "BANDS",
    "BAND_NAMES",
    "CONSENTABLE_SOURCES",
    "COLUMNS_BY_NAME",
    "Band",
    "Column",
    "DIMENSION_LABELS",
    "DIMENSION_WEIGHTS",
    "Dimension",
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "EVENT_TYPES",
    "EventType",
    "EventTypeSpec",
    "Kind",
    "LEDGER_SCHEMA",
    "SCORE_MAX",
    "SCORE_MIN",
    "SOURCE_DESCRIPTIONS",
    "Source",
    "band_of",
    "clip_score",
]
