"""The serving packages' public names: each listed once, each present."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["confluens.lifecycle.serve", "confluens.interfaces.api"])
def test_all_names_exist_and_are_unique(name: str) -> None:
    module = importlib.import_module(name)
    assert len(module.__all__) == len(set(module.__all__))
    for item in module.__all__:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"
