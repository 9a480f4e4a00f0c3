"""Loaded with ``-p`` before Django settings are imported: the test environment.

Tests run with production-like settings (DEBUG off) against the embedded PostgreSQL under
var/test-pg (a server separate from the one ``make run`` uses)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOW_PRIVATE_WEBHOOK_TARGETS", "0")
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108 - only tools ask for it
# Every test client request comes from 127.0.0.1: the tests of unknown keys would add up to
# the key-guessing limit across a worker. Its own tests set a low limit (test_ratelimit.py).
os.environ.setdefault("API_KEY_FAILURES_PER_MINUTE", "100000")
