"""The core views over the published toy world on each store: search by ID, phone, name and pinyin, the
profiles, masking by clearance and fields, scope in the query, lineage, listing, and `hub find`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hub.access.policy import Policy
from hub.cli import app
from hub.pipeline import Hub, resolve
from hub.settings import HubSettings
from hub.store import tables
from hub.store.steps import run_steps
from hub.views import (
    NothingPublished,
    QueryError,
    Reader,
    entity_view,
    house_profile,
    lineage,
    list_entities,
    open_reader,
    organization_profile,
    person_profile,
    search,
)
from hub.views.entity import Document, entity_document_steps
from hub.views.profiles import house_document_steps, organization_document_steps, person_document_steps
from schemas import Sensitivity
from schemas.views import HouseProfile, LineageView, OrganizationProfile, Page, PersonProfile
from tests.hub.fuse.world import CREDIT, LI, WANG, ZHANG, build_world

OPERATOR = Policy.operator("tester")
TYPES = frozenset({"person", "house", "organization", "thing", "situation", "event"})


def consumer(clearance: Sensitivity, **extra: object) -> Policy:
    return Policy(actor="app-test", role="consumer", purpose="test", clearance=clearance, entity_types=TYPES,
                  **extra)  # type: ignore[arg-type]


@pytest.fixture
def world(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)
    resolve(hub)
    yield hub
    hub.engine.dispose()


@pytest.fixture
def reader(world: Hub) -> Iterator[Reader]:
    with world.engine.connect() as conn:
        yield open_reader(conn, world.vault)


def _only(reader: Reader, policy: Policy = OPERATOR, **criteria: str) -> str:
    page = search(reader, policy, "person", **criteria)
    assert len(page.items) == 1, [(h.label, h.score) for h in page.items]
    return page.items[0].id


def _top(page: Page) -> set[str]:
    """The ids of the best-scored hits (the toy world has two 张伟: the car owner's record carries no ID)."""
    return {h.id for h in page.items if h.score == page.items[0].score}


def test_nothing_published_is_said_plainly(settings: HubSettings) -> None:
    hub = Hub.open(settings)
    with hub.engine.connect() as conn, pytest.raises(NothingPublished, match="run `hub resolve`"):
        open_reader(conn, hub.vault)
    hub.engine.dispose()


def test_a_person_is_found_by_id_phone_name_pinyin_and_typo(reader: Reader) -> None:
    zhang = _only(reader, resident_id=ZHANG)
    assert _only(reader, resident_id=ZHANG.lower()[:-1] + ZHANG[-1].lower()) == zhang   # normalized first
    assert zhang in {h.id for h in search(reader, OPERATOR, "person", phone="138 0013 8000").items}
    assert zhang in {h.id for h in search(reader, OPERATOR, "person", phone="13700137000").items}  # not golden
    by_name = search(reader, OPERATOR, "person", name="张伟")
    assert zhang in _top(by_name) and by_name.items[0].score == 100.0
    assert zhang in _top(search(reader, OPERATOR, "person", name="zhangwei"))
    assert zhang in _top(search(reader, OPERATOR, "person", name="张玮"))      # homophone, welfare's spelling
    assert zhang in _top(search(reader, OPERATOR, "person", name="zw"))        # initials
    li = _only(reader, resident_id=LI)
    assert li in {h.id for h in search(reader, OPERATOR, "person", name="李那").items}  # typo in the given name
    assert search(reader, OPERATOR, "person", name="张伟", phone="13900139000").items == []   # criteria narrow
    assert zhang in {h.id for h in search(reader, OPERATOR, "person", address="明珠花园3号楼2单元1502").items}
    hit = search(reader, OPERATOR, "person", resident_id=ZHANG).items[0]
    assert hit.values["resident_id"].value == "650102********" + ZHANG[-4:]
    assert ZHANG not in hit.model_dump_json()


def test_bad_queries_say_what_is_wrong_without_the_value(reader: Reader) -> None:
    with pytest.raises(QueryError, match="resident_id") as caught:
        search(reader, OPERATOR, "person", resident_id="65010219850307XXXX")
    assert "65010219850307" not in str(caught.value)
    with pytest.raises(QueryError, match="at least one"):
        search(reader, OPERATOR, "person")
    with pytest.raises(QueryError, match="cursor"):
        search(reader, OPERATOR, "person", name="张伟", cursor="bm90IGEgY3Vyc29y")
    narrow = consumer(Sensitivity.internal, fields={"person": frozenset({"name"})})
    with pytest.raises(QueryError, match="may not search persons by resident_id"):
        search(reader, narrow, "person", resident_id=ZHANG)


def test_the_person_profile_shows_what_the_clearance_allows(reader: Reader) -> None:
    zhang = _only(reader, resident_id=ZHANG)
    full = person_profile(reader, consumer(Sensitivity.highly_sensitive), zhang)
    assert isinstance(full, PersonProfile)
    assert full.person.values["resident_id"].value == ZHANG and full.person.values["resident_id"].mode == "clear"
    assert {h.predicate for h in full.houses} == {"owns", "resides_at"} and full.situations   # 低保 applies to 张伟
    public = person_profile(reader, consumer(Sensitivity.public), zhang)
    assert isinstance(public, PersonProfile)
    values = public.person.values
    assert values["name"].value == "张*" and values["name"].mode == "masked"
    assert values["resident_id"].mode == "masked" and values["phone"].value.startswith("13")
    assert public.situations == [] and public.houses == []        # relations below their sensitivity: not even there
    assert ZHANG not in public.model_dump_json() and "13800138000" not in public.model_dump_json()
    assert public.disclosed.fields["person.resident_id"] == "masked"
    assert full.disclosed.fields["person.resident_id"] == "clear" and zhang in full.disclosed.entity_ids
    assert "disclosed" not in full.model_dump()                   # for the audit row, never the response
    named = person_profile(reader, consumer(Sensitivity.internal, fields={"person": frozenset({"name"})}), zhang)
    assert isinstance(named, PersonProfile) and set(named.person.values) == {"name"}
    assert named.person.label == "张*"
    unnamed = person_profile(reader, consumer(Sensitivity.internal, fields={"person": frozenset({"gender"})}), zhang)
    assert isinstance(unnamed, PersonProfile) and unnamed.person.label is None   # not even masked, via the label
    houses_only = Policy(actor="a", role="consumer", purpose="p", clearance=Sensitivity.internal,
                         entity_types=frozenset({"house"}))
    assert person_profile(reader, houses_only, zhang) is None      # a type not allowed: as unknown
    assert entity_view(reader, OPERATOR, "P-0000000000000000") is None


def test_house_and_organization_profiles(reader: Reader) -> None:
    zhang = _only(reader, resident_id=ZHANG)
    home = next(h.id for h in person_profile(reader, OPERATOR, zhang).houses  # type: ignore[union-attr]
                if h.predicate == "owns")
    house = house_profile(reader, OPERATOR, home)
    assert isinstance(house, HouseProfile)
    assert zhang in {o.id for o in house.owners} and house.house.entity_type == "house"
    assert house_profile(reader, OPERATOR, zhang) is None              # a person is no house
    company = search(reader, OPERATOR, "organization", credit_code=CREDIT).items[0]
    assert search(reader, OPERATOR, "organization", name="明珠物业").items[0].id == company.id
    org = organization_profile(reader, OPERATOR, company.id)
    assert isinstance(org, OrganizationProfile)
    assert {_only(reader, resident_id=LI), _only(reader, resident_id=WANG)} <= {p.id for p in org.people}


def test_the_api_writes_a_document_exactly_as_its_model_would(reader: Reader) -> None:
    """The API answers a view's Document as orjson bytes of its dicts: the same JSON as the model's, at every
    clearance, with what it disclosed the same."""
    zhang = _only(reader, resident_id=ZHANG)
    home = next(h.id for h in person_profile(reader, OPERATOR, zhang).houses  # type: ignore[union-attr]
                if h.predicate == "owns")
    company = search(reader, OPERATOR, "organization", credit_code=CREDIT).items[0].id
    cases = [(person_document_steps, zhang), (house_document_steps, home), (organization_document_steps, company),
             (entity_document_steps, zhang)]
    for clearance in (Sensitivity.public, Sensitivity.highly_sensitive):
        policy = consumer(clearance)
        for steps, entity_id in cases:
            document = run_steps(reader.conn, steps(reader, policy, entity_id))
            assert isinstance(document, Document)
            model = document.as_model()
            assert orjson.dumps(document.body, option=orjson.OPT_UTC_Z) == model.model_dump_json().encode()
            assert model.disclosed is document.disclosed and document.disclosed.entity_ids
    assert ZHANG in orjson.dumps(run_steps(reader.conn, person_document_steps(
        reader, consumer(Sensitivity.highly_sensitive), zhang)).body).decode()    # type: ignore[union-attr]


def test_scope_is_a_filter_in_the_query(reader: Reader) -> None:
    zhang = _only(reader, resident_id=ZHANG)
    elsewhere = consumer(Sensitivity.internal, scope=frozenset({"PL-0000000000000000"}))
    assert entity_view(reader, elsewhere, zhang) is None
    assert search(reader, elsewhere, "person", resident_id=ZHANG).items == []
    assert list_entities(reader, elsewhere, "person").items == []
    assert lineage(reader, elsewhere, zhang) is None


def test_lineage_names_the_departments_and_the_chosen_statement(reader: Reader) -> None:
    zhang = _only(reader, resident_id=ZHANG)
    names = lineage(reader, OPERATOR, zhang, "name")
    assert isinstance(names, LineageView)
    assert {c.value for c in names.claims} == {"张伟", "张玮"}
    assert [c.value for c in names.claims if c.chosen] == ["张伟"]
    assert {c.department for c in names.claims} >= {"public_security", "civil_affairs"}
    phones = lineage(reader, consumer(Sensitivity.internal), zhang, "phone")
    assert isinstance(phones, LineageView) and phones.claims
    assert all(c.mode == "masked" and "****" in str(c.value) for c in phones.claims)
    none = lineage(reader, consumer(Sensitivity.internal, fields={"person": frozenset({"name"})}), zhang, "phone")
    assert isinstance(none, LineageView) and none.claims == []


def test_listing_pages_with_a_keyset_cursor(reader: Reader) -> None:
    first = list_entities(reader, OPERATOR, "person", limit=2)
    assert len(first.items) == 2 and first.next_cursor
    rest = list_entities(reader, OPERATOR, "person", limit=50, cursor=first.next_cursor)
    ids = [h.id for h in first.items + rest.items]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 5 and rest.next_cursor is None   # four and the car owner


def test_hub_find_prints_ids_and_masked_values(world: Hub, settings: HubSettings) -> None:
    if settings.database_url.startswith("postgresql"):
        pytest.skip("the command line is the same on both stores")
    assert world.settings.secret_key is not None and world.settings.mappings_dir is not None
    env = {"HUB_HOME": str(world.settings.home), "HUB_DATABASE_URL": world.settings.database_url,
           "HUB_SECRET_KEY": world.settings.secret_key.get_secret_value(),
           "HUB_MAPPINGS_DIR": str(world.settings.mappings_dir)}
    with world.engine.connect() as conn:
        zhang = search(open_reader(conn, world.vault), OPERATOR, "person", resident_id=ZHANG).items[0].id
    result = CliRunner().invoke(app, ["find", "--id-number", ZHANG], env=env)
    assert result.exit_code == 0, result.output
    assert str(zhang) in result.output and "650102********" in result.output and ZHANG not in result.output
    result = CliRunner().invoke(app, ["find", "--name", "zhangwei"], env=env)
    assert result.exit_code == 0 and str(zhang) in result.output
    with world.engine.connect() as conn:
        log = tables.audit_log.c
        audited = conn.execute(sa.select(log.action, log.role, log.entity_ids, log.detail).order_by(log.seq)).all()
    assert [(a.action, a.role) for a in audited] == [("hub find", "operator")] * 2
    assert str(zhang) in audited[0].entity_ids and ZHANG not in str(audited)       # ids, never values
    result = CliRunner().invoke(app, ["find", "--phone", "12"], env=env)
    assert result.exit_code != 0 and "phone" in result.output and "Traceback" not in result.output
