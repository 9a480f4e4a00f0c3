"""Websocket routes. Apps add their consumers here (each consumer sets the tenant context
from the tenant it was opened for)."""

from django.urls import URLPattern

from autocrm.realtime.routing import websocket_urlpatterns as realtime_urls

websocket_urlpatterns: list[URLPattern] = [*realtime_urls]
