"""The process the crash tests kill: one operation on the world named by the environment.

    python crash_child.py ingest FILE FURNISHER | compact | expire YEARS NOW_ISO
                          | erase PERSON | revoke PERSON SOURCE | backup DIR

It prints ``go`` when its imports and setup are done (so that the test's random kill
lands in the operation, not in the interpreter's start-up), then ``done`` at the end.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path


def main(op: str, *args: str) -> None:
    from openscore.backup import take_backup
    from openscore.config import get_settings
    from openscore.ingest import Ingester
    from openscore.ledger import Ledger, compact, expire
    from openscore.online import erase, registry_consent_gate, revoke_source
    from openscore.registry import engine_from_settings

    settings = get_settings()
    engine = engine_from_settings(settings)
    ledger = Ledger.open(settings)
    with engine.connect() as conn:  # the pool's first connection: part of the setup
        conn.exec_driver_sql("SELECT 1")
    print("go", flush=True)
    if op == "ingest":
        gate = registry_consent_gate(engine)
        Ingester(ledger, consent_gate=gate, settings=settings).run([Path(args[0])], args[1])
    elif op == "compact":
        compact(ledger, force=True)
    elif op == "expire":
        expire(ledger, retention_years=int(args[0]), now=datetime.fromisoformat(args[1]))
    elif op == "erase":
        erase(engine, args[0], actor="subject", settings=settings)
    elif op == "revoke":
        revoke_source(engine, args[0], args[1], actor="subject", settings=settings)
    elif op == "backup":
        take_backup(Path(args[0]), settings=settings, engine=engine)
    else:
        raise SystemExit(f"unknown operation {op}")
    print("done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
