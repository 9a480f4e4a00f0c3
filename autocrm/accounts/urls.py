from django.urls import path

from autocrm.accounts import qr_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/workspaces/new/", views.workspace_create, name="workspace_create"),
    path("accounts/qr/new/", qr_views.qr_new, name="qr_login_new"),
    path("accounts/qr/<str:public_id>/status/", qr_views.qr_status, name="qr_login_status"),
    path("accounts/qr/approve/<str:token>/", qr_views.qr_approve, name="qr_login_approve"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
