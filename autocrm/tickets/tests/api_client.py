"""The tickets API over the Django test client (real DB, real middleware), for tests."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from autocrm.accounts.tests.factories import bearer

NEW = {
    "subject": "Refund please",
    "body": "I was charged twice for order 1234.",
    "requester_email": "pat@customer.test",
    "priority": "high",
    "tags": ["billing"],
}


class Api:
    def __init__(self, client: Client, raw_key: str = "") -> None:
        """With an API key, or (no key) as whoever the client is logged in as."""
        self.client = client
        self.headers = bearer(raw_key) if raw_key else {}

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        kwargs: dict[str, Any] = {"headers": {**self.headers, **headers}}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)


def create(api: Api, **overrides: Any) -> dict[str, Any]:
    response = api.call("post", "/tickets", {**NEW, **overrides})
    assert response.status_code == 201, response.content
    return response.json()
