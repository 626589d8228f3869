"""The append-only event ledger: Parquet segments + an atomically committed manifest."""

from openscore.ledger.compaction import compact, merge_appended, tidy
from openscore.ledger.erasure import erase_person, purge_source
from openscore.ledger.expiry import expire, negative_record_sql
from openscore.ledger.manifest import Batch, Manifest, Segment
from openscore.ledger.pending import PendingOp, pending_operations
from openscore.ledger.repair import RepairReport, repair
from openscore.ledger.stats import latest_event, ledger_stats
from openscore.ledger.store import Ledger, Snapshot, WriteTxn
from openscore.ledger.verify import VerifyReport, verify

__all__ = [
    "Batch",
    "Ledger",
    "Manifest",
    "PendingOp",
    "RepairReport",
    "Segment",
    "Snapshot",
    "VerifyReport",
    "WriteTxn",
    "compact",
    "merge_appended",
    "tidy",
    "erase_person",
    "expire",
    "latest_event",
    "ledger_stats",
    "negative_record_sql",
    "pending_operations",
    "purge_source",
    "repair",
    "verify",
]
