"""The online store: window values evaluated at read time, equal to the offline ones."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import confluens
from confluens.datagen import FraudSimulation, write_fraud_dataset


@pytest.fixture(scope="module")
def fraud(tmp_path_factory: pytest.TempPathFactory):
    root = confluens.init(tmp_path_factory.mktemp("online") / "fraud")
    write_fraud_dataset(root / "data", FraudSimulation(n_customers=60, n_terminals=120,
                                                      n_days=45, seed=3))
    project = confluens.open(root)
    project.apply()
    project.ingest("transactions")
    project.ingest("fraud_labels")
    yield project
    project.close()


def same(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)  # type: ignore[arg-type]


@pytest.mark.parametrize(("view", "key", "source"), [
    ("customer_spending", "customer_id", "transactions"),
    ("terminal_risk", "terminal_id", "fraud_labels"),
])
def test_online_values_equal_offline_values_at_the_same_time(fraud, view: str, key: str,
                                                             source: str) -> None:
    results = fraud.materialize([view])
    assert results[0].entities > 0
    stored = fraud.table(source, format="pandas")
    latest = stored["tx_datetime"].max()
    keys = [*sorted(stored[key].unique())[:25], "no-such-entity"]
    for offset in (timedelta(0), timedelta(hours=5), timedelta(days=2), timedelta(days=40)):
        at = (latest + offset).to_pydatetime()
        online = fraud.online_features(view, keys, at=at)
        spine = pd.DataFrame({key: keys, "ts": [latest + offset] * len(keys)})
        offline = fraud.training_set(spine, [view]).to_pandas()
        for i, values in enumerate(online):
            for name, value in values.items():
                assert same(value, offline[name].iloc[i]), (view, offset, keys[i], name)


def test_values_decay_as_time_passes(fraud) -> None:
    fraud.materialize(["customer_spending"])
    stored = fraud.table("transactions", format="pandas")
    customer = stored["customer_id"].iloc[-1]
    latest = stored["tx_datetime"].max().to_pydatetime()
    now = fraud.online_features("customer_spending", [customer], at=latest)[0]
    later = fraud.online_features("customer_spending", [customer],
                                  at=latest + timedelta(days=2))[0]
    assert now["customer_nb_tx_1d"] >= 1
    assert later["customer_nb_tx_1d"] == 0, "a 1-day count two days later is 0"
    assert later["customer_avg_amount_1d"] is None


def test_rerun_skips_unchanged_views_and_writes_the_offline_table(fraud) -> None:
    first = fraud.materialize()
    again = fraud.materialize()
    assert [r.skipped for r in again] == [True] * len(first)
    table = fraud.feature_tables
    rows = fraud.table("transactions").num_rows
    assert table.row_count("customer_spending") == rows


def test_a_full_vector_across_views_is_each_views_values(fraud) -> None:
    fraud.materialize()
    stored = fraud.table("transactions", format="pandas")
    row = stored.iloc[len(stored) // 2]
    at = stored["tx_datetime"].max().to_pydatetime() + timedelta(hours=3)
    vector = fraud.online_vector({"customer_spending": row.customer_id,
                                  "terminal_risk": row.terminal_id}, at=at)
    want = {**fraud.online_features("customer_spending", [row.customer_id], at=at)[0],
            **fraud.online_features("terminal_risk", [row.terminal_id], at=at)[0]}
    assert vector == want
    assert len(vector) == 15


def test_key_mistakes_are_clear(fraud) -> None:
    from confluens.errors import InputError

    with pytest.raises(InputError) as info:
        fraud.online_features("customer_spending", [{"terminal_id": "1"}])
    error = info.value
    assert error.rule == "must give exactly its key columns ['customer_id']"
    assert error.got == {"terminal_id": "1"}, "the value received, not the one expected"
    assert error.fix == "write customer_id=VALUE ('terminal_id': not a key column)"
    with pytest.raises(InputError, match="exactly its key columns"):
        fraud.online_features("customer_spending", [{"customer_id": "1", "x": "2"}])
    naive = datetime(2024, 1, 1)
    with pytest.raises(InputError, match="time zone"):
        fraud.online_features("customer_spending", ["1"], at=naive)


@pytest.mark.service("redis")
def test_redis_online_store_gives_the_offline_values(redis_url: str, tmp_path: Path) -> None:
    root = confluens.init(tmp_path / "fraud")
    config = root / "confluens.toml"
    config.write_text(config.read_text()
                      .replace('name = "fraud"', f'name = "t{tmp_path.name}"')
                      .replace('store = "embedded"', f'store = "redis"\nredis_url = "{redis_url}"'))
    write_fraud_dataset(root / "data", FraudSimulation(n_customers=20, n_terminals=40,
                                                      n_days=20, seed=5))
    with confluens.open(root) as project:
        assert type(project.online).__name__ == "RedisOnlineStore"
        project.apply()
        project.ingest("transactions")
        project.materialize(["customer_spending"])
        stored = project.table("transactions", format="pandas")
        keys = sorted(stored["customer_id"].unique())[:10]
        latest = stored["tx_datetime"].max()
        try:
            online = project.online_features("customer_spending", keys,
                                             at=latest.to_pydatetime())
            offline = project.training_set(
                pd.DataFrame({"customer_id": keys, "ts": [latest] * len(keys)}),
                ["customer_spending"]).to_pandas()
            for i, values in enumerate(online):
                for name, value in values.items():
                    assert same(value, offline[name].iloc[i]), (keys[i], name)
        finally:
            project.online.clear("customer_spending")


def test_a_delay_longer_than_the_online_retention_is_refused(tmp_path: Path) -> None:
    from confluens.errors import ConfigError

    root = confluens.init(tmp_path / "fraud")
    config = root / "confluens.toml"
    config.write_text(config.read_text().replace('# ttl = "90d"', 'ttl = "3d"'))
    write_fraud_dataset(root / "data", FraudSimulation(n_customers=10, n_terminals=20,
                                                      n_days=10))
    with confluens.open(root) as project:
        project.apply()
        project.ingest("fraud_labels")
        with pytest.raises(ConfigError, match="longer than the online retention") as info:
            project.materialize(["terminal_risk"])
        assert "delay 7d > ttl 3d" in str(info.value)
        assert "at least 7d" in info.value.fix


def test_unknown_keys_are_flagged_in_the_result(fraud) -> None:
    fraud.materialize()
    stored = fraud.table("transactions", format="pandas")
    row = stored.iloc[len(stored) // 2]
    at = stored["tx_datetime"].max().to_pydatetime()
    rows = fraud.online_features("customer_spending", [row.customer_id, "no-such"], at=at)
    assert rows.found == [True, False]
    assert rows.missing == ["no-such"]
    assert rows[1]["customer_nb_tx_1d"] == 0, "an unknown key reads as an empty window"
    vector = fraud.online_vector({"customer_spending": "no-such",
                                  "terminal_risk": row.terminal_id}, at=at)
    assert vector.missing == ["customer_spending"]
    known = fraud.online_vector({"customer_spending": row.customer_id,
                                 "terminal_risk": row.terminal_id}, at=at)
    assert known.missing == []


@pytest.mark.service("redis")
def test_switching_the_online_store_rebuilds_the_online_state(redis_url: str,
                                                              tmp_path: Path) -> None:
    """embedded -> redis: the next materialize writes the new store, and says why."""
    root = confluens.init(tmp_path / "fraud")
    write_fraud_dataset(root / "data", FraudSimulation(n_customers=10, n_terminals=20,
                                                      n_days=10, seed=8))
    with confluens.open(root) as project:
        project.apply()
        project.ingest("transactions")
        (first,) = project.materialize(["customer_spending"])
        assert first.mode == "full"
        assert project.online.location.startswith("embedded:")
        (again,) = project.materialize(["customer_spending"])
        assert again.skipped
    config = root / "confluens.toml"
    config.write_text(config.read_text()
                      .replace('name = "fraud"', f'name = "s{tmp_path.name}"')
                      .replace('store = "embedded"', f'store = "redis"\nredis_url = "{redis_url}"'))
    with confluens.open(root) as project:
        try:
            (switched,) = project.materialize(["customer_spending"])
            assert switched.mode == "full"
            assert "the online store changed (embedded:" in switched.reason
            assert f"-> {project.online.location})" in switched.reason
            assert "redis:127.0.0.1:6379/" in project.online.location
            stored = project.table("transactions", format="pandas")
            customer = stored["customer_id"].iloc[-1]
            at = stored["tx_datetime"].max().to_pydatetime()
            online = project.online_features("customer_spending", [customer], at=at)
            assert online.missing == []
            assert online[0]["customer_nb_tx_1d"] >= 1
            (after,) = project.materialize(["customer_spending"])
            assert after.skipped
        finally:
            project.online.clear("customer_spending")
