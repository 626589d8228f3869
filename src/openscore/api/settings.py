"""Settings of the HTTP service only (env prefix ``OPENSCORE_API_``).

The platform-wide settings (data directory, registry URL, secret key, body and page
limits) stay in :class:`openscore.config.Settings`; what only the web service needs —
session lifetime, log-in limits, cookie flags — lives here, so that the CLI and batch jobs
never see it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Knobs of the API and its session machinery (the web portal reuses them)."""

    model_config = SettingsConfigDict(env_prefix="OPENSCORE_API_", extra="ignore")

    #: a session lasts this long from log-in, whatever happens (no sliding renewal: a
    #: stolen cookie is worth at most this much)
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60, le=30 * 86400)
    #: ``None``: Secure cookies in production only (127.0.0.1 in development is plain HTTP)
    cookie_secure: bool | None = None

    #: failed log-ins per login name, and per client address, within the window
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_ip: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    #: sign-ups per client address within the window (each costs an argon2 hash)
    signups_per_ip: int = Field(default=10, ge=1)
    signup_window_seconds: int = Field(default=3600, ge=1)

    #: requests per person that rewrite the ledger or rescore (consent changes, what-if,
    #: export, disputes) within the window: a person needs a few, a script could need
    #: a core's worth
    costly_requests_per_person: int = Field(default=120, ge=1)
    costly_window_seconds: int = Field(default=600, ge=1)
    #: how long an operator's enrolment code lets a person claim their registry id
    enrolment_code_max_age_seconds: int = Field(default=7 * 86400, ge=60)
    #: whether a disputed record stops counting while the dispute is open. Off: a record
    #: keeps counting (marked disputed) until the dispute is resolved, so that disputing
    #: an accurate record cannot raise a score; decisions made meanwhile tell the partner
    #: and offer a human review, and a resolution in the person's favour is notified to
    #: the partners (docs/model.md, "Disputes")
    disputes_exclude_while_open: bool = False
    #: the product catalogue (default: the one shipped with openscore)
    catalogue_path: Path | None = None
    #: how often the service looks for erasures and revocations a crash left unfinished
    #: (``openscore.online.recover``), and how old one must be to be taken over
    recovery_interval_seconds: float = Field(default=15.0, gt=0)
    recovery_min_age_seconds: float = Field(default=60.0, ge=0)
    #: registry connection pool (per worker process)
    pool_size: int = Field(default=10, ge=1)
    pool_max_overflow: int = Field(default=20, ge=0)
    #: the audit log's maximum merge delay: a decision's receipt promises its entry will be
    #: in the tree within this many seconds (the sequencer runs four times as often)
    audit_max_merge_delay_seconds: float = Field(default=1.0, gt=0, le=3600)
    #: run background jobs (audit sequencer, compaction, expiry) in this process; each job
    #: runs where its lease is held, so any number of servers may leave this on
    housekeeping: bool = True
    #: merge the ledger's appended segments (ingest batches, reports) once there are more
    #: than this outside the compacted run; the whole ledger is rewritten only when they
    #: have grown large (``ledger/compaction.py``)
    compact_above_segments: int = Field(default=32, ge=2)
    #: DuckDB's memory limit and threads for compaction inside a server: it spills to disk
    #: beyond the limit, and leaves the other core to requests
    compact_memory_limit: str = "2GB"
    compact_threads: int = Field(default=1, ge=1)
    #: how often expiry of negative records runs (seconds)
    expiry_interval_seconds: float = Field(default=3600.0, gt=0)
    #: how often the score-history job looks for a passed month-end with no points
    #: (seconds); it computes one only after ``openscore history backfill`` started a history
    history_interval_seconds: float = Field(default=3600.0, gt=0)
    #: requests handled at once per worker before new ones are answered 503 + Retry-After
    max_concurrent_requests: int = Field(default=64, ge=1)
    #: how long a request may wait for a slot before it is answered 503 (seconds)
    queue_timeout_seconds: float = Field(default=0.05, ge=0)
    #: decisions per partner per second across all workers (0: no limit), counted in the
    #: registry database (see docs/reliability.md)
    partner_decisions_per_second: int = Field(default=0, ge=0)
    #: where rate-limit counts are shared by every worker and server (e.g.
    #: ``redis://127.0.0.1:6379/0``); unset: each process counts on its own
    redis_url: str | None = None
    #: networks partner webhooks may be sent to although they are not public addresses
    #: (comma-separated CIDRs, e.g. "127.0.0.1/32" for a test receiver); default none
    webhook_allow_networks: str = ""
    #: how often the server's deliverer looks for due webhook events (0: no deliverer in
    #: this process, e.g. when a housekeeping worker calls ``deliver_due``)
    webhook_interval_seconds: float = Field(default=1.0, ge=0)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    #: attestation checks per client address within the window (``POST
    #: /v1/attestations/verify`` and the public ``/verify`` page together): each costs a
    #: signature check and an inquiry row, and needs no account, so an address that
    #: checks more waits (429 + Retry-After). Offline checks against the published keys
    #: are unlimited.
    attestation_verifications_per_ip: int = Field(default=60, ge=1)
    attestation_verify_window_seconds: int = Field(default=60, ge=1)
