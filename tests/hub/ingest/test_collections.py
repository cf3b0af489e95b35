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


def test_overlapping_loads_restore_the_setting_when_the_last_one_ends() -> None:
    before = gc.get_threshold()
    first, second = young_collections_only(), young_collections_only()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[2] >= 1_000_000      # the second load still runs
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
