"""An ingest holds off full garbage collections while it runs, and gives the setting back whatever happens."""

from __future__ import annotations

import gc

import pytest

from hub.ingest.runner import young_collections_only


def test_full_collections_wait_during_a_load_and_the_setting_comes_back() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), young_collections_only():
        young, middle, old = gc.get_threshold()
        assert (young, middle) == before[:2] and old >= 1_000_000
        raise RuntimeError("a source failed")
    assert gc.get_threshold() == before
