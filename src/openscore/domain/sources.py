"""The data sources a person can share, one consent each."""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    WALLET = "wallet"
    CREDIT = "credit"
    RENTALS = "rentals"
    PROFILE = "profile"
    SOCIAL = "social"
    PUBLIC_RECORDS = "public_records"


#: Sources a person opts in to. ``public_records`` is held on a legal basis instead.
CONSENTABLE_SOURCES: tuple[Source, ...] = (
    Source.WALLET,
    Source.CREDIT,
    Source.RENTALS,
    Source.PROFILE,
    Source.SOCIAL,
)

#: What each source shares and what switching it off does, in plain words.
SOURCE_DESCRIPTIONS: dict[Source, str] = {
    Source.WALLET: "Your wallet payments (amount, online or offline, when) and bills paid "
    "through it. Turning it off removes them; your score then treats that part as unknown, "
    "never as bad.",
    Source.CREDIT: "Your loans and cards: accounts, limits and whether repayments were on "
    "time. Turning it off removes your credit history from the score.",
    Source.RENTALS: "Deposit-free rentals (bikes, power banks, cars, rooms): returned on "
    "time, late or lost. Turning it off removes them.",
    Source.PROFILE: "Facts you choose to verify: identity, address, phone, employer, income, "
    "vehicle, property. Turning it off removes them.",
    Source.SOCIAL: "Mutual connections with other people who also share this source. It can "
    "only raise your score; turning it off never lowers it below a non-sharer's.",
    Source.PUBLIC_RECORDS: "Court judgments and similar records held on a legal basis; you "
    "can see and dispute them. They expire on their own date.",
}
