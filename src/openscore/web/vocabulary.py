"""The words the pages use for openscore's identifiers (sources, bands, scopes, statuses),
and records, decisions and partners' answers told as sentences.

The domain keeps the identifiers and the long sentences (``SOURCE_DESCRIPTIONS``,
``DIMENSION_LABELS``, the feature catalogue, the product catalogue); this module only
names them for people. Dates are shown as "23 Jun 2026" (UTC) with the exact instant in
a ``<time datetime=...>`` attribute; amounts carry their currency.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from markupsafe import Markup

from openscore.decisions.policy import RECORD_LABELS
from openscore.domain.dimensions import DIMENSION_LABELS, DIMENSION_WEIGHTS
from openscore.domain.sources import Source

SOURCE_NAMES: dict[str, str] = {
    Source.WALLET.value: "Wallet payments",
    Source.CREDIT.value: "Loans and cards",
    Source.RENTALS.value: "Deposit-free rentals",
    Source.PROFILE.value: "Profile facts",
    Source.SOCIAL.value: "Connections",
    Source.PUBLIC_RECORDS.value: "Public records",
}

DIMENSIONS: dict[str, str] = {d.value: label for d, label in DIMENSION_LABELS.items()}
WEIGHTS: dict[str, float] = {d.value: w for d, w in DIMENSION_WEIGHTS.items()}

SCOPES: dict[str, str] = {
    "decision": "Only the decision (approved or not, and the terms)",
    "band": "The decision and your band",
    "score": "The decision, your score, its five dimensions and reasons",
}

OUTCOMES: dict[str, str] = {"approve": "Approved", "decline": "Declined"}

STATUSES: dict[str, str] = {
    "open": "Open: being looked at",
    "resolved": "Resolved: the record was corrected",
    "rejected": "Rejected: the record stands",
    "requested": "Waiting for a person to review",
    "upheld": "Reviewed: the decision stands",
    "overturned": "Reviewed: the decision was overturned",
}


def band_name(band: str | None) -> str:
    return (band or "").replace("_", " ")


def words(identifier: Any) -> str:
    """``deposit-free_rentals`` -> ``deposit free rentals`` (for slugs and keys)."""
    return str(identifier).replace("_", " ").replace("-", " ")


def when(value: datetime | date | str | None) -> str:
    """A date-time the way people read it, always saying it is UTC."""
    if value is None:
        return "–"
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, datetime):
        return f"{value.day} {value:%b %Y, %H:%M} UTC"
    return f"{value.day} {value:%b %Y}"


def day(value: datetime | date | str | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    return f"{value.day} {value:%b %Y}"


_ISO_INSTANT = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$"
)


def _instant(value: datetime | date | str | None) -> datetime | date | None:
    if isinstance(value, str):
        if not _ISO_INSTANT.match(value):
            return None
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return value


def time_tag(value: datetime | date | str | None, clock: bool = False) -> Markup | str:
    """``<time datetime="2026-06-23T05:53:03+00:00">23 Jun 2026</time>``: the day people
    read, the exact instant for machines (and a tooltip). ``clock`` adds the time of day."""
    instant = _instant(value)
    if instant is None:
        return "–" if value is None else str(value)
    shown = when(instant) if clock else day(instant)
    exact = (
        instant.isoformat(timespec="seconds")
        if isinstance(instant, datetime)
        else instant.isoformat()
    )
    return Markup('<time datetime="{0}" title="{1}">{2}</time>').format(
        exact, when(instant) if isinstance(instant, datetime) else shown, shown
    )


#: How an amount is written per ISO 4217 code; any other code is written before the number.
CURRENCY_SYMBOLS: dict[str, str] = {"EUR": "€", "CNY": "¥", "USD": "$", "GBP": "£"}


def money(amount: Any, currency: str | None) -> str:
    """``money(50, "EUR")`` -> ``€50``; ``money(1250.5, "CHF")`` -> ``CHF 1,250.50``."""
    if amount is None or isinstance(amount, bool):
        return "–"
    try:
        number = float(amount)
    except (TypeError, ValueError):
        return str(amount)
    text = f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"
    code = (currency or "").upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return f"{code} {text}".strip()


EVENT_KINDS: dict[str, str] = {
    "payment": "Payment",
    "credit_account": "Credit account",
    "repayment": "Repayment",
    "rental": "Rental",
    "bill_payment": "Bill payment",
    "profile_fact": "Profile fact",
    "relationship": "Connection",
    "public_record": "Public record",
}
ACCOUNT_KINDS: dict[str, str] = {
    "credit_card": "credit card",
    "loan": "loan",
    "mortgage": "mortgage",
    "consumer_credit": "consumer credit",
    "bnpl": "buy now, pay later",
}
BILL_KINDS: dict[str, str] = {"utility": "Utility bill", "phone": "Phone bill", "rent": "Rent"}
RENTAL_NAMES: dict[str, str] = {
    "bike": "bike",
    "power_bank": "power bank",
    "umbrella": "umbrella",
    "car": "car",
    "hotel": "hotel stay",
    "room": "room",
}
PROFILE_FACTS: dict[str, str] = {
    "identity": "Identity",
    "address": "Address",
    "phone": "Phone number",
    "employer": "Employer",
    "income": "Income",
    "vehicle": "Vehicle",
    "property": "Property",
}


def record_kind(record: Any) -> str:
    """What a ledger record is, in words: "Court judgment for an unpaid debt", "Credit
    card opened", "Phone bill" (never ``court_judgment_default``)."""
    kind = str(_get(record, "type"))
    fields = _get(record, "fields") or {}
    if kind == "public_record" and fields.get("record_kind"):
        return _cap(RECORD_LABELS.get(fields["record_kind"], words(fields["record_kind"])))
    if kind == "credit_account" and fields.get("account_kind"):
        account = ACCOUNT_KINDS.get(fields["account_kind"], words(fields["account_kind"]))
        return _cap(f"{account} {fields.get('action') or ''}".strip())
    if kind == "bill_payment" and fields.get("bill_kind"):
        return BILL_KINDS.get(fields["bill_kind"], _cap(words(fields["bill_kind"])) + " bill")
    if kind == "rental" and fields.get("product"):
        return "Rental of a " + RENTAL_NAMES.get(fields["product"], words(fields["product"]))
    if kind == "profile_fact" and fields.get("fact"):
        return PROFILE_FACTS.get(fields["fact"], _cap(words(fields["fact"])))
    return EVENT_KINDS.get(kind, _cap(words(kind)))


