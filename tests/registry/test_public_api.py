"""The registry's public surface is what ``__all__`` says, sorted, and nothing is missing."""

from __future__ import annotations

import inspect

import openscore.registry as registry


def test_all_is_sorted_and_every_name_exists() -> None:
    assert registry.__all__ == sorted(registry.__all__)
    assert len(set(registry.__all__)) == len(registry.__all__)
    for name in registry.__all__:
        assert hasattr(registry, name), name


def test_every_public_repository_function_is_exported() -> None:
    modules = [
        "people",
        "credentials",
        "consents",
        "partners",
        "grants",
        "inquiries",
        "disputes",
        "scores",
        "decisions",
        "idempotency",
        "locks",
        "dp_budget",
        "ingestion_runs",
        "engine",
        "migrate",
    ]
    exported = set(registry.__all__)
    skip = {"check_slug", "hash_api_key", "normalise_login", "audit_key", "alembic_config"}
    for module_name in modules:
        module = getattr(registry, module_name, None) or __import__(
            f"openscore.registry.{module_name}", fromlist=["_"]
        )
        for name, obj in vars(module).items():
            if (
                inspect.isfunction(obj)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
                and name not in skip
            ):
                assert name in exported, f"{module_name}.{name} is not re-exported"
