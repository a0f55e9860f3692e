"""Point-in-time training sets through the public API."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from confluens.errors import InputError, UnknownNameError
from tests.helpers import write_csv

DEFS = '''
from confluens import Count, Entity, Events, FeatureView, Last, Source, Sum
tx = Source("tx", {"id": "int64", "ts": "timestamp", "card": "string", "amount": "float64"},
            "ts", id="id")
card = Entity("card", ["card"])
spend = FeatureView("spend", card, tx, [Count(window="1d"), Sum("amount", window="1d"),
                                        Last("amount", window=Events(2)),
                                        Count(window="1d", delay="1d")])
'''


@pytest.fixture
def project(make_project, tmp_path: Path):
    p = make_project(DEFS)
    p.apply()
    write_csv(tmp_path / "tx.csv", [[1, "2024-01-01 10:00:00", "a", 5.0],
                                    [2, "2024-01-01 12:00:00", "a", 7.0],
                                    [3, "2024-01-02 12:00:00", "a", 1.0],
                                    [4, "2024-01-01 12:00:00", "b", 3.0]],
              header=["id", "ts", "card", "amount"])
    p.ingest("tx", str(tmp_path / "tx.csv"))
    return p


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_values_are_as_of_each_spine_time(project) -> None:
    spine = pd.DataFrame({
        "card": ["a", "a", "a", "a", "b", "zzz"],
        "ts": [utc(2024, 1, 1, 9), utc(2024, 1, 1, 12), utc(2024, 1, 2, 11),
               utc(2024, 1, 4, 0), utc(2024, 1, 1, 12), utc(2024, 1, 2)],
        "label": [0, 1, 0, 1, 0, 1],
    })
    out = project.training_set(spine, ["spend"]).to_pandas()
    assert list(out.columns) == ["card", "ts", "label", "count_1d", "amount_sum_1d",
                                 "amount_last_last2", "count_1d_delay1d"]
    assert out["label"].tolist() == [0, 1, 0, 1, 0, 1]            # carried through, in order
    assert out["count_1d"].tolist() == [0, 2, 1, 0, 1, 0]          # 2 days later: 0, not 1
    assert out["amount_sum_1d"].tolist() == [0, 12.0, 7.0, 0, 3.0, 0]
    assert out["amount_last_last2"].isna().tolist() == [True, False, False, False, False, True]
    assert out["amount_last_last2"].tolist()[1:5] == [7.0, 7.0, 1.0, 3.0]
    # with a 1-day delay, at 2024-01-02 11:00 the window is (12-31 11:00, 01-01 11:00]
    assert out["count_1d_delay1d"].tolist() == [0, 0, 1, 1, 0, 0]


def test_as_of_ignores_records_ingested_later(project, tmp_path: Path) -> None:
    before = datetime.now(UTC)
    time.sleep(0.01)
    write_csv(tmp_path / "late.csv", [[5, "2024-01-01 11:00:00", "a", 100.0]],
              header=["id", "ts", "card", "amount"])
    project.ingest("tx", str(tmp_path / "late.csv"))
    spine = pa.table({"card": ["a"], "ts": pa.array([utc(2024, 1, 1, 12)],
                                                     pa.timestamp("us", tz="UTC"))})
    now = project.training_set(spine, ["spend:amount_sum_1d"]).to_pylist()[0]
    then = project.training_set(spine, ["spend:amount_sum_1d"], as_of=before).to_pylist()[0]
    assert now["amount_sum_1d"] == 112.0
    assert then["amount_sum_1d"] == 12.0


def test_an_empty_spine_gives_an_empty_training_set(project) -> None:
    spine = pd.DataFrame({"card": pd.Series([], dtype=str),
                          "ts": pd.Series([], dtype="datetime64[us, UTC]")})
    out = project.training_set(spine, ["spend"])
    assert out.num_rows == 0
    assert "count_1d" in out.column_names


def test_naive_spine_times_need_a_zone(project) -> None:
    spine = pd.DataFrame({"card": ["a"], "ts": [datetime(2024, 1, 1, 13)]})
    with pytest.raises(InputError, match="no time zone") as info:
        project.training_set(spine, ["spend"])
    assert "tz_localize" in info.value.fix
    # 13:00 in Paris is 12:00 UTC: both events of the day are in the window
    out = project.training_set(spine, ["spend:count_1d"], timezone="Europe/Paris")
    assert out.column("count_1d").to_pylist() == [2]


@pytest.mark.parametrize(("spine", "features", "error", "message"), [
    ({"ts": [utc(2024, 1, 1)]}, ["spend"], InputError, "lacks the key of entity 'card'"),
    ({"card": ["a"]}, ["spend"], InputError, "exactly one timestamp column"),
    ({"card": ["a"], "ts": [utc(2024, 1, 1)]}, ["spend:nope"], UnknownNameError,
     "has no such feature"),
    ({"card": ["a"], "ts": [utc(2024, 1, 1)]}, ["nope"], UnknownNameError,
     "no feature view has this name"),
    ({"card": ["a"], "ts": [utc(2024, 1, 1)]}, [], InputError, "at least one feature"),
    ({"card": ["a"], "ts": [utc(2024, 1, 1)], "count_1d": [1]}, ["spend"], InputError,
     "already has a column"),
    ({"card": ["a", "a"], "ts": [utc(2024, 1, 1), None]}, ["spend"], InputError,
     "needs a time on every row"),
])
def test_bad_spines_and_names(project, spine, features, error, message) -> None:
    with pytest.raises(error, match=message) as info:
        project.training_set(pd.DataFrame(spine), features)
    assert info.value.fix
