from django.urls import URLPattern, path

from autocrm.realtime.consumers import AgentConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/<slug:tenant_slug>/agent/", AgentConsumer.as_asgi()),
]
