"""Numbers: NaN and the infinities (issue 7, "Numbers").

By default a float64 field refuses them (rule ``finite:<column>``); a field declared with
``allow_nonfinite=True`` stores them, and every Range check still fails on them.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from confluens import Field
from confluens.errors import DefinitionError

NONFINITE = ["NaN", "nan", "inf", "-inf", "Infinity", "-Infinity", "1e309", "-1e309"]

DEFINITIONS = '''
from confluens import Field, Range, Source
tx = Source("tx", [Field("id", "int64"), Field("ts", "timestamp"),
                   Field("amount", "float64", allow_nonfinite={allow}),
                   Field("score", "float64", allow_nonfinite={allow})],
            "ts", id="id", checks=[Range("amount", min=0){extra}])
'''


def ingest_amounts(make_project, tmp_path: Path, amounts: list[str], *, allow: bool,
                   extra: str = ""):
    project = make_project(DEFINITIONS.format(allow=allow, extra=extra))
    project.apply()
    path = tmp_path / "in.csv"
    path.write_text("id,ts,amount,score\n" + "".join(
        f"{i},2024-01-01,{a},1\n" for i, a in enumerate(amounts)))
    run = project.ingest("tx", str(path))
    assert run.rows_in == run.accepted + run.quarantined + run.duplicates == len(amounts)
    return project, run


@pytest.mark.parametrize("value", NONFINITE)
def test_nonfinite_values_are_refused_by_default(make_project, tmp_path: Path,
                                                 value: str) -> None:
    project, run = ingest_amounts(make_project, tmp_path, [value], allow=False)
    assert (run.accepted, run.quarantined) == (0, 1)
    (row,) = project.quarantine("tx").to_pylist()
    assert row["rule"] == "finite:amount"
    assert row["rules"] == ["finite:amount", "range:amount"]
    assert f"finite:amount: '{value}' is not a finite number" in row["reason"]
    assert "allow_nonfinite=True" in row["reason"]


@pytest.mark.parametrize("value", NONFINITE)
def test_nonfinite_values_fail_every_range(make_project, tmp_path: Path, value: str) -> None:
    # a Range with bounds on both sides, one side, and one that any finite number passes
    for i, check in enumerate(['Range("amount", min=0)', 'Range("amount", max=10)',
                               'Range("amount", min=-1e308, max=1e308)']):
        folder = tmp_path / str(i)
        folder.mkdir()
        project = make_project(DEFINITIONS.format(allow=True, extra="").replace(
            'Range("amount", min=0)', check), name=f"p{i}")
        project.apply()
        (folder / "in.csv").write_text(f"id,ts,amount,score\n1,2024-01-01,{value},1\n")
        run = project.ingest("tx", str(folder / "in.csv"))
        assert (run.accepted, run.quarantined) == (0, 1), check
        assert project.quarantine("tx").column("rules").to_pylist() == [["range:amount"]]


def test_an_allowing_field_stores_them(make_project, tmp_path: Path) -> None:
    project, run = ingest_amounts(make_project, tmp_path, ["1"] * 4, allow=True)
    path = tmp_path / "scores.csv"
    path.write_text("id,ts,amount,score\n10,2024-01-01,1,NaN\n11,2024-01-01,1,inf\n"
                    "12,2024-01-01,1,-1e309\n")
    run = project.ingest("tx", str(path))
    assert run.accepted == 3
    table = project.table("tx", where="id >= 10")
    scores = sorted(table.column("score").to_pylist(), key=str)
    assert math.isnan(scores[2])
    assert scores[:2] == [-math.inf, math.inf]


def test_nonfinite_values_in_parquet_are_refused_too(make_project, tmp_path: Path) -> None:
    project = make_project(DEFINITIONS.format(allow=False, extra=""))
    project.apply()
    pq.write_table(pa.table({"id": [1, 2, 3], "ts": ["2024-01-01"] * 3,
                             "amount": [math.nan, math.inf, 2.5], "score": [1.0] * 3}),
                   tmp_path / "in.parquet")
    run = project.ingest("tx", str(tmp_path / "in.parquet"))
    assert (run.accepted, run.quarantined) == (1, 2)
    assert project.table("tx").column("amount").to_pylist() == [2.5]


def test_nonfinite_text_is_no_int() -> None:
    # int64 fields never hold them: a type failure, as for any non-integer
    assert Field("n", "int64").allow_nonfinite is False
    with pytest.raises(DefinitionError, match="allow_nonfinite applies only to float64"):
        Field("n", "int64", allow_nonfinite=True)


def test_nonfinite_in_an_int_column_is_a_type_failure(make_project, tmp_path: Path) -> None:
    project = make_project(DEFINITIONS.format(allow=False, extra=""))
    project.apply()
    (tmp_path / "in.csv").write_text("id,ts,amount,score\nNaN,2024-01-01,1,1\n"
                                     "inf,2024-01-01,1,1\n1e309,2024-01-01,1,1\n")
    run = project.ingest("tx", str(tmp_path / "in.csv"))
    assert run.quarantined == 3
    assert set(project.quarantine("tx").column("rule").to_pylist()) == {"type:id"}


def test_allow_nonfinite_enters_the_spec_only_when_set() -> None:
    assert "allow_nonfinite" not in Field("x", "float64").spec()
    assert Field("x", "float64", allow_nonfinite=True).spec()["allow_nonfinite"] is True
    with pytest.raises(DefinitionError, match="allow_nonfinite must be True or False"):
        Field("x", "float64", allow_nonfinite="yes")  # type: ignore[arg-type]
