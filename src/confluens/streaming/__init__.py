"""Streaming: per-entity window state, evaluated in Python (online reads, stream processors)."""

from confluens.streaming.entity_state import ViewState
from confluens.streaming.window_events import (
    CompiledPlan,
    EntityEvents,
    EventColumns,
    compile_plan,
    evaluate,
    evaluate_all,
    evaluate_compiled,
)

__all__ = ["CompiledPlan", "EntityEvents", "EventColumns", "ViewState", "compile_plan",
           "evaluate", "evaluate_all", "evaluate_compiled"]
