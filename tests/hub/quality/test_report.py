"""The auditors' report, rendered by headless Chromium (Debian's chromium package) from disk, as an auditor
opens it: what is on the page, that nothing on it comes from the network, that no clear resident ID or phone
of the sources is on it, and a screenshot that is a real picture of it.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.demo import DemoManifest
from hub.pipeline import Hub, ingest, report, resolve
from hub.quality.report import quarantine_trend
from hub.settings import HubSettings
from hub.store import tables

REPO = Path(__file__).parents[3]
FILES = {"minzheng_allowance": Path("minzheng") / "残疾人及高龄补贴.csv",
         "minzheng_assistance": Path("minzheng") / "救助对象名册.xlsx"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (`make test` installs it)")


@pytest.fixture
def reported(tmp_path: Path, store_url: str, district: DemoManifest) -> Iterator[tuple[Hub, Path, set[str]]]:
    """Two 民政 sources ingested and resolved, then the allowance roster broken (a held batch), then the report."""
    sources, mappings = tmp_path / "sources", tmp_path / "mappings"
    (sources / "minzheng").mkdir(parents=True)
    mappings.mkdir()
    for source, path in FILES.items():
        shutil.copy(district.out_dir / path, sources / path)
        shutil.copy(REPO / "mappings" / f"{source}.yaml", mappings)
    hub = Hub.open(HubSettings(home=tmp_path / "home", database_url=store_url, sources_dir=sources,
                               mappings_dir=mappings, secret_key="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="))
    assert {r.gate for r in ingest(hub)} == {"published"}
    resolve(hub)
    roster = sources / FILES["minzheng_allowance"]
    rows = list(csv.reader(io.StringIO(roster.read_bytes().decode("gbk"))))
    clear = {v for row in rows[1:] for v in (row[2], row[6]) if len(v) >= 11}   # 身份证号, 联系电话
    ids = rows[0].index("身份证号")
    broken = [rows[0], *[[*r[:ids], r[ids][:4], *r[ids + 1:]] for r in rows[1:]]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(broken)
    roster.write_bytes(out.getvalue().encode("gbk", errors="replace"))
    assert {r.gate for r in ingest(hub, ["minzheng_allowance"])} == {"held"}
    yield hub, report(hub).path, clear
    hub.engine.dispose()


class _Text(HTMLParser):
    """The page's visible text by element id, and every URL it would load or link to."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.by_id: dict[str, list[str]] = {}
        self.urls: list[str] = []
        self.svgs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.stack.append(found.get("id"))
        self.svgs += tag == "svg"
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for name in self.stack:
            if name:
                self.by_id.setdefault(name, []).append(data)

    def text(self, name: str) -> str:
        return " ".join(" ".join(self.by_id.get(name, [])).split())


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--disable-background-networking", *args], capture_output=True, text=True, timeout=120,
                          check=True)


def test_the_report_opens_from_disk_and_shows_what_auditors_need(reported: tuple[Hub, Path, set[str]],
                                                                 tmp_path: Path) -> None:
    hub, path, clear = reported
    dom = _chromium("--dump-dom", path.as_uri()).stdout   # the page as Chromium built it, scripts and all
    page = _Text()
    page.feed(dom)

    assert "数据质量报告" in page.text("sources-h") or "Data quality report" in dom
    sources = page.text("sources")
    assert "minzheng_allowance" in sources and "minzheng_assistance" in sources
    assert "published" in sources and "held" in sources
    assert "min" in sources or " h" in sources                     # timeliness: ages of records and runs
    assert re.search(r"\d+\.\d %", sources)                        # completeness and validity shares
    held = page.text("held")
    assert "minzheng_allowance" in held and "valid: 身份证号 valid" in held
    assert "hub batches approve" in page.text("alert")
    quarantine = page.text("quarantine")
    assert "required name is missing" in quarantine or "resident_id:" in quarantine
    matching = page.text("matching")
    assert all(word in matching for word in ("person", "merges", "splits", "review queue"))
    assert "consistency" in page.text("entities") and "completeness" in page.text("entities")
    assert "field" in page.text("conflicts") or page.text("conflicts") == "none"
    assert page.svgs >= 3 and "Trends" in page.text("trends-h")
    assert "Records quarantined per ingest run, by source" in dom
    trend = quarantine_trend(hub.engine)                           # one line per source, shares of what was read
    assert set(trend) == set(FILES) and len(trend["minzheng_allowance"]) == 2
    assert all(0 <= share <= 100 for points in trend.values() for _, share in points)
    docs = [u for u in page.urls if u.endswith("index.html")]
    assert docs and (path.parent / docs[0]).resolve().is_file()    # the GX Data Docs, beside it on disk
    assert not [u for u in page.urls if u.startswith(("http:", "https:", "//"))]   # nothing from the network
    assert not [value for value in clear if value in dom]          # no clear ID number or phone
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.quality_result).where(
            tables.quality_result.c.scope == "entity_type")).scalar()

    shot = tmp_path / "report.png"
    _chromium("--window-size=1200,2400", f"--screenshot={shot}", path.as_uri())
    picture = shot.read_bytes()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n" and len(picture) > 50_000   # a rendered page, not a blank one
