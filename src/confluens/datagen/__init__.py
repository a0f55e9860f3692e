"""confluens.datagen: seeded synthetic datasets for demos, tests and benchmarks."""

from confluens.datagen.fraud import (
    FraudProfiles,
    FraudSimulation,
    generate_labels,
    generate_profiles,
    generate_transactions,
    write_fraud_dataset,
)
from confluens.datagen.late_batch import LATE_BATCH_FILE, late_batch_csv, write_late_batch

__all__ = [
    "LATE_BATCH_FILE",
    "FraudProfiles",
    "FraudSimulation",
    "generate_labels",
    "generate_profiles",
    "generate_transactions",
    "late_batch_csv",
    "write_fraud_dataset",
    "write_late_batch",
]
