"""The event types the CRM app appends (webhook subscriptions validate against them).

Services use these constants, never the strings; CrmConfig.ready registers ``EVENT_TYPES``.
"""

from __future__ import annotations

CONTACT_CREATED = "contact.created"
CONTACT_UPDATED = "contact.updated"
CONTACT_DELETED = "contact.deleted"
CONTACT_MERGED = "contact.merged"  # the duplicate, now pointing at the kept contact
CONTACT_USER_LINKED = "contact.user_linked"
COMPANY_CREATED = "company.created"
COMPANY_UPDATED = "company.updated"
COMPANY_DELETED = "company.deleted"
COMPANY_MERGED = "company.merged"
PIPELINE_CREATED = "pipeline.created"
PIPELINE_UPDATED = "pipeline.updated"  # name, order, or its stages (added, changed, removed)
PIPELINE_DELETED = "pipeline.deleted"
DEAL_CREATED = "deal.created"
DEAL_UPDATED = "deal.updated"
DEAL_STAGE_CHANGED = "deal.stage_changed"  # moved on the board (or by the API)
DEAL_WON = "deal.won"
DEAL_LOST = "deal.lost"
DEAL_REOPENED = "deal.reopened"
DEAL_CONVERTED = "deal.converted"  # a lead became a deal
DEAL_DELETED = "deal.deleted"
SCORING_RULES_UPDATED = "deal.scoring_rules_updated"
SCORING_MODEL_TRAINED = "deal.scoring_model_trained"
DEAL_ASSIGNMENT_RULE_CREATED = "deal.assignment_rule_created"
DEAL_ASSIGNMENT_RULE_UPDATED = "deal.assignment_rule_updated"
DEAL_ASSIGNMENT_RULE_DELETED = "deal.assignment_rule_deleted"
ACTIVITY_CREATED = "activity.created"
ACTIVITY_UPDATED = "activity.updated"
ACTIVITY_COMPLETED = "activity.completed"
ACTIVITY_REOPENED = "activity.reopened"
ACTIVITY_DELETED = "activity.deleted"
ACTIVITY_REMINDED = "activity.reminded"
ACTIVITY_TEMPLATE_CREATED = "activity_template.created"
ACTIVITY_TEMPLATE_UPDATED = "activity_template.updated"
ACTIVITY_TEMPLATE_DELETED = "activity_template.deleted"
SEGMENT_CREATED = "segment.created"
SEGMENT_UPDATED = "segment.updated"
SEGMENT_DELETED = "segment.deleted"
SEGMENT_MEMBERS_ADDED = "segment.members_added"
SEGMENT_MEMBERS_REMOVED = "segment.members_removed"
CONTACT_IMPORT_STARTED = "contact_import.started"
CONTACT_IMPORT_FINISHED = "contact_import.finished"
CONTACT_IMPORT_UNDONE = "contact_import.undone"

EVENT_TYPES = (
    CONTACT_CREATED,
    CONTACT_UPDATED,
    CONTACT_DELETED,
    CONTACT_MERGED,
    CONTACT_USER_LINKED,
    COMPANY_CREATED,
    COMPANY_UPDATED,
    COMPANY_DELETED,
    COMPANY_MERGED,
    PIPELINE_CREATED,
    PIPELINE_UPDATED,
    PIPELINE_DELETED,
    DEAL_CREATED,
    DEAL_UPDATED,
    DEAL_STAGE_CHANGED,
    DEAL_WON,
    DEAL_LOST,
    DEAL_REOPENED,
    DEAL_CONVERTED,
    DEAL_DELETED,
    SCORING_RULES_UPDATED,
    SCORING_MODEL_TRAINED,
    DEAL_ASSIGNMENT_RULE_CREATED,
    DEAL_ASSIGNMENT_RULE_UPDATED,
    DEAL_ASSIGNMENT_RULE_DELETED,
    ACTIVITY_CREATED,
    ACTIVITY_UPDATED,
    ACTIVITY_COMPLETED,
    ACTIVITY_REOPENED,
    ACTIVITY_DELETED,
    ACTIVITY_REMINDED,
    ACTIVITY_TEMPLATE_CREATED,
    ACTIVITY_TEMPLATE_UPDATED,
    ACTIVITY_TEMPLATE_DELETED,
    SEGMENT_CREATED,
    SEGMENT_UPDATED,
    SEGMENT_DELETED,
    SEGMENT_MEMBERS_ADDED,
    SEGMENT_MEMBERS_REMOVED,
    CONTACT_IMPORT_STARTED,
    CONTACT_IMPORT_FINISHED,
    CONTACT_IMPORT_UNDONE,
)
