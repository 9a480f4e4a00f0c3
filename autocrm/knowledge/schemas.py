"""Request and response bodies of the knowledge-base API."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from autocrm.core.api import PatchSchema, RequestSchema

StateName = Literal["draft", "review", "published", "archived"]
VisibilityName = Literal["public", "internal"]


class ArticleIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "How to reset your password",
                    "body": "Open **Settings**, then *Security*.\n\n!!! tip\n    Links expire.",
                    "state": "published",
                    "locale": "en",
                }
            ]
        },
    )

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=200_000, description="Markdown; no raw HTML.")
    state: StateName = "draft"
    locale: str = Field(default="en", max_length=10)
    visibility: VisibilityName = "public"
    category_id: int | None = None
    section_id: int | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)
    related_ids: list[int] = Field(default_factory=list, max_length=10)
    translation_of: int | None = Field(
        default=None, description="Id of the article this one translates (another locale)."
    )


class ArticleUpdateIn(PatchSchema):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"category_id", "section_id"})

    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=200_000)
    state: StateName | None = None
    visibility: VisibilityName | None = None
    category_id: int | None = None
    section_id: int | None = None
    tags: list[str] | None = Field(default=None, max_length=20)
    related_ids: list[int] | None = Field(default=None, max_length=10)
    slug: str | None = Field(default=None, min_length=1, max_length=180)


class ArticleListItemOut(Schema):
    id: int
    title: str
    slug: str
    locale: str
    state: str
    visibility: str
    category_id: int | None
    section_id: int | None
    tags: list[str]
    version: int
    view_count: int
    helpful_yes: int
    helpful_no: int
    translation_key: str
    updated_at: dt.datetime
    published_at: dt.datetime | None
    snippet: str | None = Field(
        default=None, description="With `q`: matching text, HTML with `<mark>` around words."
    )

    @staticmethod
    def resolve_translation_key(obj: Any) -> str:
        return str(obj.translation_key)


class TranslationOut(Schema):
    id: int
    locale: str
    title: str
    state: str


class ArticleOut(ArticleListItemOut):
    body: str
    body_html: str
    related_ids: list[int]
    created_at: dt.datetime
    translations: list[TranslationOut] = Field(default_factory=list)


class VersionOut(Schema):
    number: int
    title: str
    body: str
    state: str
    author_label: str
    note: str
    created_at: dt.datetime


class CategoryIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Billing", "description": "Invoices, plans."}]},
    )

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    slug: str = Field(default="", max_length=100)
    position: int = Field(default=0, ge=0, le=100_000)


class CategoryUpdateIn(PatchSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    slug: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = Field(default=None, ge=0, le=100_000)


class CategoryOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    position: int
