"""Protected attributes: who a person is by birth or belief is never a model input.

Principle 3 of DESIGN.md. A column is protected when its name, lower-cased and with
punctuation turned into ``_``, equals one of the names below or contains one of the
words as a whole word (``personal_status_and_sex`` contains ``sex``). The list is
configurable (:class:`ProtectedAttributes`), because datasets name things their own way;
the default errs towards excluding: a column wrongly excluded costs a little accuracy, a
column wrongly kept scores people for who they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProtectedCategory:
    """One protected category: exact column names, and whole words that denote it anywhere."""

    names: tuple[str, ...] = ()
    words: tuple[str, ...] = ()


#: The default list. ``age`` has exact names only: the word also appears in legitimate
#: features such as ``age_of_oldest_account``.
DEFAULT_PROTECTED: dict[str, ProtectedCategory] = {
    "sex/gender": ProtectedCategory(("personal_status",), ("sex", "gender")),
    "ethnicity/race": ProtectedCategory(
        ("foreign_worker", "nationality", "citizenship", "country_of_birth"),
        ("ethnicity", "ethnic", "race", "racial"),
    ),
    "religion": ProtectedCategory((), ("religion", "religious")),
    "marital status": ProtectedCategory(
        ("married", "civil_status"), ("marital", "marriage", "spouse")
    ),
    "education level": ProtectedCategory(("degree", "schooling"), ("education",)),
    "health": ProtectedCategory(
        ("disabled", "pregnant", "pregnancy"), ("health", "disability", "medical")
    ),
    "political views": ProtectedCategory(
        ("party_affiliation", "union_membership"), ("political", "politics")
    ),
    "age": ProtectedCategory(
        (
            "age",
            "age_in_years",
            "age_years",
            "applicant_age",
            "customer_age",
            "client_age",
            "person_age",
            "age_group",
            "age_band",
            "birth_date",
            "date_of_birth",
            "dob",
            "birth_year",
            "year_of_birth",
        ),
        (),
    ),
}

_SPLIT = re.compile(r"[^0-9a-z]+")


def _normalise(name: str) -> str:
    return _SPLIT.sub("_", str(name).strip().lower()).strip("_")


@dataclass(frozen=True)
class ProtectedAttributes:
    """A configurable list of protected categories and the column names that denote them."""

    categories: dict[str, ProtectedCategory] = field(
        default_factory=lambda: dict(DEFAULT_PROTECTED)
    )

    def category_of(self, column: str) -> str | None:
        """The protected category ``column`` belongs to, or None."""
        norm = _normalise(column)
        words = set(norm.split("_"))
        for category, spec in self.categories.items():
            if norm in {_normalise(n) for n in spec.names}:
                return category
            if any(_normalise(w) in words for w in spec.words):
                return category
        return None

    def find(self, columns: Iterable[str]) -> dict[str, str]:
        """Column -> category for every protected column among ``columns``."""
        found = {}
        for column in columns:
            category = self.category_of(column)
            if category is not None:
                found[column] = category
        return found


DEFAULT_PROTECTED_ATTRIBUTES = ProtectedAttributes()
