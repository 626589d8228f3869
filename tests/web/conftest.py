"""The page tests' fixtures live in ``tests/web/world.py``."""

from __future__ import annotations

from web.world import cheap_hashes, web  # noqa: F401
