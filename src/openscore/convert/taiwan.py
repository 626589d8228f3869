"""The Taiwan "default of credit card clients" dataset (UCI, CC BY 4.0) as ledger events.

Yeh, I-C. & Lien, C-H. (2009), Expert Systems with Applications 36(2), 2473-2480;
UCI Machine Learning Repository, DOI 10.24432/C55S3H.

Mapping (one client = one person ``tw<ID>``, one card account ``tw<ID>-card``):

* ``credit_account`` opened 2005-03-15 (before the first statement; the true date is not
  in the data, so every client gets the same one and account age carries no signal),
  ``credit_limit`` = ``LIMIT_BAL``.
* six ``repayment`` events, April..September 2005, due on the 15th of the month:
  ``amount_due`` = ``BILL_AMT`` (negative balances -- credits -- clipped to 0),
  ``amount_paid`` = ``PAY_AMT`` (what was paid that month, kept whether or not it
  settled the instalment: the amounts are the signal the tabular models use).
  The status ``PAY_x`` is read as the dataset defines it, the account's arrears in that
  month: -2, -1, 0 (no consumption, paid duly, revolving) mean no arrears; ``k`` > 0
  means ``k`` months behind, i.e. the instalments due in the ``k`` months before are
  still unpaid then. An instalment is paid on its due date when the next month shows no
  arrears reaching back to it, else on the due date of the first later month whose
  arrears no longer reach it; the September instalment is unpaid when September shows
  arrears. One still unpaid on ``as_of`` (2005-09-30) has an empty ``paid_date``, so
  the days past due on ``as_of`` follow the latest status (``PAY_0`` = 1: 46 days, 2: 77).
* one ``profile_fact`` per client: identity, verified (the bank knows its clients). It
  is the same for everyone and carries no signal; nothing else in the data is a fact a
  person would declare that is not protected.
* ``outcomes.parquet``: ``default.payment.next.month`` as ``defaulted_12m`` with
  ``horizon_months`` = 1 (the dataset's horizon; the column name is shared with
  ``openscore synth`` so that one pipeline reads both).
* ``fairness.parquet``: ``SEX``, ``EDUCATION``, ``MARRIAGE``, ``AGE`` as given. They are
  protected attributes: they never appear in events, only in this side file for the
  fairness audit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from openscore.errors import InputError
from openscore.eventfiles import columns as col
from openscore.eventfiles.writer import RowGroupWriter, Staging, check_output_dir, sha256_file

AS_OF = date(2005, 9, 30)
OPENED = date(2005, 3, 15)
DUE_DAY = 15
#: (status column, bill column, paid column, month of 2005), oldest first.
MONTHS = (
    ("PAY_6", "BILL_AMT6", "PAY_AMT6", 4),
    ("PAY_5", "BILL_AMT5", "PAY_AMT5", 5),
    ("PAY_4", "BILL_AMT4", "PAY_AMT4", 6),
    ("PAY_3", "BILL_AMT3", "PAY_AMT3", 7),
    ("PAY_2", "BILL_AMT2", "PAY_AMT2", 8),
    ("PAY_0", "BILL_AMT1", "PAY_AMT1", 9),
)
TARGET = "default.payment.next.month"
PROTECTED = ("SEX", "EDUCATION", "MARRIAGE", "AGE")
REQUIRED = (
    "ID",
    "LIMIT_BAL",
    *PROTECTED,
    *(m[0] for m in MONTHS),
    *(m[1] for m in MONTHS),
    *(m[2] for m in MONTHS),
    TARGET,
)
NON_NEGATIVE = ("ID", "LIMIT_BAL", *(m[2] for m in MONTHS))

FAIRNESS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("SEX", pa.int64()),
        ("EDUCATION", pa.int64()),
        ("MARRIAGE", pa.int64()),
        ("AGE", pa.int64()),
    ]
)
OUTCOMES_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("as_of", pa.date32()),
        ("defaulted_12m", pa.int8()),
        ("horizon_months", pa.int8()),
    ]
)


def read_clients(path: Path) -> dict[str, np.ndarray]:
    """The CSV's columns as int64 arrays, or an ``InputError`` saying what is wrong."""
    if not path.is_file():
        raise InputError("no such file", path=str(path))
    try:
        table = pacsv.read_csv(path)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV ({exc})", path=str(path)) from None
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        raise InputError(
            f"not the Taiwan credit card dataset: missing columns {', '.join(missing)}",
            path=str(path),
        )
    if table.num_rows == 0:
        raise InputError("has a header but no rows", path=str(path))
    data: dict[str, np.ndarray] = {}
    for name in REQUIRED:
        column = table.column(name)
        if column.null_count:
            line = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0]) + 2
            raise InputError("empty value", path=str(path), line=line, field=name)
        if not pa.types.is_integer(column.type):
            values = column.to_numpy(zero_copy_only=False)
            bad = _first_non_integer(values)
            raise InputError(
                f"expected an integer, got {values[bad]!r}",
                path=str(path),
                line=bad + 2,
                field=name,
            )
        data[name] = column.to_numpy().astype(np.int64)
    for name in NON_NEGATIVE:
        negative = np.flatnonzero(data[name] < 0)
        if len(negative):
            raise InputError(
                f"must not be negative (got {data[name][negative[0]]})",
                path=str(path),
                line=int(negative[0]) + 2,
                field=name,
            )
    if len(np.unique(data["ID"])) != len(data["ID"]):
        raise InputError("IDs are not unique", path=str(path), field="ID")
    bad_target = np.flatnonzero(~np.isin(data[TARGET], (0, 1)))
    if len(bad_target):
        raise InputError(
            "must be 0 or 1", path=str(path), line=int(bad_target[0]) + 2, field=TARGET
        )
    return data


