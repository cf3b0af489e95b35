"""The reliability table itself: a small session of its own, run by pytester in a subprocess (so
that its logging and its G12 search stay apart from this session's)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
CASES = '''
import logging
import pytest

@pytest.mark.reliability("G1")
def test_counted(record_property):
    record_property("records lost", 0)
    record_property("records checked", 5)

@pytest.mark.reliability("G1")
@pytest.mark.reliability("G2")
def test_counted_for_two_figures(record_property):
    record_property("records checked", 7)
    record_property("G2: new raw rows", 0)
    record_property("max seconds", 3.5)

@pytest.mark.reliability("G3")
def test_lenient(record_property):
    record_property("records lost", 2)       # its assertion forgot to check the number

@pytest.mark.reliability("G3", long=True)
def test_long():
    pass

@pytest.mark.reliability("F7")
def test_failing():
    assert 1 == 2

def test_leak(tmp_path):
    truth = tmp_path / "district" / "truth"
    truth.mkdir(parents=True)
    (truth / "persons.csv").write_text("resident_id,phone\\n65010219900101123X,13911112222\\n", encoding="utf-8")
    logging.getLogger("hub.anything").debug("looked up %s", "139-1111-2222")
'''


@pytest.fixture
def session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("HUB_RELIABILITY_LONG", raising=False)
    pytester.makeini("[pytest]\nmarkers =\n    reliability(figure): a reliability case\n")
    pytester.makepyfile(test_cases=CASES)
    return pytester


@pytest.mark.reliability("G12")
def test_the_table_counts_cases_and_numbers_and_fails_a_missed_target(session: pytest.Pytester) -> None:
    result = session.runpytest_subprocess("-p", "tests.reliability.plugin", "-p", "no:cacheprovider",
                                          "--reliability-report", "out/table.md")
    result.stdout.fnmatch_lines([
        "*G12: clear values in the logs or output of this session*",
        "test_cases.py::test_leak: 1 clear resident ID(s) or phone(s)",
        "*reliability figures*",
        "G1 *2 *2 *at target *records lost 0; max seconds 3.50; records checked 12 *per ingest run*",
        "G2 *1 *1 *at target *new raw rows 0; max seconds 3.50; records checked 7 *",
        "G3 *1 *1 *FAILING *records lost 2 *",
        "G12 *1 *0 *FAILING *clear values found 1; log and output lines scanned *",
        "F7 *1 *0 *FAILING *—*",
        "1 case(s) over a minute not run here: `make reliability` runs them.",
    ])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    table = (session.path / "out" / "table.md").read_text(encoding="utf-8")
    assert "| G3 | an ingest killed (SIGKILL) at random points" in table
    assert "| 1 | 1 | records lost 2 | FAILING |" in table
    assert "13911112222" not in result.stdout.str() + table        # the table names where, never the value


def test_long_cases_run_on_request_and_a_wrong_marker_is_refused(session: pytest.Pytester) -> None:
    result = session.runpytest_subprocess("-p", "tests.reliability.plugin", "-p", "no:cacheprovider",
                                          "--reliability-long", "-k", "lenient or long")
    result.stdout.fnmatch_lines(["G3 *2 *2 *FAILING *records lost 2 *"])
    assert "not run here" not in result.stdout.str()
    session.makepyfile(test_wrong='import pytest\n@pytest.mark.reliability(3)\ndef test_x():\n    pass\n')
    wrong = session.runpytest_subprocess("-p", "tests.reliability.plugin", "-p", "no:cacheprovider", "test_wrong.py")
    wrong.stderr.fnmatch_lines(["*test_wrong.py::test_x: write @pytest.mark.reliability(\"G3\")*"])
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
