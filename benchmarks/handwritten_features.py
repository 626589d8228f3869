"""The baseline for benchmarks/pipeline.py: the same features as features/, written by hand
as one DuckDB SQL query over a table ``events`` (as an expert would, without Ibis).

It must compute exactly what ``build_features`` computes (without the graph feature);
tests/features/test_handwritten_baseline.py holds it to that on a synthetic world.
"""

from __future__ import annotations

from datetime import date, timedelta


def handwritten_sql(as_of: date) -> str:
    day = (as_of - date(1970, 1, 1)).days
    end = (as_of + timedelta(days=1)).isoformat()
    m = 30.4375
    return _rounded(f"""
WITH ev AS (
  SELECT *, CAST(floor(epoch(occurred_at) / 86400) AS BIGINT) AS day
  FROM events WHERE occurred_at < TIMESTAMPTZ '{end} 00:00:00+00'
),
flags AS (
  SELECT person_id,
    bool_or(source = 'wallet') AS has_wallet, bool_or(source = 'credit') AS has_credit,
    bool_or(source = 'rentals') AS has_rentals, bool_or(source = 'profile') AS has_profile,
    bool_or(source = 'social') AS has_social
  FROM ev GROUP BY person_id
),
rep AS (
  SELECT person_id, account_id, amount_due,
    (due_date - DATE '1970-01-01') AS due_day,
    {day} - (due_date - DATE '1970-01-01') AS age,
    CASE WHEN paid_date IS NOT NULL AND (paid_date - DATE '1970-01-01') <= {day}
         THEN greatest((paid_date - DATE '1970-01-01')
                       - (due_date - DATE '1970-01-01'), 0)
         ELSE {day} - (due_date - DATE '1970-01-01') END AS dpd,
    NOT (paid_date IS NOT NULL AND (paid_date - DATE '1970-01-01') <= {day}) AS unpaid,
    CASE WHEN paid_date IS NOT NULL AND (paid_date - DATE '1970-01-01') > {day} THEN 0.0
         ELSE coalesce(amount_paid, 0) END AS paid_so_far
  FROM ev WHERE type = 'repayment' AND (due_date - DATE '1970-01-01') <= {day}
),
rep_p AS (
  SELECT person_id,
    max(dpd) FILTER (WHERE age <= 730) AS worst_dpd_24m,
    max(dpd) FILTER (WHERE age <= 91) AS recent_dpd_3m,
    count(*) FILTER (WHERE age <= 730 AND dpd >= 30) AS late_30_24m,
    count(*) FILTER (WHERE age <= 730 AND dpd >= 90) AS late_90_24m,
    count(*) FILTER (WHERE age <= 730 AND unpaid AND dpd >= 90) AS defaults_24m,
    sum(CAST(round(amount_due * 100) AS BIGINT)) FILTER (WHERE age < 31) AS due_last_month,
    sum(CAST(round(paid_so_far * 100) AS BIGINT)) FILTER (WHERE age < 31) AS paid_last_month,
    sum(CAST(round(amount_due * 100) AS BIGINT)) FILTER (WHERE age >= 31 AND age < 62)
      AS due_prev_month,
    sum(CAST(round(greatest(amount_due - paid_so_far, 0) * 100) AS BIGINT))
      FILTER (WHERE unpaid AND dpd > 0) AS overdue,
    min(CAST(round(paid_so_far * 100) AS BIGINT)) FILTER (WHERE age < 183) AS min_paid_6m,
    min(due_day) AS first_due,
    max(dpd) FILTER (WHERE unpaid) AS current_dpd,
    max(due_day) FILTER (WHERE age <= 730 AND dpd > 0) AS last_late_day,
    sum(CAST(round(amount_due * 100) AS BIGINT)) FILTER (WHERE age < 183) AS due_6m,
    sum(CAST(round(paid_so_far * 100) AS BIGINT)) FILTER (WHERE age < 183) AS paid_6m,
    count(*) FILTER (WHERE age < 183 AND amount_due > 0 AND paid_so_far >= amount_due)
      AS paid_in_full_6m,
    count(*) FILTER (WHERE age < 183 AND amount_due > 0) AS balance_months_6m,
    count(*) FILTER (WHERE age < 183 AND amount_due > 0 AND NOT unpaid AND dpd = 0
                     AND paid_so_far < amount_due) AS revolved_on_time_6m
  FROM rep GROUP BY person_id
),
standing AS (
  SELECT person_id, count(*) FILTER (WHERE coalesce(worst, 0) < 30) AS accounts_good_standing
  FROM (SELECT person_id, account_id, max(dpd) FILTER (WHERE age <= 730) AS worst
        FROM rep GROUP BY person_id, account_id) GROUP BY person_id
),
lines AS (
  SELECT person_id, min(opened_day) AS first_opened,
         sum(CAST(round(credit_limit * 100) AS BIGINT)) FILTER (WHERE closed = 0) AS open_limit
  FROM (SELECT person_id, account_id,
          min(day) FILTER (WHERE action = 'opened') AS opened_day,
          max(credit_limit) FILTER (WHERE action = 'opened') AS credit_limit,
          count(*) FILTER (WHERE action = 'closed') AS closed
        FROM ev WHERE type = 'credit_account' GROUP BY person_id, account_id)
  GROUP BY person_id
),
records AS (
  SELECT person_id, count(*) AS live_public_records FROM ev
  WHERE type = 'public_record' AND expires_at >= TIMESTAMPTZ '{end} 00:00:00+00'
  GROUP BY person_id
),
facts AS (
  SELECT person_id,
    arg_max(amount, day * 1e12 + amount) FILTER (WHERE verified AND fact = 'income')
      AS verified_income,
    count(DISTINCT fact) FILTER (WHERE verified AND fact IN ('vehicle', 'property'))
      AS verified_assets,
    least(count(*) FILTER (WHERE fact = 'identity' AND verified), 1) AS identity_verified,
    bool_or(fact = 'identity') AS has_identity,
    max(day) FILTER (WHERE fact = 'address') AS address_since,
    max(day) FILTER (WHERE fact = 'phone') AS phone_since
  FROM ev WHERE type = 'profile_fact' GROUP BY person_id
),
monthly AS (
  SELECT person_id, CAST(floor(({day} - day) / {m}) AS BIGINT) AS month,
    sum(CAST(round(amount * 100) AS BIGINT)) AS total, count(*) AS payments
  FROM ev WHERE type = 'payment' AND day > {day} - 365 GROUP BY person_id, month
),
spend AS (
  SELECT person_id, sum(total) AS s, sum(total * total) AS ss, count(DISTINCT month) AS active,
    sum(payments) AS n, sum(payments * payments) AS nss
  FROM monthly GROUP BY person_id
),
bills AS (
  SELECT person_id, round(count(*) FILTER (WHERE paid_date IS NOT NULL AND paid_date <= due_date)
                          / count(*), 4) AS bills_on_time_12m
  FROM ev WHERE type = 'bill_payment'
    AND (due_date - DATE '1970-01-01') <= {day}
    AND (due_date - DATE '1970-01-01') > {day} - 365
  GROUP BY person_id
),
rentals AS (
  SELECT person_id,
    count(*) FILTER (WHERE due_back < TIMESTAMPTZ '{end} 00:00:00+00') AS finished,
    count(*) FILTER (WHERE due_back < TIMESTAMPTZ '{end} 00:00:00+00' AND returned_at IS NOT NULL
                     AND returned_at <= due_back
                     AND NOT coalesce(rental_outcome IN ('lost', 'damaged'), false)) AS on_time,
    count(*) FILTER (WHERE coalesce(rental_outcome IN ('lost', 'damaged'), false))
      AS rentals_lost_24m
  FROM ev WHERE type = 'rental' AND day > {day} - 730 GROUP BY person_id
)
{_select(day, m)}FROM flags f
LEFT JOIN rep_p USING (person_id) LEFT JOIN standing USING (person_id)
LEFT JOIN lines USING (person_id) LEFT JOIN records USING (person_id)
LEFT JOIN facts USING (person_id) LEFT JOIN spend USING (person_id)
LEFT JOIN bills USING (person_id) LEFT JOIN rentals USING (person_id)
""")


