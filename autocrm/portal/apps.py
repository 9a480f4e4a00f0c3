from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "autocrm.portal"
    label = "portal"

    def ready(self) -> None:
        from autocrm.core.events import event_types_register
        from autocrm.portal.events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
        from autocrm.inboxes.models import OutboundKind
        from autocrm.inboxes.outbound import mail_body_register
        from autocrm.portal import event_handlers  # noqa: F401  (registers the CSAT survey)
        from autocrm.portal.satisfaction import survey_mail

        mail_body_register(OutboundKind.CSAT_SURVEY, survey_mail)
