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


@pytest.mark.shared_data
def test_handbook_features_match_pandas_on_every_row(shared_data: Path) -> None:
    raw = pq.read_table(shared_data / "fraud" / "transactions_2018-04_to_08.parquet")
    df = raw.to_pandas()
    df["TX_DATETIME"] = pd.to_datetime(df["TX_DATETIME"])
    want = handbook(df).set_index("TRANSACTION_ID").sort_index()

    events = pa.table({
        "transaction_id": raw["TRANSACTION_ID"],
        "tx_datetime": raw["TX_DATETIME"].cast(pa.timestamp("us")).cast(
            pa.timestamp("us", tz="UTC")),
        "customer_id": raw["CUSTOMER_ID"].cast(pa.string()),
        "terminal_id": raw["TERMINAL_ID"].cast(pa.string()),
        "tx_amount": raw["TX_AMOUNT"], "tx_fraud": raw["TX_FRAUD"].cast(pa.int64()),
    })
    for view in (CUSTOMER, TERMINAL):
        got = (event_features(plan_view(view), events).to_pandas()
               .rename(columns={"__tie": "TRANSACTION_ID"}).set_index("TRANSACTION_ID")
               .sort_index())
        assert len(got) == len(want) == raw.num_rows
        for name in view.feature_names:
            np.testing.assert_allclose(got[name].to_numpy(dtype=float),
                                       want[name].to_numpy(dtype=float),
                                       rtol=1e-9, atol=1e-9, err_msg=name)
