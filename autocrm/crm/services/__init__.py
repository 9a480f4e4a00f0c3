"""Every write of the CRM app, by concept: ``contacts``, ``companies``, ``pipelines``,
``deals``, ``activities``. Import from here."""

from autocrm.crm.services.activities import (
    activity_create,
    activity_delete,
    activity_template_create,
    activity_template_delete,
    activity_template_update,
    activity_update,
)
from autocrm.crm.services.companies import company_create, company_delete, company_update
from autocrm.crm.services.contacts import (
    PhoneInput,
    company_for_email,
    contact_create,
    contact_delete,
    contact_get_or_create,
    contact_link_user,
    contact_update,
)
from autocrm.crm.services.deal_rules import (
    deal_assignment_rule_create,
    deal_assignment_rule_delete,
    deal_assignment_rule_update,
    deal_assignment_rules_reorder,
)
from autocrm.crm.services.deals import (
    deal_close,
    deal_convert,
    deal_create,
    deal_delete,
    deal_move,
    deal_update,
)
from autocrm.crm.services.merge import company_merge, contact_merge
from autocrm.crm.services.pipelines import (
    StageInput,
    pipeline_create,
    pipeline_delete,
    pipeline_update,
)

__all__ = [
    "PhoneInput",
    "StageInput",
    "activity_create",
    "activity_delete",
    "activity_template_create",
    "activity_template_delete",
    "activity_template_update",
    "activity_update",
    "company_create",
    "company_delete",
    "company_for_email",
    "company_merge",
    "company_update",
    "contact_create",
    "contact_delete",
    "contact_get_or_create",
    "contact_link_user",
    "contact_merge",
    "contact_update",
    "deal_assignment_rule_create",
    "deal_assignment_rule_delete",
    "deal_assignment_rule_update",
    "deal_assignment_rules_reorder",
    "deal_close",
    "deal_convert",
    "deal_create",
    "deal_delete",
    "deal_move",
    "deal_update",
    "pipeline_create",
    "pipeline_delete",
    "pipeline_update",
]
