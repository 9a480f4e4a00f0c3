from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "autocrm.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.models import CharField
        from django.db.models.functions import Lower

        # `email__lower=...` compiles to LOWER(email) = ..., which the lower(...) expression
        # indexes answer; Django's __iexact compiles to UPPER(...) LIKE UPPER(...), which no
        # index does (a sequential scan of every contact per ticket).
        CharField.register_lookup(Lower)
        # Connects the receivers that put the tenant on each request's last log line.
        # (Event handlers live in each app's own module, registered with @event_handler.)
        from autocrm.core import request_logging  # noqa: F401
