"""ASGI entry point: uvicorn serves HTTP and websockets.

HTTP requests run Django's synchronous (WSGI) handler on a thread pool: every view and
middleware here is synchronous and the tenant middleware holds one transaction per request,
so Django's ASGI handler would only add thread hops (sync → async → sync) to each request.
``BufferedWSGI`` reads every body on the event loop within a deadline, so a slow client never
holds a thread, then hands the request over once each way (ADR 0005). Websockets go to Channels.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.wsgi import get_wsgi_application

django_wsgi_app = get_wsgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from autocrm.core.asgi_bridge import BufferedWSGI  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

http_application = BufferedWSGI(
    django_wsgi_app,
    workers=settings.WEB_THREADS,
    max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    max_upload=settings.MAX_UPLOAD_BYTES,
    max_email=settings.INBOUND_EMAIL_MAX_BYTES,
    body_timeout=settings.REQUEST_BODY_TIMEOUT,
    idle_timeout=settings.REQUEST_BODY_IDLE_TIMEOUT,
)

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
