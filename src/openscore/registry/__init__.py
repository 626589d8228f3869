"""The registry: people, consents, grants, partners and keys, inquiries, disputes,
published scores, decisions, and the tamper-evident audit log (SQLAlchemy Core on SQLite
or PostgreSQL, Alembic migrations shipped in the package).

Every repository function takes a :class:`sqlalchemy.engine.Connection` and works inside
the caller's transaction, so that a state change and its audit entry commit or roll back
together::

    engine = engine_from_settings()
    upgrade(engine)
    with engine.begin() as conn:
        person = create_person(conn, actor="system")
        grant_consent(conn, person.id, "wallet", actor="subject")

Person-owned reads take the owner's id and answer :class:`~openscore.errors.NotFound` for
anyone else's object, so an id reveals nothing. ``docs/registry.md`` lists the tables and
the functions; ``docs/audit-log.md`` explains the log.
"""

from __future__ import annotations

from openscore.registry import attestations, audit, merkle, webhooks
from openscore.registry.audit import (
    AuditEntry,
    AuditVerification,
    ConsistencyProof,
    InclusionProof,
    TreeHead,
)
from openscore.registry.consents import (
    Consent,
    consent_history,
    consent_map,
    current_consents,
    grant_consent,
    revoke_consent,
)
from openscore.registry.corrections import (
    LOOKBACK,
    CorrectionNotice,
    decisions_to_correct,
    list_correction_notices,
    partner_notices,
    record_correction_notices,
)
from openscore.registry.credentials import (
    PasswordMatch,
    hash_password,
    login_of,
    match_password,
    set_credentials,
    upgrade_password_hash,
    verify_password,
)
from openscore.registry.decisions import (
    DecisionRecord,
    Review,
    close_review,
    get_decision,
    get_partner_decision,
    get_review,
    list_decisions,
    list_reviews,
    record_answered_decision,
    record_decision,
    request_review,
    review_queue,
)
from openscore.registry.disputes import (
    DISPUTE_PERIOD,
    Dispute,
    close_dispute,
    dispute_queue,
    excluded_records,
    file_dispute,
    get_dispute,
    has_open_dispute,
    list_disputes,
)
from openscore.registry.dp_budget import (
    DpRelease,
    DpSpend,
    dp_budget_spent,
    list_dp_releases,
    record_dp_release,
)
from openscore.registry.engine import (
    create_registry_engine,
    derive_audit_key,
    engine_from_settings,
    read_only,
)
from openscore.registry.grants import (
    Grant,
    create_grant,
    get_grant,
    list_grants,
    revoke_grant,
    usable_grant,
)
from openscore.registry.idempotency import (
    IdempotentResult,
    purge_idempotency_keys,
    request_hash,
    run_idempotent,
    stored_answer,
)
from openscore.registry.ingestion_runs import (
    IngestionRun,
    finish_ingestion_run,
    get_ingestion_run,
    list_ingestion_runs,
    start_ingestion_run,
)
from openscore.registry.inquiries import (
    Inquiry,
    get_inquiry,
    inquiry_proof,
    list_inquiries,
    record_inquiry,
)
from openscore.registry.locks import (
    ensure_unlocked,
    is_locked,
    lock_file,
    locked_since,
    unlock_file,
)
from openscore.registry.metadata import metadata, new_id, utc_now
from openscore.registry.migrate import (
    current_revision,
    downgrade,
    ensure_current,
    head_revision,
    upgrade,
)
from openscore.registry.partners import (
    ApiKey,
    ApiPrincipal,
    NewApiKey,
    Partner,
    authenticate_api_key,
    create_api_key,
    create_partner,
    deactivate_partner,
    get_partner,
    list_api_keys,
    list_partners,
    revoke_api_key,
    set_partner_products,
)
from openscore.registry.people import (
    Person,
    create_person,
    end_all_sessions,
    erase_person,
    export_person,
    get_person,
    person_exists,
    session_epoch,
)
from openscore.registry.scores import (
    PublishedScore,
    ScoreToPublish,
    current_score,
    publish_score,
    publish_scores,
    score_history,
)
from openscore.registry.suppression import (
    is_suppressed,
    lift_suppression,
    suppress,
    suppressed_ids,
)

__all__ = [
    "ApiKey",
    "ApiPrincipal",
    "AuditEntry",
    "AuditVerification",
    "Consent",
    "ConsistencyProof",
    "CorrectionNotice",
    "DISPUTE_PERIOD",
    "DecisionRecord",
    "Dispute",
    "DpRelease",
    "DpSpend",
    "Grant",
    "IdempotentResult",
    "InclusionProof",
    "IngestionRun",
    "Inquiry",
    "LOOKBACK",
    "NewApiKey",
    "Partner",
    "Person",
    "PublishedScore",
    "Review",
    "ScoreToPublish",
    "TreeHead",
    "attestations",
    "audit",
    "authenticate_api_key",
    "close_dispute",
    "close_review",
    "consent_history",
    "consent_map",
    "create_api_key",
    "create_grant",
    "create_partner",
    "create_person",
    "create_registry_engine",
    "current_consents",
    "current_revision",
    "current_score",
    "deactivate_partner",
    "decisions_to_correct",
    "derive_audit_key",
    "dispute_queue",
    "downgrade",
    "dp_budget_spent",
    "end_all_sessions",
    "engine_from_settings",
    "ensure_current",
    "ensure_unlocked",
    "erase_person",
    "excluded_records",
    "export_person",
    "file_dispute",
    "finish_ingestion_run",
    "get_decision",
    "get_dispute",
    "get_grant",
    "get_ingestion_run",
    "get_inquiry",
    "get_partner",
    "get_partner_decision",
    "get_person",
    "get_review",
    "grant_consent",
    "has_open_dispute",
    "head_revision",
    "inquiry_proof",
    "is_locked",
    "is_suppressed",
    "lift_suppression",
    "list_api_keys",
    "list_correction_notices",
    "list_decisions",
    "list_disputes",
    "list_dp_releases",
    "list_grants",
    "list_ingestion_runs",
    "list_inquiries",
    "list_partners",
    "list_reviews",
    "lock_file",
    "locked_since",
    "login_of",
    "merkle",
    "metadata",
    "new_id",
    "partner_notices",
    "person_exists",
    "publish_score",
    "publish_scores",
    "purge_idempotency_keys",
    "read_only",
    "record_answered_decision",
    "record_correction_notices",
    "record_decision",
    "record_dp_release",
    "record_inquiry",
    "request_hash",
    "request_review",
    "review_queue",
    "revoke_api_key",
    "revoke_consent",
    "revoke_grant",
    "run_idempotent",
    "score_history",
    "session_epoch",
    "set_credentials",
    "set_partner_products",
    "start_ingestion_run",
    "stored_answer",
    "suppress",
    "suppressed_ids",
    "unlock_file",
    "upgrade",
    "usable_grant",
    "utc_now",
    "verify_password",
    "PasswordMatch",
    "hash_password",
    "match_password",
    "upgrade_password_hash",
    "webhooks",
]
