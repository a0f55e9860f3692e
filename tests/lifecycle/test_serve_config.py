"""confluens.toml's [serve] section: how often `confluens serve` checks for a moved alias."""

from __future__ import annotations

from pathlib import Path

import pytest

from confluens.errors import ConfigError
from confluens.project.config import ProjectConfig


@pytest.mark.parametrize(("raw", "seconds"), [({}, 5.0), ({"serve": {"reload_seconds": 2}}, 2.0),
                                              ({"serve": {"reload_seconds": 0.5}}, 0.5),
                                              ({"serve": {"reload_seconds": 0}}, 0.0)])
def test_reload_seconds_is_read_with_a_default(raw, seconds):
    assert ProjectConfig.parse(raw, root=Path("/p")).serve_reload_seconds == seconds


@pytest.mark.parametrize("value", ["5", -1, True, 10**6])
def test_a_bad_reload_seconds_is_refused_with_the_fix(value):
    with pytest.raises(ConfigError) as caught:
        ProjectConfig.parse({"serve": {"reload_seconds": value}}, root=Path("/p"))
    message = str(caught.value)
    assert "[serve] reload_seconds" in message
    assert "Fix: write e.g. reload_seconds = 5" in message


def test_an_unknown_serve_setting_is_refused():
    with pytest.raises(ConfigError, match=r"\[serve\].*reload_seconds"):
        ProjectConfig.parse({"serve": {"reload": 5}}, root=Path("/p"))