def record_summary(record: Any) -> str:
    """A ledger record as one sentence (its fields stay available in full beside it).
    Only a payment names a currency: it is the only event that carries one."""
    kind = str(_get(record, "type"))
    f: Mapping[str, Any] = _get(record, "fields") or {}
    if kind == "payment":
        where = {"online": "online", "offline": "in person"}.get(f.get("channel") or "", "")
        return f"Paid {money(f.get('amount'), f.get('currency'))} {where}".strip() + "."
    if kind in ("repayment", "bill_payment"):
        due = _amount(f.get("amount_due"))
        what = "Instalment" if kind == "repayment" else "Bill"
        text = (
            f"{what} of {due} due {day(f.get('due_date'))}"
            if due
            else f"{what} due {day(f.get('due_date'))}"
        )
        paid = f.get("amount_paid")
        if f.get("paid_date"):
            part = (
                ""
                if paid is None or paid >= (f.get("amount_due") or 0)
                else f" {_amount(paid)} of it"
            )
            text += f": paid{part} on {day(f.get('paid_date'))}"
        elif paid:
            text += f": {_amount(paid)} of it paid, the rest not paid"
        else:
            text += ": not paid"
        return _cap(text) + "."
    if kind == "credit_account":
        limit = f.get("credit_limit")
        return (
            f"{record_kind(record)}" + (f" with a limit of {_amount(limit)}" if limit else "") + "."
        )
    if kind == "rental":
        deposit = "no deposit" if f.get("deposit_waived") else "a deposit paid"
        text = f"Rented with {deposit}, due back {day(f.get('due_back'))}"
        outcome = f.get("rental_outcome")
        if outcome == "returned":
            text += (
                f", returned {day(f.get('returned_at'))}" if f.get("returned_at") else ", returned"
            )
        elif outcome in ("damaged", "lost"):
            text += f", {outcome}"
        else:
            text += ", not returned yet"
        return text + "."
    if kind == "profile_fact":
        value = f.get("fact_value")
        if value in (None, "") and f.get("amount") is not None:
            value = _amount(f.get("amount"))
        text = f"{record_kind(record)} declared" + (f": {value}" if value not in (None, "") else "")
        return text + (", verified." if f.get("verified") else ", not verified.")
    if kind == "relationship":
        return "A mutual connection with another openscore member."
    if kind == "public_record":
        text = record_kind(record)
        if f.get("amount"):
            text += f" for {_amount(f.get('amount'))}"
        if f.get("legal_basis"):
            text += f", held under {f['legal_basis']}"
        if f.get("expires_at"):
            text += f", until {day(f.get('expires_at'))}"
        return text + "."
    return plain(dict(f))


