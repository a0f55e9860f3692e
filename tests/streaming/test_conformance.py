"""The stream processor's window state passes the engine conformance suite.

``STREAM`` (``confluens.streaming.conformance``) feeds each case's events through
``ViewState`` in shuffled micro-batches (replays and reloads included) and reads every
point from the stored values, as ``read_online`` does. Every check of
``plan/conformance.py`` runs on fixed seeds, and on seeds hypothesis draws.
"""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import Count, Entity, FeatureView
from confluens.errors import NotSupportedError
from confluens.plan import conformance
from confluens.plan.conformance import CHECKS
from confluens.plan.ir import plan_view
from confluens.streaming.conformance import STREAM


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_the_stream_state_passes_the_check(check: str) -> None:
    CHECKS[check](STREAM, cases=4)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(1, 2**31), arrival=st.integers(0, 2**31),
       check=st.sampled_from(sorted(CHECKS)))
def test_the_stream_state_passes_the_checks_on_drawn_seeds(seed: int, arrival: int,
                                                           check: str) -> None:
    """Other cases, and other arrival orders of the same cases."""
    CHECKS[check](dataclasses.replace(STREAM, seed=arrival), seed=seed, cases=1)


def test_the_stream_state_is_read_at_points_only() -> None:
    plan = plan_view(FeatureView("v", Entity("k", ["k"]), conformance._source(),
                                 [Count(window="1s")]))
    with pytest.raises(NotSupportedError, match="points in time"):
        STREAM.event_features(plan, pa.table({}))
