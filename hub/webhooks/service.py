"""The delivery worker as a process beside the API: what `make run` (`hub demo`) starts, like Airflow beside it.

The worker is `hub webhooks deliver --follow` in a process of its own (its own engine, its own session, so a
Ctrl-C at the terminal reaches the demo first and the demo stops it): it keeps webhooks' deliveries flowing
while the API serves, and an operator runs the very same command under systemd or a container in production.
It is ready once it says so on its output (its first line, printed after the store opened); it is stopped
with SIGTERM, on which it finishes the pass under way and exits 0 (hub.webhooks.worker.run_until_signalled),
SIGKILL only if it has not ended after `grace` seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.private_files import private_umask
from hub.settings import HubSettings

READY = "webhook delivery worker started"
"""The first line `hub webhooks deliver --follow` prints, once the store is open."""
STOPPED = "webhook delivery worker stopped"
STARTUP_SECONDS = 60.0
"""A fresh process imports the hub (pandas, the normalizers) before it opens the store: seconds on a busy host."""


@dataclass
class DeliveryProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    interval: float
    returncode: int | None = None
    """Its exit status once stopped: 0 when it ended on SIGTERM by itself, negative when it had to be killed."""

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def stop(self, grace: float = 20.0) -> int:
        """SIGTERM, then SIGKILL after `grace` seconds; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.returncode = self.process.returncode
        return self.returncode


def deliver_command() -> list[str]:
    """`hub webhooks deliver --follow` from this interpreter's virtualenv."""
    return [str(Path(sys.executable).parent / "hub"), "webhooks", "deliver", "--follow"]


@contextmanager
def running_delivery_worker(settings: HubSettings, *, log_path: Path | None = None,
                            seconds: float = STARTUP_SECONDS) -> Iterator[DeliveryProcess]:
    """The delivery worker over `settings`' store, yielded once it is ready, stopped when the block ends however
    it ends. Its output goes to `log_path` (default HUB_HOME/webhooks.log, private like the rest of HUB_HOME)."""
    from hub.api.serve import settings_environment

    path = log_path or settings.home / "webhooks.log"
    env = settings_environment(settings)
    env["HUB_WEBHOOK_INTERVAL"] = str(settings.webhook_interval)
    env["PYTHONUNBUFFERED"] = "1"     # its ready line reaches the log at once
    with private_umask(), path.open("ab") as log_file:
        start = log_file.tell()
        process = subprocess.Popen(deliver_command(), env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    worker = DeliveryProcess(process, path, settings.webhook_interval)
    try:
        _wait_ready(worker, start, seconds)
        yield worker
    finally:
        worker.stop()


def _wait_ready(worker: DeliveryProcess, start: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with worker.log_path.open("rb") as log:
            log.seek(start)
            if READY.encode() in log.read():
                return
        if worker.process.poll() is not None:
            raise RuntimeError(f"the webhook delivery worker exited with {worker.process.returncode} before it "
                               f"was ready: see {worker.log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the webhook delivery worker was not ready within {seconds:.0f} s: see "
                               f"{worker.log_path}")
        time.sleep(0.2)


def describe(worker: DeliveryProcess) -> str:
    """Where it runs, for the operator: process, command, interval and log."""
    return (f"webhook delivery worker: process {worker.pid} (`hub webhooks deliver --follow`), a pass every "
            f"{worker.interval:g} s, output in {worker.log_path}; stopped with SIGTERM when this process ends "
            f"(pid {os.getpid()})")