def _rounded(sql: str) -> str:
    """Every ``round(x, d)`` of ``sql`` as ``features.frame.rounded`` computes it (half away
    from zero, each step one IEEE operation), so the features are the same to the bit;
    ``round(x)`` (to whole cents) is left as it is."""
    out, i = [], 0
    while (j := sql.find("round(", i)) >= 0:
        if j and (sql[j - 1].isalnum() or sql[j - 1] == "_"):
            out.append(sql[i : j + 6])
            i = j + 6
            continue
        depth, comma, k = 0, -1, j + 6
        while True:
            c = sql[k]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
            elif c == "," and depth == 0:
                comma = k
            k += 1
        out.append(sql[i:j])
        if comma < 0:
            out.append(sql[j : k + 1])
        else:
            x, scale = sql[j + 6 : comma], f"1e{int(sql[comma + 1 : k])}"
            y = f"(abs({x}) * {scale} + 0.5)"
            out.append(f"(sign({x}) * ({y} - {y} % 1) / {scale})")
        i = k + 1
    out.append(sql[i:])
    return "".join(out)


def _select(day: int, m: float) -> str:
    """The feature columns from the per-person figures (both queries name them alike)."""
    return f"""SELECT f.person_id,
  CASE WHEN has_credit THEN CAST(CAST(floor(({day} - least(first_opened, first_due)) / {m})
       AS BIGINT) AS DOUBLE) END AS credit_age_months,
  CASE WHEN has_credit THEN CAST(coalesce(accounts_good_standing, 0) AS DOUBLE) END
    AS accounts_good_standing,
  CASE WHEN has_credit THEN CAST(coalesce(worst_dpd_24m, 0) AS DOUBLE) END AS worst_dpd_24m,
  CASE WHEN has_credit THEN CAST(coalesce(recent_dpd_3m, 0) AS DOUBLE) END AS recent_dpd_3m,
  CASE WHEN has_credit THEN CAST(coalesce(late_30_24m, 0) AS DOUBLE) END AS late_30_24m,
  CASE WHEN has_credit THEN CAST(coalesce(late_90_24m, 0) AS DOUBLE) END AS late_90_24m,
  CASE WHEN open_limit > 0
       THEN round(CAST(coalesce(due_last_month, 0) AS DOUBLE) / open_limit, 4) END
    AS utilisation,
  CASE WHEN has_credit THEN CAST(coalesce(defaults_24m, 0) AS DOUBLE) END AS defaults_24m,
  CAST(coalesce(live_public_records, 0) AS DOUBLE) AS live_public_records,
  CASE WHEN has_credit THEN CAST(coalesce(current_dpd, 0) AS DOUBLE) END AS current_dpd,
  CASE WHEN has_credit THEN coalesce(CAST(CAST(floor(({day} - last_late_day) / {m}) AS BIGINT)
       AS DOUBLE), 24.0) END AS months_since_late,
  CASE WHEN coalesce(due_6m, 0) > 0
       THEN round(least(CAST(coalesce(paid_6m, 0) AS DOUBLE) / coalesce(due_6m, 0), 2.0), 4)
  END AS paid_to_due_6m,
  CAST(paid_in_full_6m AS DOUBLE) AS paid_in_full_6m,
  CAST(balance_months_6m AS DOUBLE) AS balance_months_6m,
  CASE WHEN open_limit > 0
       THEN round((CAST(coalesce(due_last_month, 0) AS DOUBLE)
                   - CAST(coalesce(due_6m, 0) AS DOUBLE) / 6) / open_limit, 4) END
    AS utilisation_trend,
  CASE WHEN coalesce(due_prev_month, 0) > 0
       THEN round(least(CAST(coalesce(paid_last_month, 0) AS DOUBLE)
                        / coalesce(due_prev_month, 0), 2.0), 4) END AS paid_to_prev_due,
  CASE WHEN open_limit > 0
       THEN round(CAST(coalesce(overdue, 0) AS DOUBLE) / open_limit, 4) END AS overdue_to_limit,
  round(CAST(min_paid_6m AS DOUBLE) / 100, 2) AS min_paid_6m,
  CAST(revolved_on_time_6m AS DOUBLE) AS revolved_on_time_6m,
  verified_income,
  CASE WHEN active >= 3 THEN CAST(s // 12 AS DOUBLE) / 100 END AS monthly_spend_12m,
  CASE WHEN s / 12 > 0 AND active >= 6
       THEN round(sqrt(greatest(ss / 12 - (s / 12) * (s / 12), 0)) / (s / 12), 4)
  END AS spend_stability_12m,
  CASE WHEN has_profile THEN CAST(coalesce(verified_assets, 0) AS DOUBLE) END AS verified_assets,
  round(CAST(open_limit AS DOUBLE) / 100, 2) AS credit_limit,
  round(CAST(paid_6m // 6 AS DOUBLE) / 100, 2) AS amount_paid_6m,
  bills_on_time_12m,
  round(on_time / nullif(finished, 0), 4) AS rentals_on_time_24m,
  CASE WHEN has_rentals THEN CAST(coalesce(rentals_lost_24m, 0) AS DOUBLE) END
    AS rentals_lost_24m,
  CASE WHEN has_wallet THEN CAST(coalesce(active, 0) AS DOUBLE) END AS active_months_12m,
  CASE WHEN n >= 6 THEN round(active / (12.0 * (1.0 - exp(-CAST(n AS DOUBLE) / 12.0))), 4) END
    AS payment_evenness_12m,
  CASE WHEN n >= 12 THEN round(CAST(12 * nss - n * n - 12 * n AS DOUBLE)
                               / (CAST(n AS DOUBLE) * CAST(n AS DOUBLE)), 4) END
    AS payment_bursts_12m,
  CASE WHEN has_profile THEN CAST(coalesce(identity_verified, 0) AS DOUBLE) END
    AS identity_verified,
  CAST(floor(({day} - address_since) / {m}) AS DOUBLE) AS address_tenure_months,
  CAST(floor(({day} - phone_since) / {m}) AS DOUBLE) AS phone_tenure_months
"""
