"""Training-session statuses and the one table of allowed transitions (pure)."""

from enum import StrEnum


class SessionStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    STARTED = "started"
    CANCELLED = "cancelled"


ALLOWED = {
    SessionStatus.DRAFT: {SessionStatus.SCHEDULED, SessionStatus.STARTED, SessionStatus.CANCELLED},
    SessionStatus.SCHEDULED: {SessionStatus.STARTED, SessionStatus.CANCELLED},
    SessionStatus.STARTED: set(),
    SessionStatus.CANCELLED: set(),
}


class TransitionError(ValueError):
    def __init__(self, current: SessionStatus, target: SessionStatus):
        super().__init__(f"{current} -> {target}")
        self.code = "transition_not_allowed"
        self.current = current
        self.target = target


def transition(current: str, target: str) -> SessionStatus:
    """Return the new status or raise ``TransitionError``."""
    current, target = SessionStatus(current), SessionStatus(target)
    if target not in ALLOWED[current]:
        raise TransitionError(current, target)
    return target
