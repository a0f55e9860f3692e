"""confluens.datagen: seeded synthetic datasets for demos, tests and benchmarks."""

from confluens.datagen.fraud import (
    FraudProfiles,
    FraudSimulation,
    generate_labels,
    generate_profiles,
    generate_transactions,
    write_fraud_dataset,
)

__all__ = [
    "FraudProfiles",
    "FraudSimulation",
    "generate_labels",
    "generate_profiles",
    "generate_transactions",
    "write_fraud_dataset",
]
