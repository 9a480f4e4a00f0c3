from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "autocrm.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from autocrm.accounts.events import EVENT_TYPES
        from autocrm.core.events import event_types_register

        event_types_register(EVENT_TYPES)
