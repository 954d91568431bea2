import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import render_template
from flask_babel import gettext
from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.accounts.models import Department, Role, User
from portal.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from portal.admin import audit
from portal.database import utcnow
from portal.extensions import db
from portal.mail import services as mail


class AccountError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; same work and answer for every failure."""
    user = find_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


def get_or_create_department(name: str) -> Department:
    department = db.session.scalar(select(Department).where(Department.name == name))
    if department is None:
        department = Department(name=name)
        db.session.add(department)
        db.session.flush()
    return department


def create_user(
    email: str,
    password: str,
    role: Role = Role.ORGANIZER,
    name: str = "",
    department: Department | None = None,
    timezone: str = "UTC",
) -> User:
    try:
        email = validate_email(normalize_email(email), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AccountError("invalid_email") from exc
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise AccountError("email_taken")
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=Role(role),
        department=department,
        timezone=timezone,
    )
    db.session.add(user)
    db.session.flush()
    return user


def revoke_sessions(user: User) -> None:
    """Sign the user out everywhere: every login cookie issued so far stops working."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
    )
    db.session.commit()


# -- administration: invitations, changes, deactivation, departments ---------------------------------------
#
# Every function below commits its change together with its audit entry (and, for an
# invitation, its outbox message), or raises ``AccountError`` after rolling back.


def _fail(code: str) -> AccountError:
    """Roll back (releasing any row lock) and return the error to raise."""
    db.session.rollback()
    return AccountError(code)


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _locked(query):
    """``query`` with its rows locked until commit and re-read (not taken from the identity map).

    PostgreSQL: ``SELECT ... FOR UPDATE``, giving up after a few seconds rather than
    queueing forever. SQLite: every transaction already holds the database's write lock
    (``BEGIN IMMEDIATE``, see ``portal.database``).
    """
    query = query.execution_options(populate_existing=True)
    if _is_postgresql():
        db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
        query = query.with_for_update(of=User)
    return query


def _lock_for_change(user: User) -> list[int]:
    """Lock ``user`` and every active administrator (in id order: no deadlock between two
    changes); ``user`` is re-read. Returns the active administrators' ids."""
    query = (
        select(User)
        .where(or_(User.id == user.id, and_(User.role == Role.ADMIN, User.active.is_(True))))
        .order_by(User.id)
    )
    try:
        rows = list(db.session.scalars(_locked(query)))
    except OperationalError:  # lock_timeout: another change holds the rows
        raise _fail("busy") from None
    return [row.id for row in rows if row.role == Role.ADMIN and row.active]


def _keep_an_admin(user: User, admin_ids: list[int]) -> None:
    """Refuse to take away the last active administrator (``admin_ids`` read under lock)."""
    if admin_ids == [user.id]:
        raise _fail("last_admin")


