"""Kept so that ``from confluens.plan.connection import connect`` goes on working while
branches that import it merge; the connection is ``confluens.duckdb_session.connect``."""

from confluens.duckdb_session import connect

__all__ = ["connect"]
