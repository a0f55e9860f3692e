"""Streaming: per-entity window state, evaluated in Python (online reads; streams later)."""

from confluens.streaming.window_events import EventRow, evaluate, evaluate_all

__all__ = ["EventRow", "evaluate", "evaluate_all"]
