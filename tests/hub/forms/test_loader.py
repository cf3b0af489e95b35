"""Form templates: the shipped ones load; a wrong one fails with file, line and cause, like a mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import FormError
from hub.forms import load_form, load_forms
from hub.mapping import load_mapping
from tests.hub.forms.conftest import RESIDENTS  # noqa: F401  (registers the submissions connector kind)

ROOT = Path(__file__).parents[3]
COLUMNS = load_mapping(ROOT / "mappings" / "grid_collection.yaml").connector.settings["columns"]


def test_shipped_forms_load_and_write_back_to_grid_collection() -> None:
    forms = load_forms(ROOT / "forms", COLUMNS).require_ok()
    assert {f.id for f in forms} == {"elderly_allowance", "floating_registration", "disability_allowance"}
    assert {f.title.zh for f in forms} == {"高龄津贴申请", "流动人口居住登记", "残疾人两项补贴申请"}
    for form in forms:
        assert {"person.name", "person.resident_id", "resides_at → house.address"} <= {i.bind.text for i in form.fields}


BAD = {
    "unknown_attribute": ("""id: unknown_attribute
title: {zh: 表, en: Form}
fields:
  - {key: name, label: {zh: 姓名, en: Name}, bind: person.name}
  - {key: phone, label: {zh: 电话, en: Phone}, bind: person.phon}
""", 5, "person has no attribute 'phon' (did you mean 'phone'?)"),
    "bad_predicate": ("""id: bad_predicate
title: {zh: 表, en: Form}
fields:
  - key: address
    label: {zh: 地址, en: Address}
    bind: {relation: lives_at, attribute: house.address}
""", 6, "unknown predicate 'lives_at'"),
    "bad_situation": ("""id: bad_situation
title: {zh: 表, en: Form}
fields:
  - key: level
    label: {zh: 等级, en: Grade}
    bind: {situation: disabled, attribute: level}
""", 6, "unknown situation type 'disabled' (did you mean 'disability'?)"),
    "unknown_key": ("""id: unknown_key
title: {zh: 表, en: Form}
fields:
  - {key: name, label: {zh: 姓名, en: Name}, bind: person.name, mandatory: true}
""", 4, "unknown key 'mandatory'"),
    "not_writable": ("""id: not_writable
title: {zh: 表, en: Form}
fields:
  - {key: name, label: {zh: 姓名, en: Name}, bind: person.name}
  - {key: died, label: {zh: 死亡日期, en: Died}, bind: person.death_date}
""", 5, "cannot be written back: the grid collection mapping has no column 'death_date'"),
    "twice": ("""id: twice
title: {zh: 表, en: Form}
title: {zh: 表二, en: Form 2}
fields:
  - {key: name, label: {zh: 姓名, en: Name}, bind: person.name}
""", 3, "key 'title' is given twice"),
    "broken_yaml": ("""id: broken_yaml
title: {zh: 表, en: Form
fields: []
""", 3, "not valid YAML"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_wrong_form_fails_with_file_line_and_cause(tmp_path: Path, name: str) -> None:
    text, line, cause = BAD[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_form(path, COLUMNS)
    assert loaded.form is None
    problems = [str(p) for p in loaded.problems]
    assert any(p.startswith(f"{path}:{line}:") and cause in p for p in problems), problems
    with pytest.raises(FormError) as raised:
        load_forms(tmp_path, COLUMNS).require_ok()
    assert f"{path}:{line}:" in str(raised.value)
