"""The Fraud Detection Handbook's baseline features on its real data, row for row.

The reference is the handbook's own construction in pandas: rolling windows over
(t - n days, t] per customer, and for terminals the difference of two rolling counts,
(t - d - n, t] minus (t - d, t], with d = 7 days.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from confluens.core import Count, Entity, FeatureView, Mean, Ratio, Source, Sum
from confluens.plan import event_features, plan_view

DAYS = (1, 7, 30)
DELAY = 7

TX = Source("transactions", {"transaction_id": "int64", "tx_datetime": "timestamp",
                             "customer_id": "string", "terminal_id": "string",
                             "tx_amount": "float64", "tx_fraud": "int64"},
            "tx_datetime", id="transaction_id")
CUSTOMER = FeatureView(
    "customer_spending", Entity("customer", ["customer_id"]), TX,
    features=[f for n in DAYS for f in (Count(window=f"{n}d"), Mean("tx_amount", window=f"{n}d"))],
    derive={"tx_during_weekend": "CAST(isodow(tx_datetime) >= 6 AS INTEGER)",
            "tx_during_night": "CAST(hour(tx_datetime) <= 6 AS INTEGER)"})
TERMINAL = FeatureView(
    "terminal_risk", Entity("terminal", ["terminal_id"]), TX,
    features=[f for n in DAYS for f in (
        Count(window=f"{n}d", delay=f"{DELAY}d"),
        Ratio(Sum("tx_fraud", window=f"{n}d", delay=f"{DELAY}d"),
              Count(window=f"{n}d", delay=f"{DELAY}d"), empty=0.0,
              name=f"terminal_risk_{n}d_delay{DELAY}d"))])


def handbook(df: pd.DataFrame) -> pd.DataFrame:
    """The handbook's feature code, restated: pandas rolling windows on sorted rows."""
    df = df.sort_values(["TX_DATETIME", "TRANSACTION_ID"]).reset_index(drop=True)
    out = pd.DataFrame({"TRANSACTION_ID": df["TRANSACTION_ID"]})
    for n in DAYS:
        rolled = (df.set_index("TX_DATETIME").groupby("CUSTOMER_ID", sort=False)["TX_AMOUNT"]
                  .rolling(f"{n}D"))
        count = rolled.count().reset_index(level=0, drop=True)
        mean = rolled.mean().reset_index(level=0, drop=True)
        aligned = _align(df, "CUSTOMER_ID", count, mean)
        out[f"count_{n}d"] = aligned[0]
        out[f"tx_amount_mean_{n}d"] = aligned[1]
    for n in DAYS:
        def rolling_sum(column: str, days: int, frame: pd.DataFrame = df) -> np.ndarray:
            s = (frame.set_index("TX_DATETIME").groupby("TERMINAL_ID", sort=False)[column]
                 .rolling(f"{days}D").sum().reset_index(level=0, drop=True))
            return _align_one(frame, "TERMINAL_ID", s)

        ones = df.assign(ONE=1)
        nb_delay = rolling_sum("ONE", DELAY, ones)
        nb_window = rolling_sum("ONE", DELAY + n, ones)
        fraud_delay = rolling_sum("TX_FRAUD", DELAY, ones)
        fraud_window = rolling_sum("TX_FRAUD", DELAY + n, ones)
        count = nb_window - nb_delay
        out[f"count_{n}d_delay{DELAY}d"] = count
        with np.errstate(invalid="ignore", divide="ignore"):
            risk = (fraud_window - fraud_delay) / count
        out[f"terminal_risk_{n}d_delay{DELAY}d"] = np.where(count > 0, risk, 0.0)
    return out


def _align_one(df: pd.DataFrame, key: str, values: pd.Series) -> np.ndarray:
    """Put groupby-rolling results (grouped order) back in the frame's row order."""
    positions = np.concatenate([idx for _, idx in df.groupby(key, sort=False).indices.items()])
    result = np.empty(len(df))
    result[positions] = values.to_numpy()
    return result


