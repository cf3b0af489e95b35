"""pytest plugin: the reliability figures of a test session as one table (`make reliability`, `make test`).

A test is a case of a figure when it carries `@pytest.mark.reliability("G3")` (G1..G18 of
shared/reliability.md, F1..F14 for the findings of issue 18); a test may carry several. The number
that matters is reported by the test itself with pytest's `record_property(name, value)`, before it
asserts: numbers are summed per figure (a name starting with "max " takes the maximum), and a name
written "G2: new raw rows" counts for that one of the test's figures only. A number of
figures.ZERO_TARGET above 0 marks its figure as failing and fails the session, even when the test's
own assertion let it pass.

Cases over a minute are marked `reliability("G3", long=True)`: skipped unless `--reliability-long`
(or HUB_RELIABILITY_LONG=1) is given, which `make reliability` does.

G12 is measured here for the whole session: a handler on the root logger at DEBUG reduces every log
record, and every phase's captured output, to the digit windows a clear value could match; when
the session ends, they are searched for the resident IDs and phones of every district the session
generated (each leaves truth/persons.csv under the session's temporary folder). A hit fails the
session and is named with the test that wrote it.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.reliability.clear_values import truth_values, windows
from tests.reliability.figures import FAILED_CASES_COUNT_AS, FIGURE_ID, FIGURES, ZERO_TARGET, figure_order

pytest_plugins = ["pytester"]   # tests/reliability/test_plugin.py runs a small session of its own

LONG_ENV = "HUB_RELIABILITY_LONG"
LONG_REASON = "a reliability case over a minute: `make reliability` runs it"
FIGURE_PREFIX = re.compile(r"^([A-Z]+\d+): (.+)$")
QUIET_LOGGERS = ("sqlalchemy",)
"""Held at WARNING while the root logger is at DEBUG: SQLAlchemy echoes every statement and result row
of an engine whose logger is enabled for INFO, which the hub never asks for (and which would make the
suite several times slower)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reliability", "reliability figures (tests/reliability/plugin.py)")
    group.addoption("--reliability-long", action="store_true", default=False,
                    help=f"also run the reliability cases over a minute (or set {LONG_ENV}=1)")
    group.addoption("--reliability-report", metavar="PATH", default=None,
                    help="also write the reliability table as Markdown to PATH")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ReliabilityTable(config), "reliability-table")


