"""How the portal is served: how many workers and threads, and what several workers need.

Used by ``gunicorn.conf.py`` before any worker starts, and by ``create_app`` (which
learns the worker count from ``PORTAL_WORKERS``) so that a wrong combination stops
the start with its reason instead of misbehaving under load.
"""

from collections.abc import Mapping
from dataclasses import dataclass


class ServingError(SystemExit):
    """A setting that cannot work; the message says which and what to set."""


@dataclass(frozen=True)
class ServingPlan:
    database: str  # "sqlite" or "postgresql"
    workers: int
    threads: int


def database_kind(url: str | None) -> str:
    return "postgresql" if (url or "").startswith(("postgresql", "postgres")) else "sqlite"


def serving_plan(env: Mapping[str, str], cpus: int) -> ServingPlan:
    kind = database_kind(env.get("PORTAL_DATABASE_URL"))
    if kind == "sqlite":
        default_workers, default_threads = 1, 8
    else:
        default_workers, default_threads = 2 * cpus + 1, 4
    workers = int(env.get("PORTAL_WORKERS") or default_workers)
    threads = int(env.get("PORTAL_THREADS") or default_threads)
    if workers < 1 or threads < 1:
        raise ServingError("PORTAL_WORKERS and PORTAL_THREADS must be at least 1.")
    return ServingPlan(kind, workers, threads)


def problems(database: str, workers: int, rate_limit_storage: str) -> list[str]:
    """Why this combination cannot serve correctly (empty: it can)."""
    found = []
    if workers > 1 and database == "sqlite":
        found.append(
            "SQLite is served by one worker (with threads): set PORTAL_WORKERS=1, or use PostgreSQL "
            "(PORTAL_DATABASE_URL=postgresql://...) for several workers."
        )
    if workers > 1 and (rate_limit_storage or "memory://").startswith("memory://"):
        found.append(
            "Several workers need shared rate-limit counters: set "
            "PORTAL_RATELIMIT_STORAGE_URI=redis://HOST:6379/0 (each worker would otherwise "
            "allow the full login and coupon rates on its own)."
        )
    return found


def check_serving(env: Mapping[str, str], plan: ServingPlan) -> None:
    found = problems(plan.database, plan.workers, env.get("PORTAL_RATELIMIT_STORAGE_URI", "memory://"))
    if found:
        raise ServingError("The portal cannot start:\n- " + "\n- ".join(found))