def furnisher_name(furnisher_id: str | None, names: Mapping[str, str] | None = None) -> str:
    """Who sent a record: the partner's name where the furnisher is a registered partner,
    else a name made from its id ("synth-furnisher" -> "Synth (data furnisher)",
    "furnisher-a" -> "Furnisher a")."""
    if not furnisher_id:
        return "–"
    if names and furnisher_id in names:
        return names[furnisher_id]
    stem = re.sub(r"[-_ ]*furnisher$", "", furnisher_id, flags=re.IGNORECASE) or furnisher_id
    name = _cap(words(stem))
    return name if "furnisher" in name.lower() else f"{name} (data furnisher)"


def answer_sentences(
    returned: Mapping[str, Any],
    *,
    products: Mapping[str, str] | None = None,
    currency: str | None = None,
) -> list[str]:
    """What a partner was told, as sentences: "Approved: Deposit-free bike, the deposit of
    €50 waived." rather than ``outcome: approve; deposit_waived: 50; ...``."""
    products = products or {}
    if "outcome" in returned:
        product = products.get(str(returned.get("product_id")), words(returned.get("product_id")))
        said = [f"{OUTCOMES.get(str(returned['outcome']), words(returned['outcome']))}: {product}."]
        waived, due = returned.get("deposit_waived"), returned.get("deposit_due")
        if waived:
            said.append(f"The deposit of {money(waived, currency)} is waived.")
        if due:
            said.append(f"A deposit of {money(due, currency)} is due.")
        if returned.get("credit_line"):
            line = f"A credit line of {money(returned['credit_line'], currency)}"
            if returned.get("apr") is not None:
                line += f" at {float(returned['apr']) * 100:.1f} % interest a year"
            said.append(line + ".")
        reasons = [r.get("text") for r in returned.get("reasons") or [] if isinstance(r, Mapping)]
        if any(reasons):
            said.append("Why: " + "; ".join(r for r in reasons if r) + ".")
        if returned.get("scorable") is False:
            said.append(
                "You had not enough data to be scored; the product's rule for that applied."
            )
        learned = []
        if returned.get("score") is not None:
            learned.append(f"your score ({returned['score']})")
        if returned.get("band"):
            learned.append(f"your band ({band_name(returned['band'])})")
        if returned.get("dimensions"):
            learned.append("your five dimensions")
        if returned.get("score_reasons"):
            learned.append("the reasons behind your score")
        said.append(
            "They also learned " + ", ".join(learned) + "."
            if learned
            else "They learned only the decision, not your score."
        )
        if returned.get("open_dispute"):
            said.append("They were told a record of yours is under dispute.")
        return said
    if "review" in returned:
        return ["A person at openscore looked again at a decision about you, as you asked."]
    if "dispute" in returned:
        found = "found" if returned.get("record_found") else "no longer on file"
        return [f"Your dispute was investigated; the record was {found}."]
    return [plain(dict(returned))] if returned else ["Nothing."]


def term_rows(terms: Mapping[str, Any], currency: str | None) -> list[tuple[str, str]]:
    """A decision's terms as (label, value) rows: "Deposit due", "€50"; "Interest rate",
    "12.5 % a year". Empty terms (``None``) are left out."""
    rows: list[tuple[str, str]] = []
    for key, value in terms.items():
        if value is None or key == "open_dispute":
            continue
        if key == "threshold":
            rows.append(("Score needed", f"{value} or more"))
        elif key in ("deposit_waived", "deposit_due", "credit_line"):
            label = {
                "deposit_waived": "Deposit waived",
                "deposit_due": "Deposit due",
                "credit_line": "Credit line",
            }[key]
            rows.append((label, money(value, currency)))
        elif key == "apr":
            rows.append(("Interest rate", f"{float(value) * 100:.1f} % a year"))
        elif key == "rate_band":
            rows.append(("Rate set by band", band_name(str(value))))
        else:
            rows.append((_cap(words(key)), plain(value)))
    return rows


def _get(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _amount(value: Any) -> str:
    return plain(value) if value not in (None, "") else ""


def plain(value: Any) -> str:
    """A value from a JSON document, in words (lists joined, booleans as yes/no, dates
    as days)."""
    if value is None:
        return "–"
    if isinstance(value, str) and _ISO_INSTANT.match(value):
        instant = _instant(value)
        if instant is not None:
            return day(instant)
    if isinstance(value, datetime | date):
        return day(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{words(k)}: {plain(v)}" for k, v in value.items()) or "none"
    return str(value)
