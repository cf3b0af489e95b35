"""The delivery worker as a process beside the API: what `make run` (`hub demo`) starts, like Airflow beside it.

The worker is `hub webhooks deliver --follow` in a process of its own (its own engine, its own session, so a
Ctrl-C at the terminal reaches the demo first and the demo stops it): it keeps webhooks' deliveries flowing
while the API serves, and an operator runs the very same command under systemd or a container in production.
Started, waited for and stopped by hub.service_process, as Airflow standalone is. It is ready once it says so on
its output (its first line, printed after the store opened); it is stopped with SIGTERM, on which it finishes the
pass under way and exits 0 (hub.webhooks.worker.run_until_signalled), SIGKILL only if it has not ended after
`grace` seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.service_process import ServiceProcess, start_service
from hub.settings import HubSettings

READY = "webhook delivery worker started"
"""The first line `hub webhooks deliver --follow` prints, once the store is open."""
STOPPED = "webhook delivery worker stopped"
STARTUP_SECONDS = 60.0
"""A fresh process imports the hub (pandas, the normalizers) before it opens the store: seconds on a busy host."""


@dataclass
class DeliveryProcess:
    service: ServiceProcess
    interval: float

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.service.process

    @property
    def pid(self) -> int:
        return self.service.pid

    @property
    def log_path(self) -> Path:
        return self.service.log_path

    @property
    def returncode(self) -> int | None:
        """Its exit status once stopped: 0 when it ended on SIGTERM by itself, negative when it had to be killed."""
        return self.service.returncode

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def stop(self, grace: float = 20.0) -> int:
        """SIGTERM, then SIGKILL after `grace` seconds; its exit status."""
        return self.service.stop(signal.SIGTERM, grace, term_grace=0.0)


def deliver_command() -> list[str]:
    """`hub webhooks deliver --follow` from this interpreter's virtualenv."""
    return [str(Path(sys.executable).parent / "hub"), "webhooks", "deliver", "--follow"]


@contextmanager
def running_delivery_worker(settings: HubSettings, *, log_path: Path | None = None,
                            seconds: float = STARTUP_SECONDS) -> Iterator[DeliveryProcess]:
    """The delivery worker over `settings`' store, yielded once it is ready, stopped when the block ends however
    it ends. Its output goes to `log_path` (default HUB_HOME/webhooks.log, private like the rest of HUB_HOME)."""
    from hub.api.serve import settings_environment

    env = settings_environment(settings)
    env["HUB_WEBHOOK_INTERVAL"] = str(settings.webhook_interval)
    env["PYTHONUNBUFFERED"] = "1"     # its ready line reaches the log at once
    service = start_service(deliver_command(), name="the webhook delivery worker",
                            log_path=log_path or settings.home / "webhooks.log", env=env, private=True)
    worker = DeliveryProcess(service, settings.webhook_interval)
    try:
        service.wait_ready(lambda: READY.encode() in service.new_output(), seconds)
        yield worker
    finally:
        worker.stop()


def describe(worker: DeliveryProcess) -> str:
    """Where it runs, for the operator: process, command, interval and log."""
    return (f"webhook delivery worker: process {worker.pid} (`hub webhooks deliver --follow`), a pass every "
            f"{worker.interval:g} s, output in {worker.log_path}; stopped with SIGTERM when this process ends "
            f"(pid {os.getpid()})")
