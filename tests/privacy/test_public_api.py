"""The public names of ``openscore.privacy`` are exactly those listed in ``__all__``, sorted."""

from __future__ import annotations

import openscore.privacy as package


def test_public_names_are_listed_once_sorted_and_exist() -> None:
    names = package.__all__
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    assert [n for n in names if not hasattr(package, n)] == []
    exported = {n for n in vars(package) if not n.startswith("_") and n.isidentifier()}
    modules = {n for n in exported if type(getattr(package, n)).__name__ == "module"}
    assert exported - modules - {"annotations"} == set(names)
