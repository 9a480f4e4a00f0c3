"""Tickets API (thin: parse -> selector/service -> schema), one router per concept:
``tickets``, ``conversation`` (audit timeline, messages, attachments) and ``configuration``
(tags, custom fields, views, macros). ``router`` combines them for config/api.py."""

from ninja import Router

from autocrm.tickets.api import configuration, conversation, tickets

router = Router()
router.add_router("", tickets.router)
router.add_router("", conversation.router)
router.add_router("", configuration.router)
