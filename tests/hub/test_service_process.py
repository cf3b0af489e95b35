"""hub.service_process on tiny children: ready when they say so, an early exit or a slow start reported as the
callers expect, stopped by their own signal, SIGKILL when they ignore it, and no process of their group left."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from hub.service_process import ChildExited, ChildNotReady, ServiceProcess, start_service

PYTHON = [sys.executable, "-I", "-S", "-c"]
SERVE = "import time; print('ready', flush=True); time.sleep(120)"
DEAF = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
        "time.sleep(120)")
PARENT = ("import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-I', '-S', '-c', "
          "'import time; time.sleep(120)']); print('ready', child.pid, flush=True); time.sleep(120)")
"""A child that starts a grandchild and ends on SIGINT (KeyboardInterrupt) without stopping it."""


def _start(code: str, tmp_path: Path) -> ServiceProcess:
    return start_service([*PYTHON, code], name="the test child", log_path=tmp_path / "child.log")


def _ready(child: ServiceProcess) -> bool:
    return b"ready" in child.new_output()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_child_is_ready_when_it_says_so_and_stops_on_its_signal(tmp_path: Path) -> None:
    (tmp_path / "child.log").write_bytes(b"ready from an earlier run\n")    # the log is appended to
    child = _start(SERVE, tmp_path)
    try:
        child.wait_ready(lambda: _ready(child), 60)
        assert child.new_output() == b"ready\n"            # an earlier run's words are not its own
        assert os.getpgid(child.pid) == child.pid and os.getsid(child.pid) == child.pid   # a session of its own
    finally:
        status = child.stop(signal.SIGTERM, 10)
    assert status == -signal.SIGTERM and child.returncode == status
    assert not child.group_alive()


def test_an_early_exit_and_a_slow_start_are_reported(tmp_path: Path) -> None:
    quitter = _start("raise SystemExit(3)", tmp_path)
    with pytest.raises(ChildExited, match="exited with 3 before it was ready") as exited:
        quitter.wait_ready(lambda: False, 60)
    assert isinstance(exited.value, RuntimeError)
    quitter.stop()
    slow = _start(SERVE, tmp_path)
    try:
        with pytest.raises(ChildNotReady, match="not ready within") as late:
            slow.wait_ready(lambda: False, 0.3)
        assert isinstance(late.value, TimeoutError) and isinstance(late.value, RuntimeError)
    finally:
        slow.stop()
    assert not slow.group_alive()


def test_a_child_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    child = _start(DEAF, tmp_path)
    try:
        child.wait_ready(lambda: _ready(child), 60)
    finally:
        status = child.stop(signal.SIGTERM, 0.5, term_grace=0.5)
    assert status == -signal.SIGKILL
    assert not child.group_alive()


def test_what_the_child_started_is_ended_with_it(tmp_path: Path) -> None:
    child = _start(PARENT, tmp_path)
    try:
        child.wait_ready(lambda: _ready(child), 60)
        grandchild = int(child.new_output().split()[1])
        assert not _gone(grandchild)
    finally:
        child.stop(signal.SIGINT, 10, term_grace=10)
    assert child.returncode is not None and child.returncode != 0      # ended by KeyboardInterrupt
    assert not child.group_alive() and _gone(grandchild)               # no orphan left behind
