"""Streaming: per-entity window state, evaluated in Python (online reads; streams later)."""

from confluens.streaming.window_events import (
    CompiledPlan,
    EntityEvents,
    EventColumns,
    compile_plan,
    evaluate,
    evaluate_all,
    evaluate_compiled,
)

__all__ = ["CompiledPlan", "EntityEvents", "EventColumns", "compile_plan", "evaluate",
           "evaluate_all", "evaluate_compiled"]
