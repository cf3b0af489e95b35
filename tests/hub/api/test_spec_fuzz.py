"""G6: schemathesis over the API's own OpenAPI document, in process (ASGI): every operation with generated
valid and invalid input, as a cleared consumer (an auditor for /audit). No 5xx; every error is problem+json
with a stable code; statuses, content types and bodies as the document says.

Each operation runs as a Hypothesis test of its own from the operation's strategy (schemathesis' Python API):
schemathesis 4.32's pytest decorator reads a private attribute that this pytest no longer has.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from hub.access.consumers import issue_api_key
from hub.access.policy import CLAIM_KINDS
from hub.api.problems import PROBLEM_MEDIA_TYPE, PROBLEMS
from tests.hub.api.conftest import FusedDistrict, register

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 25


def _api_keys(fused: FusedDistrict) -> dict[str, str]:
    """API keys (no expiry: the fuzzing may outlast a 15-minute token) of a fully cleared consumer and an auditor."""
    consumer = register(fused, "highly_sensitive", claims=CLAIM_KINDS)
    auditor = register(fused, "public", [], role="auditor")
    return {role: issue_api_key(fused.hub.engine, fused.context.keys, who.client_id).value
            for role, who in (("consumer", consumer), ("auditor", auditor))}


@pytest.mark.slow
@pytest.mark.reliability("G6")
def test_the_whole_spec(fused: FusedDistrict, record_property: Callable[[str, object], None]) -> None:
    keys = _api_keys(fused)
    spec = schemathesis.openapi.from_asgi("/openapi.json", fused.app)
    statuses: Counter[int] = Counter()
    server_errors: list[str] = []
    not_problem: list[str] = []
    operations = [result.ok() for result in spec.get_all_operations()]

    def exercise(case: schemathesis.Case) -> None:
        role = "auditor" if case.path.startswith("/api/v1/audit") else "consumer"
        response = case.call(headers={"Authorization": f"Bearer {keys[role]}"})
        statuses[response.status_code] += 1
        label = f"{case.method} {case.path}: {response.status_code}"
        if response.status_code >= 500:
            server_errors.append(label)
        if response.status_code >= 400:
            body = response.json()
            if (response.headers.get("content-type") != [PROBLEM_MEDIA_TYPE] or body.get("code") not in PROBLEMS
                    or body.get("status") != response.status_code):
                not_problem.append(label)
        case.validate_response(response, checks=CHECKS)

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                           derandomize=True, database=None)(given(case=operation.as_strategy(mode))(exercise))
            try:
                run()
            except Unsatisfiable:
                # no invalid input exists for an operation without parameters (/health, /publication, …)
                assert mode is GenerationMode.NEGATIVE and not operation.path_parameters and not operation.query \
                    and not operation.body, f"{operation.label}: no {mode.value} case"
    record_property("operations", len(operations))
    record_property("requests", sum(statuses.values()))
    record_property("5xx responses", len(server_errors))
    record_property("errors not problem+json", len(not_problem))
    assert len(operations) >= 20
    assert not server_errors and not not_problem
    assert statuses[200] > 0 and sum(n for status, n in statuses.items() if status >= 400) > 0, statuses