@pytest.fixture(scope="session", autouse=True)
def _reliability_basetemp(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Where this session's districts are generated: their truth is the needle set of G12."""
    table = request.config.pluginmanager.get_plugin("reliability-table")
    if isinstance(table, ReliabilityTable):
        table.basetemp = tmp_path_factory.getbasetemp()


@dataclass
class _Case:
    figures: tuple[str, ...]
    long: bool
    outcome: str | None = None          # passed | failed | skipped; None: not run (deselected)
    properties: list[tuple[str, object]] = field(default_factory=list)


@dataclass
class Row:
    figure: str
    tried: int = 0
    passed: int = 0
    long_not_run: int = 0
    skipped: int = 0
    numbers: dict[str, float] = field(default_factory=dict)

    @property
    def checks(self) -> str:
        return FIGURES.get(self.figure, "(not described in tests/reliability/figures.py)")

    @property
    def misses(self) -> list[str]:
        """The zero-target numbers above zero."""
        return [name for name, value in self.numbers.items() if name in ZERO_TARGET and value > 0]

    @property
    def status(self) -> str:
        if self.tried == 0:
            return "not run"
        return "at target" if self.passed == self.tried and not self.misses else "FAILING"

    def add(self, name: str, value: float) -> None:
        if name.startswith("max "):
            self.numbers[name] = max(self.numbers.get(name, value), value)
        else:
            self.numbers[name] = self.numbers.get(name, 0) + value

    def numbers_text(self) -> str:
        ordered = sorted(self.numbers.items(), key=lambda item: (item[0] not in ZERO_TARGET, item[0]))
        return "; ".join(f"{name} {_number(value)}" for name, value in ordered) or "—"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


class LogScan(logging.Handler):
    """Every log record of the session, reduced to the windows a clear ID or phone could match."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.seen: dict[str, str] = {}     # window → the test (or phase) that wrote it first
        self.lines = 0
        self.where = "session start"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:                 # a record whose arguments do not fit its format: scan the parts
            text = f"{record.msg} {record.args}"
        self.add(text, self.where)

    def add(self, text: str, where: str) -> None:
        if not text:
            return
        self.lines += text.count("\n") + 1
        for window in windows(text):
            self.seen.setdefault(window, where)

    def hits(self, needles: set[str]) -> dict[str, str]:
        return {window: self.seen[window] for window in needles.intersection(self.seen)}


class ReliabilityTable:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.long = bool(config.getoption("reliability_long")) or os.environ.get(LONG_ENV) == "1"
        report = config.getoption("reliability_report")
        self.report_path = Path(report) if report else None
        self.cases: dict[str, _Case] = {}
        self.scan = LogScan()
        self.basetemp: Path | None = None
        self.leaks: dict[str, str] = {}
        self.needles = 0
        self._saved_levels: dict[str, int] = {}

    # -- collection: which tests are cases of which figure; long ones wait for `make reliability` --

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marks = list(item.iter_markers("reliability"))
            if not marks:
                continue
            for mark in marks:
                if (len(mark.args) != 1 or not isinstance(mark.args[0], str) or not FIGURE_ID.match(mark.args[0])
                        or set(mark.kwargs) - {"long"}):
                    raise pytest.UsageError(
                        f"{item.nodeid}: write @pytest.mark.reliability(\"G3\") or reliability(\"G3\", long=True), "
                        f"not reliability({', '.join(map(repr, mark.args))}, {mark.kwargs})")
            long = any(mark.kwargs.get("long") for mark in marks)
            if long and not self.long:
                item.add_marker(pytest.mark.skip(reason=LONG_REASON))
            self.cases[item.nodeid] = _Case(tuple(dict.fromkeys(m.args[0] for m in marks)), long)

    # -- the session's logs and output, for G12 ----------------------------------------------------

    def pytest_sessionstart(self) -> None:
        root = logging.getLogger()
        self._saved_levels[""] = root.level
        root.setLevel(logging.DEBUG)
        for name in QUIET_LOGGERS:
            logger = logging.getLogger(name)
            self._saved_levels[name] = logger.level
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.WARNING)
        root.addHandler(self.scan)
        self._keep_reports_as_they_were(self._saved_levels[""])

    def _keep_reports_as_they_were(self, level: int) -> None:
        """What a failed test shows under "Captured log", and what caplog holds before set_level, stay
        at the level the root logger had: only the G12 handler sees DEBUG. Unless --log-level was given."""
        if self.config.getoption("log_level", None) or self.config.getini("log_level"):
            return
        logging_plugin = self.config.pluginmanager.get_plugin("logging-plugin")
        for name in ("report_handler", "caplog_handler"):
            handler = getattr(logging_plugin, name, None)
            if isinstance(handler, logging.Handler):
                handler.setLevel(level)

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.scan.where = nodeid

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.scan.add(report.capstdout, report.nodeid)
        self.scan.add(report.capstderr, report.nodeid)
        if report.failed:
            self.scan.add(report.longreprtext, report.nodeid)
        case = self.cases.get(report.nodeid)
        if case is None:
            return
        if report.skipped and not hasattr(report, "wasxfail"):
            case.outcome = "skipped"
        elif report.failed or (report.skipped and hasattr(report, "wasxfail")):   # xfailed: a known failure
            case.outcome = "failed"
        elif report.when == "call" and case.outcome is None:
            case.outcome = "passed"
        if report.when == "teardown":
            case.properties = list(report.user_properties)

    @pytest.hookimpl(tryfirst=True)   # before the temporary folders may be removed
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        root = logging.getLogger()
        root.removeHandler(self.scan)
        root.setLevel(self._saved_levels.pop("", logging.WARNING))
        for name, level in self._saved_levels.items():
            logging.getLogger(name).setLevel(level)
        needles: set[str] = set()
        for truth in self._truth_dirs():
            needles |= truth_values(truth)
        self.needles = len(needles)
        self.leaks = self.scan.hits(needles)
        if self.leaks or any(row.misses for row in self.rows()):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _truth_dirs(self) -> Iterator[Path]:
        if self.basetemp is None or not self.basetemp.exists():
            return
        for persons in self.basetemp.rglob("persons.csv"):
            if persons.parent.name == "truth":
                yield persons.parent

    # -- the table -------------------------------------------------------------------------------------

    def rows(self) -> list[Row]:
        rows: dict[str, Row] = {}
        for case in self.cases.values():
            for figure in case.figures:
                row = rows.setdefault(figure, Row(figure))
                if case.outcome == "skipped":
                    row.long_not_run += case.long
                    row.skipped += not case.long
                if case.outcome not in ("passed", "failed"):
                    continue
                row.tried += 1
                row.passed += case.outcome == "passed"
            if case.outcome not in ("passed", "failed"):
                continue
            for name, value in case.properties:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                only = FIGURE_PREFIX.match(name)
                if only and only.group(1) in case.figures:
                    rows[only.group(1)].add(only.group(2), value)
                else:
                    for figure in case.figures:
                        rows[figure].add(name, value)
        for figure, name in FAILED_CASES_COUNT_AS.items():
            if figure in rows and rows[figure].tried:
                rows[figure].add(name, rows[figure].tried - rows[figure].passed)
        if rows:
            g12 = rows.setdefault("G12", Row("G12"))
            g12.tried += 1
            g12.passed += not self.leaks
            g12.add("clear values found", len(self.leaks))
            g12.add("log and output lines scanned", self.scan.lines)
        return sorted(rows.values(), key=lambda row: figure_order(row.figure))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.config.getoption("collectonly"):
            return
        rows = self.rows()
        if self.leaks:
            terminalreporter.write_sep("=", "G12: clear values in the logs or output of this session", red=True)
            for where in sorted(set(self.leaks.values())):
                count = sum(1 for w in self.leaks.values() if w == where)
                terminalreporter.write_line(f"{where}: {count} clear resident ID(s) or phone(s)")
        if not rows:
            return
        terminalreporter.write_sep("=", "reliability figures")
        header = ("figure", "tried", "passed", "status", "the number that matters", "what it checks")
        lines = [header] + [(r.figure, str(r.tried), str(r.passed), r.status, r.numbers_text(), r.checks)
                            for r in rows]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
        for line in lines:
            text = "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
            terminalreporter.write_line(f"{text}  {_shorten(line[-1], 70)}", red=line[3] == "FAILING")
        for note in self._notes(rows):
            terminalreporter.write_line(note)
        if self.report_path is not None:
            self.report_path.parent.mkdir(parents=True, exist_ok=True)
            self.report_path.write_text(self.markdown(rows), encoding="utf-8")
            terminalreporter.write_line(f"reliability table written to {self.report_path}")

    def _notes(self, rows: list[Row]) -> list[str]:
        notes = []
        long_not_run = sum(r.long_not_run for r in rows)
        if long_not_run:
            notes.append(f"{long_not_run} case(s) over a minute not run here: `make reliability` runs them.")
        skipped = {r.figure: r.skipped for r in rows if r.skipped}
        if skipped:
            notes.append("skipped, so not counted: " + ", ".join(f"{n} case(s) of {f}" for f, n in skipped.items()))
        notes.append(f"G12 searched {self.scan.lines:,} log and output lines for {self.needles:,} clear resident "
                     "IDs and phones of the districts this session generated.")
        return notes

    def markdown(self, rows: list[Row]) -> str:
        command = shlex.join(["pytest", *sys.argv[1:]]) if sys.argv else "pytest"
        out = [f"Reliability figures, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `{command}`", "",
               "| figure | what it checks | cases tried | passed | the number that matters | status |",
               "| --- | --- | ---: | ---: | --- | --- |"]
        out += [f"| {r.figure} | {r.checks} | {r.tried} | {r.passed} | {r.numbers_text()} | {r.status} |"
                for r in rows]
        out += ["", *self._notes(rows), ""]
        return "\n".join(out)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
