from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "autocrm.realtime"
    label = "realtime"
    verbose_name = "Realtime"

    def ready(self) -> None:
        from autocrm.realtime import event_handlers  # noqa: F401  (registers the push)
