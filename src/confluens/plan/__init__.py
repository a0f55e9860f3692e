"""Plans: one IR for what features compute, compiled by a thin compiler per engine."""

from confluens.plan.duckdb import compile_events, compile_points
from confluens.plan.ir import RatioOf, ViewPlan, WindowAgg, plan_view
from confluens.plan.run import event_features, point_features

__all__ = ["RatioOf", "ViewPlan", "WindowAgg", "compile_events", "compile_points",
           "event_features", "plan_view", "point_features"]
