"""config/settings.py: values derived from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import default_site_url

BASE_DIR = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", "8000", "http://127.0.0.1:8000"),
        ("127.0.0.1", "8123", "http://127.0.0.1:8123"),
        ("localhost", "9000", "http://localhost:9000"),
        ("0.0.0.0", "8123", "http://127.0.0.1:8123"),
        ("::", "8123", "http://127.0.0.1:8123"),
        ("::1", "8123", "http://[::1]:8123"),
        ("", "", "http://127.0.0.1:8000"),
    ],
)
def test_default_site_url_follows_the_listen_address(host: str, port: str, url: str) -> None:
    assert default_site_url(host, port) == url


def _site_url(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "HOST", "PORT", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", "from config import settings; print(settings.SITE_URL)"],
        cwd=BASE_DIR,
        env={**clean, "SECRET_KEY": "x", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_site_url_is_derived_from_host_and_port_when_unset() -> None:
    assert _site_url() == "http://127.0.0.1:8000"
    assert _site_url(PORT="8123") == "http://127.0.0.1:8123"
    assert _site_url(HOST="localhost", PORT="8123") == "http://localhost:8123"


def test_an_explicit_site_url_wins() -> None:
    assert _site_url(SITE_URL="https://support.example.com/", PORT="8123") == (
        "https://support.example.com"
    )
