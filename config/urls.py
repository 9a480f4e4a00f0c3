from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from autocrm.core import views as core_views
from autocrm.inboxes.esp import esp_inbound
from autocrm.portal import views as portal_views
from config.api import api

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("api/v1/", api.urls),
    # Email service providers post received mail here (signed; see docs/email.md).
    path("email/inbound/<str:provider>/<str:token>/", csrf_exempt(esp_inbound), name="esp_inbound"),
    path("accounts/", include("allauth.urls")),
    path("", include("autocrm.accounts.urls")),
    path("<slug:tenant_slug>/help/", include("autocrm.portal.urls")),
    path("<slug:tenant_slug>/portal/", portal_views.portal_redirect),
    path("<slug:tenant_slug>/portal/<path:rest>", portal_views.portal_redirect),
    path("<slug:tenant_slug>/settings/help-centre/", include("autocrm.portal.settings_urls")),
    path("<slug:tenant_slug>/", include("autocrm.workspace.urls")),
]

# problem+json for /api/ paths, Django's HTML pages elsewhere.
handler400 = "autocrm.core.api.errors.handler400"
handler404 = "autocrm.core.api.errors.handler404"
handler500 = "autocrm.core.api.errors.handler500"
