"""Streams in a project: the stream processor (processor.py), the log of a source
(logs.py), replay (replay.py), the counts and lags kept in checkpoints (stats.py),
scoring events as they arrive (scoring.py, scoring_setup.py), MQTT bridges
(bridges.py), consumer groups (group.py, assignment.py, fencing.py), and the project's
service over them (service.py)."""

from confluens.project.stream.group import GroupOptions
from confluens.project.stream.processor import BatchResult, SourceProcessor, StreamStores
from confluens.project.stream.scoring_setup import ScoringSpec
from confluens.project.stream.service import PartitionStatus, ProcessedTotals, StreamService
from confluens.project.stream.stats import StreamStats

__all__ = ["BatchResult", "GroupOptions", "PartitionStatus", "ProcessedTotals", "ScoringSpec",
           "SourceProcessor", "StreamService", "StreamStats", "StreamStores"]
