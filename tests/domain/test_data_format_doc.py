"""docs/data-format.md and the event vocabulary say the same thing."""

from __future__ import annotations

from pathlib import Path

from openscore.domain.events import ALL_COLUMNS, EVENT_TYPES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "data-format.md").read_text()


def test_every_field_is_documented_with_its_description() -> None:
    for column in ALL_COLUMNS:
        line = next((x for x in DOC.splitlines() if x.startswith(f"| `{column.name}` |")), None)
        assert line is not None, f"{column.name} is not in docs/data-format.md"
        assert column.description in line, column.name
        for choice in column.choices if column.name != "type" else ():
            assert f"`{choice}`" in line, (column.name, choice)


def test_every_type_lists_its_source_and_required_fields() -> None:
    for etype, spec in EVENT_TYPES.items():
        line = next(x for x in DOC.splitlines() if x.startswith(f"| `{etype.value}` |"))
        assert f"`{spec.source.value}`" in line
        for name in spec.required:
            assert f"`{name}`" in line


def test_every_amount_field_states_the_accepted_range() -> None:
    from openscore.domain.events import MAX_AMOUNT, Kind

    for column in ALL_COLUMNS:
        if column.kind != Kind.AMOUNT:
            continue
        line = next(x for x in DOC.splitlines() if x.startswith(f"| `{column.name}` |"))
        assert f"| number, 0 to {MAX_AMOUNT:,.0f} |" in line, column.name
