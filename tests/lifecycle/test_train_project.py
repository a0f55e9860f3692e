"""`confluens train` on the fraud template: point-in-time training set, lineage, CLI."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import confluens
from tests.interfaces.cli_helpers import invoke
from tests.lifecycle.fraud_project import fraud_project

pytest.importorskip("lightgbm")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fraud_project(tmp_path_factory.mktemp("fraud"), customers=150, terminals=300,
                         days=60, seed=3)


def test_train_uses_each_label_once_known_and_records_lineage(project: Path) -> None:
    with confluens.open(project) as p:
        trained = p.train("fraud_model")
    span = trained.lineage.training_set
    labels = pq.read_table(sorted((project / "data" / "labels").glob("*.parquet")))
    start = dt.datetime.fromisoformat(span["train_start"]).replace(tzinfo=dt.UTC)
    end = dt.datetime.fromisoformat(span["train_end"]).replace(tzinfo=dt.UTC)
    test_start = dt.datetime.fromisoformat(span["test_start"]).replace(tzinfo=dt.UTC)
    times, known = labels.column("tx_datetime"), labels.column("reported_at")
    in_train = pc.and_(pc.and_(pc.greater_equal(times, start), pc.less(times, end)),
                       pc.less(known, test_start))
    assert span["train_rows"] == pc.sum(in_train).as_py()
    assert trained.columns == tuple(trained.input_example.columns)
    assert len(trained.columns) == 15
    assert {"amount", "tx_during_weekend", "tx_during_night", "terminal_risk_30d"} <= set(
        trained.columns)
    assert trained.features[0] == "customer_spending:amount"
    assert trained.flavor == "lightgbm"
    assert set(trained.metrics) == {"ap", "cp@100", "auc"}
    assert 0.5 < trained.metrics["auc"] <= 1
    assert len(trained.lineage.definitions_hash) == 64
    assert trained.lineage.code_version == f"confluens {confluens.__version__}"  # no git repo
    assert "fraud_labels=" in trained.lineage.data_snapshot


def test_the_train_command_prints_the_metrics_table(project: Path) -> None:
    code, out = invoke("train", "fraud_model", folder=project)
    assert code == 0, out
    for word in ("ap", "cp@100", "auc", "trained fraud_model (lightgbm)"):
        assert word in out
    code, out = invoke("train", "nope", folder=project)
    assert code != 0
    assert "no model has this name" in out
    assert "fraud_model" in out
    assert "Traceback" not in out
    code, out = invoke("train", "fraud_model", "--start", "July", folder=project)
    assert code != 0
    assert "--start: must be a date" in out


def test_loading_the_template_imports_no_learning_library(project: Path) -> None:
    script = ("import sys, confluens; confluens.open(sys.argv[1]).definitions; "
              "print(sorted(m for m in ('lightgbm', 'sklearn', 'xgboost', 'mlflow') "
              "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script, str(project)], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"
