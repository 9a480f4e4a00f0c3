"""The routing API: teams and agents, business hours, SLA policies, triggers, automations."""

from ninja import Router

from autocrm.routing.api.rules import router as rules_router
from autocrm.routing.api.teams import router as teams_router

router = Router()
router.add_router("", teams_router)
router.add_router("", rules_router)
