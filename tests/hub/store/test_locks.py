"""The store-wide source lock (hub.store.locks) on each store: a second holder waits, gives up with SourceBusy
after its wait, and gets the lock once the first lets go; other names and other hubs are not held up."""

from __future__ import annotations

import time

import pytest

from hub.store import make_engine
from hub.store.locks import SourceBusy, source_lock
from tests.hub.store.lock_holder import lock_held_elsewhere


def test_a_second_holder_waits_then_gives_up_or_gets_it(store_url: str) -> None:
    first, second = make_engine(store_url), make_engine(store_url)   # two workers: an engine each
    try:
        with lock_held_elsewhere(first, "grid_collection") as let_go:
            started = time.monotonic()
            with pytest.raises(SourceBusy, match="grid_collection"), source_lock(second, "grid_collection",
                                                                                   wait=0.3):
                pass
            assert 0.25 <= time.monotonic() - started < 5
            with source_lock(second, "another_source", wait=0.3):   # another name is another lock
                pass
            let_go()
            with source_lock(second, "grid_collection", wait=5):    # let go: the next holder gets it
                pass
    finally:
        first.dispose()
        second.dispose()


def test_a_lock_name_is_checked() -> None:
    with pytest.raises(ValueError), source_lock(make_engine("sqlite://"), "../etc", wait=0.1):
        pass
