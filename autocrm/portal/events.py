"""Event types the help centre emits."""

CUSTOMER_PROFILE_UPDATED = "help.customer.profile_updated"
# A customer opened a suggested article from the request form, or left the form after one.
REQUEST_DEFLECTED = "help.request.deflected"
# A requester rated a solved ticket (payload: rating "good"/"bad", comment, ticket number).
SATISFACTION_RATED = "ticket.satisfaction_rated"

EVENT_TYPES = (CUSTOMER_PROFILE_UPDATED, REQUEST_DEFLECTED, SATISFACTION_RATED)
