"""Applying a scorecard: a numpy kernel on Arrow batches for batch jobs (``kernel.py``),
one Ibis expression for the SQL export and tabular mode (``compile.py``), plain Python
for one person (``person.py``).

All read only the scorecard file (``docs/scorecard-format.md``) and give identical
scores, bands, dimension sub-scores and reasons (property tests hold them to it).
"""

from openscore.scoring.compile import output_columns, score_table
from openscore.scoring.person import ScoreResult, score_person
from openscore.scoring.reasons import MAX_REASONS, Reason
from openscore.scoring.sql import scoring_sql
from openscore.scoring.whatif import WhatIf, what_if

__all__ = [
    "MAX_REASONS",
    "Reason",
    "ScoreResult",
    "WhatIf",
    "output_columns",
    "score_person",
    "score_table",
    "scoring_sql",
    "what_if",
]
