"""The vectorised entity keys equal ``entity_key`` row by row, whatever the text."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from confluens.streaming.entity_state import _plain_keys
from confluens.streaming.stored_state import entity_key


def _expected(values: list[object]) -> list[str]:
    return [entity_key([v]) for v in values]


@given(st.lists(st.text(max_size=12), max_size=30))
def test_string_keys(values: list[str]) -> None:
    batch = pa.table({"k": pa.array(values, pa.string())})
    keys = _plain_keys(batch, ["k"])
    if keys is not None:  # the fast path took it: it must agree
        assert keys == _expected(values)
    if all(v.isascii() and v.isprintable() and '"' not in v and "\\" not in v
           for v in values):
        assert keys is not None, "plain ASCII keys take the fast path"


@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=30))
def test_integer_keys(values: list[int]) -> None:
    keys = _plain_keys(pa.table({"k": pa.array(values, pa.int64())}), ["k"])
    assert keys == _expected(values)


def test_nulls_and_several_keys_take_the_row_by_row_path() -> None:
    assert _plain_keys(pa.table({"k": pa.array(["a", None])}), ["k"]) is None
    assert _plain_keys(pa.table({"a": ["x"], "b": ["y"]}), ["a", "b"]) is None
