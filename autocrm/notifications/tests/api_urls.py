"""URL conf of the webhooks API tests: the webhooks router alone in an AutoCrmApi (the same
auth, problem+json, rate-limit and idempotency rules as config.api), so these tests do not
depend on every other app's router importing. test_api checks the real mount separately."""

from django.urls import path

from autocrm.core.api import AutoCrmApi
from autocrm.notifications.api import router

webhooks_api = AutoCrmApi(
    title="AutoCRM webhooks (tests)", urls_namespace="api", docs_url=None, openapi_url=None
)
webhooks_api.add_router("/webhooks", router)
urlpatterns = [path("api/v1/", webhooks_api.urls)]
