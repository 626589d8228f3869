"""One score range: ``domain/bands.py`` writes 350 and 950; everything else reads them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

import openscore
from openscore.config import Settings
from openscore.domain.bands import BANDS, SCORE_MAX, SCORE_MIN, band_of
from openscore.model.format import Scaling
from openscore.privacy.mechanisms import SCORE_CENTRE, SCORE_HIGH, SCORE_LOW
from openscore.services.schemas import ScorePublic

SRC = Path(openscore.__file__).parent
#: the one source, and Alembic's history (a migration is a snapshot: it must not move
#: when the range does; ``test_the_migrated_check_is_the_range`` holds it to the source)
EXEMPT = {SRC / "domain" / "bands.py"}
EXEMPT_DIRS = {SRC / "registry" / "migrations" / "versions"}
LITERALS = {SCORE_MIN, SCORE_MAX}
WORD = re.compile(rf"\b({SCORE_MIN}|{SCORE_MAX})\b")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose may name the range)."""
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                out.add(id(value))
    return out


def second_literals(root: Path) -> list[str]:
    """Every number 350/950 in code, or in a string that is not a docstring, under root;
    and every 350/950 in a template."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path in EXEMPT or any(d in path.parents for d in EXEMPT_DIRS):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or id(node) in docs:
                continue
            value = node.value
            if isinstance(value, bool):
                continue
            hit = value in LITERALS if isinstance(value, int | float) else False
            hit = hit or (isinstance(value, str) and bool(WORD.search(value)))
            if hit:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {value!r}")
    for path in sorted(root.rglob("*.html")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WORD.search(line):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    return found


def test_no_second_literal_of_the_range_in_src() -> None:
    assert second_literals(SRC) == []


def test_the_scan_finds_a_second_literal(tmp_path: Path) -> None:
    """The scan itself can fail: a number, a message and a page each count; prose does not."""
    (tmp_path / "a.py").write_text(
        '"""Scores run from 350 to 950."""\n'
        "LOW = 350\n"
        'def f():\n    """350-950 in a docstring is prose."""\n'
        '    raise ValueError("must lie in 350-950")\n'
    )
    (tmp_path / "page.html").write_text("<p>from 350 to 950</p>\n")
    assert second_literals(tmp_path) == [
        "a.py:2: 350",
        "a.py:5: 'must lie in 350-950'",
        "page.html:1: <p>from 350 to 950</p>",
    ]


def test_every_reader_has_the_source_range() -> None:
    assert (BANDS[0].low, BANDS[-1].high) == (SCORE_MIN, SCORE_MAX)
    assert (Scaling().score_min, Scaling().score_max) == (SCORE_MIN, SCORE_MAX)
    assert (SCORE_LOW, SCORE_HIGH) == (SCORE_MIN, SCORE_MAX)
    assert SCORE_CENTRE == (SCORE_MIN + SCORE_MAX) // 2
    bounds = {m.__class__.__name__: m for m in ScorePublic.model_fields["score"].metadata}
    assert (bounds["Ge"].ge, bounds["Le"].le) == (SCORE_MIN, SCORE_MAX)
    # the range is not a setting: an environment cannot move it away from the bands
    assert "score_min" not in Settings.model_fields
    assert "score_max" not in Settings.model_fields
    band_of(SCORE_MIN)
    band_of(SCORE_MAX)
    with pytest.raises(ValueError):
        band_of(SCORE_MAX + 1)


def test_the_migrated_check_is_the_range(registry_engine: sa.Engine) -> None:
    """The registry's check, as Alembic created it, holds exactly the source's range."""
    table = "published_scores"
    with registry_engine.begin() as conn:
        person = "range-0001"
        conn.execute(
            sa.text("INSERT INTO people (id, created_at) VALUES (:id, CURRENT_TIMESTAMP)"),
            {"id": person},
        )
        for score, ok in (
            (SCORE_MIN - 1, False),
            (SCORE_MIN, True),
            (SCORE_MAX, True),
            (SCORE_MAX + 1, False),
        ):
            nested = conn.begin_nested()
            try:
                conn.execute(
                    sa.text(
                        f"INSERT INTO {table} (person_id, score, band, dimensions, reasons, "
                        "model_id, as_of, published_at) VALUES (:p, :s, 'good', '{}', '[]', "
                        "'m', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"p": person, "s": score},
                )
                nested.commit()
                stored = True
            except sa.exc.IntegrityError:
                nested.rollback()
                stored = False
            assert stored is ok, score
