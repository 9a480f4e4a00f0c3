from django.urls import path

from autocrm.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/workspaces/new/", views.workspace_create, name="workspace_create"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
