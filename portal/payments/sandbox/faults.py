"""Fault injection: a plan set by tests, consumed request by request by the server.

Operations are named after the SDK calls that reach them (``sale``, ``find``,
``search``, ``refund``, ``void``, ``submit_for_settlement``, ``reverse``,
``settle``, ``settlement_decline``, ``settlement_pending``, ``client_token``,
``payment_method_nonce``), which is what ``only`` filters on. Other sandboxes (Payflow)
reuse the plan with their own set of operations.
"""

import threading
from dataclasses import asdict, dataclass

OPERATIONS = frozenset(
    {
        "sale",
        "find",
        "search",
        "refund",
        "void",
        "submit_for_settlement",
        "reverse",
        "settle",
        "settlement_decline",
        "settlement_pending",
        "client_token",
        "payment_method_nonce",
    }
)


@dataclass(frozen=True)
class Fault:
    latency_ms: int = 0
    status: int | None = None
    times: int | None = None  # None: until cleared
    lose_response: bool = False
    drop_connection: bool = False
    only: tuple[str, ...] | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["only"] = list(self.only) if self.only else None
        return data


def make_fault(
    latency_ms=0,
    status=None,
    times=None,
    lose_response=False,
    drop_connection=False,
    only=None,
    *,
    operations: frozenset[str] = OPERATIONS,
) -> Fault:
    """Validate a plan: one way of failing at a time, known operations, sane numbers."""
    if isinstance(latency_ms, bool) or not isinstance(latency_ms, int) or latency_ms < 0:
        raise ValueError("latency_ms must be a non-negative integer")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599
    ):
        raise ValueError("status must be an HTTP error status (e.g. 500, 503, 429, 504)")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise ValueError("times must be a positive integer or None")
    if sum((status is not None, bool(lose_response), bool(drop_connection))) > 1:
        raise ValueError("choose one of status, lose_response, drop_connection")
    if isinstance(only, str):
        only = [part.strip() for part in only.split(",") if part.strip()]
    if only is not None:
        only = tuple(only)
        unknown = set(only) - operations
        if unknown or not only:
            raise ValueError(f"unknown operations in only: {sorted(unknown)}; known: {sorted(operations)}")
    return Fault(latency_ms, status, times, bool(lose_response), bool(drop_connection), only)


class FaultPlan:
    """The current fault, shared by the server's threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self._remaining: int | None = None

    def set(self, fault: Fault) -> None:
        with self._lock:
            self._fault, self._remaining = fault, fault.times

    def clear(self) -> None:
        with self._lock:
            self._fault, self._remaining = None, None

    def current(self) -> dict | None:
        with self._lock:
            if self._fault is None:
                return None
            return {**self._fault.as_dict(), "remaining": self._remaining}

    def take(self, operation: str) -> Fault | None:
        """The fault to apply to this request, counting it against ``times``."""
        with self._lock:
            fault = self._fault
            if fault is None or (fault.only and operation not in fault.only):
                return None
            if self._remaining is not None:
                self._remaining -= 1
                if self._remaining <= 0:
                    self._fault, self._remaining = None, None
            return fault
