"""An API worker's write-backs in a process of its own, for the concurrency test: it opens the store as a
worker does (its own engine and vault, the GX project loaded), waits for the common start, then submits its
forms one after the other as POST /api/v1/forms/{id}/submissions would (hub.forms.writeback.submit), and
reports each receipt's submission id and run, or the error, to the parent."""

from __future__ import annotations

import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from hub.access.policy import Policy

NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


def push(settings: dict[str, Any], policy: Policy, worker: int, count: int, start: Event,
         results: Queue[tuple[int, str, str]]) -> None:
    """Submit `count` new persons (name and education only) of the floating registration form."""
    from connectors.registry import available_kinds, register
    from connectors.submissions import SubmissionsConnector
    from hub.forms.writeback import hub_forms, submit
    from hub.pipeline import Hub, quality_home
    from hub.quality.validate import _context
    from hub.settings import HubSettings

    if "submissions" not in available_kinds():   # as tests/hub/forms/conftest.py does for an older install
        register("submissions", SubmissionsConnector)
    hub = Hub.open(HubSettings(**settings), create=False)
    try:
        form = hub_forms(hub.settings).get("floating_registration")
        _context(quality_home(hub.settings))   # a serving worker pays the GX project's set-up once, before this
        start.wait(60)
        for n in range(count):
            try:
                name = "王" + NAMES[worker % len(NAMES)] + NAMES[n % len(NAMES)]   # digits: no name
                receipt = submit(hub, policy, form, {"name": name, "education": "高中"},
                                 subject_id=None, collector=f"网格员 {worker}")
            except Exception as exc:   # reported, not raised: the parent counts what landed
                results.put((worker, "error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"))
                continue
            assert receipt is not None
            results.put((worker, receipt.submission_id, receipt.run_id))
    finally:
        hub.engine.dispose()
