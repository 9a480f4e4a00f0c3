from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "autocrm.accounts"
    label = "accounts"
    verbose_name = "Accounts"
