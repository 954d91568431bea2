from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update

from portal.accounts.models import Department, Role, User
from portal.accounts.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from portal.extensions import db


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
    if len(password or "") < MIN_LENGTH:
        raise AccountError("password_too_short")
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
