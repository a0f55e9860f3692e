"""Every check type sends a failing record to quarantine, with its rule and a reason."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from confluens.errors import UserCodeError
from tests.helpers import write_csv

GOOD = [1, "2024-01-01 10:00:00", "c1", 10.0, "FR", "0001"]


def row(i: float | None, **changes: object) -> list[object]:
    values = dict(zip(["id", "ts", "customer", "amount", "country", "card"], GOOD, strict=True))
    values.update(id=i, card=f"{int(i or 0):04d}")
    values.update(changes)
    return list(values.values())


CASES = [
    ("not_null:customer", row(2, customer=None), "expected customer is not null"),
    ("range:amount", row(3, amount=-1), "expected 0 <= amount, got '-1.0'"),
    ("one_of:country", row(4, country="US"), "expected country is one of ['FR', 'DE'], got 'US'"),
    ("regex:card", row(5, card="12a4"), "expected card fully matches /[0-9]{4}/, got '12a4'"),
    ("unique:card", row(6, card="0001"), "value '0001' was seen before"),
    ("small_amount", row(7, amount=5000), "amount is below 1000"),
    ("type:amount", row(8, amount="ten"), "'ten' is not a valid float64"),
    ("type:id", row(9.5), "'9.5' is not a valid int64"),
    ("type:ts", row(10, ts="yesterday"), "'yesterday' is not a valid timestamp"),
    ("required:ts", row(11, ts=None), "ts is missing"),
    ("required:id", row(None), "id is missing"),
]


@pytest.mark.parametrize(("rule", "bad", "reason"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_quarantines_with_its_reason(tx_project, tmp_path: Path, rule: str,
                                               bad: list[object], reason: str) -> None:
    path = write_csv(tmp_path / "in.csv", [row(1), bad])
    run = tx_project.ingest("tx", str(path))
    assert (run.rows_in, run.accepted, run.quarantined, run.duplicates) == (2, 1, 1, 0)
    assert run.rules == {rule: 1}
    q = tx_project.quarantine("tx").to_pylist()
    assert len(q) == 1
    assert q[0]["rule"] == rule
    assert q[0]["rules"] == [rule]
    assert q[0]["reason"].startswith(f"{rule}: ")
    assert reason in q[0]["reason"]
    assert q[0]["position"] == 1
    assert q[0]["input"].endswith("in.csv")
    assert tx_project.table("tx").column("id").to_pylist() == [1]


def test_a_record_breaking_several_rules_lists_them_all(tx_project, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [row(1, customer=None, amount=-5, country="XX")])
    run = tx_project.ingest("tx", str(path))
    assert run.quarantined == 1
    (record,) = tx_project.quarantine("tx").to_pylist()
    assert record["rules"] == ["not_null:customer", "range:amount", "one_of:country"]
    assert record["rule"] == "not_null:customer"
    assert record["reason"].count("; ") == 2


def test_checks_other_than_not_null_pass_on_null(tx_project, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [row(1, amount=None, country=None, card=None)])
    run = tx_project.ingest("tx", str(path))
    assert (run.accepted, run.quarantined) == (1, 0)


def test_malformed_csv_line_is_quarantined_as_parse_only(tx_project, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    write_csv(path, [row(1)])
    with path.open("a") as fh:
        fh.write("2,2024-01-01,c2,1.0,FR,0002,surplus\n")
    run = tx_project.ingest("tx", str(path))
    assert (run.rows_in, run.accepted, run.quarantined) == (2, 1, 1)
    (record,) = tx_project.quarantine("tx").to_pylist()
    assert record["rules"] == ["parse"]
    assert "surplus" in record["record"]


def test_warn_checks_count_but_keep_the_record(make_project, tmp_path: Path) -> None:
    project = make_project('''
        from confluens import Source, Range
        tx = Source("tx", {"id": "int64", "ts": "timestamp", "amount": "float64"}, "ts",
                    id="id", checks=[Range("amount", max=100, on_fail="warn", name="big")])
    ''')
    project.apply()
    path = write_csv(tmp_path / "in.csv", [[1, "2024-01-01", 5], [2, "2024-01-01", 500]],
                     header=["id", "ts", "amount"])
    run = project.ingest("tx", str(path))
    assert (run.accepted, run.quarantined, run.warnings) == (2, 0, {"big": 1})


def test_custom_check_bug_keeps_the_user_traceback(make_project, tmp_path: Path) -> None:
    project = make_project('''
        from confluens import Source, Custom
        def broken(df):
            return df["no such column"] > 0
        tx = Source("tx", {"id": "int64", "ts": "timestamp"}, "ts", id="id",
                    checks=[Custom("id", fn=broken, name="broken")])
    ''')
    project.apply()
    path = write_csv(tmp_path / "in.csv", [[1, "2024-01-01"]], header=["id", "ts"])
    with pytest.raises(UserCodeError) as info:
        project.ingest("tx", str(path))
    assert isinstance(info.value.__cause__, KeyError)
    assert "broken" in str(info.value)
    frames = [f.name for f in traceback.extract_tb(info.value.__cause__.__traceback__)]
    assert "broken" in frames
    assert project.table("tx").num_rows == 0
    assert project.runs("tx")[-1].status == "failed"


def test_custom_check_must_return_one_boolean_per_record(make_project, tmp_path: Path) -> None:
    project = make_project('''
        from confluens import Source, Custom
        tx = Source("tx", {"id": "int64", "ts": "timestamp"}, "ts", id="id",
                    checks=[Custom("id", fn=lambda df: [True], name="short")])
    ''')
    project.apply()
    path = write_csv(tmp_path / "in.csv", [[1, "2024-01-01"], [2, "2024-01-01"]],
                     header=["id", "ts"])
    with pytest.raises(UserCodeError, match="one boolean per record"):
        project.ingest("tx", str(path))
