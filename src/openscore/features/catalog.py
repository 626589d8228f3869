"""Every feature openscore computes from the ledger: its dimension, direction and words.

``monotonic`` is the direction in which *risk* moves as the value grows (``ascending``:
more is riskier; ``descending``: more is safer; ``none``: let the data say). The texts
are what a person reads: ``reason`` when the feature cost them points, ``improve`` for
what would help. No feature looks at what was bought or at who someone is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openscore.domain.dimensions import Dimension
from openscore.domain.sources import Source


@dataclass(frozen=True, slots=True)
class Action:
    """How a person can move a feature, at most ``step`` a month (actionable recourse).

    ``kind``: ``action`` is something the person does each month (pay a balance down,
    pay on time); ``time`` comes by itself as months pass (an account's age) and costs no
    effort. ``direction`` is the way the value moves (``up`` or ``down``); ``limit`` the
    value it stops at (a share stops at 1, a balance at 0). ``words`` say one month's step
    in the person's words.
    """

    kind: Literal["action", "time"]
    direction: Literal["up", "down"]
    step: float
    limit: float | None
    words: str


def _act(direction: Literal["up", "down"], step: float, limit: float | None, words: str) -> Action:
    return Action("action", direction, step, limit, words)


def _time(words: str, limit: float | None = None) -> Action:
    return Action("time", "up", 1.0, limit, words)


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    name: str
    dimension: Dimension
    source: Source
    monotonic: str  # ascending | descending | none  (risk as the value grows)
    description: str
    reason: str
    improve: str
    #: value for a person who shares the source but has no such event (None: missing)
    fill: float | None = 0
    #: may only raise a score, never lower it (no bin below the missing bin's 0 points)
    only_raises: bool = False
    #: why a new model does not train on it (None: it is a model input). Such a feature is
    #: still computed: models already published and the minimum scoring rule read it.
    not_an_input: str | None = None
    #: how a person can change it, a month at a time (None: they cannot; see ``fixed``)
    action: Action | None = None
    #: why a plan never suggests changing it (set exactly when ``action`` is None)
    fixed: str = ""


#: why the wallet's volume features are not model inputs (docs/fairness.md, "E-literacy")
VOLUME_NOT_RISK = (
    "measures how much the wallet is used, not how a person pays: it ranks people by "
    "e-literacy and makes thin files look risky (docs/fairness.md)"
)

CH, FC, BE, ID, RE = (
    Dimension.CREDIT_HISTORY,
    Dimension.FULFILMENT_CAPACITY,
    Dimension.BEHAVIOUR,
    Dimension.IDENTITY,
    Dimension.RELATIONSHIPS,
)

FEATURES: tuple[FeatureSpec, ...] = (
    # -- credit history -------------------------------------------------------------------
    FeatureSpec(
        "credit_age_months",
        CH,
        Source.CREDIT,
        "descending",
        "Months since your oldest credit account was opened.",
        "Your credit history is short",
        "Keep your oldest accounts open; history grows with time",
        fill=None,
        action=_time("Keep your oldest account open: it grows one month a month"),
    ),
    FeatureSpec(
        "accounts_good_standing",
        CH,
        Source.CREDIT,
        "descending",
        "How many of your credit accounts had no payment a month or more late in the last "
        "24 months.",
        "Fewer of your accounts are always paid on time than for the people who score best",
        "Pay every instalment on time for the next months",
        fixed="counts your last 24 months of accounts: it changes as months pass, not by a step",
    ),
    FeatureSpec(
        "worst_dpd_24m",
        CH,
        Source.CREDIT,
        "ascending",
        "The most days any instalment was paid late in the last 24 months.",
        "A payment was seriously late in the last two years",
        "Pay on time; late payments weigh less as they age",
        fixed="a past fact: it cannot be changed, only ages out of the window",
    ),
    FeatureSpec(
        "recent_dpd_3m",
        CH,
        Source.CREDIT,
        "ascending",
        "The most days any instalment due in the last 3 months was paid late.",
        "A recent payment is late",
        "Bring late instalments up to date",
        fixed="a past fact: it cannot be changed, only ages out of the window",
    ),
    FeatureSpec(
        "late_30_24m",
        CH,
        Source.CREDIT,
        "ascending",
        "Instalments paid 30 or more days late in the last 24 months.",
        "Several payments were 30+ days late",
        "Set up automatic repayments so none is late",
        fixed="a past fact: it cannot be changed, only ages out of the window",
    ),
    FeatureSpec(
        "late_90_24m",
        CH,
        Source.CREDIT,
        "ascending",
        "Instalments 90 or more days late in the last 24 months.",
        "Payments were 90+ days late",
        "Settle overdue amounts; contact the lender for a plan",
        fixed="a past fact: it cannot be changed, only ages out of the window",
    ),
    FeatureSpec(
        "utilisation",
        CH,
        Source.CREDIT,
        # not monotone: a line never used says as little as a full one (FICO notes the
        # same); on Taiwan a declared ascending trend cost 0.005 AUC (docs/model.md)
        "none",
        "How much you owed last month compared with all your credit limits together.",
        "You use a large share of your credit limits",
        "Keep balances below 30 % of your limits",
        fill=None,
        action=_act("down", 0.1, 0.0, "Pay your balances down by 10 % of your limits a month"),
    ),
    FeatureSpec(
        "defaults_24m",
        CH,
        Source.CREDIT,
        "ascending",
        "Instalments left unpaid 90+ days (defaults) in the last 24 months.",
        "A loan went into default",
        "Repay defaulted amounts; defaults expire after the retention period",
        fixed="a past fact: it cannot be changed, only ages out of the window",
    ),
    FeatureSpec(
        "live_public_records",
        CH,
        Source.PUBLIC_RECORDS,
        "ascending",
        "Public records (such as court judgments) that have not expired.",
        "A public record is on your file",
        "Settle the judgment; you can dispute a record you think is wrong",
        fixed="a public record held on a legal basis: settle it, or dispute it if it is wrong",
    ),
    FeatureSpec(
        "current_dpd",
        CH,
        Source.CREDIT,
        "ascending",
        "How many days late your oldest instalment still unpaid today is (0 if none).",
        "An instalment is overdue now",
        "Pay the overdue instalment; the oldest first",
        action=_act("down", 1e9, 0.0, "Pay the overdue instalment"),
    ),
    FeatureSpec(
        "months_since_late",
        CH,
        Source.CREDIT,
        "descending",
        "Months since an instalment was last paid late or left unpaid past its due date "
        "(24 if none in the last 24 months).",
        "A payment was late recently",
        "Pay every instalment on time: this grows month by month",
        fill=24,
        action=_act(
            "up", 1.0, 24.0, "Pay every instalment on time: one more clean month each month"
        ),
    ),
    FeatureSpec(
        "paid_to_due_6m",
        CH,
        Source.CREDIT,
        "descending",
        "Amount paid compared with the amount due on your instalments of the last 6 months "
        "(1 = everything due was paid; capped at 2).",
        "You paid less than was due",
        "Pay the full amount due, not only the minimum",
        fill=None,
        action=_act("up", 1 / 6, 1.0, "Pay the full amount due each month"),
    ),
    FeatureSpec(
        "paid_in_full_6m",
        CH,
        Source.CREDIT,
        "descending",
        "Instalments of the last 6 months on which you paid at least the amount due.",
        "Few instalments were paid in full",
        "Pay the full balance each month when you can",
        fill=None,
        action=_act("up", 1.0, 6.0, "Pay an instalment in full each month"),
    ),
    FeatureSpec(
        "balance_months_6m",
        CH,
        Source.CREDIT,
        "none",
        "Instalments of the last 6 months with an amount due (months you had a balance).",
        "Your pattern of balances adds risk",
        "Use credit regularly and pay it back on time",
        fill=None,
        fixed="a pattern of use, not something a plan should tell you to change",
    ),
    FeatureSpec(
        "utilisation_trend",
        CH,
        Source.CREDIT,
        "none",  # balances paid down to nothing can mean a line given up, not safety
        "How much fuller your credit lines are now than on average over the last 6 "
        "months (amount due last month minus the 6-month average, over your limits).",
        "Your balances have been rising",
        "Bring balances down below their recent average",
        fill=None,
        fixed="follows your utilisation: pay balances down and it follows",
    ),
    FeatureSpec(
        "paid_to_prev_due",
        CH,
        Source.CREDIT,
        "descending",
        "What you repaid last month compared with the amount due the month before (a "
        "statement is paid the month after it is drawn; 1 = all of it; capped at 2).",
        "Last month you repaid less than your previous statement asked for",
        "Pay your whole statement balance, not only the minimum",
        fill=None,
        action=_act("up", 1.0, 1.0, "Pay your whole statement balance this month"),
    ),
    FeatureSpec(
        "overdue_to_limit",
        CH,
        Source.CREDIT,
        "ascending",
        "How much of your instalments is late and still unpaid today, compared with "
        "all your credit limits together (0 if nothing is overdue).",
        "An amount is overdue now",
        "Pay what is overdue, the oldest instalment first",
        fill=None,
        action=_act("down", 1e9, 0.0, "Pay what is overdue"),
    ),
    FeatureSpec(
        "min_paid_6m",
        CH,
        Source.CREDIT,
        "descending",
        "The smallest amount you repaid on an instalment in the last 6 months (0 if you "
        "skipped a payment).",
        "In one of the last 6 months you repaid little or nothing",
        "Make a payment every month, even when it is not the whole balance",
        fill=None,
        fixed="the smallest of six months: it moves only as months pass, not by one step",
    ),
    FeatureSpec(
        "revolved_on_time_6m",
        CH,
        Source.CREDIT,
        "descending",
        "Instalments of the last 6 months paid on time on which you carried part of the "
        "balance over (paid less than the amount due): months you kept up with a balance.",
        "Few months of keeping up on time with a balance you carried",
        "Pay every instalment on time",
        fill=None,
        fixed="a plan never tells you to carry a balance: paying in full is as good advice",
    ),
    # -- fulfilment capacity --------------------------------------------------------------
    FeatureSpec(
        "verified_income",
        FC,
        Source.PROFILE,
        "descending",
        "Your latest verified monthly income.",
        "Your verified income is lower than that of the people who score best here",
        "Verify your income in the profile source",
        fill=None,
        fixed="your income: a plan does not ask you to earn more",
    ),
    FeatureSpec(
        "monthly_spend_12m",
        FC,
        Source.WALLET,
        "none",
        "How much you pay from your wallet in a typical month (last 12 months; needs "
        "payments in at least 3 of them).",
        "Your wallet payments are low or few",
        "Use your wallet for everyday payments",
        fill=None,
        not_an_input=VOLUME_NOT_RISK,
        fixed="what you spend: a plan never asks you to spend more",
    ),
    FeatureSpec(
        "spend_stability_12m",
        FC,
        Source.WALLET,
        "ascending",
        "How much your monthly wallet payments go up and down from month to month (needs "
        "payments in at least 6 of the last 12 months).",
        "Your monthly payments go up and down a lot",
        "Steadier monthly finances help this part of the score",
        fill=None,
        fixed="how your spending varies: a past pattern over 12 months",
    ),
    FeatureSpec(
        "verified_assets",
        FC,
        Source.PROFILE,
        "descending",
        "Verified vehicle and property facts.",
        "No verified vehicle or property",
        "Verify a vehicle or property you own",
        fixed="what you own: a plan never asks you to buy anything",
    ),
    FeatureSpec(
        "credit_limit",
        FC,
        Source.CREDIT,
        "descending",
        "Total limit of your open credit accounts (what lenders judged you able to repay).",
        "Your credit limits are low",
        "Limits grow with a record of repaying on time",
        fill=None,
        fixed="set by your lenders, not by you",
    ),
    FeatureSpec(
        "amount_paid_6m",
        FC,
        Source.CREDIT,
        "descending",
        "Average monthly amount you repaid on your credit over the last 6 months.",
        "Your repayments are small",
        "Repaying more each month lowers your balances faster",
        fill=None,
        fixed="depends on what you owe: a plan never asks you to borrow",
    ),
    # -- behaviour --------------------------------------------------------------------------
    FeatureSpec(
        "bills_on_time_12m",
        BE,
        Source.WALLET,
        "descending",
        "Share of utility, phone and rent bills paid by the due date (12 months).",
        "Some bills were paid late",
        "Pay bills by their due date",
        fill=None,
        action=_act("up", 1 / 12, 1.0, "Pay every bill by its due date"),
    ),
    FeatureSpec(
        "rentals_on_time_24m",
        BE,
        Source.RENTALS,
        "descending",
        "Share of rentals returned by the time they were due (24 months).",
        "Some rentals came back late",
        "Return rentals on time",
        fill=None,
        action=_act("up", 1 / 24, 1.0, "Return every rental on time"),
    ),
    FeatureSpec(
        "rentals_lost_24m",
        BE,
        Source.RENTALS,
        "ascending",
        "Rentals lost or damaged in the last 24 months.",
        "A rental was lost or damaged",
        "Return rentals in good condition",
        fixed="a past fact: it cannot be changed, only ages out of the window",
    ),
    FeatureSpec(
        "active_months_12m",
        BE,
        Source.WALLET,
        "descending",
        "Months of the last 12 with wallet payments (regularity).",
        "Your payments are irregular",
        "Regular everyday use shows steady habits",
        not_an_input=VOLUME_NOT_RISK,
        action=_act("up", 1.0, 12.0, "Use your wallet for a payment every month"),
    ),
    FeatureSpec(
        "payment_evenness_12m",
        BE,
        Source.WALLET,
        "descending",
        "How evenly your wallet payments spread over the last 12 months: the months with a "
        "payment against the months that as many payments spread at random would cover "
        "(needs at least 6 payments). How much you use the wallet does not count.",
        "Your payments come in bursts with gaps between them",
        "A steady rhythm of everyday payments helps; paying more often does not",
        fill=None,
        fixed="a rhythm over twelve months that a plan cannot schedule step by step: "
        "keep paying steadily",
    ),
    FeatureSpec(
        "payment_bursts_12m",
        BE,
        Source.WALLET,
        "ascending",
        "How much the number of your wallet payments swings from month to month beyond "
        "chance, for the number you usually make (last 12 months; needs at least 12 "
        "payments).",
        "The number of your payments swings a lot from month to month",
        "Steady monthly habits help; paying more often does not",
        fill=None,
        fixed="a rhythm over twelve months that a plan cannot schedule step by step: "
        "keep paying steadily",
    ),
    # -- identity -------------------------------------------------------------------------
    FeatureSpec(
        "identity_verified",
        ID,
        Source.PROFILE,
        "descending",
        "Whether your identity is verified.",
        "Your identity is not verified",
        "Verify your identity in the profile source",
        action=_act("up", 1.0, 1.0, "Verify your identity in the profile source"),
    ),
    FeatureSpec(
        "address_tenure_months",
        ID,
        Source.PROFILE,
        "descending",
        "Months at your current address.",
        "You moved recently",
        "Nothing to do: tenure grows with time",
        fill=None,
        fixed="where you live: a plan never asks you to move or to stay",
    ),
    FeatureSpec(
        "phone_tenure_months",
        ID,
        Source.PROFILE,
        "descending",
        "Months with your current phone number.",
        "Your phone number is new",
        "Keep your number; tenure grows with time",
        fill=None,
        action=_time("Keep your phone number: its age grows one month a month"),
    ),
    # -- relationships (features/graph.py; computed from the last graph run) -----------------
    FeatureSpec(
        "network_trust",
        RE,
        Source.SOCIAL,
        "descending",
        "How much trust your long-standing connections carry: people you both know, with a "
        "verified identity, their own history and a good record. It can only add points: "
        "without it you score as someone who does not share connections.",
        "Your connections add few points (they can only add, never take away)",
        "Nothing you need to do: connections can only raise a score, never lower it",
        fixed="comes from other people's records, not from a step of yours",
    ),
)

FEATURES_BY_NAME: dict[str, FeatureSpec] = {f.name: f for f in FEATURES}
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
#: the features a new model trains on (every computed feature but the ``not_an_input`` ones)
MODEL_INPUTS: tuple[str, ...] = tuple(f.name for f in FEATURES if f.not_an_input is None)