def _align(df: pd.DataFrame, key: str, *series: pd.Series) -> list[np.ndarray]:
    return [_align_one(df, key, s) for s in series]


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> tuple[pa.Table, pd.DataFrame]:
    """The raw data, and the handbook features computed by pandas (slow: computed once)."""
    raw = pq.read_table(shared_data / "fraud" / "transactions_2018-04_to_08.parquet")
    df = raw.to_pandas()
    df["TX_DATETIME"] = pd.to_datetime(df["TX_DATETIME"])
    return raw, handbook(df).set_index("TRANSACTION_ID").sort_index()


def _events(raw: pa.Table) -> pa.Table:
    return pa.table({
        "transaction_id": raw["TRANSACTION_ID"],
        "tx_datetime": raw["TX_DATETIME"].cast(pa.timestamp("us")).cast(
            pa.timestamp("us", tz="UTC")),
        "customer_id": raw["CUSTOMER_ID"].cast(pa.string()),
        "terminal_id": raw["TERMINAL_ID"].cast(pa.string()),
        "tx_amount": raw["TX_AMOUNT"], "tx_fraud": raw["TX_FRAUD"].cast(pa.int64()),
    })


def _assert_features(got: pd.DataFrame, want: pd.DataFrame, names: list[str]) -> None:
    for name in names:
        np.testing.assert_allclose(got[name].to_numpy(dtype=float),
                                   want[name].to_numpy(dtype=float),
                                   rtol=1e-9, atol=1e-9, err_msg=name)


@pytest.mark.shared_data
def test_handbook_features_match_pandas_on_every_row(reference) -> None:
    raw, want = reference
    events = _events(raw)
    for view in (CUSTOMER, TERMINAL):
        got = (event_features(plan_view(view), events).to_pandas()
               .rename(columns={"__tie": "TRANSACTION_ID"}).set_index("TRANSACTION_ID")
               .sort_index())
        assert len(got) == len(want) == raw.num_rows
        _assert_features(got, want, view.feature_names)


HANDBOOK_PROJECT = '''
from tests.features.test_handbook_features import CUSTOMER, TERMINAL, TX
'''


def chapter3_split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The handbook's Chapter 3 protocol: a week of training, a week of delay, a week of
    test, without the cards already known to be compromised."""
    day = (df["TX_DATETIME"] - pd.Timestamp("2018-04-01")).dt.days
    start = (pd.Timestamp("2018-07-25") - pd.Timestamp("2018-04-01")).days
    train = df[(day >= start) & (day < start + 7)]
    known = set(train.loc[train["TX_FRAUD"] == 1, "CUSTOMER_ID"])
    test_days = []
    for d in range(7):
        test_day = df[day == start + 14 + d]
        delay_day = df[day == start + 7 + d - 1]
        known |= set(delay_day.loc[delay_day["TX_FRAUD"] == 1, "CUSTOMER_ID"])
        test_days.append(test_day[~test_day["CUSTOMER_ID"].isin(known)])
    return train, pd.concat(test_days)


@pytest.mark.shared_data
def test_chapter3_training_and_test_sets_through_a_project(reference, make_project,
                                                           tmp_path: Path) -> None:
    raw, want = reference
    pq.write_table(_events(raw), tmp_path / "transactions.parquet")
    project = make_project(HANDBOOK_PROJECT)
    project.apply()
    run = project.ingest("transactions", str(tmp_path / "transactions.parquet"))
    assert (run.accepted, run.quarantined, run.duplicates) == (raw.num_rows, 0, 0)
    features = None
    for view in ("customer_spending", "terminal_risk"):
        table = (project.event_features(view).to_pandas()
                 .rename(columns={"__tie": "TRANSACTION_ID"}).set_index("TRANSACTION_ID")
                 .drop(columns=["customer_id", "terminal_id", "tx_datetime"],
                       errors="ignore"))
        features = table if features is None else features.join(table)
    assert features is not None

    df = raw.to_pandas()
    df["TX_DATETIME"] = pd.to_datetime(df["TX_DATETIME"])
    train, test = chapter3_split(df)
    assert (len(train), int(train["TX_FRAUD"].sum())) == (67_240, 598)
    assert (len(test), int(test["TX_FRAUD"].sum())) == (58_264, 385)
    for split in (train, test):
        ids = split["TRANSACTION_ID"].sort_values().to_numpy()
        _assert_features(features.loc[ids], want.loc[ids],
                         CUSTOMER.feature_names + TERMINAL.feature_names)