def _valid_email(email: str) -> str:
    try:
        return validate_email(normalize_email(email), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AccountError("invalid_email") from exc


def unusable_password_hash() -> str:
    """A real argon2id hash of a secret nobody keeps: no password matches it, and trying one costs
    the same time as for any account (so a login attempt does not reveal pending invitations)."""
    return hash_password(secrets.token_urlsafe(32))


def _department_name(department: Department | None) -> str | None:
    return department.name if department is not None else None


def _queue_invitation(user: User, actor: User | None) -> None:
    from portal.accounts.invitations import invitation_url, max_age_hours

    hours = max_age_hours()
    body = render_template(
        "users/email/invitation.txt",
        user=user,
        inviter=actor,
        link=invitation_url(user),
        hours=int(hours) if hours == int(hours) else hours,
    )
    mail.queue(
        user.email,
        gettext("Your invitation to the training portal"),
        body,
        kind="invitation",
        to_name=user.name,
        reference=f"user:{user.id}",
    )


def invite_user(
    email: str,
    name: str = "",
    role: Role = Role.ORGANIZER,
    department: Department | None = None,
    actor: User | None = None,
) -> User:
    """Create an account without a usable password and email it a link to set one."""
    email = _valid_email(email)
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise _fail("email_taken")
    user = User(
        email=email,
        name=(name or "").strip(),
        password_hash=unusable_password_hash(),
        role=Role(role),
        department=department,
        invited_at=utcnow(),
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same address invited at the same moment by someone else
        raise _fail("email_taken") from None
    _queue_invitation(user, actor)
    audit.record(
        "user.invited",
        user,
        actor=actor,
        email=user.email,
        name=user.name,
        role=str(user.role),
        department=_department_name(department),
    )
    db.session.commit()
    return user


def resend_invitation(user: User, actor: User | None = None) -> None:
    """A new invitation (and link) for an account still waiting for its password; older links stop working."""
    _lock_for_change(user)
    if not user.active:
        raise _fail("inactive")
    if user.invited_at is None:
        raise _fail("not_invited")
    now = utcnow()
    # Strictly later than the previous one, so the previous link can never match again.
    user.invited_at = max(now, user.invited_at + timedelta(microseconds=1))
    _queue_invitation(user, actor)
    audit.record("user.invitation_resent", user, actor=actor, email=user.email)
    db.session.commit()


def invited_user(token: str, lock: bool = False) -> User:
    """The account a genuine, current invitation link is for; ``AccountError`` says why not."""
    from portal.accounts.invitations import InvitationError, read_token, stamp

    try:
        claims = read_token(token)
    except InvitationError as exc:
        raise AccountError(f"invitation_{exc.code}") from None
    query = select(User).where(User.id == claims.user_id)
    user = db.session.scalar(_locked(query) if lock else query)
    if user is None:
        raise AccountError("invitation_invalid")
    if not user.active:
        raise AccountError("invitation_revoked")
    if user.invited_at is None:
        raise AccountError("invitation_used")
    if user.session_version != claims.session_version:
        raise AccountError("invitation_revoked")
    current = stamp(user.invited_at)
    if current > claims.invited_at_us:
        raise AccountError("invitation_superseded")
    if current != claims.invited_at_us:
        raise AccountError("invitation_invalid")
    return user


def accept_invitation(token: str, password: str) -> User:
    """Set the invited user's password; the link is then used up."""
    try:
        user = invited_user(token, lock=True)
    except AccountError as exc:
        raise _fail(exc.code) from None
    except OperationalError:  # lock_timeout
        raise _fail("busy") from None
    problem = password_problem(password)
    if problem:
        raise _fail(problem)
    user.password_hash = hash_password(password)
    user.invited_at = None
    audit.record("user.invitation_accepted", user, actor=user, email=user.email)
    db.session.commit()
    return user


def update_user(
    user: User,
    name: str,
    role: Role,
    department: Department | None,
    actor: User | None = None,
) -> dict:
    """Change name, role and department; returns ``{field: [old, new]}`` (empty: nothing changed)."""
    admin_ids = _lock_for_change(user)
    role = Role(role)
    if user.id in admin_ids and role != Role.ADMIN:
        _keep_an_admin(user, admin_ids)
    old = {"name": user.name, "role": str(user.role), "department": _department_name(user.department)}
    new = {"name": (name or "").strip(), "role": str(role), "department": _department_name(department)}
    changed = audit.changes(old, new)
    if not changed:
        db.session.rollback()
        return {}
    user.name = new["name"]
    user.role = role
    user.department = department
    audit.record("user.updated", user, actor=actor, email=user.email, changes=changed)
    db.session.commit()
    return changed


def deactivate_user(user: User, actor: User | None = None) -> None:
    """The user can no longer log in and is signed out everywhere; everything they did stays."""
    admin_ids = _lock_for_change(user)
    if not user.active:
        db.session.rollback()
        return
    _keep_an_admin(user, admin_ids)
    if actor is not None and actor.id == user.id:
        raise _fail("deactivate_self")
    user.active = False
    user.session_version += 1  # signed out everywhere
    audit.record("user.deactivated", user, actor=actor, email=user.email)
    db.session.commit()


def reactivate_user(user: User, actor: User | None = None) -> None:
    """The user can log in again (with their password; an invitation must be sent again)."""
    _lock_for_change(user)
    if user.active:
        db.session.rollback()
        return
    user.active = True
    audit.record("user.reactivated", user, actor=actor, email=user.email)
    db.session.commit()


def _clean_department_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise AccountError("department_name_required")
    if len(name) > 120:
        raise AccountError("department_name_too_long")
    return name


def _department_name_taken(name: str, exclude_id: int | None = None) -> bool:
    query = select(func.count()).select_from(Department).where(func.lower(Department.name) == name.lower())
    if exclude_id is not None:
        query = query.where(Department.id != exclude_id)
    return bool(db.session.scalar(query))


def create_department(name: str, actor: User | None = None) -> Department:
    name = _clean_department_name(name)
    if _department_name_taken(name):
        raise _fail("department_exists")
    department = Department(name=name)
    db.session.add(department)
    try:
        db.session.flush()
    except IntegrityError:
        raise _fail("department_exists") from None
    audit.record("department.created", department, actor=actor, name=name)
    db.session.commit()
    return department


def rename_department(department: Department, name: str, actor: User | None = None) -> bool:
    """Rename; False when the name is the same."""
    name = _clean_department_name(name)
    if name == department.name:
        db.session.rollback()
        return False
    if _department_name_taken(name, exclude_id=department.id):
        raise _fail("department_exists")
    old = department.name
    department.name = name
    try:
        db.session.flush()
    except IntegrityError:
        raise _fail("department_exists") from None
    audit.record("department.renamed", department, actor=actor, changes={"name": [old, name]})
    db.session.commit()
    return True


def department_references(department: Department) -> tuple[int, bool]:
    """(users in it, whether anything else — budgets, charges, reimbursements — refers to it)."""
    users = db.session.scalar(
        select(func.count()).select_from(User).where(User.department_id == department.id)
    )
    others = any(
        db.session.scalar(select(exists().where(key.parent == department.id)))
        for table in db.metadata.sorted_tables
        if table.name != User.__tablename__
        for key in table.foreign_keys
        if key.column.table.name == Department.__tablename__
    )
    return users, others


def delete_department(department: Department, actor: User | None = None) -> None:
    """Only an unused department can go: its people and its pay-per-use history keep it."""
    users, others = department_references(department)
    if users:
        raise _fail("department_in_use")
    if others:
        raise _fail("department_has_history")
    audit.record("department.deleted", department, actor=actor, name=department.name)
    db.session.delete(department)
    try:
        db.session.flush()
    except IntegrityError:  # someone was put in it meanwhile
        raise _fail("department_in_use") from None
    db.session.commit()
