"""Domain errors of the ticket system (the API maps them to 409 / 412)."""

from __future__ import annotations


class TicketClosedError(Exception):
    """Closed tickets are read-only."""

    def __init__(self, number: int) -> None:
        super().__init__(f"Ticket #{number} is closed and read-only.")
        self.number = number


class VersionConflictError(Exception):
    """The caller's version (ETag) is stale: somebody changed the ticket meanwhile."""

    def __init__(self, current_version: int) -> None:
        super().__init__("The ticket was changed by someone else; reload it and retry.")
        self.current_version = current_version
