"""Teams (groups of agents that tickets are routed to)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from autocrm.core.models import TenantOwned


class Team(TenantOwned):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="routing_team_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(TenantOwned):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="routing_teammember_once")
        ]
        indexes = [models.Index(fields=["tenant", "user"], name="routing_teammember_user")]
