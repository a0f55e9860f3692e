"""Expressions compile to SQL from their parsed tree, per engine.

The DuckDB and Spark text of every named conformance expression is snapshot-tested
(``snapshots/<dialect>.sql``; run with ``CONFLUENS_UPDATE_SNAPSHOTS=1`` to rewrite after
review): Spark is not installed here, so its SQL is held to a reviewed text. The
normalisation (integer literals as BIGINT, fractions as DOUBLE, INTEGER as BIGINT)
gives the types the checker gives.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from confluens.plan.expressions import typed_expression
from confluens.plan.expressions.compile_sql import DIALECTS, sql, tree_for
from confluens.plan.expressions.conformance import CASES, TYPES

SNAPSHOTS = Path(__file__).parent / "snapshots"


def compiled(dialect: str) -> str:
    lines = []
    for area, texts in CASES.items():
        lines.append(f"-- {area}")
        for text in texts:
            lines.append(f"{text}\n  => {sql(typed_expression(text, TYPES, 'x'), dialect)}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_compiled_sql_matches_its_snapshot(dialect: str) -> None:
    text = compiled(dialect)
    path = SNAPSHOTS / f"{dialect}.sql"
    if os.environ.get("CONFLUENS_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text)
    assert path.exists(), f"no snapshot yet: run with CONFLUENS_UPDATE_SNAPSHOTS=1 ({path})"
    assert text == path.read_text(), f"{dialect}: compiled SQL changed; review, then update"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_compiled_sql_parses_back_in_its_dialect(dialect: str) -> None:
    for texts in CASES.values():
        for text in texts:
            out = sql(typed_expression(text, TYPES, "x"), dialect)
            assert sqlglot.parse_one(out, dialect=dialect) is not None, out


def test_literals_and_integer_casts_are_normalised_to_the_checked_types() -> None:
    e = typed_expression("CAST(n AS INTEGER) * 2 + 1.5", {"n": "int64"}, "derive 'x'")
    assert sql(e, "duckdb") == ("CAST(n AS BIGINT) * CAST(2 AS BIGINT) + "
                                "CAST(1.5 AS DOUBLE)")


def test_compiling_leaves_the_typed_tree_unchanged() -> None:
    e = typed_expression("n > 1", {"n": "int64"}, "where")
    before = e.tree.sql()
    tree_for(e).set("this", None)
    assert e.tree.sql() == before == "n > 1"


def test_an_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="no SQL dialect"):
        sql(typed_expression("n > 1", {"n": "int64"}, "where"), "oracle")
