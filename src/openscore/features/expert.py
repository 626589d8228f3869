"""The expert scorecard over the event features (``expert.yaml``), with the catalog's texts."""

from __future__ import annotations

from pathlib import Path

import yaml

from openscore.features.catalog import FEATURES_BY_NAME
from openscore.model import Scorecard, compile_expert

EXPERT_YAML = Path(__file__).with_name("expert.yaml")


def expert_scorecard(path: Path = EXPERT_YAML) -> Scorecard:
    """Compile the expert YAML; descriptions, reasons and advice come from the catalog."""
    spec = yaml.safe_load(path.read_text())
    for name, feature in spec["features"].items():
        catalog = FEATURES_BY_NAME[name]
        feature.setdefault("type", "numeric")
        feature.setdefault("description", catalog.description)
        feature.setdefault("reason", catalog.reason)
        feature.setdefault("improve", catalog.improve)
    return compile_expert(spec, path=str(path))
