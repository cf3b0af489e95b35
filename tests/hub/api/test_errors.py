"""The API's error layer: problem+json with stable codes from one handler, nothing internal to a client."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from hub.api import create_app
from hub.api.context import ApiContext
from hub.api.problems import PROBLEM_MEDIA_TYPE, PROBLEMS
from hub.store import make_engine
from tests.hub.api.conftest import FusedDistrict

ROOT = Path(__file__).parents[3]


def _problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["code"] == code and body["status"] == status
    assert body["type"] == f"urn:community-hub:problem:{code}" and body["title"] == PROBLEMS[code].title
    return body


def test_unknown_path_and_method_answer_problem_json(client: TestClient) -> None:
    body = _problem(client.get("/api/v1/nothing-here?x=1"), 404, "no_such_endpoint")
    assert body["instance"] == "/api/v1/nothing-here"
    _problem(client.delete("/health"), 405, "method_not_allowed")


def test_health_checks_the_store(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok", "store": "ok"}


def test_health_reports_a_store_that_does_not_answer(fused: FusedDistrict) -> None:
    """The store's server gone (a port nothing listens on): 503 store_unavailable, no driver text."""
    if fused.backend != "postgres":
        pytest.skip("a SQLite file has no server to lose")
    gone = make_url(fused.settings.database_url).set(port=1)
    context = ApiContext(fused.settings, make_engine(gone.render_as_string(hide_password=False)), fused.context.vault)
    with TestClient(create_app(fused.settings, context), raise_server_exceptions=False) as client:
        body = _problem(client.get("/health"), 503, "store_unavailable")
    context.close()
    assert "127.0.0.1" not in str(body) and "connection" not in str(body).lower()


def test_an_unexpected_error_answers_500_without_its_message(fused: FusedDistrict,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """A route that fails unexpectedly: the client gets an incident id, the log its type and place, and
    neither gets the exception's text (here a phone number, as a driver or KeyError might quote one)."""
    app = create_app(fused.settings, fused.context)

    def broken() -> None:
        raise KeyError("13800138000")

    app.add_api_route("/broken", broken)
    with caplog.at_level(logging.ERROR, logger="hub.api"), \
            TestClient(app, raise_server_exceptions=False) as client:
        body = _problem(client.get("/broken"), 500, "internal_error")
    assert "13800138000" not in str(body) and "Traceback" not in str(body)
    assert isinstance(body["incident"], str) and body["incident"] in str(body["detail"])
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "KeyError" in logged and body["incident"] in logged and "test_errors.py" in logged
    assert "13800138000" not in logged


def test_the_spec_documents_errors_as_problem_json(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    health = spec["paths"]["/health"]["get"]["responses"]
    assert PROBLEM_MEDIA_TYPE in health["503"]["content"]
    assert "Problem" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_every_code_is_in_the_api_guide() -> None:
    guide = (ROOT / "docs" / "api-guide.md").read_text(encoding="utf-8")
    missing = [code for code in PROBLEMS if f"`{code}`" not in guide]
    assert not missing, f"docs/api-guide.md does not explain {missing}"
