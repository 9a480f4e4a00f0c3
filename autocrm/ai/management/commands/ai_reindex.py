"""Re-index the AI retrieval index of one tenant or all, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from autocrm.ai.indexing import INDEX_ACTOR, tenant_reindex
from autocrm.ai.providers.errors import AIConfigurationError
from autocrm.core.models import Tenant


class Command(BaseCommand):
    help = (
        "Chunk and embed every published KB article and solved ticket again (or, with "
        "--stale, only those embedded by another model than the configured one)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="the tenant's slug (default: every tenant)")
        parser.add_argument(
            "--stale", action="store_true", help="only sources embedded by another model"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No tenant with the slug {options['tenant']!r}.")
        total_chunks = 0
        for tenant in tenants:
            with tqdm(desc=tenant.slug, unit="source", file=self.stderr._out) as bar:
                try:
                    total_chunks += tenant_reindex(
                        tenant=tenant,
                        actor=INDEX_ACTOR,
                        only_stale=options["stale"],
                        on_total=bar.reset,
                        on_progress=bar.update,
                    )
                except AIConfigurationError as exc:
                    raise CommandError(str(exc)) from exc
        self.stdout.write(f"{total_chunks} chunks indexed.")
