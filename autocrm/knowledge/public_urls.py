"""The knowledge base's pages in the help centre, included at the root of
/<tenant>/help/ (autocrm/portal/urls.py), so their names are ``portal:kb_*``."""

from __future__ import annotations

from django.urls import path

from autocrm.knowledge import public_views

urlpatterns = [
    path("", public_views.home, name="kb_home"),
    path("search", public_views.search, name="kb_search"),
    path("sitemap.xml", public_views.sitemap, name="kb_sitemap"),
    path("categories/<slug:category_slug>/", public_views.category, name="kb_category"),
    path("articles/<int:article_id>/", public_views.article_short, name="kb_article_short"),
    path("articles/<int:article_id>-<str:slug>/", public_views.article, name="kb_article"),
    path("articles/<int:article_id>/vote/", public_views.vote, name="kb_vote"),
    path(
        "kb-files/<int:upload_id>/<str:signature>/<str:filename>",
        public_views.upload_file,
        name="kb_file",
    ),
]
