"""A draft is valid YAML for any source (F8): whatever its header names and values hold (line breaks,
quotes, colons, `#`, tabs, NUL, rich markup, emoji codes, very long text), the text parses, loads back
to exactly the values meant, and keeps every comment on its line."""

from __future__ import annotations

from typing import Any, Protocol

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.onboard import Draft, SourceRef, render, suggest_mapping
from hub.onboard.draft import DraftEntity, DraftField
from hub.onboard.sample import Sample


class RecordProperty(Protocol):
    def __call__(self, name: str, value: Any) -> None: ...


AWKWARD = st.sampled_from([
    "\n", "\r\n", "\r", "\x85", "\u2028", "\u2029", "\x00", "\t", "\x1b[31m", "\ufeff", "\ud800", ": ", ":", " #",
    "#", "[/bold]", "[red]", ":x:", ":thumbs_up:", '"', "'", "\\", "- ", "? ", "&a ", "*a", "!!python/object ",
    "%", "@", "`", "{", "}", "[", "]", ",", "|", ">", "1985-03-07", "null", "yes", "~", "0x1F", " ", "😀",
    "证件类型", "身份证号", "姓名", "1", "2",
])
TEXT = st.one_of(
    st.lists(st.one_of(AWKWARD, st.text(alphabet=st.characters(exclude_categories=()), max_size=4)),
             max_size=8).map("".join),
    st.tuples(AWKWARD, st.integers(200, 1200)).map(lambda t: (t[0] + "很长的备注 ") * (t[1] // 6)),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_valid_draft(draft: Draft, text: str) -> None:
    assert yaml.safe_load(text) == draft.data()                  # parses, and every value comes back as meant
    assert text.splitlines() == text.split("\n")[:-1]             # no raw NEL, LS, PS or CR splits a line


@pytest.mark.reliability("F8")
@SETTINGS
@given(columns=st.lists(TEXT.filter(lambda c: c != "_sheet"), min_size=1, max_size=5, unique=True),
       values=st.lists(TEXT, min_size=1, max_size=8), label=TEXT, title=TEXT)
def test_a_suggested_draft_is_valid_yaml_for_any_source(columns: list[str], values: list[str], label: str,
                                                         title: str) -> None:
    rows = [{c: values[(i + j) % len(values)] for j, c in enumerate(columns)} for i in range(len(values))]
    sample = Sample(columns, rows, [f"row {i + 1}" for i in range(len(rows))])
    ref = SourceRef("file", {"path": label}, label, title=title)
    draft = suggest_mapping(ref, sample, source_id="any_source")
    assert_valid_draft(draft, render(draft))


@SETTINGS
@given(texts=st.lists(TEXT, min_size=14, max_size=14), confidence=st.floats(0, 1))
def test_every_free_text_of_a_draft_stays_valid_yaml(texts: list[str], confidence: float) -> None:
    """What `suggest` copies from a source into a draft, each place filled with awkward text."""
    column, other, value, code, title, origin, note, evidence, why, when, path, label, key, schema = texts
    field_ = DraftField("name", {"column": column, "map": {code: value}, "default": value, "when": when},
                        confidence, evidence)
    entity = DraftEntity("person", "person", fields=[field_, DraftField("phone", {"column": other})],
                         when=[when], note=note, local_ids={"flat_no": {"column": other}},
                         local_notes={"flat_no": note})
    connector = {"kind": "file", **({"connection": key} if key else {}), "settings": {"path": path, key: value}}
    draft = Draft(label or "x", "grid", connector,
                  [column, other], title, [entity], [("person", "resides_at", "home", when)], ["person.name"],
                  {"order": "dmy"}, {"source": note, "settings": why, "record_id": evidence},
                  [(column, why), (other, evidence)], [column, other], origin)
    assert_valid_draft(draft, render(draft, schema=schema))
    assert yaml.safe_load(render(draft, comments=False)) == {k: v for k, v in draft.data().items() if k != "status"}


def test_a_draft_says_it_is_a_draft_and_how_to_mark_it_ready() -> None:
    sample = Sample(["编号", "姓名"], [{"编号": "1", "姓名": "张伟"}], ["row 1"])
    draft = suggest_mapping(SourceRef("file", {"path": "x.csv"}, "x.csv"), sample, source_id="people")
    text = render(draft)
    status = next(line for line in text.splitlines() if line.startswith("status:"))
    assert status.startswith("status: draft ") and "`status: ready`" in status and "hub ingest people" in status
    assert yaml.safe_load(text)["status"] == "draft"
