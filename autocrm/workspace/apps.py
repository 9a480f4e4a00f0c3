from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "autocrm.workspace"
    label = "workspace"
