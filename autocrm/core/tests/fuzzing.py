"""Generated input against every operation of the API document (schemathesis + Hypothesis),
shared by test_api_fuzz_key.py and test_api_fuzz_session.py (two files, so the parallel
test run gives each caller its own worker).

Each operation of ``/api/v1/openapi.json`` is called in-process through Django's WSGI handler,
with the real middleware and database, as an admin API key and as a signed-in admin session
(CSRF token and ``X-Tenant``), against a tenant seeded with real rows (tickets, messages,
a tag, a view, a macro, a custom field, a webhook with deliveries, an attachment, keys,
invitations), so generated ids often name a row that exists. Valid and invalid input both.

It fails on any 5xx, any 4xx that is not ``application/problem+json``, and any response
whose status, content type or body the document does not describe.

Profiles: ``make test`` runs 6 examples per operation, mode and caller, derandomized (the
same examples every run for the same code, so CI never fails by the luck of a draw);
``make fuzz`` runs the deep profile (FUZZ_EXAMPLES=150), random: setting FUZZ_EXAMPLES
turns the randomness on, so deep runs explore new input each time.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from autocrm.core.models import Tenant
from autocrm.core.problems import PROBLEM_CONTENT_TYPE
from autocrm.core.ratelimit import rate_limit_reset
from autocrm.core.tests.test_cross_tenant import Seeded, seed, tenant_ids

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
RANDOM = "FUZZ_EXAMPLES" in os.environ
MODES = {"valid": GenerationMode.POSITIVE, "invalid": GenerationMode.NEGATIVE}


# Raw e-mail bodies (POST /inboxes/{id}/raw) are sent as the bytes generated for them.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")


@functools.cache
def schema() -> Any:
    from config.api import api

    document = json.loads(json.dumps(api.get_openapi_schema(path_params={})))
    return schemathesis.openapi.from_dict(document)


def operations() -> list[Any]:
    return [result.ok() for result in schema().get_all_operations()]


def _problem_json_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error the API sends is RFC 9457 problem+json."""
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.split(";")[0] == PROBLEM_CONTENT_TYPE, (
            f"{response.status_code} answered as {content_type or 'no content type'}"
        )
    return None


def _documented_status(ctx: Any, response: Any, case: Any) -> bool | None:
    """status_code_conformance, except that an invalid id may spell another route
    (``DELETE /tickets/bulk``): that route's 405 is the right answer, not this one's."""
    if response.status_code == 405 and case.formatted_path in schema().raw_schema["paths"]:
        return None
    result: bool | None = status_code_conformance(ctx, response, case)
    return result


CHECKS = [
    not_a_server_error,
    _documented_status,
    content_type_conformance,
    response_schema_conformance,
    _problem_json_errors,
]


def _caller(kind: str, seeded: Seeded) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies of an admin API key, or of an admin's signed-in browser."""
    if kind == "key":
        return {"Authorization": f"Bearer {seeded.raw_key}"}, {}
    browser = Client()
    browser.force_login(seeded.admin)
    csrf = get_random_string(32)  # a CSRF secret: the cookie and the header must match
    cookies = {"sessionid": browser.cookies["sessionid"].value, "csrftoken": csrf}
    return {"X-CSRFToken": csrf, "X-Tenant": seeded.tenant.slug}, cookies


@contextmanager
def _served() -> Iterator[Callable[..., Any]]:
    """Django's WSGI handler on the test's connection: like django.test.Client, the
    request signals must not close the connection that holds the test's transaction.
    The client address is set as a TCP server sets it (the test transport leaves it out).
    No rate limit: thousands of requests of one caller are the point here."""
    handler = WSGIHandler()

    def served(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return handler({**environ, "REMOTE_ADDR": "192.0.2.10"}, start_response)

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with override_settings(API_RATE_LIMIT_PER_MINUTE=10**9):
            rate_limit_reset()
            yield served
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def run_generated(tenant: Tenant, operation: Any, mode: str, caller: str) -> None:
    """Hypothesis examples of ``operation`` in ``mode`` ("valid"/"invalid"), sent as
    ``caller`` ("key"/"session") against seeded rows of ``tenant``, all checked."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        seeded = seed(tenant)
    with _served() as app:
        _run(seeded, app, operation, mode, caller)


def _run(seeded: Seeded, app: Callable[..., Any], operation: Any, mode: str, caller: str) -> None:
    tenant = seeded.tenant
    headers, cookies = _caller(caller, seeded)
    names = [parameter.name for parameter in operation.path_parameters]
    real = {name: tenant_ids(tenant, name) for name in names}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=MODES[mode]), data=st.data())
    def run(case: Any, data: Any) -> None:
        # Most examples aim at rows that exist, so handlers run past their lookups.
        for name in names:
            if mode == "valid" and data.draw(st.booleans()):
                case.path_parameters[name] = data.draw(st.sampled_from(real[name]))
        response = case.call(app=app, headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
