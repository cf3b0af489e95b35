"""A source lock held by "another process" (another engine, on a thread) until the test lets it go."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from hub.store.locks import source_lock


@contextmanager
def lock_held_elsewhere(engine: Engine, name: str) -> Iterator[Callable[[], None]]:
    """Hold `name` on `engine` from a thread for the block; the yielded function lets it go early."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with source_lock(engine, name, wait=5):
            held.set()
            release.wait(20)

    holder = threading.Thread(target=hold)
    holder.start()

    def let_go() -> None:
        release.set()
        holder.join(10)

    try:
        assert held.wait(10), f"the lock {name} was not taken"
        yield let_go
    finally:
        let_go()
