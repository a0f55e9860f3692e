"""Training: a model's labelled rows split by its protocol, fitted inside the user-code
boundary, evaluated, and handed on as a TrainedModel (lifecycle/trained.py)."""

from confluens.lifecycle.train.train import (
    Progress,
    TrainingData,
    anchor,
    period,
    train_model,
)

__all__ = ["Progress", "TrainingData", "anchor", "period",
           "train_model"]
