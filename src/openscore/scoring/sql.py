"""``openscore model export --sql``: one standalone SQL query scoring a table ``features``.

The query is the compiled Ibis expression rendered for DuckDB over an unbound table named
``features`` whose columns are the model's features, typed as the file declares them
(numeric → DOUBLE, categorical → VARCHAR). Run it anywhere a ``features`` table or view
exists with those columns (extra columns are ignored).
"""

from __future__ import annotations

import ibis

from openscore.model.format import Scorecard
from openscore.scoring.compile import score_table


def features_schema(card: Scorecard, id_column: str | None = None) -> ibis.Schema:
    fields = {}
    if id_column:
        fields[id_column] = "string"
    for f in card.features:
        fields[f.name] = "float64" if f.type == "numeric" else "string"
    return ibis.schema(fields)


def scoring_sql(card: Scorecard, *, id_column: str | None = None, dialect: str = "duckdb") -> str:
    """The scoring query as text (``dialect``: any sqlglot dialect Ibis can render)."""
    table = ibis.table(features_schema(card, id_column), name="features")
    expr = score_table(card, table, id_column)
    return str(ibis.to_sql(expr, dialect=dialect)).strip() + ";\n"
