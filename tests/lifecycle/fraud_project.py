"""A fraud-template project on generated data, ingested: what the model tests start from."""

from __future__ import annotations

from pathlib import Path

import confluens
from confluens.datagen import FraudSimulation, write_fraud_dataset


def fraud_project(root: Path, *, customers: int, terminals: int, days: int, seed: int,
                  materialize: bool = False) -> Path:
    """``root`` as `confluens init --template fraud`, its data generated and ingested
    (and materialized when asked)."""
    confluens.init(root, template="fraud")
    write_fraud_dataset(root / "data", FraudSimulation(n_customers=customers,
                                                       n_terminals=terminals,
                                                       n_days=days, seed=seed))
    with confluens.open(root) as p:
        p.apply()
        p.ingest("transactions")
        p.ingest("fraud_labels")
        if materialize:
            p.materialize()
    return root
