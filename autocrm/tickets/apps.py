from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "autocrm.tickets"
    label = "tickets"
