"""Features from a project's stored records, through the public API."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import confluens
from confluens.datagen import FraudSimulation, write_fraud_dataset
from confluens.errors import InputError


def test_fraud_template_customer_features(tmp_path: Path) -> None:
    root = confluens.init(tmp_path / "fraud")
    write_fraud_dataset(root / "data", FraudSimulation(n_customers=40, n_terminals=80,
                                                      n_days=20))
    with confluens.open(root) as project:
        assert "feature_view:customer_spending" in project.apply().added
        with pytest.raises(InputError, match="holds no records"):
            project.event_features("customer_spending")
        run = project.ingest("transactions")
        table = project.event_features("customer_spending").to_pandas()
        assert len(table) == run.accepted
        assert list(table.columns[:3]) == ["customer_id", "tx_datetime", "__tie"]
        # counts include the current transaction, so they are at least 1 and grow with n
        assert (table["customer_nb_tx_1d"] >= 1).all()
        assert (table["customer_nb_tx_1d"] <= table["customer_nb_tx_7d"]).all()
        assert (table["customer_nb_tx_7d"] <= table["customer_nb_tx_30d"]).all()
        # spot-check one row against a direct count
        stored = project.table("transactions", format="pandas")
        row = table.iloc[len(table) // 2]
        same = stored[(stored.customer_id == row.customer_id)
                      & (stored.tx_datetime > row.tx_datetime - pd.Timedelta(days=7))
                      & ((stored.tx_datetime < row.tx_datetime)
                         | ((stored.tx_datetime == row.tx_datetime)
                            & (stored.transaction_id <= row["__tie"])))]
        assert row["customer_nb_tx_7d"] == len(same)
        assert row["customer_avg_amount_7d"] == pytest.approx(same.tx_amount.mean())


def test_known_at_views_count_only_what_was_known(make_project, tmp_path: Path) -> None:
    project = make_project('''
        from confluens import Count, Entity, Events, FeatureView, Source, Sum
        labels = Source("labels", {"id": "int64", "ts": "timestamp", "t": "string",
                                   "fraud": "int64", "known": "timestamp"}, "ts", id="id",
                        known_at="known")
        risk = FeatureView("risk", Entity("terminal", ["t"]), labels,
                           [Count(window="7d"), Sum("fraud", window="7d")])
        recent = FeatureView("recent", Entity("terminal", ["t"]), labels,
                             [Count(window=Events(3))])
    ''')
    project.apply()
    (tmp_path / "l.csv").write_text(
        "id,ts,t,fraud,known\n"
        "1,2024-01-01,x,1,2024-01-05\n"      # a fraud reported four days later
        "2,2024-01-02,x,0,2024-01-02\n")
    project.ingest("labels", str(tmp_path / "l.csv"))
    rows = project.event_features("risk").to_pylist()
    # at 01-02 the fraud of 01-01 is not known yet: one label in the window, no fraud
    assert [(r["count_7d"], r["fraud_sum_7d"]) for r in rows] == [(0, 0), (1, 0)]
    spine = pd.DataFrame({"t": ["x", "x"], "ts": pd.to_datetime(
        ["2024-01-04", "2024-01-06"], utc=True)})
    out = project.training_set(spine, ["risk"]).to_pydict()
    assert out["count_7d"] == [1, 2]
    assert out["fraud_sum_7d"] == [0, 1]
    # the 3 latest labels known at each time: the late fraud counts from 01-05 on
    assert [r["count_last3"] for r in project.event_features("recent").to_pylist()] == [0, 1]
    recent = project.training_set(spine, ["recent"]).to_pydict()
    assert recent["count_last3"] == [1, 2]
