"""GET /metrics: Prometheus metrics, hidden unless made public or asked for with the token."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_hidden_by_default(client: Client) -> None:
    response = client.get("/metrics")
    assert response.status_code == 404
    assert b"django_http" not in response.content


@override_settings(METRICS_PUBLIC=True)
def test_public_when_configured(client: Client) -> None:
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


@override_settings(METRICS_TOKEN="s3cret-metrics-token")
def test_the_bearer_token_opens_it(client: Client) -> None:
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert wrong.status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert response.status_code == 200 and b"python_info" in response.content


@override_settings(METRICS_TOKEN="")
def test_an_empty_token_setting_opens_nothing(client: Client) -> None:
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer").status_code == 404
