"""The store-wide source lock (hub.store.locks) on each store: a second holder waits, gives up with SourceBusy
after its wait, and gets the lock once the first lets go; other names and other hubs are not held up."""

from __future__ import annotations

import threading
import time

import pytest

from hub.store import make_engine
from hub.store.locks import SourceBusy, source_lock


def test_a_second_holder_waits_then_gives_up_or_gets_it(store_url: str) -> None:
    first, second = make_engine(store_url), make_engine(store_url)   # two workers: an engine each
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with source_lock(first, "grid_collection", wait=5):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(SourceBusy, match="grid_collection"), source_lock(second, "grid_collection", wait=0.3):
            pass
        assert 0.25 <= time.monotonic() - started < 5
        with source_lock(second, "another_source", wait=0.3):   # another name is another lock
            pass
        release.set()
        holder.join(10)
        with source_lock(second, "grid_collection", wait=5):    # let go: the next holder gets it
            pass
    finally:
        release.set()
        holder.join(10)
        first.dispose()
        second.dispose()


def test_a_lock_name_is_checked() -> None:
    with pytest.raises(ValueError), source_lock(make_engine("sqlite://"), "../etc", wait=0.1):
        pass
