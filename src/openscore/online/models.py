"""The model in service: one scorecard file in the models directory, named by a pointer.

``models/current`` holds the file name of the scorecard that online scoring and
publication use. Switching models is writing that pointer (atomically); the previous
model files stay for the record (every published score names its model id).
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from openscore.config import Settings, get_settings
from openscore.errors import NotFound
from openscore.ledger.durable import atomic_write_bytes
from openscore.model import Scorecard
from openscore.scoring.person import refuse_audit_only

_cache: dict[Path, tuple[float, Scorecard]] = {}
_lock = threading.Lock()


def install_model(path: Path, settings: Settings | None = None) -> Path:
    """Copy a scorecard into the models directory and make it the current one."""
    settings = settings or get_settings()
    card = Scorecard.load(path)
    refuse_audit_only(card)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    target = settings.models_dir / f"{card.model_id}.json"
    if Path(path).resolve() != target.resolve():
        shutil.copyfile(path, target)
    atomic_write_bytes(settings.models_dir / "current", target.name.encode())
    return target


def current_model_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    pointer = settings.models_dir / "current"
    if not pointer.exists():
        raise NotFound(
            "no model is in service yet: train one (openscore train) or install one "
            "(openscore model use FILE)"
        )
    return settings.models_dir / pointer.read_text().strip()


def current_model(settings: Settings | None = None) -> Scorecard:
    """The scorecard in service (cached until its file changes)."""
    path = current_model_path(settings)
    mtime = path.stat().st_mtime
    with _lock:
        hit = _cache.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
    card = Scorecard.load(path)
    with _lock:
        _cache[path] = (mtime, card)
    return card
