"""Who may read and write which articles.

- owners, admins, agents, API keys with write scope and the system: write every article;
- light agents and read-only API keys: read every article, internal ones included;
- customers and anonymous visitors: read published public articles only, never drafts,
  internal or archived ones.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from autocrm.core.actors import Actor

VISITOR = "visitor"


def visitor_actor(session_key: str) -> Actor:
    """An anonymous reader of the help centre (votes, searches): the audit label names
    a hash of the session, never the session itself."""
    return Actor(user=None, role=VISITOR, label=f"visitor:{voter_hash(session_key)[:12]}")


def voter_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def is_agent_reader(actor: Actor) -> bool:
    """Sees drafts and internal articles (staff, API keys, system jobs)."""
    return actor.is_staff


def article_scope(actor: Actor) -> Q:
    if is_agent_reader(actor):
        return Q()
    return Q(state="published", visibility="public")


def require_writer(actor: Actor) -> None:
    if actor.role == "api" and actor.api_scope == "read":
        raise PermissionDenied("This API key is read-only.")
    if not actor.is_staff or actor.role == "light_agent":
        raise PermissionDenied("Only agents and admins can change the knowledge base.")


def require_admin(actor: Actor) -> None:
    require_writer(actor)
    if not actor.is_admin:
        raise PermissionDenied("Only owners and admins can do this.")
