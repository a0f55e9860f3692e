"""Serving: online features -> the model's input columns -> predict -> log.

No HTTP here (that is ``confluens.interfaces.api``) and no project: the features
come through a ``FeatureReader`` (the project layer makes them, project/serving.py)
and the models through a provider ``(name) -> LoadedModel`` (the registry).
"""

from confluens.lifecycle.serve.batching import MicroBatcher
from confluens.lifecycle.serve.estimator import EstimatorModel
from confluens.lifecycle.serve.ids import uuid7
from confluens.lifecycle.serve.inputs import REQUEST, ModelInputs
from confluens.lifecycle.serve.log import PARTITION_BY, PredictionLog
from confluens.lifecycle.serve.log_table import log_table
from confluens.lifecycle.serve.reader import FeatureReader, ReaderFactory
from confluens.lifecycle.serve.request import Scored, ScoreRequest
from confluens.lifecycle.serve.scorer import LogWriter, Scorer
from confluens.lifecycle.serve.service import ModelProvider, ModelService, Served, VersionWatch

__all__ = ["PARTITION_BY", "REQUEST", "EstimatorModel", "FeatureReader", "LogWriter",
           "MicroBatcher", "ModelInputs", "ModelProvider", "ModelService", "PredictionLog",
           "ReaderFactory", "ScoreRequest", "Scored", "Scorer", "Served", "VersionWatch",
           "log_table", "uuid7"]
