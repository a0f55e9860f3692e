"""Streaming: per-entity window state, evaluated in Python (online reads; streams later)."""

from confluens.streaming.window_events import EntityEvents, evaluate, evaluate_all

__all__ = ["EntityEvents", "evaluate", "evaluate_all"]
