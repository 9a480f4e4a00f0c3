"""Websocket routes. Apps add their consumers here (each consumer sets the tenant context
from the tenant it was opened for)."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
