"""The demo tenant as ``manage.py seed_demo`` leaves it, for the tests of each app's demo part."""

from __future__ import annotations

import io

from django.core.management import call_command

from autocrm.core.models import Tenant


def seeded_demo_tenant() -> Tenant:
    """Runs seed_demo twice (a re-run must change nothing) and returns the demo tenant."""
    call_command("seed_demo", "--force", stdout=io.StringIO())
    call_command("seed_demo", "--force", stdout=io.StringIO())
    return Tenant.objects.get(slug="demo")