def _first_non_integer(values: np.ndarray) -> int:
    for i, v in enumerate(values):
        try:
            if float(v) != int(float(v)):
                return i
        except (TypeError, ValueError):
            return i
    return 0


def paid_months(arrears: np.ndarray) -> np.ndarray:
    """For each client (row) and instalment (column, oldest first): the index of the month
    by whose due date it was paid (its own index when on time), or the number of months
    when it is still unpaid at the end.

    ``arrears[:, j]`` = k > 0 says that in month j the instalments due in months
    j-k .. j-1 are unpaid; the instalment of month j itself is unpaid when k > 0 in the
    last month (there is no later month to say otherwise).
    """
    n, k = arrears.shape
    out = np.full((n, k), k, dtype=np.int64)
    for i in range(k - 1):
        for j in range(i + 1, k):
            settled = (j - arrears[:, j] > i) & (out[:, i] == k)
            out[settled, i] = i if j == i + 1 else j
    out[:, k - 1] = np.where(arrears[:, k - 1] > 0, k, k - 1)
    return out


def convert(path: Path, out: Path) -> dict[str, Any]:
    """Write the dataset's events, outcomes, fairness side file and manifest to ``out``."""
    path, out = Path(path), Path(out)
    check_output_dir(out)
    data = read_clients(path)
    n = len(data["ID"])
    width = max(5, len(str(int(data["ID"].max()))))
    id_matrix = col.text_matrix([b"tw", col.digits(data["ID"], width)], n)
    person_ids = col.fixed_strings(id_matrix)
    as_of_day = col.day_number(AS_OF)
    open_day = col.day_number(OPENED)
    us = col.US_PER_DAY

    account_ids = col.fixed_strings(col.text_matrix([id_matrix, b"-card"], n))
    accounts = col.event_table(
        n,
        {
            "event_id": col.fixed_strings(col.text_matrix([b"acc-", id_matrix], n)),
            "type": col.constant("credit_account", n),
            "person_id": person_ids,
            "source": col.constant("credit", n),
            "occurred_at": col.timestamps(np.full(n, open_day * us)),
            "account_id": account_ids,
            "action": col.constant("opened", n),
            "account_kind": col.constant("credit_card", n),
            "credit_limit": col.amounts(data["LIMIT_BAL"].astype(np.float64)),
        },
    )

    # Repayments: person-major (each client's six months together, oldest first).
    k = len(MONTHS)
    row_person = np.repeat(np.arange(n), k)
    month_index = np.tile(np.arange(k), n)
    status = np.column_stack([data[m[0]] for m in MONTHS]).ravel()
    bill = np.column_stack([data[m[1]] for m in MONTHS]).ravel().astype(np.float64)
    paid_amt = np.column_stack([data[m[2]] for m in MONTHS]).ravel().astype(np.float64)
    due_day = np.array([col.day_number(date(2005, m[3], DUE_DAY)) for m in MONTHS])[month_index]
    paid_month = paid_months(np.maximum(status.reshape(n, k), 0)).ravel()
    paid = paid_month < k
    month_days = np.array([col.day_number(date(2005, m[3], DUE_DAY)) for m in MONTHS])
    paid_day = np.where(paid, month_days[np.minimum(paid_month, k - 1)], due_day)
    month_tag = col.digits(np.array([m[3] for m in MONTHS])[month_index], 2)
    repayments = col.event_table(
        n * k,
        {
            "event_id": col.fixed_strings(
                col.text_matrix([b"rep-", id_matrix[row_person], b"-2005", month_tag], n * k)
            ),
            "type": col.constant("repayment", n * k),
            "person_id": person_ids.take(pa.array(row_person)),
            "source": col.constant("credit", n * k),
            "occurred_at": col.timestamps(np.where(paid, paid_day, due_day) * us),
            "account_id": account_ids.take(pa.array(row_person)),
            "due_date": col.dates(due_day),
            "paid_date": col.dates(paid_day, paid),
            "amount_due": col.amounts(np.maximum(bill, 0.0)),
            "amount_paid": col.amounts(paid_amt),
        },
    )
    profile = col.event_table(
        n,
        {
            "event_id": col.fixed_strings(col.text_matrix([b"pro-", id_matrix], n)),
            "type": col.constant("profile_fact", n),
            "person_id": person_ids,
            "source": col.constant("profile", n),
            "occurred_at": col.timestamps(np.full(n, open_day * us)),
            "fact": col.constant("identity", n),
            "verified": col.bools(np.ones(n, dtype=bool)),
        },
    )
    outcomes = pa.Table.from_pydict(
        {
            "person_id": person_ids,
            "as_of": col.dates(np.full(n, as_of_day)),
            "defaulted_12m": pa.array(data[TARGET].astype(np.int8)),
            "horizon_months": pa.array(np.ones(n, np.int8)),
        },
        schema=OUTCOMES_SCHEMA,
    )
    fairness = pa.Table.from_pydict(
        {"person_id": person_ids, **{c: pa.array(data[c]) for c in PROTECTED}},
        schema=FAIRNESS_SCHEMA,
    )

    with Staging(out) as staging:
        files: dict[str, dict[str, Any]] = {}
        outputs = {
            "events/credit/part-00000.parquet": [accounts, repayments],
            "events/profile/part-00000.parquet": [profile],
            "outcomes.parquet": [outcomes],
            "fairness.parquet": [fairness],
        }
        for rel, tables in outputs.items():
            writer = RowGroupWriter(staging.path / rel, tables[0].schema)
            for t in tables:
                writer.write(t)
            files[rel] = {"rows": writer.close(), "sha256": sha256_file(writer.path)}
        manifest = {
            "format": "openscore-convert/1",
            "dataset": "taiwan-default-of-credit-card-clients",
            "source_file": {"name": path.name, "sha256": sha256_file(path), "rows": n},
            "licence": "CC BY 4.0",
            "attribution": "Yeh, I-C. & Lien, C-H. (2009). Expert Systems with Applications "
            "36(2), 2473-2480; UCI Machine Learning Repository, DOI 10.24432/C55S3H",
            "as_of": AS_OF.isoformat(),
            "horizon_months": 1,
            "counts": {
                "people": n,
                "events": accounts.num_rows + repayments.num_rows + profile.num_rows,
                "sources": {
                    "credit": accounts.num_rows + repayments.num_rows,
                    "profile": profile.num_rows,
                },
                "types": {
                    "credit_account": accounts.num_rows,
                    "repayment": repayments.num_rows,
                    "profile_fact": profile.num_rows,
                },
                "defaulted": int(data[TARGET].sum()),
                "unpaid_repayments": int((~paid).sum()),
            },
            "files": dict(sorted(files.items())),
        }
        staging.commit(manifest)
    return manifest
