"""A service the hub runs beside itself as a child process (`make run`: the webhook delivery worker, Airflow
standalone): started in a session of its own, waited for until it is ready, stopped without leaving a process.

A session of its own, so that a Ctrl-C at the terminal reaches the hub first and the hub stops its children in
order, and so that whatever the child started itself forms one process group that can be ended as a whole.
Stopping sends the child its own clean-shutdown signal (SIGTERM for the worker, SIGINT for standalone) and waits;
what is left of its group afterwards gets SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path

from hub.private_files import private_umask

__all__ = ["ChildExited", "ChildNotReady", "ServiceProcess", "start_service"]


class ChildExited(RuntimeError):
    """The child ended before it was ready."""


class ChildNotReady(TimeoutError, RuntimeError):
    """The child did not become ready in time (a TimeoutError, and a RuntimeError as its caller expects)."""


@dataclass
class ServiceProcess:
    process: subprocess.Popen[bytes]
    name: str
    """What it is, for messages: "the webhook delivery worker", "airflow standalone"."""
    log_path: Path
    log_start: int = 0
    """Where its output begins in the log (the log is appended to from one start to the next)."""
    returncode: int | None = None
    """Its exit status once stopped: negative when a signal ended it."""

    @property
    def pid(self) -> int:
        return self.process.pid

    def new_output(self) -> bytes:
        """What it wrote to its log since it started."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.log_start)
                return log.read()
        except FileNotFoundError:
            return b""

    def wait_ready(self, ready: Callable[[], bool], seconds: float, *, every: float = 0.2) -> None:
        """Until `ready()` holds; ChildExited when the child ends first, ChildNotReady after `seconds`."""
        deadline = time.monotonic() + seconds
        while not ready():
            if self.process.poll() is not None:
                raise ChildExited(f"{self.name} exited with {self.process.returncode} before it was ready: see "
                                  f"{self.log_path}")
            if time.monotonic() > deadline:
                raise ChildNotReady(f"{self.name} was not ready within {seconds:.0f} s: see {self.log_path}")
            time.sleep(every)

    def group_alive(self) -> bool:
        """Whether any process of its session's group is left (the child itself until it is reaped)."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:     # a pid reused by another user's group: not ours any more
            return False
        return True

    def stop(self, first: signal.Signals = signal.SIGTERM, grace: float = 20.0, *, term_grace: float = 10.0,
             kill_grace: float = 5.0) -> int:
        """`first` to the child, up to `grace` s for it to end; then SIGTERM to what is left of its group (up to
        `term_grace` s), then SIGKILL. Its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(first)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        for sig, wait in ((signal.SIGTERM, term_grace), (signal.SIGKILL, kill_grace)):
            if self.process.poll() is not None and not self.group_alive():
                break
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self.group_alive():
                self.process.poll()       # reap the child once it has ended, or it counts as alive
                time.sleep(0.1)
        self.returncode = self.process.wait(5)
        return self.returncode


def start_service(command: Sequence[str], *, name: str, log_path: Path, env: Mapping[str, str] | None = None,
                  cwd: Path | None = None, private: bool = False) -> ServiceProcess:
    """Start `command` in a session of its own, its output appended to `log_path`, no input. `private`: the log
    (and whatever the child creates, its umask inherited) is private to the hub's user."""
    with private_umask() if private else nullcontext(), log_path.open("ab") as log_file:
        start = log_file.tell()
        process = subprocess.Popen(list(command), env=None if env is None else dict(env), cwd=cwd, stdout=log_file,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    return ServiceProcess(process, name, log_path, start)
